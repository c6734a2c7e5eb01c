//! WebM and Matroska (EBML): elements are overwritten in place by an EBML `Void` element of the
//! same total length, so every position in the file (Cues, SeekHead, Cluster offsets) holds.
//!
//! Removed: `Tags` (titles, artists, comments, dates, GPS tags), `Attachments` (cover art, other
//! files), the segment's `Title` and `DateUTC` (recording time), each track's `Name`, the
//! `SeekHead` entries that pointed at removed `Tags` and `Attachments`, and the `CRC-32` of every
//! element whose content changed (it is optional; a stale one would flag the element as damaged).
//!
//! Kept: `MuxingApp` and `WritingApp` (mandatory, they name the software), the `SegmentUUID`
//! (random per file), chapters (their titles are content), tracks, cues and clusters.
//!
//! Unknown-size `Segment` and `Cluster` elements (as browsers' MediaRecorder writes them) are
//! followed. Refused: anything that does not parse, top-level elements other than the EBML
//! header, `Segment` and `Void`, and an unknown size anywhere else.

use super::zero;

const EBML: u32 = 0x1A45_DFA3;
const SEGMENT: u32 = 0x1853_8067;
const SEEK_HEAD: u32 = 0x114D_9B74;
const SEEK: u32 = 0x4DBB;
const SEEK_ID: u32 = 0x53AB;
const INFO: u32 = 0x1549_A966;
const TITLE: u32 = 0x7BA9;
const DATE_UTC: u32 = 0x4461;
const TRACKS: u32 = 0x1654_AE6B;
const TRACK_ENTRY: u32 = 0xAE;
const TRACK_NAME: u32 = 0x536E;
const CLUSTER: u32 = 0x1F43_B675;
const CUES: u32 = 0x1C53_BB6B;
const CHAPTERS: u32 = 0x1043_A770;
const TAGS: u32 = 0x1254_C367;
const ATTACHMENTS: u32 = 0x1941_A469;
const VOID: u32 = 0xEC;
const CRC32: u32 = 0xBF;

/// Elements that end an unknown-size `Cluster`: the segment's other children, or a new segment.
const LEVEL_1: [u32; 10] = [SEEK_HEAD, INFO, TRACKS, CLUSTER, CUES, CHAPTERS, TAGS, ATTACHMENTS, EBML, SEGMENT];

#[derive(Debug, Clone, Copy)]
struct Element {
    id: u32,
    start: usize,
    data: usize,
    /// `None` for an unknown size.
    end: Option<usize>,
}

/// A variable-length integer's length from its first byte (1 to 8), or `None` for 0x00.
fn vint_len(first: u8) -> Option<usize> {
    (first != 0).then(|| first.leading_zeros() as usize + 1)
}

/// Reads the element header at `pos` (which must leave room before `limit`).
fn element(buf: &[u8], pos: usize, limit: usize) -> Result<Element, String> {
    let bad = |what: &str| format!("the element at byte {pos} {what}");
    let first = *buf.get(pos).ok_or_else(|| bad("is cut off"))?;
    let id_len = vint_len(first).filter(|&n| n <= 4).ok_or_else(|| bad("has an invalid ID"))?;
    let id_end = pos.checked_add(id_len).filter(|&e| e <= limit).ok_or_else(|| bad("is cut off"))?;
    let id = buf.get(pos..id_end).ok_or_else(|| bad("is cut off"))?.iter().fold(0u32, |a, &b| a << 8 | u32::from(b));
    let size_first = *buf.get(id_end).filter(|_| id_end < limit).ok_or_else(|| bad("is cut off"))?;
    let size_len = vint_len(size_first).ok_or_else(|| bad("has an invalid size"))?;
    let data = id_end.checked_add(size_len).filter(|&e| e <= limit).ok_or_else(|| bad("is cut off"))?;
    let bytes = buf.get(id_end..data).ok_or_else(|| bad("is cut off"))?;
    // The length marker bit is not part of the value.
    let marker_free = u64::from(size_first) & (0xff >> size_len);
    let size = bytes.iter().skip(1).fold(marker_free, |a, &b| a << 8 | u64::from(b));
    let unknown = size == (1u64 << (7 * size_len)) - 1;
    let end = if unknown {
        None
    } else {
        let room = (limit - data) as u64;
        if size > room {
            return Err(bad(&format!("(ID {id:X}) claims {size} bytes but only {room} remain")));
        }
        // size ≤ room, a usize.
        Some(data + usize::try_from(size).map_err(|_| bad("is too large"))?)
    };
    Ok(Element { id, start: pos, data, end })
}

/// An element whose size must be known.
fn sized(buf: &[u8], pos: usize, limit: usize) -> Result<(Element, usize), String> {
    let e = element(buf, pos, limit)?;
    let end = e.end.ok_or_else(|| format!("the element at byte {pos} (ID {:X}) has an unknown size", e.id))?;
    Ok((e, end))
}

