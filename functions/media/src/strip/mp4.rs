//! MP4, M4A and QuickTime (ISO base media file format): boxes are blanked in place — turned
//! into `free` boxes of the same size with zeroed content — so no offset in the file changes
//! and the chunk offsets (`stco`, `co64`) still point at the same samples.
//!
//! Removed, wherever they sit at the top level, in `moov`, `trak`, `mdia`, `moof` or `traf`:
//! - `udta` (QuickTime `©xyz` location, 3GPP `loci`, `©nam`, `©ART`, `©mak`, `©mod`, `©day`,
//!   Nero chapters, vendor boxes) and `meta` (iTunes `ilst` and cover art, Apple's `keys` with
//!   `com.apple.quicktime.location.ISO6709`, make, model and creation date);
//! - `uuid` boxes at the top level and in `moov` and `trak` (XMP, Canon and Sony metadata);
//! - the contents of existing `free` and `skip` boxes (left-overs of earlier edits);
//! - the creation and modification times in `mvhd`, `tkhd` and `mdhd` (set to zero);
//! - timed-metadata tracks (handler `meta` or `camm`: GoPro GPMF GPS, Google's camera motion
//!   metadata, Apple's `mebx`): the `trak` becomes `free` and its samples in `mdat` are zeroed.
//!
//! Kept: everything playback needs (`ftyp`, `mdat`, `mvhd`, the tracks' sample tables, edit
//! lists, `moof` fragments…), subtitle and chapter text tracks as they are, and the codec
//! configuration (which can name the encoder).
//!
//! Refused: boxes that overrun their parent, a file without `moov`, a compressed `cmov`, a
//! fragmented file with a timed-metadata track (its samples would have to be found in every
//! fragment), and HEIF/AVIF images, which share the `ftyp` box but keep their EXIF as an item.

use super::{array, be_u32, be_u64, zero};

