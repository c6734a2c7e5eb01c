//! Ogg (Vorbis, Opus, FLAC, Theora and Speex streams): the comment header of each logical
//! stream is rewritten with its comment list emptied, which shortens it, so that stream's header
//! pages are laid out again. Pages after them are renumbered if the number of header pages
//! changed, and every page written anew gets a fresh CRC. Audio and video pages are copied
//! byte for byte otherwise.
//!
//! Removed: every Vorbis comment (`ARTIST`, `TITLE`, `LOCATION`, `DATE`, `COMMENT`, embedded
//! `METADATA_BLOCK_PICTURE` cover art, …) of Vorbis, Opus (`OpusTags`, including its binary
//! suffix), Theora and Speex; in Ogg FLAC the `VORBIS_COMMENT` list, and `PICTURE`,
//! `APPLICATION` and `PADDING` blocks become empty `PADDING` blocks.
//!
//! Kept: the vendor string (it names the encoder library), the identification and setup
//! headers, FLAC's `STREAMINFO`, `SEEKTABLE` and `CUESHEET`.
//!
//! Refused: pages that fail their CRC, bytes that are not a page, streams of another kind
//! (Skeleton, for instance), headers that break the mapping's layout (the first page holds only
//! the first header; the first data packet begins on a fresh page), and Speex extra headers.

use std::collections::HashMap;

use super::{array, le_u32};

const CONTINUED: u8 = 0x01;
const BOS: u8 = 0x02;
const EOS: u8 = 0x04;

/// The Ogg CRC-32: polynomial 0x04C11DB7, initial value 0, not reflected, no final XOR.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut r = (i as u32) << 24;
        let mut bit = 0;
        while bit < 8 {
            r = if r & 0x8000_0000 != 0 { (r << 1) ^ 0x04C1_1DB7 } else { r << 1 };
            bit += 1;
        }
        table[i] = r;
        i += 1;
    }
    table
};

fn crc_update(crc: u32, bytes: &[u8]) -> u32 {
    bytes.iter().fold(crc, |c, &b| (c << 8) ^ CRC_TABLE[usize::from((c >> 24) as u8 ^ b)])
}

/// A page's CRC, computed with its own CRC field taken as zero.
pub(crate) fn page_crc(page: &[u8]) -> u32 {
    let head = page.get(..22).unwrap_or(page);
    let tail = page.get(26..).unwrap_or_default();
    crc_update(crc_update(crc_update(0, head), &[0; 4]), tail)
}

#[derive(Debug, Clone, Copy)]
struct Page {
    start: usize,
    /// Where the segment table ends and the data begins.
    data: usize,
    end: usize,
    flags: u8,
    granule: u64,
    serial: u32,
    seq: u32,
}

fn pages(buf: &[u8]) -> Result<Vec<Page>, String> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let bad = |what: &str| format!("the page at byte {pos} {what}");
        let head: [u8; 27] = array(buf, pos).ok_or_else(|| bad("is cut off"))?;
        if &head[..4] != b"OggS" {
            return Err(format!("the bytes at {pos} are not an Ogg page"));
        }
        if head[4] != 0 || head[5] & !(CONTINUED | BOS | EOS) != 0 {
            return Err(bad("has an unknown version or flags"));
        }
        let field = |at: usize| le_u32(&head, at).unwrap_or_default();
        let granule = array(&head, 6).map(u64::from_le_bytes).unwrap_or_default();
        let data = pos + 27 + usize::from(head[26]);
        let lacing = buf.get(pos + 27..data).ok_or_else(|| bad("is cut off"))?;
        let end = data + lacing.iter().map(|&l| usize::from(l)).sum::<usize>();
        let page = buf.get(pos..end).ok_or_else(|| bad("is cut off"))?;
        if page_crc(page) != field(22) {
            return Err(bad("fails its checksum"));
        }
        out.push(Page { start: pos, data, end, flags: head[5], granule, serial: field(14), seq: field(18) });
        pos = end;
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Codec {
    Vorbis,
    Opus,
    Theora,
    Speex,
    Flac,
}

/// A logical stream, followed until its headers are complete.
struct Stream {
    codec: Codec,
    /// Header packets still to come after the first; `None` for Ogg FLAC that does not say
    /// (its headers end with a metadata block marked last).
    remaining: Option<usize>,
    /// The header packets after the first, as they arrived.
    headers: Vec<Vec<u8>>,
    partial: Vec<u8>,
    /// The pages holding `headers` (all of their bytes are header bytes).
    header_pages: Vec<usize>,
    /// The stream's pages after its headers.
    later_pages: Vec<usize>,
}

