//! Removes what can identify or locate the uploader from audio and video, which are stored
//! without re-encoding: tags, titles, locations, cover art, recording times and the tracks
//! that carry GPS. Each format is edited in place of its own structure so that playback is
//! unaffected:
//!
//! - [`mp4`] (MP4, M4A, MOV): metadata boxes become `free` boxes of the same size, so every
//!   chunk offset stays valid; timed-metadata tracks (GPS, camera motion) are turned into
//!   `free` boxes and their samples zeroed.
//! - [`matroska`] (WebM, MKV): metadata elements become `Void` elements of the same size.
//! - [`ogg`] (Vorbis, Opus, FLAC, Theora, Speex): the comment header is rewritten empty, its
//!   pages are re-paged and every page whose number or content changed gets a new CRC.
//! - [`mp3`]: ID3v1, ID3v2, APE and Lyrics3 tags at either end are cut off.
//!
//! Every input is hostile: sizes are checked against what remains with checked arithmetic, the
//! nesting walked is fixed (no recursion on input), and work is bounded by the input's length.
//! A file that does not parse is refused rather than stored with its metadata. The output is
//! never longer than the input.

pub mod matroska;
pub mod mp3;
pub mod mp4;
pub mod ogg;

#[cfg(test)]
pub(crate) mod samples;

/// The audio and video containers accepted as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Mp4,
    Matroska,
    Ogg,
    Mp3,
}

impl Container {
    pub fn name(self) -> &'static str {
        match self {
            Container::Mp4 => "MP4",
            Container::Matroska => "WebM/Matroska",
            Container::Ogg => "Ogg",
            Container::Mp3 => "MP3",
        }
    }
}

/// Why a file was refused: it could not be read safely, so it was not stored at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the {} file could not be read safely, so it was not stored: {reason}", .container.name())]
pub struct StripError {
    pub container: Container,
    pub reason: String,
}

/// The file without its identifying metadata; never longer than `bytes`.
pub fn strip(container: Container, bytes: &[u8]) -> Result<Vec<u8>, StripError> {
    let result = match container {
        Container::Mp4 => mp4::strip(bytes),
        Container::Matroska => matroska::strip(bytes),
        Container::Ogg => ogg::strip(bytes),
        Container::Mp3 => mp3::strip(bytes),
    };
    result.map_err(|reason| StripError { container, reason })
}

/// `buf[at..at + N]`, or `None` when it does not fit.
fn array<const N: usize>(buf: &[u8], at: usize) -> Option<[u8; N]> {
    buf.get(at..at.checked_add(N)?)?.try_into().ok()
}

fn be_u32(buf: &[u8], at: usize) -> Option<u32> {
    array(buf, at).map(u32::from_be_bytes)
}

fn be_u64(buf: &[u8], at: usize) -> Option<u64> {
    array(buf, at).map(u64::from_be_bytes)
}

fn le_u32(buf: &[u8], at: usize) -> Option<u32> {
    array(buf, at).map(u32::from_le_bytes)
}

/// Zeroes `buf[range]` as far as it exists.
fn zero(buf: &mut [u8], start: usize, end: usize) {
    if let Some(s) = buf.get_mut(start..end) {
        s.fill(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALL: [Container; 4] = [Container::Mp4, Container::Matroska, Container::Ogg, Container::Mp3];

    fn check(container: Container, input: &[u8]) {
        if let Ok(out) = strip(container, input) {
            assert!(out.len() <= input.len(), "{container:?}: {} > {}", out.len(), input.len());
        }
    }

    /// A valid sample of each container, with metadata, to be mutated.
    fn seeds() -> Vec<(Container, Vec<u8>)> {
        vec![
            (Container::Mp4, samples::mp4()),
            (Container::Mp4, samples::mp4_with_gps_track()),
            (Container::Matroska, samples::webm(false)),
            (Container::Matroska, samples::webm(true)),
            (Container::Ogg, samples::ogg_vorbis()),
            (Container::Ogg, samples::ogg_opus()),
            (Container::Ogg, samples::ogg_flac()),
            (Container::Mp3, samples::mp3()),
        ]
    }

    #[test]
    fn every_seed_is_accepted_and_shrinks_or_keeps_its_length() {
        for (container, seed) in seeds() {
            let out = strip(container, &seed).unwrap_or_else(|e| panic!("{e}"));
            assert!(out.len() <= seed.len());
        }
    }

    #[test]
    fn errors_name_the_container() {
        let e = strip(Container::Ogg, b"OggS\x00\x02").unwrap_err();
        assert!(e.to_string().starts_with("the Ogg file could not be read safely"), "{e}");
    }

    proptest! {
        // PROPTEST_CASES overrides the default of 256 cases.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            for c in ALL {
                check(c, &bytes);
            }
        }

        #[test]
        fn arbitrary_bytes_behind_each_magic_never_panic(
            which in 0usize..4,
            tail in proptest::collection::vec(any::<u8>(), 0..1024),
        ) {
            let magic: &[u8] = [&b"\x00\x00\x00\x10ftypisom"[..], b"\x1a\x45\xdf\xa3", b"OggS\x00\x02", b"ID3\x04\x00\x00"][which];
            let input = [magic, &tail].concat();
            check(ALL[which], &input);
        }

        #[test]
        fn mutated_files_never_panic(
            seed in 0usize..8,
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
        ) {
            let (container, mut bytes) = seeds().swap_remove(seed);
            for (at, value) in edits {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            if truncate {
                bytes.truncate(cut.index(bytes.len()));
            }
            check(container, &bytes);
        }
    }
}
