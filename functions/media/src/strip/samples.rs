//! Small synthetic files of each container, carrying the metadata a phone or a tagger writes,
//! built here byte by byte for the tests.

use super::ogg::page_crc;

pub const LOCATION: &[u8] = b"+48.8577+002.2950/";
pub const ARTIST: &[u8] = b"Alice Example";
/// Stands for coded video or audio samples.
pub const VIDEO: &[u8] = b"\x00\x00\x00\x01coded frame bytes that must not change\x7f\xff";
pub const GPS_SAMPLE: &[u8] = b"GPS5 lat=48.857700 lon=2.295000 alt=35.0";
/// A recording time (seconds since 1904) written into `mvhd`, `tkhd` and `mdhd`.
pub const CREATED: u32 = 0xD1E5_7A3F;
/// A Matroska `DateUTC` (nanoseconds since 2001).
pub const WEBM_DATE: [u8; 8] = [0x0b, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78];
pub const SERIAL: u32 = 0x5e71_a100;

pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn u32s(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

// ---- MP4 ----

pub fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = u32::try_from(body.len() + 8).unwrap().to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(body);
    b
}

fn full(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    boxed(kind, &[&[0u8; 4][..], body].concat())
}

fn trak(handler: &[u8; 4], sizes: &[u32], offset: u64, co64: bool) -> Vec<u8> {
    let n = u32::try_from(sizes.len()).unwrap();
    let mut tkhd = u32s(&[CREATED, CREATED, 1, 0, 0]);
    tkhd.resize(80, 0);
    let mdhd = full(b"mdhd", &u32s(&[CREATED, CREATED, 1000, 0, 0x55c4_0000]));
    let hdlr = full(b"hdlr", &[&u32s(&[0]), &handler[..], &[0; 12], b"Handler\0"].concat());
    let stsz = full(b"stsz", &[u32s(&[0, n]), u32s(sizes)].concat());
    let stco = if co64 {
        full(b"co64", &[&u32s(&[1])[..], &offset.to_be_bytes()].concat())
    } else {
        full(b"stco", &u32s(&[1, u32::try_from(offset).unwrap()]))
    };
    let stbl = boxed(
        b"stbl",
        &[
            full(b"stsd", &u32s(&[0])),
            full(b"stts", &u32s(&[1, n, 1])),
            full(b"stsc", &u32s(&[1, 1, n, 1])),
            stsz,
            stco,
        ]
        .concat(),
    );
    let minf = boxed(b"minf", &[full(b"nmhd", b""), stbl].concat());
    boxed(b"trak", &[full(b"tkhd", &tkhd), boxed(b"mdia", &[mdhd, hdlr, minf].concat())].concat())
}

fn mvhd() -> Vec<u8> {
    let mut body = u32s(&[CREATED, CREATED, 1000, 0]);
    body.resize(96, 0);
    full(b"mvhd", &body)
}