impl Stream {
    fn done(&self) -> bool {
        match self.remaining {
            Some(n) => n == 0,
            None => self.headers.last().and_then(|p| p.first()).is_some_and(|b| b & 0x80 != 0),
        }
    }
}

/// Identifies a stream from its first packet: the codec and how many header packets follow.
fn identify(first: &[u8]) -> Result<(Codec, Option<usize>), String> {
    if first.starts_with(b"\x01vorbis") {
        Ok((Codec::Vorbis, Some(2)))
    } else if first.starts_with(b"OpusHead") {
        Ok((Codec::Opus, Some(1)))
    } else if first.starts_with(b"\x80theora") {
        Ok((Codec::Theora, Some(2)))
    } else if first.starts_with(b"Speex   ") {
        match le_u32(first, 76) {
            Some(0) => Ok((Codec::Speex, Some(1))),
            Some(_) => Err("Speex extra headers are not supported".into()),
            None => Err("the Speex header is cut off".into()),
        }
    } else if first.starts_with(b"\x7fFLAC") && first.get(9..13) == Some(b"fLaC") {
        let count = array(first, 7).map(u16::from_be_bytes).ok_or("the FLAC header is cut off")?;
        let streaminfo_last = first.get(13).ok_or("the FLAC header is cut off")? & 0x80 != 0;
        Ok((Codec::Flac, if streaminfo_last { Some(0) } else { (count != 0).then_some(usize::from(count)) }))
    } else {
        Err("a stream is not Vorbis, Opus, FLAC, Theora or Speex".into())
    }
}

pub fn strip(buf: &[u8]) -> Result<Vec<u8>, String> {
    let pages = pages(buf)?;
    let mut streams: Vec<Stream> = Vec::new();
    let mut active: HashMap<u32, usize> = HashMap::new();
    for (i, p) in pages.iter().enumerate() {
        let lacing = buf.get(p.start + 27..p.data).unwrap_or_default();
        let bad = |what: &str| format!("the page at byte {} {what}", p.start);
        let index = if p.flags & BOS != 0 {
            if active.contains_key(&p.serial) {
                return Err(bad("begins a stream whose serial number is in use"));
            }
            // The first page holds exactly the first header packet.
            let one_packet =
                lacing.split_last().is_some_and(|(&last, rest)| last < 255 && rest.iter().all(|&l| l == 255));
            if !one_packet || p.flags & CONTINUED != 0 {
                return Err(bad("does not hold exactly one header packet"));
            }
            let (codec, remaining) = identify(buf.get(p.data..p.end).unwrap_or_default())?;
            streams.push(Stream {
                codec,
                remaining,
                headers: Vec::new(),
                partial: Vec::new(),
                header_pages: Vec::new(),
                later_pages: Vec::new(),
            });
            active.insert(p.serial, streams.len() - 1);
            streams.len() - 1
        } else {
            let &index = active.get(&p.serial).ok_or_else(|| bad("belongs to a stream that never began"))?;
            let s = streams.get_mut(index).ok_or_else(|| bad("belongs to a lost stream"))?;
            if s.done() {
                s.later_pages.push(i);
            } else {
                s.header_pages.push(i);
                if (p.flags & CONTINUED != 0) == s.partial.is_empty() {
                    return Err(bad("does not continue the header packet as flagged"));
                }
                let mut at = p.data;
                for &l in lacing {
                    if s.done() {
                        return Err(bad("continues after the last header (data must begin on a fresh page)"));
                    }
                    let next = at + usize::from(l);
                    s.partial.extend_from_slice(buf.get(at..next).unwrap_or_default());
                    at = next;
                    if l < 255 {
                        s.headers.push(std::mem::take(&mut s.partial));
                        if let Some(n) = &mut s.remaining {
                            *n = n.saturating_sub(1);
                        }
                    }
                }
            }
            index
        };
        if p.flags & EOS != 0 {
            active.remove(&p.serial);
            if streams.get(index).is_some_and(|s| !s.done()) {
                return Err(bad("ends its stream inside the headers"));
            }
        }
    }
    if streams.iter().any(|s| !s.done()) {
        return Err("the file ends inside a stream's headers".into());
    }
    if streams.is_empty() {
        return Err("there is no stream".into());
    }
    assemble(buf, &pages, &streams)
}