/// ISO/HEIF brands of still images (and image sequences): not video, and their metadata lives
/// in items this module does not rewrite.
const IMAGE_BRANDS: [&[u8; 4]; 10] =
    [b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"];

/// One box: where it starts, its type, the length of its size-and-type header (8 or 16) and
/// the length including a `uuid` box's 16-byte user type, and where it ends.
#[derive(Debug, Clone, Copy)]
struct Header {
    start: usize,
    kind: [u8; 4],
    /// Size and type, with a 64-bit size if there is one.
    plain: usize,
    /// Where the content starts (after a `uuid` box's user type).
    content: usize,
    end: usize,
}

/// Reads the box at `pos`, which must fit before `end`.
fn header(buf: &[u8], pos: usize, end: usize) -> Result<Header, String> {
    let bad = |what: &str| format!("the box at byte {pos} {what}");
    let size32 = be_u32(buf, pos).filter(|_| pos.checked_add(8).is_some_and(|e| e <= end));
    let size32 = size32.ok_or_else(|| bad("is cut off"))?;
    let kind: [u8; 4] = array(buf, pos + 4).ok_or_else(|| bad("is cut off"))?;
    let room = end - pos;
    let (size, plain) = match size32 {
        0 => (room as u64, 8),
        1 => {
            let large = be_u64(buf, pos + 8).filter(|_| room >= 16).ok_or_else(|| bad("is cut off"))?;
            (large, 16)
        }
        n => (u64::from(n), 8),
    };
    let content = if &kind == b"uuid" { plain + 16 } else { plain };
    if size < content as u64 {
        return Err(bad("is smaller than its header"));
    }
    if size > room as u64 {
        return Err(bad(&format!("(`{}`) claims {size} bytes but only {room} remain", String::from_utf8_lossy(&kind))));
    }
    // size ≤ room, which is a usize.
    let size = usize::try_from(size).map_err(|_| bad("is too large"))?;
    Ok(Header { start: pos, kind, plain: pos + plain, content: pos + content, end: pos + size })
}

/// The boxes in `buf[start..end]`, in order.
fn children(buf: &[u8], start: usize, end: usize) -> Result<Vec<Header>, String> {
    let mut out = Vec::new();
    let mut pos = start;
    while pos < end {
        let h = header(buf, pos, end)?;
        pos = h.end;
        out.push(h);
    }
    Ok(out)
}

/// Turns the box into a `free` box of the same size with nothing in it.
fn blank(buf: &mut [u8], h: &Header) {
    if let Some(kind) = buf.get_mut(h.start + 4..h.start + 8) {
        kind.copy_from_slice(b"free");
    }
    zero(buf, h.plain, h.end);
}

/// Zeroes the creation and modification times of an `mvhd`, `tkhd` or `mdhd` (full boxes whose
/// version decides 32- or 64-bit times).
fn zero_times(buf: &mut [u8], h: &Header) -> Result<(), String> {
    let width = match buf.get(h.content) {
        Some(0) => 4,
        Some(1) => 8,
        _ => {
            return Err(format!(
                "the `{}` box at byte {} has an unknown version",
                String::from_utf8_lossy(&h.kind),
                h.start
            ))
        }
    };
    let times = h.content + 4;
    if times + 2 * width > h.end {
        return Err(format!("the `{}` box at byte {} is too short", String::from_utf8_lossy(&h.kind), h.start));
    }
    zero(buf, times, times + 2 * width);
    Ok(())
}

/// The sample table of a track, as far as finding its samples needs.
#[derive(Default)]
struct SampleTable {
    chunk_offsets: Option<Header>,
    offsets_64: bool,
    sample_to_chunk: Option<Header>,
    sizes: Option<Header>,
    compact_sizes: bool,
}

/// What walking a `trak` found.
#[derive(Default)]
struct Track {
    handler: Option<[u8; 4]>,
    table: SampleTable,
}

pub fn strip(input: &[u8]) -> Result<Vec<u8>, String> {
    let mut buf = input.to_vec();
    let top = children(&buf, 0, buf.len())?;
    if let Some(ftyp) = top.iter().find(|h| &h.kind == b"ftyp") {
        let brand: [u8; 4] = array(&buf, ftyp.content).ok_or("the `ftyp` box is too short")?;
        if IMAGE_BRANDS.contains(&&brand) {
            return Err(format!(
                "this is a HEIF/AVIF image (brand `{}`), not a video: send it as JPEG, PNG or WebP",
                String::from_utf8_lossy(&brand)
            ));
        }
    }
    let fragmented = top.iter().any(|h| &h.kind == b"moof");
    if !top.iter().any(|h| &h.kind == b"moov") {
        return Err("there is no `moov` box (no playable movie)".into());
    }
    let mut metadata_tracks = Vec::new();
    for h in &top {
        match &h.kind {
            b"moov" => metadata_tracks.extend(moov(&mut buf, h)?),
            b"moof" => fragment(&mut buf, h, true)?,
            b"meta" | b"udta" | b"uuid" | b"free" | b"skip" => blank(&mut buf, h),
            _ => {}
        }
    }
    if !metadata_tracks.is_empty() && fragmented {
        return Err("a fragmented file with a timed-metadata track (such as GPS) is not supported".into());
    }
    for (trak, table) in metadata_tracks {
        zero_samples(input, &mut buf, &table)?;
        blank(&mut buf, &trak);
    }
    Ok(buf)
}

/// Blanks the movie's metadata; returns the timed-metadata tracks to remove.
fn moov(buf: &mut [u8], moov: &Header) -> Result<Vec<(Header, SampleTable)>, String> {
    let mut metadata_tracks = Vec::new();
    for h in children(buf, moov.content, moov.end)? {
        match &h.kind {
            b"mvhd" => zero_times(buf, &h)?,
            b"trak" => {
                let track = trak(buf, &h)?;
                if matches!(track.handler.as_ref(), Some(b"meta" | b"camm")) {
                    metadata_tracks.push((h, track.table));
                }
            }
            b"cmov" => return Err("the movie header is compressed (`cmov`), which is not supported".into()),
            b"meta" | b"udta" | b"uuid" | b"free" | b"skip" => blank(buf, &h),
            _ => {}
        }
    }
    Ok(metadata_tracks)
}

fn trak(buf: &mut [u8], trak: &Header) -> Result<Track, String> {
    let mut track = Track::default();
    for h in children(buf, trak.content, trak.end)? {
        match &h.kind {
            b"tkhd" => zero_times(buf, &h)?,
            b"mdia" => mdia(buf, &h, &mut track)?,
            b"meta" | b"udta" | b"uuid" | b"free" | b"skip" => blank(buf, &h),
            _ => {}
        }
    }
    Ok(track)
}

fn mdia(buf: &mut [u8], mdia: &Header, track: &mut Track) -> Result<(), String> {
    for h in children(buf, mdia.content, mdia.end)? {
        match &h.kind {
            b"mdhd" => zero_times(buf, &h)?,
            // version and flags, pre_defined, then the handler type.
            b"hdlr" => {
                track.handler = Some(
                    array(buf, h.content + 8)
                        .filter(|_| h.content + 12 <= h.end)
                        .ok_or("the `hdlr` box is too short")?,
                )
            }
            b"minf" => {
                for m in children(buf, h.content, h.end)? {
                    if &m.kind == b"stbl" {
                        for s in children(buf, m.content, m.end)? {
                            let t = &mut track.table;
                            match &s.kind {
                                b"stco" | b"co64" => (t.chunk_offsets, t.offsets_64) = (Some(s), &s.kind == b"co64"),
                                b"stsc" => t.sample_to_chunk = Some(s),
                                b"stsz" | b"stz2" => (t.sizes, t.compact_sizes) = (Some(s), &s.kind == b"stz2"),
                                _ => {}
                            }
                        }
                    }
                }
            }
            b"meta" | b"udta" => blank(buf, &h),
            _ => {}
        }
    }
    Ok(())
}

/// A movie fragment (`moof`, whose `traf` boxes are walked too) or a track fragment: only
/// `meta` and `udta` are blanked (the `uuid` boxes of a fragment are sample encryption and
/// timing, needed for playback).
fn fragment(buf: &mut [u8], h: &Header, is_moof: bool) -> Result<(), String> {
    for c in children(buf, h.content, h.end)? {
        match &c.kind {
            b"traf" if is_moof => fragment(buf, &c, false)?,
            b"meta" | b"udta" | b"free" | b"skip" => blank(buf, &c),
            _ => {}
        }
    }
    Ok(())
}

/// A full box's table: its entry count (after version and flags) and where the entries start.
fn table(buf: &[u8], h: &Header, count_at: usize, entry: usize) -> Result<(usize, usize), String> {
    let bad = || format!("the `{}` table at byte {} is malformed", String::from_utf8_lossy(&h.kind), h.start);
    let count = be_u32(buf, h.content + count_at).ok_or_else(bad)?;
    let count = usize::try_from(count).map_err(|_| bad())?;
    let first = h.content + count_at + 4;
    let needed = count.checked_mul(entry).and_then(|n| n.checked_add(first)).ok_or_else(bad)?;
    if needed > h.end {
        return Err(bad());
    }
    Ok((count, first))
}

/// Zeroes in `out` every sample of a track (found through its chunk offsets, samples per chunk
/// and sample sizes, read from the unmodified `buf`).
fn zero_samples(buf: &[u8], out: &mut [u8], t: &SampleTable) -> Result<(), String> {
    let (Some(co), Some(sc), Some(sz)) = (&t.chunk_offsets, &t.sample_to_chunk, &t.sizes) else {
        // No sample table: the track has no samples in this file.
        return Ok(());
    };
    let bad = |what: &str| format!("the timed-metadata track's {what}");
    let (chunks, chunks_at) = table(buf, co, 4, if t.offsets_64 { 8 } else { 4 })?;
    let (runs, runs_at) = table(buf, sc, 4, 12)?;
    // stsz: version/flags, sample_size, sample_count, sizes; stz2: version/flags, reserved and
    // field size, sample_count, packed sizes.
    let (uniform, field_bits) = if t.compact_sizes {
        let bits = buf.get(sz.content + 7).copied().ok_or_else(|| bad("sizes are cut off"))?;
        if !matches!(bits, 4 | 8 | 16) {
            return Err(bad("sizes have an invalid field size"));
        }
        (0, usize::from(bits))
    } else {
        (be_u32(buf, sz.content + 4).ok_or_else(|| bad("sizes are cut off"))?, 32)
    };
    let (samples, sizes_at) = table(buf, sz, 8, 0)?;
    let sizes_len = if uniform == 0 { samples.checked_mul(field_bits).map(|b| b.div_ceil(8)) } else { Some(0) };
    match sizes_len.and_then(|n| n.checked_add(sizes_at)) {
        Some(end) if end <= sz.end => {}
        _ => return Err(bad("sizes are cut off")),
    }
    let size_of = |i: usize| -> Option<usize> {
        if uniform != 0 {
            return usize::try_from(uniform).ok();
        }
        let v = match field_bits {
            4 => buf.get(sizes_at + i / 2).map(|b| if i & 1 == 0 { b >> 4 } else { b & 0x0f }).map(u32::from),
            8 => buf.get(sizes_at + i).copied().map(u32::from),
            16 => array(buf, sizes_at + 2 * i).map(u16::from_be_bytes).map(u32::from),
            _ => be_u32(buf, sizes_at + 4 * i),
        };
        v.and_then(|v| usize::try_from(v).ok())
    };
    // Never zero more than the file holds: sizes that add up to more are malformed.
    let mut budget = buf.len();
    let mut sample = 0usize;
    for run in 0..runs {
        let at = runs_at + 12 * run;
        let first = be_u32(buf, at).ok_or_else(|| bad("sample-to-chunk table is cut off"))?;
        let per_chunk = be_u32(buf, at + 4).ok_or_else(|| bad("sample-to-chunk table is cut off"))?;
        let next = if run + 1 < runs {
            be_u32(buf, at + 12).ok_or_else(|| bad("sample-to-chunk table is cut off"))?
        } else {
            u32::MAX
        };
        let (first, next) = (first as usize, (next as usize).min(chunks.saturating_add(1)));
        if first == 0 || next < first {
            return Err(bad("sample-to-chunk table is out of order"));
        }
        for chunk in first..next {
            let offset = if t.offsets_64 {
                be_u64(buf, chunks_at + 8 * (chunk - 1)).and_then(|o| usize::try_from(o).ok())
            } else {
                be_u32(buf, chunks_at + 4 * (chunk - 1)).and_then(|o| usize::try_from(o).ok())
            };
            let mut offset = offset.ok_or_else(|| bad("chunk offsets are cut off"))?;
            for _ in 0..per_chunk {
                if sample >= samples {
                    break;
                }
                let size = size_of(sample).ok_or_else(|| bad("sizes are cut off"))?;
                let end = offset
                    .checked_add(size)
                    .filter(|&e| e <= buf.len())
                    .ok_or_else(|| bad("samples lie outside the file"))?;
                budget = budget.checked_sub(size).ok_or_else(|| bad("samples add up to more than the file"))?;
                zero(out, offset, end);
                offset = end;
                sample += 1;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::samples::{self, contains, LOCATION};
    use super::*;

    /// Every box of a file, walked the way a player walks it, with their (start, type, end).
    fn tree(buf: &[u8]) -> Vec<(usize, [u8; 4], usize)> {
        fn walk(buf: &[u8], start: usize, end: usize, out: &mut Vec<(usize, [u8; 4], usize)>) {
            for h in children(buf, start, end).unwrap() {
                out.push((h.start, h.kind, h.end));
                if matches!(&h.kind, b"moov" | b"trak" | b"mdia" | b"minf" | b"stbl") {
                    walk(buf, h.content, h.end, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(buf, 0, buf.len(), &mut out);
        out
    }

    #[test]
    fn location_and_artist_are_removed_and_offsets_kept() {
        let input = samples::mp4();
        assert!(contains(&input, LOCATION) && contains(&input, samples::ARTIST));
        let out = strip(&input).unwrap();
        assert_eq!(out.len(), input.len());
        assert!(!contains(&out, LOCATION), "©xyz is gone");
        assert!(!contains(&out, samples::ARTIST), "ilst is gone");
        assert!(!contains(&out, b"XMP secret"), "the XMP uuid is gone");
        // The same boxes at the same places; metadata ones are now `free`.
        let (before, after) = (tree(&input), tree(&out));
        let kinds: Vec<_> = after.iter().map(|(_, k, _)| k).collect();
        assert!(!kinds.contains(&b"udta") && !kinds.contains(&b"meta") && !kinds.contains(&b"uuid"));
        assert_eq!(before.len(), after.len());
        for (b, a) in before.iter().zip(&after) {
            assert_eq!((b.0, b.2), (a.0, a.2), "every box keeps its place and size");
            let blanked = matches!(&b.1, b"udta" | b"meta" | b"uuid");
            assert_eq!(&a.1, if blanked { b"free" } else { &b.1 });
        }
        // The chunk offset still points at the first sample, which is unchanged.
        let stco = after.iter().find(|(_, k, _)| k == b"stco").unwrap();
        let first = be_u32(&out, stco.0 + 16).unwrap() as usize;
        assert_eq!(&out[first..first + samples::VIDEO.len()], samples::VIDEO);
        let mdat = after.iter().find(|(_, k, _)| k == b"mdat").unwrap();
        assert_eq!(&out[mdat.0..mdat.2], &input[mdat.0..mdat.2], "mdat is untouched");
    }

    #[test]
    fn recording_times_are_zeroed() {
        let input = samples::mp4();
        assert!(contains(&input, &samples::CREATED.to_be_bytes()));
        assert!(!contains(&strip(&input).unwrap(), &samples::CREATED.to_be_bytes()));
    }

    #[test]
    fn a_gps_track_is_removed_with_its_samples() {
        let input = samples::mp4_with_gps_track();
        assert!(contains(&input, samples::GPS_SAMPLE));
        let out = strip(&input).unwrap();
        assert_eq!(out.len(), input.len());
        assert!(!contains(&out, samples::GPS_SAMPLE), "the GPS samples are zeroed");
        let traks = tree(&out).iter().filter(|(_, k, _)| k == b"trak").count();
        assert_eq!(traks, 1, "only the video track is left");
        assert!(contains(&out, samples::VIDEO), "the video samples stay");
    }

    #[test]
    fn a_64_bit_box_size_is_followed() {
        // ftyp, then a moov with a 64-bit size holding an udta.
        let udta = samples::boxed(b"udta", LOCATION);
        let mut moov = vec![0, 0, 0, 1];
        moov.extend_from_slice(b"moov");
        moov.extend_from_slice(&(16 + udta.len() as u64).to_be_bytes());
        moov.extend_from_slice(&udta);
        let input = [samples::boxed(b"ftyp", b"isom\0\0\0\0"), moov].concat();
        let out = strip(&input).unwrap();
        assert!(!contains(&out, LOCATION));
        assert_eq!(out.len(), input.len());
    }

    #[test]
    fn malformed_and_image_files_are_refused() {
        let ok = samples::mp4();
        // A box larger than the file.
        let mut big = ok.clone();
        big[3] = 0xff;
        big[2] = 0xff;
        assert!(strip(&big).is_err());
        // Cut in the middle of `moov`.
        assert!(strip(&ok[..ok.len() / 2]).is_err());
        // A box smaller than its header.
        let mut tiny = ok.clone();
        tiny[..4].copy_from_slice(&4u32.to_be_bytes());
        assert!(strip(&tiny).is_err());
        let heic = [samples::boxed(b"ftyp", b"heic\0\0\0\0mif1heic"), samples::boxed(b"meta", LOCATION)].concat();
        assert!(strip(&heic).unwrap_err().contains("HEIF"));
        assert!(strip(&samples::boxed(b"ftyp", b"isom\0\0\0\0")).unwrap_err().contains("moov"));
    }
}