/// Lays out `ftyp`, a `moov` made by `moov(first sample's offset)`, an XMP `uuid` and `mdat`.
fn mp4_file(moov: impl Fn(u64) -> Vec<u8>, mdat: &[u8]) -> Vec<u8> {
    let ftyp = boxed(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41");
    let xmp = boxed(
        b"uuid",
        &[
            &b"\xbe\x7a\xcf\xcb\x97\xa9\x42\xe8\x9c\x71\x99\x94\x91\xe3\xaf\xac"[..],
            b"<x:xmpmeta>XMP secret</x:xmpmeta>",
        ]
        .concat(),
    );
    let offset = (ftyp.len() + moov(0).len() + xmp.len() + 8) as u64;
    [ftyp, moov(offset), xmp, boxed(b"mdat", mdat)].concat()
}

/// A video as Android's MediaMuxer and iTunes write it: location in `moov/udta/©xyz`, the
/// artist in `moov/udta/meta/ilst`, XMP in a `uuid` box, times in the headers.
pub fn mp4() -> Vec<u8> {
    mp4_file(
        |offset| {
            let xyz = boxed(b"\xa9xyz", &[&[0, 18, 0x15, 0xc7][..], LOCATION].concat());
            let art = boxed(b"\xa9ART", &boxed(b"data", &[&[0, 0, 0, 1, 0, 0, 0, 0][..], ARTIST].concat()));
            let meta = full(b"meta", &[full(b"hdlr", &[0u8; 21]), boxed(b"ilst", &art)].concat());
            let udta = boxed(b"udta", &[xyz, meta].concat());
            let video = trak(b"vide", &[VIDEO.len() as u32], offset, false);
            boxed(b"moov", &[mvhd(), video, udta].concat())
        },
        VIDEO,
    )
}

/// A video with a GoPro-style GPS track (handler `meta`, 64-bit chunk offsets, two samples).
pub fn mp4_with_gps_track() -> Vec<u8> {
    mp4_file(
        |offset| {
            let video = trak(b"vide", &[VIDEO.len() as u32], offset, false);
            let (a, b) = (GPS_SAMPLE.len() as u32 / 2, GPS_SAMPLE.len() as u32 - GPS_SAMPLE.len() as u32 / 2);
            let gps = trak(b"meta", &[a, b], offset + VIDEO.len() as u64, true);
            boxed(b"moov", &[mvhd(), video, gps].concat())
        },
        &[VIDEO, GPS_SAMPLE].concat(),
    )
}

// ---- Matroska ----

pub fn ebml(id: u32, body: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = id.to_be_bytes().into_iter().skip_while(|&b| b == 0).collect();
    let len = body.len();
    if len < 127 {
        out.push(0x80 | len as u8);
    } else if len < 16383 {
        out.extend_from_slice(&[0x40 | (len >> 8) as u8, len as u8]);
    } else {
        out.push(0x01);
        out.extend_from_slice(&(len as u64).to_be_bytes()[1..]);
    }
    out.extend_from_slice(body);
    out
}

fn ebml_unknown_size(id: u32, body: &[u8]) -> Vec<u8> {
    let mut out = ebml(id, b"");
    *out.last_mut().unwrap() = 0xff;
    out.extend_from_slice(body);
    out
}

/// A WebM with a title, a recording date, a named track, a cover attachment and tags, as
/// ffmpeg writes it — or, with `unknown_sizes`, with the unknown-size segment and cluster of a
/// browser's MediaRecorder.
pub fn webm(unknown_sizes: bool) -> Vec<u8> {
    let header = ebml(0x1A45_DFA3, &[ebml(0x4286, &[1]), ebml(0x4282, b"webm")].concat());
    let seek = |id: u32, pos: &[u8]| ebml(0x4DBB, &[ebml(0x53AB, &id.to_be_bytes()), ebml(0x53AC, pos)].concat());
    let seek_head = ebml(0x114D_9B74, &[seek(0x1254_C367, &[0x10, 0]), seek(0x1C53_BB6B, &[0x20])].concat());
    let info = ebml(
        0x1549_A966,
        &[
            ebml(0xBF, &[1, 2, 3, 4]),
            ebml(0x2A_D7B1, &[0x0f, 0x42, 0x40]),
            ebml(0x4D80, b"Lavf60.3.100"),
            ebml(0x5741, b"Lavf60.3.100"),
            ebml(0x7BA9, b"Holiday in Paris"),
            ebml(0x4461, &WEBM_DATE),
        ]
        .concat(),
    );
    let tracks = ebml(
        0x1654_AE6B,
        &ebml(0xAE, &[ebml(0xD7, &[1]), ebml(0x536E, b"Alice's camera"), ebml(0x86, b"V_VP9")].concat()),
    );
    let blocks = [ebml(0xE7, &[0]), ebml(0xA3, &[&[0x81, 0, 0, 0x80][..], VIDEO].concat())].concat();
    let cluster = if unknown_sizes { ebml_unknown_size(0x1F43_B675, &blocks) } else { ebml(0x1F43_B675, &blocks) };
    let cues = ebml(0x1C53_BB6B, &ebml(0xBB, &ebml(0xB3, &[0])));
    let attachments = ebml(
        0x1941_A469,
        &ebml(
            0x61A7,
            &[
                ebml(0x466E, b"cover.jpg"),
                ebml(0x4660, b"image/jpeg"),
                ebml(0x465C, b"\xff\xd8jpeg"),
                ebml(0x46AE, &[1]),
            ]
            .concat(),
        ),
    );
    let tags =
        ebml(0x1254_C367, &ebml(0x7373, &ebml(0x67C8, &[ebml(0x45A3, b"ARTIST"), ebml(0x4487, ARTIST)].concat())));
    let body = [seek_head, info, tracks, cluster, cues, attachments, tags].concat();
    let segment = if unknown_sizes { ebml_unknown_size(0x1853_8067, &body) } else { ebml(0x1853_8067, &body) };
    [header, segment].concat()
}

// ---- Ogg ----

/// Pages for packets of one stream (laid out independently of the code under test).
pub fn ogg_pages(serial: u32, first_seq: u32, packets: &[Vec<u8>], flags: u8, granule: u64) -> Vec<u8> {
    let mut lacing: Vec<u8> = Vec::new();
    for p in packets {
        lacing.resize(lacing.len() + p.len() / 255, 255);
        lacing.push((p.len() % 255) as u8);
    }
    let data = packets.concat();
    let (mut out, mut at, mut continued) = (Vec::new(), 0, false);
    let pages: Vec<&[u8]> = lacing.chunks(255).collect();
    for (n, seg) in pages.iter().enumerate() {
        let last = n + 1 == pages.len();
        let len: usize = seg.iter().map(|&l| l as usize).sum();
        let mut page = b"OggS\0".to_vec();
        // Beginning of stream on the first page, end of stream on the last.
        let (first_flag, last_flag) = (if n == 0 { flags & 0x02 } else { 0 }, if last { flags & 0x04 } else { 0 });
        page.push(u8::from(continued) | first_flag | last_flag);
        page.extend_from_slice(&(if last { granule } else { u64::MAX }).to_le_bytes());
        page.extend_from_slice(&serial.to_le_bytes());
        page.extend_from_slice(&(first_seq + n as u32).to_le_bytes());
        page.extend_from_slice(&[0; 4]);
        page.push(seg.len() as u8);
        page.extend_from_slice(seg);
        page.extend_from_slice(&data[at..at + len]);
        at += len;
        let crc = page_crc(&page);
        page[22..26].copy_from_slice(&crc.to_le_bytes());
        continued = seg.last() == Some(&255);
        out.extend(page);
    }
    out
}

fn page_count(mut bytes: &[u8]) -> u32 {
    let mut n = 0;
    while bytes.len() > 27 {
        let segments = &bytes[27..27 + usize::from(bytes[26])];
        let len = 27 + segments.len() + segments.iter().map(|&l| usize::from(l)).sum::<usize>();
        bytes = &bytes[len..];
        n += 1;
    }
    n
}

/// One page holding these complete packets.
pub fn ogg_page(flags: u8, serial: u32, seq: u32, packets: &[Vec<u8>]) -> Vec<u8> {
    ogg_pages(serial, seq, packets, flags, 0)
}

/// A Vorbis comment structure: vendor, then the comments.
fn comments(vendor: &[u8], list: &[&[u8]]) -> Vec<u8> {
    let mut out = (vendor.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(vendor);
    out.extend_from_slice(&(list.len() as u32).to_le_bytes());
    for c in list {
        out.extend_from_slice(&(c.len() as u32).to_le_bytes());
        out.extend_from_slice(c);
    }
    out
}

fn audio_packets(tag: u8) -> Vec<Vec<u8>> {
    (0..6u8).map(|i| vec![tag ^ i; 120 + usize::from(i) * 40]).collect()
}

/// The comments a tagger writes; the cover art makes the comment header span pages.
fn tagged() -> Vec<Vec<u8>> {
    let mut cover = b"METADATA_BLOCK_PICTURE=".to_vec();
    cover.resize(70_000, b'Q');
    vec![[b"ARTIST=".as_slice(), ARTIST].concat(), [b"LOCATION=".as_slice(), LOCATION].concat(), cover]
}

pub fn ogg_vorbis_with(list: &[&[u8]]) -> Vec<u8> {
    let id = [b"\x01vorbis".as_slice(), &[0; 4], &[2], &44_100u32.to_le_bytes(), &[0; 12], &[0xb8, 1]].concat();
    let comment = [b"\x03vorbis".as_slice(), &comments(b"Xiph.Org test", list), &[1]].concat();
    let setup = [b"\x05vorbis".as_slice(), &[0x42; 300]].concat();
    let headers = ogg_pages(SERIAL, 1, &[comment, setup], 0, 0);
    let header_pages = page_count(&headers);
    let audio = audio_packets(0x30);
    [
        ogg_page(0x02, SERIAL, 0, &[id]),
        headers,
        ogg_pages(SERIAL, 1 + header_pages, &audio[..3], 0, 1024),
        ogg_pages(SERIAL, 2 + header_pages, &audio[3..], 0x04, 4096),
    ]
    .concat()
}

pub fn ogg_vorbis() -> Vec<u8> {
    let list = tagged();
    ogg_vorbis_with(&list.iter().map(Vec::as_slice).collect::<Vec<_>>())
}

pub fn ogg_opus() -> Vec<u8> {
    let head = [b"OpusHead".as_slice(), &[1, 2, 0x38, 1], &48_000u32.to_le_bytes(), &[0, 0, 0]].concat();
    let tags = [
        b"OpusTags".as_slice(),
        &comments(b"libopus 1.4", &[b"ARTIST=Alice Example", &[b"LOCATION=", LOCATION].concat()]),
    ]
    .concat();
    let audio = audio_packets(0x50);
    [ogg_page(0x02, SERIAL, 0, &[head]), ogg_page(0, SERIAL, 1, &[tags]), ogg_pages(SERIAL, 2, &audio, 0x04, 960 * 6)]
        .concat()
}

pub fn ogg_flac() -> Vec<u8> {
    let streaminfo = [&[0u8, 0, 0, 34][..], &[0x10; 34]].concat();
    let first = [b"\x7fFLAC\x01\x00\x00\x02fLaC".as_slice(), &streaminfo].concat();
    let body = comments(b"reference libFLAC 1.4.3", &[b"ARTIST=Alice Example"]);
    let vc = [&[4u8][..], &(body.len() as u32).to_be_bytes()[1..], &body].concat();
    let picture_body = [&u32s(&[3, 10])[..], b"image/jpeg", &u32s(&[0, 1, 1, 24, 0, 4]), b"\xff\xd8\xff\xd9"].concat();
    let picture = [&[0x86u8][..], &(picture_body.len() as u32).to_be_bytes()[1..], &picture_body].concat();
    let audio = audio_packets(0x70);
    [
        ogg_page(0x02, SERIAL, 0, &[first]),
        ogg_page(0, SERIAL, 1, &[vc, picture]),
        ogg_pages(SERIAL, 2, &audio, 0x04, 4608 * 6),
    ]
    .concat()
}

/// A Theora video with Vorbis sound, their pages interleaved as a muxer writes them.
pub fn ogg_theora_vorbis() -> Vec<u8> {
    let (video, audio) = (SERIAL, SERIAL + 1);
    let theora_id = [b"\x80theora".as_slice(), &[3, 2, 1], &[0x11; 35]].concat();
    let theora_comment =
        [b"\x81theora".as_slice(), &comments(b"Xiph.Org libtheora", &[&[b"LOCATION=", LOCATION].concat()])].concat();
    let theora_setup = [b"\x82theora".as_slice(), &[0x22; 100]].concat();
    let vorbis_id = [b"\x01vorbis".as_slice(), &[0; 4], &[2], &44_100u32.to_le_bytes(), &[0; 12], &[0xb8, 1]].concat();
    let vorbis_comment =
        [b"\x03vorbis".as_slice(), &comments(b"Xiph.Org test", &[b"ARTIST=Alice Example"]), &[1]].concat();
    let vorbis_setup = [b"\x05vorbis".as_slice(), &[0x42; 300]].concat();
    let (frames, sound) = (audio_packets(0x90), audio_packets(0xa0));
    [
        ogg_page(0x02, video, 0, &[theora_id]),
        ogg_page(0x02, audio, 0, &[vorbis_id]),
        ogg_page(0, video, 1, &[theora_comment, theora_setup]),
        ogg_page(0, audio, 1, &[vorbis_comment, vorbis_setup]),
        ogg_pages(video, 2, &frames[..3], 0, 3),
        ogg_pages(audio, 2, &sound[..3], 0, 1024),
        ogg_pages(video, 3, &frames[3..], 0x04, 6),
        ogg_pages(audio, 3, &sound[3..], 0x04, 4096),
    ]
    .concat()
}

// ---- MP3 ----

/// An ID3v2 tag of this version and flags holding one TPE1 (artist) frame.
pub fn id3v2(version: u8, flags: u8, text: &[u8]) -> Vec<u8> {
    let frame = [b"TPE1".as_slice(), &u32s(&[text.len() as u32 + 1]), &[0, 0, 0], text].concat();
    id3v2_tag(version, flags, &frame)
}

fn id3v2_tag(version: u8, flags: u8, body: &[u8]) -> Vec<u8> {
    let n = body.len();
    let size = [(n >> 21) as u8 & 0x7f, (n >> 14) as u8 & 0x7f, (n >> 7) as u8 & 0x7f, n as u8 & 0x7f];
    [b"ID3".as_slice(), &[version, 0, flags], &size, body].concat()
}

/// Three MPEG-1 layer III frames (128 kbit/s, 44.1 kHz: 417 bytes each).
pub fn mp3_frames() -> Vec<u8> {
    let mut frame = vec![0xff, 0xfb, 0x90, 0x64];
    frame.resize(417, 0x55);
    frame.repeat(3)
}

/// A song as a tagger leaves it: ID3v2.3 with the artist and a TXXX location, the frames, and
/// an ID3v1 tag.
pub fn mp3() -> Vec<u8> {
    let tpe1 = [b"TPE1".as_slice(), &u32s(&[ARTIST.len() as u32 + 1]), &[0, 0, 0], ARTIST].concat();
    let txxx_body = [&[0u8][..], b"LOCATION\0", LOCATION].concat();
    let txxx = [b"TXXX".as_slice(), &u32s(&[txxx_body.len() as u32]), &[0, 0], &txxx_body].concat();
    let mut v1 = [b"TAG".as_slice(), b"A song", &[0; 24], ARTIST].concat();
    v1.resize(128, 0);
    [id3v2_tag(3, 0, &[tpe1, txxx, vec![0; 64]].concat()), mp3_frames(), v1].concat()
}