#[derive(Clone, Copy)]
enum Role {
    Copy,
    /// The first header page of this stream: its new header pages go here.
    Headers(usize),
    /// A header page laid out again with the first.
    Drop,
    /// A later page whose sequence number moves by this much.
    Renumber(u32),
}

fn assemble(buf: &[u8], pages: &[Page], streams: &[Stream]) -> Result<Vec<u8>, String> {
    let mut roles = vec![Role::Copy; pages.len()];
    let mut laid_out = Vec::with_capacity(streams.len());
    for (index, s) in streams.iter().enumerate() {
        let new = rewrite(s.codec, &s.headers)?;
        let (Some(&first), Some(&last)) = (s.header_pages.first(), s.header_pages.last()) else {
            laid_out.push(Vec::new());
            continue;
        };
        if new == s.headers {
            // Nothing to remove: the pages stay as they are.
            laid_out.push(Vec::new());
            continue;
        }
        let (first_page, last_page) = (pages.get(first), pages.get(last));
        let (Some(first_page), Some(last_page)) = (first_page, last_page) else {
            return Err("a header page is missing".into());
        };
        let new_pages = paginate(&new, first_page.serial, first_page.seq, last_page.granule, last_page.flags & EOS);
        // Page counts are at most the file's length, far below 2^32; sequence numbers wrap.
        let delta = (new_pages.len() as u32).wrapping_sub(s.header_pages.len() as u32);
        for &i in &s.header_pages {
            roles[i] = Role::Drop;
        }
        roles[first] = Role::Headers(index);
        if delta != 0 {
            for &i in &s.later_pages {
                roles[i] = Role::Renumber(delta);
            }
        }
        laid_out.push(new_pages);
    }
    let mut out = Vec::with_capacity(buf.len());
    for (p, role) in pages.iter().zip(roles) {
        let bytes = buf.get(p.start..p.end).unwrap_or_default();
        match role {
            Role::Copy => out.extend_from_slice(bytes),
            Role::Drop => {}
            Role::Headers(index) => {
                laid_out.get(index).into_iter().flatten().for_each(|page| out.extend_from_slice(page))
            }
            Role::Renumber(delta) => {
                let mut page = bytes.to_vec();
                if let Some(seq) = page.get_mut(18..22) {
                    seq.copy_from_slice(&p.seq.wrapping_add(delta).to_le_bytes());
                }
                let crc = page_crc(&page);
                if let Some(field) = page.get_mut(22..26) {
                    field.copy_from_slice(&crc.to_le_bytes());
                }
                out.extend_from_slice(&page);
            }
        }
    }
    Ok(out)
}

