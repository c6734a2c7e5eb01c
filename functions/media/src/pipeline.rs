//! The image pipeline: sniff the real type, check dimensions before decoding, decode within a
//! memory budget, apply the EXIF orientation, then re-encode from pixels — which drops every byte
//! of metadata (GPS included) — plus a thumbnail and a blurhash.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::strip::Container;

/// Mastodon's limit: 33 megapixels (e.g. 7680×4320).
pub const MAX_PIXELS: u64 = 33_177_600;
/// Decoding may allocate at most this much (a 33 MP RGBA image is 133 MB).
pub const MAX_DECODE_BYTES: u64 = 200 * 1024 * 1024;
/// The stored original is scaled down to fit this side.
pub const MAX_SIDE: u32 = 3840;
/// Thumbnails fit in 640×640.
pub const SMALL_SIDE: u32 = 640;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PipelineError {
    #[error("unsupported file type: JPEG, PNG, GIF and WebP images are accepted")]
    Unsupported,
    #[error("image is {0}×{1} pixels; the limit is {MAX_PIXELS} pixels")]
    TooManyPixels(u32, u32),
    #[error("the image could not be read: {0}")]
    Corrupt(String),
    #[error("encoding failed: {0}")]
    Encode(String),
}

/// One stored rendition.
pub struct Rendition {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

pub struct Processed {
    pub content_type: &'static str,
    pub extension: &'static str,
    pub original: Rendition,
    pub small: Rendition,
    pub blurhash: String,
}

/// Audio and video are accepted without re-encoding (no transcoding in a Lambda): the type is
/// read from the bytes, never from the name or the declared type, and `strip` removes their
/// metadata before they are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsIs {
    /// `video` or `audio`, as Mastodon's MediaAttachment types them.
    pub kind: &'static str,
    pub content_type: &'static str,
    pub extension: &'static str,
    pub container: Container,
}

pub fn sniff_as_is(bytes: &[u8]) -> Option<AsIs> {
    let as_is = |kind, content_type, extension, container| Some(AsIs { kind, content_type, extension, container });
    match bytes {
        [_, _, _, _, b'f', b't', b'y', b'p', b'M', b'4', b'A', ..] => {
            as_is("audio", "audio/mp4", "m4a", Container::Mp4)
        }
        [_, _, _, _, b'f', b't', b'y', b'p', ..] => as_is("video", "video/mp4", "mp4", Container::Mp4),
        [0x1a, 0x45, 0xdf, 0xa3, ..] => as_is("video", "video/webm", "webm", Container::Matroska),
        [b'O', b'g', b'g', b'S', ..] => as_is("audio", "audio/ogg", "ogg", Container::Ogg),
        [b'I', b'D', b'3', ..] => as_is("audio", "audio/mpeg", "mp3", Container::Mp3),
        // An MPEG audio frame header without ID3 tags: 11 sync bits, layer III.
        [0xff, b, ..] if b & 0xe0 == 0xe0 && b & 0x06 == 0x02 => as_is("audio", "audio/mpeg", "mp3", Container::Mp3),
        _ => None,
    }
}

pub fn sniff(bytes: &[u8]) -> Result<ImageFormat, PipelineError> {
    match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::Gif | ImageFormat::WebP)) => Ok(f),
        _ => Err(PipelineError::Unsupported),
    }
}

fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_alloc = Some(MAX_DECODE_BYTES);
    l
}

fn encode(img: &DynamicImage, as_jpeg: bool, quality: u8) -> Result<Rendition, PipelineError> {
    let mut out = Vec::new();
    if as_jpeg {
        let rgb = img.to_rgb8();
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
        rgb.write_with_encoder(encoder).map_err(|e| PipelineError::Encode(e.to_string()))?;
    } else {
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png).map_err(|e| PipelineError::Encode(e.to_string()))?;
    }
    Ok(Rendition { bytes: out, width: img.width(), height: img.height() })
}

/// Whether a JPEG's last scan is followed by its end marker. The decoder fills a cut-off image
/// with grey rather than failing, so a truncated upload would otherwise be accepted.
fn jpeg_complete(bytes: &[u8]) -> bool {
    let last_scan = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    match last_scan {
        Some(i) => bytes[i..].windows(2).any(|w| w == [0xFF, 0xD9]),
        None => false,
    }
}

/// Sniffs, bounds, decodes and turns the image upright.
fn decode(bytes: &[u8]) -> Result<(DynamicImage, ImageFormat), PipelineError> {
    decode_within(bytes, MAX_PIXELS)
}

