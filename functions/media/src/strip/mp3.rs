//! MP3: tags sit before or after the MPEG audio frames, so they are cut off and the frames
//! are kept byte for byte.
//!
//! Removed: every ID3v2 tag at the start (several in a row, with the footer flag honoured), an
//! ID3v2 tag appended at the end (found by its `3DI` footer), an APEv2 or APEv1 tag, Lyrics3 v1
//! and v2, an ID3v1 tag (`TAG`, 128 bytes) and an Enhanced TAG (`TAG+`, 227 more).
//!
//! Kept: all MPEG frames, including a Xing/Info/LAME header frame (encoder settings and the
//! track's length, nothing personal). Tags in the middle of the stream (concatenated files)
//! are not looked for.
//!
//! Refused: a tag whose size runs past the file, a syncsafe size with its high bits set, and a
//! file in which no MPEG audio frame follows the tags.

use super::le_u32;

/// A syncsafe integer (7 bits per byte), as ID3v2 sizes are written.
fn syncsafe(bytes: &[u8]) -> Result<usize, String> {
    if bytes.len() != 4 || bytes.iter().any(|&b| b & 0x80 != 0) {
        return Err("an ID3v2 tag has an invalid size".into());
    }
    Ok(bytes.iter().fold(0usize, |a, &b| a << 7 | usize::from(b)))
}

/// The total length of the ID3v2 tag starting `bytes` (header, body and footer).
fn id3v2_len(bytes: &[u8]) -> Result<usize, String> {
    let header = bytes.get(..10).ok_or("an ID3v2 tag is cut off")?;
    let (version, flags) = (header[3], header[5]);
    if version == 0xff || header[4] == 0xff {
        return Err("an ID3v2 tag has an invalid version".into());
    }
    let footer = if version >= 4 && flags & 0x10 != 0 { 10 } else { 0 };
    let total = 10 + syncsafe(&header[6..10])? + footer;
    if total > bytes.len() {
        return Err("an ID3v2 tag runs past the end of the file".into());
    }
    Ok(total)
}

/// The length of a tag that ends `bytes`, if one does.
fn trailing_tag(bytes: &[u8]) -> Result<Option<usize>, String> {
    let n = bytes.len();
    let ends_with_at = |len: usize, magic: &[u8]| n >= len && bytes[n - len..].starts_with(magic);
    if ends_with_at(128, b"TAG") {
        // An Enhanced TAG sits right before an ID3v1 tag.
        let enhanced = if ends_with_at(128 + 227, b"TAG+") { 227 } else { 0 };
        return Ok(Some(128 + enhanced));
    }
    if ends_with_at(32, b"APETAGEX") {
        let footer = &bytes[n - 32..];
        let size = le_u32(footer, 12).and_then(|s| usize::try_from(s).ok()).ok_or("an APE tag is malformed")?;
        let flags = le_u32(footer, 20).unwrap_or_default();
        let header = if flags & 0x8000_0000 != 0 { 32 } else { 0 };
        let total = size
            .checked_add(header)
            .filter(|&t| t >= 32 && t <= n)
            .ok_or("an APE tag runs past the start of the file")?;
        return Ok(Some(total));
    }
    if n >= 15 && bytes.ends_with(b"LYRICS200") {
        let digits = std::str::from_utf8(&bytes[n - 15..n - 9]).ok().and_then(|d| d.parse::<usize>().ok());
        let total = digits.map(|d| d + 15).filter(|&t| t <= n).ok_or("a Lyrics3 tag is malformed")?;
        if !bytes[n - total..].starts_with(b"LYRICSBEGIN") {
            return Err("a Lyrics3 tag is malformed".into());
        }
        return Ok(Some(total));
    }
    if bytes.ends_with(b"LYRICSEND") {
        // Lyrics3 v1 has no size: it begins with LYRICSBEGIN at most 5100 bytes of text earlier.
        let from = n.saturating_sub(9 + 5100 + 11);
        let begin =
            bytes[from..n - 9].windows(11).rposition(|w| w == b"LYRICSBEGIN").ok_or("a Lyrics3 tag is malformed")?;
        return Ok(Some(n - (from + begin)));
    }
    if ends_with_at(10, b"3DI") {
        let footer = &bytes[n - 10..];
        let total = syncsafe(&footer[6..10])?
            .checked_add(20)
            .filter(|&t| t <= n)
            .ok_or("an appended ID3v2 tag is malformed")?;
        if !bytes[n - total..].starts_with(b"ID3") {
            return Err("an appended ID3v2 tag is malformed".into());
        }
        return Ok(Some(total));
    }
    Ok(None)
}