/// The header packets after the first, without comments.
fn rewrite(codec: Codec, headers: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, String> {
    let mut out = headers.to_vec();
    let (prefix, framing): (&[u8], bool) = match codec {
        Codec::Vorbis => (b"\x03vorbis", true),
        Codec::Opus => (b"OpusTags", false),
        Codec::Theora => (b"\x81theora", false),
        Codec::Speex => (b"", false),
        Codec::Flac => {
            for block in &mut out {
                *block = flac_block(block)?;
            }
            return Ok(out);
        }
    };
    let first = out.first_mut().filter(|p| p.starts_with(prefix)).ok_or("the comment header is missing")?;
    *first = empty_comment(first, prefix.len(), framing)?;
    Ok(out)
}

/// A Vorbis comment structure (after a `prefix_len`-byte packet type) with its vendor string
/// and no comments, then a framing bit if the codec has one; everything after the vendor goes.
fn empty_comment(packet: &[u8], prefix_len: usize, framing: bool) -> Result<Vec<u8>, String> {
    let bad = || "the comment header is malformed".to_string();
    let vendor_len = le_u32(packet, prefix_len).and_then(|n| usize::try_from(n).ok()).ok_or_else(bad)?;
    let vendor_end = prefix_len.checked_add(4).and_then(|n| n.checked_add(vendor_len)).ok_or_else(bad)?;
    // The count of comments (and the framing bit) must be there, so the result is never longer.
    let needed = vendor_end + 4 + usize::from(framing);
    if packet.len() < needed {
        return Err(bad());
    }
    let mut out = packet.get(..vendor_end).ok_or_else(bad)?.to_vec();
    out.extend_from_slice(&[0; 4]);
    if framing {
        out.push(1);
    }
    Ok(out)
}

/// One Ogg FLAC metadata block (a header packet): comments emptied; pictures, application data
/// and padding turned into an empty `PADDING` block; `SEEKTABLE` and `CUESHEET` kept.
fn flac_block(block: &[u8]) -> Result<Vec<u8>, String> {
    let head: [u8; 4] = array(block, 0).ok_or("a FLAC metadata block is cut off")?;
    let length = u32::from_be_bytes([0, head[1], head[2], head[3]]) as usize;
    if length != block.len() - 4 {
        return Err("a FLAC metadata block's length does not match its packet".into());
    }
    let last = head[0] & 0x80;
    match head[0] & 0x7f {
        3 | 5 => Ok(block.to_vec()),
        4 => {
            let body = empty_comment(block.get(4..).unwrap_or_default(), 0, false)?;
            let len = (body.len() as u32).to_be_bytes();
            Ok([&[head[0], len[1], len[2], len[3]][..], &body].concat())
        }
        0 | 127 => Err("a FLAC metadata block has an invalid type".into()),
        _ => Ok(vec![last | 1, 0, 0, 0]),
    }
}

/// Lays packets out in pages (up to 255 segments each), numbered from `seq`. Pages on which a
/// packet ends get granule position 0 (headers), the last one `granule` and `eos`; pages on
/// which none ends get -1, as the Ogg format requires.
fn paginate(packets: &[Vec<u8>], serial: u32, seq: u32, granule: u64, eos: u8) -> Vec<Vec<u8>> {
    let mut segments = Vec::new();
    for p in packets {
        segments.resize(segments.len() + p.len() / 255, 255u8);
        segments.push((p.len() % 255) as u8);
    }
    let data = packets.concat();
    let chunks: Vec<&[u8]> = segments.chunks(255).collect();
    let mut out = Vec::with_capacity(chunks.len());
    let (mut at, mut continued) = (0usize, false);
    for (n, lacing) in chunks.iter().enumerate() {
        let len: usize = lacing.iter().map(|&l| usize::from(l)).sum();
        let is_last = n + 1 == chunks.len();
        let ends_packet = lacing.iter().any(|&l| l < 255);
        let mut page = b"OggS\0".to_vec();
        page.push(if continued { CONTINUED } else { 0 } | if is_last { eos } else { 0 });
        let page_granule = if is_last {
            granule
        } else if ends_packet {
            0
        } else {
            u64::MAX
        };
        page.extend_from_slice(&page_granule.to_le_bytes());
        page.extend_from_slice(&serial.to_le_bytes());
        page.extend_from_slice(&seq.wrapping_add(n as u32).to_le_bytes());
        page.extend_from_slice(&[0; 4]);
        page.push(lacing.len() as u8);
        page.extend_from_slice(lacing);
        page.extend_from_slice(data.get(at..at + len).unwrap_or_default());
        at += len;
        let crc = page_crc(&page);
        if let Some(field) = page.get_mut(22..26) {
            field.copy_from_slice(&crc.to_le_bytes());
        }
        continued = lacing.last() == Some(&255);
        out.push(page);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::samples::{self, contains};
    use super::*;

    /// Every page's CRC verifies, and each stream's sequence numbers count up from 0.
    fn assert_well_formed(buf: &[u8]) -> Vec<Page> {
        let pages = pages(buf).expect("every page parses and its CRC verifies");
        let mut next: HashMap<u32, u32> = HashMap::new();
        for p in &pages {
            let expected = next.entry(p.serial).or_insert(0);
            assert_eq!(p.seq, *expected, "serial {:x}: page numbers count up", p.serial);
            *expected += 1;
        }
        pages
    }

    /// The packets of a file's stream, reassembled from its pages.
    fn packets(buf: &[u8], serial: u32) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut partial = Vec::new();
        for p in pages(buf).unwrap().iter().filter(|p| p.serial == serial) {
            let mut at = p.data;
            for &l in &buf[p.start + 27..p.data] {
                partial.extend_from_slice(&buf[at..at + usize::from(l)]);
                at += usize::from(l);
                if l < 255 {
                    out.push(std::mem::take(&mut partial));
                }
            }
        }
        out
    }

    #[test]
    fn crc_matches_the_reference_value() {
        // CRC-32/POSIX (same polynomial and initial value) checks "123456789" as 0x765E7680,
        // after its final XOR with 0xFFFFFFFF, which Ogg does not apply.
        assert_eq!(crc_update(0, b"123456789"), 0x89a1_897f);
    }

    #[test]
    fn vorbis_comments_are_emptied_and_pages_verify() {
        let input = samples::ogg_vorbis();
        assert_well_formed(&input);
        for secret in [samples::ARTIST, samples::LOCATION] {
            assert!(contains(&input, secret));
        }
        let out = strip(&input).unwrap();
        assert!(out.len() < input.len());
        for secret in [samples::ARTIST, samples::LOCATION] {
            assert!(!contains(&out, secret));
        }
        let pages = assert_well_formed(&out);
        assert!(pages.len() < pages_of(&input), "the long comment's pages are fewer now");
        let (before, after) = (packets(&input, samples::SERIAL), packets(&out, samples::SERIAL));
        assert_eq!(before.len(), after.len());
        assert_eq!(after[1], b"\x03vorbis\x0d\0\0\0Xiph.Org test\0\0\0\0\x01", "vendor kept, no comments, framing bit");
        assert_eq!(before[0], after[0], "identification header");
        assert_eq!(before[2..], after[2..], "setup header and audio packets");
    }

    fn pages_of(buf: &[u8]) -> usize {
        pages(buf).unwrap().len()
    }

    #[test]
    fn opus_tags_are_emptied() {
        let input = samples::ogg_opus();
        let out = strip(&input).unwrap();
        assert!(!contains(&out, samples::ARTIST) && !contains(&out, samples::LOCATION));
        assert_well_formed(&out);
        let after = packets(&out, samples::SERIAL);
        assert_eq!(after[1], b"OpusTags\x0b\0\0\0libopus 1.4\0\0\0\0", "vendor kept, no comments");
        assert_eq!(packets(&input, samples::SERIAL)[2..], after[2..]);
    }

    #[test]
    fn interleaved_streams_are_each_rewritten() {
        let input = samples::ogg_theora_vorbis();
        assert!(contains(&input, samples::LOCATION) && contains(&input, samples::ARTIST));
        let out = strip(&input).unwrap();
        assert!(!contains(&out, samples::LOCATION) && !contains(&out, samples::ARTIST));
        assert_well_formed(&out);
        for serial in [samples::SERIAL, samples::SERIAL + 1] {
            let (before, after) = (packets(&input, serial), packets(&out, serial));
            assert_eq!(before.len(), after.len());
            assert_eq!(before[0], after[0]);
            assert_eq!(before[2..], after[2..]);
        }
        // Both beginning-of-stream pages still come first.
        let pages = pages(&out).unwrap();
        assert!(pages[0].flags & BOS != 0 && pages[1].flags & BOS != 0);
    }

    #[test]
    fn flac_comments_and_pictures_are_removed() {
        let input = samples::ogg_flac();
        assert!(contains(&input, b"image/jpeg"));
        let out = strip(&input).unwrap();
        assert!(!contains(&out, samples::ARTIST) && !contains(&out, b"image/jpeg"));
        assert_well_formed(&out);
        let (before, after) = (packets(&input, samples::SERIAL), packets(&out, samples::SERIAL));
        assert_eq!(before.len(), after.len(), "the header count in the first packet still holds");
        assert_eq!(after[2], [0x81, 0, 0, 0], "the picture is an empty padding block, still marked last");
        assert_eq!(before[3..], after[3..]);
    }

    #[test]
    fn a_file_without_comments_is_unchanged() {
        let input = samples::ogg_vorbis_with(&[]);
        assert_eq!(strip(&input).unwrap(), input);
    }

    #[test]
    fn malformed_files_are_refused() {
        let ok = samples::ogg_vorbis();
        let mut bad_crc = ok.clone();
        let last = bad_crc.len() - 1;
        bad_crc[last] ^= 1;
        assert!(strip(&bad_crc).unwrap_err().contains("checksum"));
        assert!(strip(&ok[..ok.len() - 1]).is_err(), "cut off");
        assert!(strip(&[ok.clone(), b"TAG".to_vec()].concat()).is_err(), "junk at the end");
        assert!(strip(b"OggS\x00\x02").is_err());
        let skeleton = samples::ogg_page(0x02, 7, 0, &[b"fishead\0".to_vec()]);
        assert!(strip(&skeleton).unwrap_err().contains("not Vorbis"));
    }
}
