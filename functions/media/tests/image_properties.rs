//! The image pipeline takes whatever a client uploads: no bytes may panic it, and what it accepts
//! comes out within the stated limits. `PROPTEST_CASES` sets the number of cases (256 by default).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use media::pipeline::{self, PipelineError, MAX_SIDE, SMALL_SIDE};
use proptest::prelude::*;

/// Real file starts, so the decoders get past their magic numbers and into the parts that read
/// sizes and chunks.
const MAGICS: [&[u8]; 5] = [
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
    b"\xff\xd8\xff\xe0\0\x10JFIF\0",
    b"GIF89a",
    b"RIFF\0\0\0\0WEBPVP8 ",
    b"RIFF\0\0\0\0WEBPVP8L",
];

/// CRC-32 (IEEE), as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
}

/// A well-formed PNG header claiming `w`×`h` pixels, with an empty image stream.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut b, b"IHDR", &ihdr);
    chunk(&mut b, b"IDAT", &[]);
    chunk(&mut b, b"IEND", &[]);
    b
}

proptest! {
    #[test]
    fn arbitrary_bytes_behind_an_image_magic_never_panic(
        which in 0..MAGICS.len(),
        rest in prop::collection::vec(any::<u8>(), 0..1024),
    ) {
        let mut bytes = MAGICS[which].to_vec();
        bytes.extend(rest);
        if let Ok(p) = pipeline::process(&bytes) {
            prop_assert!(p.original.width.max(p.original.height) <= MAX_SIDE);
            prop_assert!(p.small.width.max(p.small.height) <= SMALL_SIDE);
        }
        let _ = pipeline::sniff_as_is(&bytes);
    }

    #[test]
    fn claimed_sizes_are_checked_before_decoding(w in 1u32..200_000, h in 1u32..200_000) {
        let result = pipeline::process(&png_claiming(w, h));
        if u64::from(w) * u64::from(h) > pipeline::MAX_PIXELS {
            prop_assert_eq!(result.err(), Some(PipelineError::TooManyPixels(w, h)));
        } else {
            prop_assert!(result.is_err()); // a header alone is no image
        }
    }
}