/// Overwrites `buf[start..end]` with a `Void` element of exactly that length (at least 2 bytes:
/// the ID and a one-byte size).
fn void(buf: &mut [u8], start: usize, end: usize) -> Result<(), String> {
    let total = end.checked_sub(start).filter(|&n| n >= 2).ok_or("an element too small to blank")?;
    // The size's length n: the smallest whose largest value (all ones is reserved) holds the rest.
    let (n, payload) = (1..=8usize)
        .filter_map(|n| {
            let payload = total.checked_sub(1 + n)? as u64;
            (payload < (1u64 << (7 * n)) - 1).then_some((n, payload))
        })
        .next()
        .ok_or("an element too large to blank")?;
    let header = buf.get_mut(start..start + 1 + n).ok_or("an element outside the file")?;
    header[0] = 0xEC;
    for (i, byte) in header[1..].iter_mut().enumerate() {
        *byte = (payload >> (8 * (n - 1 - i))) as u8;
    }
    header[1] |= 0x80 >> (n - 1);
    zero(buf, start + 1 + n, end);
    Ok(())
}

pub fn strip(input: &[u8]) -> Result<Vec<u8>, String> {
    let mut buf = input.to_vec();
    let len = buf.len();
    let mut pos = 0;
    let mut segments = 0;
    while pos < len {
        let e = element(&buf, pos, len)?;
        pos = match (e.id, e.end) {
            (EBML | VOID, Some(end)) => end,
            (SEGMENT, end) => {
                segments += 1;
                let (_, after) = master(&mut buf, e.data, end, Master::Segment)?;
                after
            }
            _ => return Err(format!("unexpected element {:X} at byte {pos}", e.id)),
        };
    }
    if segments == 0 {
        return Err("there is no segment".into());
    }
    Ok(buf)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Master {
    Segment,
    SeekHead,
    Info,
    Tracks,
    TrackEntry,
}

/// What to do with a child of a master element.
enum Action {
    Keep,
    Void,
    Walk(Master),
    /// A `Seek` whose target is about to be removed.
    VoidIfSeeksRemoved,
}

fn action(parent: Master, id: u32) -> Action {
    match (parent, id) {
        (Master::Segment, TAGS | ATTACHMENTS) => Action::Void,
        (Master::Segment, SEEK_HEAD) => Action::Walk(Master::SeekHead),
        (Master::Segment, INFO) => Action::Walk(Master::Info),
        (Master::Segment, TRACKS) => Action::Walk(Master::Tracks),
        (Master::SeekHead, SEEK) => Action::VoidIfSeeksRemoved,
        (Master::Info, TITLE | DATE_UTC) => Action::Void,
        (Master::Tracks, TRACK_ENTRY) => Action::Walk(Master::TrackEntry),
        (Master::TrackEntry, TRACK_NAME) => Action::Void,
        _ => Action::Keep,
    }
}

/// Walks the children of a master element from `start` to `end` (`None`: unknown size, to the
/// end of the file or, for a segment, to the next EBML header). Returns whether anything in it
/// changed and where it ends. The nesting is fixed (segment → seek head → seek, segment →
/// tracks → track entry), so the recursion depth is at most 3.
fn master(buf: &mut [u8], start: usize, end: Option<usize>, kind: Master) -> Result<(bool, usize), String> {
    let limit = end.unwrap_or(buf.len());
    let mut pos = start;
    let mut changed = false;
    let mut crc = None;
    while pos < limit {
        let e = element(buf, pos, limit)?;
        if end.is_none() && e.id == EBML {
            // A chained segment begins: the unknown-size one ended here.
            break;
        }
        let Some(child_end) = e.end else {
            if kind == Master::Segment && e.id == CLUSTER {
                pos = unknown_size_cluster(buf, e.data, limit)?;
                continue;
            }
            return Err(format!("the element at byte {pos} (ID {:X}) has an unknown size", e.id));
        };
        match action(kind, e.id) {
            Action::Keep if e.id == CRC32 => crc = Some((e.start, child_end)),
            Action::Keep => {}
            Action::Void => {
                void(buf, e.start, child_end)?;
                changed = true;
            }
            Action::Walk(inner) => changed |= master(buf, e.data, Some(child_end), inner)?.0,
            Action::VoidIfSeeksRemoved => {
                if seeks_removed(buf, e.data, child_end)? {
                    void(buf, e.start, child_end)?;
                    changed = true;
                }
            }
        }
        pos = child_end;
    }
    if let (true, Some((s, e))) = (changed, crc) {
        void(buf, s, e)?;
    }
    Ok((changed, pos))
}

/// Whether a `Seek` entry points at `Tags` or `Attachments`.
fn seeks_removed(buf: &[u8], start: usize, end: usize) -> Result<bool, String> {
    let mut pos = start;
    while pos < end {
        let (e, child_end) = sized(buf, pos, end)?;
        if e.id == SEEK_ID {
            let target = buf.get(e.data..child_end).unwrap_or_default();
            if target == TAGS.to_be_bytes() || target == ATTACHMENTS.to_be_bytes() {
                return Ok(true);
            }
        }
        pos = child_end;
    }
    Ok(false)
}

/// Skips the children of an unknown-size cluster (blocks and their like, all of known size)
/// until the next segment-level element; returns where that is.
fn unknown_size_cluster(buf: &[u8], start: usize, limit: usize) -> Result<usize, String> {
    let mut pos = start;
    while pos < limit {
        let e = element(buf, pos, limit)?;
        if LEVEL_1.contains(&e.id) {
            break;
        }
        pos = e.end.ok_or_else(|| format!("the element at byte {pos} in a cluster has an unknown size"))?;
    }
    Ok(pos)
}

#[cfg(test)]
mod tests {
    use super::super::samples::{self, contains, ebml};
    use super::*;

    /// Every element down to the walked masters' children: (id, start, end).
    fn tree(buf: &[u8]) -> Vec<(u32, usize, Option<usize>)> {
        fn walk(buf: &[u8], start: usize, limit: usize, out: &mut Vec<(u32, usize, Option<usize>)>) {
            let mut pos = start;
            while pos < limit {
                let e = element(buf, pos, limit).unwrap();
                out.push((e.id, e.start, e.end));
                let end = match e.end {
                    Some(end) => end,
                    None if e.id == CLUSTER => unknown_size_cluster(buf, e.data, limit).unwrap(),
                    None => limit,
                };
                if matches!(e.id, SEGMENT | INFO | TRACKS | TRACK_ENTRY | SEEK_HEAD) {
                    walk(buf, e.data, end, out);
                }
                pos = end;
            }
        }
        let mut out = Vec::new();
        walk(buf, 0, buf.len(), &mut out);
        out
    }

    #[test]
    fn tags_title_and_date_become_void_of_the_same_length() {
        for unknown_sizes in [false, true] {
            let input = samples::webm(unknown_sizes);
            for secret in [samples::ARTIST, b"Holiday in Paris".as_slice(), b"cover.jpg", b"Alice's camera"] {
                assert!(contains(&input, secret));
            }
            let out = strip(&input).unwrap();
            assert_eq!(out.len(), input.len());
            for secret in [samples::ARTIST, b"Holiday in Paris".as_slice(), b"cover.jpg", b"Alice's camera"] {
                assert!(!contains(&out, secret), "{}", String::from_utf8_lossy(secret));
            }
            assert!(!contains(&out, &samples::WEBM_DATE), "DateUTC is gone");
            assert!(contains(&out, b"Lavf60.3.100"), "MuxingApp stays");
            assert!(contains(&out, samples::VIDEO), "the blocks are untouched");
            // Same elements at the same places; removed ones are Void.
            let (before, after) = (tree(&input), tree(&out));
            assert_eq!(before.len(), after.len());
            let ids: Vec<u32> = after.iter().map(|e| e.0).collect();
            for id in [TAGS, ATTACHMENTS, TITLE, DATE_UTC, TRACK_NAME, CRC32] {
                assert!(!ids.contains(&id), "{id:X} is gone");
            }
            for (b, a) in before.iter().zip(&after) {
                assert_eq!((b.1, b.2), (a.1, a.2));
                let removed = [TAGS, ATTACHMENTS, TITLE, DATE_UTC, TRACK_NAME, CRC32, SEEK].contains(&b.0);
                assert!(a.0 == b.0 || (removed && a.0 == VOID), "{:X} became {:X}", b.0, a.0);
            }
            // The seek entry for the cues stays; the one for the tags is gone.
            assert_eq!(after.iter().filter(|e| e.0 == SEEK).count(), 1);
        }
    }

    #[test]
    fn void_fits_any_length() {
        for len in [2usize, 3, 127, 128, 129, 130, 16_384, 16_385, 16_386, 16_387, 70_000] {
            let mut buf = vec![0x55u8; len + 2];
            void(&mut buf, 1, len + 1).unwrap();
            let e = element(&buf, 1, len + 1).unwrap();
            assert_eq!((e.id, e.end), (VOID, Some(len + 1)), "length {len}");
            assert_eq!((buf[0], buf[len + 1]), (0x55, 0x55), "nothing outside is touched");
        }
        assert!(void(&mut [0u8; 4], 1, 2).is_err(), "one byte cannot hold an element");
    }

    #[test]
    fn malformed_files_are_refused() {
        let ok = samples::webm(false);
        assert!(strip(&ok[..ok.len() - 3]).is_err(), "cut off");
        assert!(strip(&[ok.clone(), b"TAG".to_vec()].concat()).is_err(), "junk at the end");
        assert!(strip(&[0x1a, 0x45, 0xdf, 0xa3, 0x00]).is_err(), "an invalid size");
        assert!(strip(&ebml(EBML, &ebml(0x4282, b"webm"))).unwrap_err().contains("no segment"));
        // An unknown-size Tags element.
        let mut tags = ebml(TAGS, b"\x73\x73\x80");
        tags[4] = 0xff;
        let seg = [&[0x18, 0x53, 0x80, 0x67, 0xff][..], &tags].concat();
        assert!(strip(&[ebml(EBML, b""), seg].concat()).is_err());
    }
}