/// As [`decode`], refusing images of more than `max_pixels` (read from the header).
fn decode_within(bytes: &[u8], max_pixels: u64) -> Result<(DynamicImage, ImageFormat), PipelineError> {
    let format = sniff(bytes)?;
    if format == ImageFormat::Jpeg && !jpeg_complete(bytes) {
        return Err(PipelineError::Corrupt("the JPEG is truncated (no end-of-image marker)".into()));
    }
    let reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut decoder = reader.into_decoder().map_err(|e| PipelineError::Corrupt(e.to_string()))?;
    // The header's dimensions decide before a single pixel is decoded.
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > max_pixels.min(MAX_PIXELS) {
        return Err(PipelineError::TooManyPixels(w, h));
    }
    decoder.set_limits(limits()).map_err(|e| PipelineError::Corrupt(e.to_string()))?;
    let orientation = decoder.orientation().map_err(|e| PipelineError::Corrupt(e.to_string()))?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| PipelineError::Corrupt(e.to_string()))?;
    img.apply_orientation(orientation);
    Ok((img, format))
}

/// How a profile image is framed.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// Cropped to the centre square, then scaled to at most this side (avatars).
    Square(u32),
    /// Scaled to fit the box (headers).
    Fit(u32, u32),
}

/// An avatar or header: the same checks, framed to its shape; only `original` is meaningful.
pub fn process_profile(bytes: &[u8], shape: Shape) -> Result<Processed, PipelineError> {
    let (img, format) = decode(bytes)?;
    let img = match shape {
        Shape::Square(side) => {
            let s = img.width().min(img.height());
            let cropped = img.crop_imm((img.width() - s) / 2, (img.height() - s) / 2, s, s);
            if s > side {
                cropped.thumbnail_exact(side, side)
            } else {
                cropped
            }
        }
        Shape::Fit(w, h) if img.width() > w || img.height() > h => img.thumbnail(w, h),
        Shape::Fit(..) => img,
    };
    finish(img, format)
}

/// An image from another site made a thumbnail (a link preview's): refused above `max_pixels`,
/// else framed like a profile image; only `original` is meaningful.
pub fn process_thumbnail(bytes: &[u8], shape: Shape, max_pixels: u64) -> Result<Processed, PipelineError> {
    let (img, format) = decode_within(bytes, max_pixels)?;
    let img = match shape {
        Shape::Fit(w, h) if img.width() > w || img.height() > h => img.thumbnail(w, h),
        Shape::Square(side) if img.width() > side || img.height() > side => img.thumbnail(side, side),
        _ => img,
    };
    finish(img, format)
}

pub fn process(bytes: &[u8]) -> Result<Processed, PipelineError> {
    let (mut img, format) = decode(bytes)?;
    if img.width() > MAX_SIDE || img.height() > MAX_SIDE {
        // Area averaging: for downscaling it looks as good as a convolution filter, and it needs
        // no floating-point copy of the image (that copy alone is 140 MB for 12 MP).
        img = img.thumbnail(MAX_SIDE, MAX_SIDE);
    }
    finish(img, format)
}

/// Re-encodes (dropping all metadata), thumbnails and blurhashes a decoded image.
fn finish(img: DynamicImage, format: ImageFormat) -> Result<Processed, PipelineError> {
    // Photos stay JPEG; anything that may carry transparency becomes PNG.
    let as_jpeg = format == ImageFormat::Jpeg || !img.color().has_alpha();
    let original = encode(&img, as_jpeg, 85)?;
    let small_img = if img.width() > SMALL_SIDE || img.height() > SMALL_SIDE {
        img.thumbnail(SMALL_SIDE, SMALL_SIDE)
    } else {
        img.clone()
    };
    let small = encode(&small_img, as_jpeg, 80)?;
    let tiny = small_img.thumbnail(32, 32).to_rgba8();
    let blurhash = blurhash::encode(4, 3, tiny.width(), tiny.height(), tiny.as_raw())
        .map_err(|e| PipelineError::Encode(e.to_string()))?;
    let (content_type, extension) = if as_jpeg { ("image/jpeg", "jpg") } else { ("image/png", "png") };
    Ok(Processed { content_type, extension, original, small, blurhash })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::new_rgb8(w, h);
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png).unwrap();
        out
    }

    #[test]
    fn small_png_is_processed_with_thumbnail_and_blurhash() {
        let p = process(&png(1000, 500)).unwrap();
        assert_eq!((p.original.width, p.original.height), (1000, 500));
        assert_eq!((p.small.width, p.small.height), (640, 320));
        assert!(p.blurhash.len() >= 6);
        assert_eq!(p.content_type, "image/jpeg", "an opaque PNG becomes a JPEG");
    }

    #[test]
    fn text_and_truncated_images_are_refused() {
        assert_eq!(process(b"hello, I am text").err(), Some(PipelineError::Unsupported));
        let whole = encode(&DynamicImage::new_rgb8(200, 200), true, 90).unwrap().bytes;
        assert!(matches!(process(&whole[..whole.len() / 2]), Err(PipelineError::Corrupt(_))));
    }
}