pub fn strip(input: &[u8]) -> Result<Vec<u8>, String> {
    let mut rest = input;
    while rest.starts_with(b"ID3") {
        let len = id3v2_len(rest)?;
        rest = rest.get(len..).unwrap_or_default();
    }
    // Each round removes at least 10 bytes, so this ends.
    while let Some(len) = trailing_tag(rest)? {
        rest = rest.get(..rest.len() - len).unwrap_or_default();
    }
    // Some taggers leave zeros between the tag and the first frame; players skip them.
    let first = rest.iter().position(|&b| b != 0).unwrap_or(rest.len());
    match rest.get(first..first + 2) {
        Some(&[0xff, b]) if b & 0xe0 == 0xe0 => Ok(rest.to_vec()),
        _ => Err("no MPEG audio frame follows the tags".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::samples::{self, contains, id3v2};
    use super::*;

    #[test]
    fn id3v2_and_id3v1_tags_are_cut_off() {
        let input = samples::mp3();
        assert!(contains(&input, samples::ARTIST) && contains(&input, samples::LOCATION));
        assert_eq!(strip(&input).unwrap(), samples::mp3_frames());
    }

    #[test]
    fn several_tags_footers_ape_and_lyrics_are_cut_off() {
        let frames = samples::mp3_frames();
        let with_footer = |tag: Vec<u8>| [&tag[..], b"3DI", &tag[3..10]].concat();
        let mut ape = b"APETAGEX\xd0\x07\0\0".to_vec();
        let items = [b"\x05\0\0\0\0\0\0\0Artist\0".as_slice(), b"Alice"].concat();
        ape.extend_from_slice(&(items.len() as u32 + 32).to_le_bytes());
        ape.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0xa0]);
        ape.extend_from_slice(&[0; 8]);
        let mut ape_footer = ape.clone();
        ape_footer[23] = 0x80;
        let ape_tag = [ape, items, ape_footer].concat();
        let lyrics = [b"LYRICSBEGIN".as_slice(), b"IND0000210EAR00005Alice"].concat();
        let lyrics3 = [lyrics.clone(), format!("{:06}LYRICS200", lyrics.len()).into_bytes()].concat();
        let mut v1 = b"TAG".to_vec();
        v1.resize(128, b'x');
        let input = [
            with_footer(id3v2(4, 0x10, samples::ARTIST)),
            id3v2(3, 0, samples::LOCATION),
            frames.clone(),
            with_footer(id3v2(4, 0x10, b"appended")),
            ape_tag,
            lyrics3,
            v1,
        ]
        .concat();
        assert_eq!(strip(&input).unwrap(), frames);
        assert_eq!(
            strip(&[b"LYRICSBEGINsome lyricsLYRICSEND".as_slice(), &frames].concat()).unwrap_err(),
            "no MPEG audio frame follows the tags"
        );
        assert_eq!(strip(&[&frames, b"LYRICSBEGINsome lyricsLYRICSEND".as_slice()].concat()).unwrap(), frames);
    }

    #[test]
    fn bad_sizes_and_missing_frames_are_refused() {
        let mut big = id3v2(3, 0, samples::ARTIST);
        big[6] = 0x7f;
        assert!(strip(&[big, samples::mp3_frames()].concat()).is_err(), "runs past the end");
        let mut high_bit = id3v2(3, 0, samples::ARTIST);
        high_bit[9] |= 0x80;
        assert!(strip(&[high_bit, samples::mp3_frames()].concat()).is_err(), "not syncsafe");
        assert!(strip(&id3v2(3, 0, samples::ARTIST)).is_err(), "only a tag");
        assert!(strip(b"ID3").is_err());
        let mut zeros = vec![0u8; 16];
        zeros.extend(samples::mp3_frames());
        assert_eq!(strip(&zeros).unwrap(), zeros, "zeros before the first frame are kept");
    }
}
