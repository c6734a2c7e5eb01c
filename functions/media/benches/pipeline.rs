//! The image pipeline on a 12 MP photo: wall time and peak heap of the whole pipeline next to a
//! plain decode of the same file, in one run, single-threaded.
//!   cargo bench -p media --bench pipeline
//! Goal (issue #6): the pipeline within 1.5 s on one core and 256 MB.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Cursor;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Counts live heap bytes and their high-water mark.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// A 4000×3000 JPEG with detail everywhere (a smooth gradient would compress unrealistically).
fn photo() -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let img = image::RgbImage::from_fn(4000, 3000, |x, y| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let noise = (state & 0x3f) as u8;
        image::Rgb([
            ((x / 16) as u8).wrapping_add(noise),
            ((y / 12) as u8).wrapping_add(noise / 2),
            ((x + y) / 28) as u8,
        ])
    });
    let mut out = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
    img.write_with_encoder(enc).unwrap();
    out
}

fn measure<F: FnMut()>(mut f: F) -> (f64, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let t = Instant::now();
    f();
    (t.elapsed().as_secs_f64(), PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let jpeg = photo();
    println!("input: 4000×3000 JPEG, {:.1} MB", jpeg.len() as f64 / 1e6);
    let (mut decode_t, mut pipe_t) = (Vec::new(), Vec::new());
    let (mut decode_m, mut pipe_m) = (0, 0);
    // Interleaved, so drift on a noisy machine hits both alike.
    for _ in 0..5 {
        let (t, m) = measure(|| {
            let img = image::ImageReader::with_format(Cursor::new(&jpeg), image::ImageFormat::Jpeg).decode().unwrap();
            std::hint::black_box(img);
        });
        decode_t.push(t);
        decode_m = decode_m.max(m);
        let (t, m) = measure(|| {
            std::hint::black_box(media::pipeline::process(&jpeg).unwrap());
        });
        pipe_t.push(t);
        pipe_m = pipe_m.max(m);
    }
    let (d, p) = (median(decode_t), median(pipe_t));
    println!("plain decode:   median {:>6.0} ms   peak heap {:>5.0} MB", d * 1e3, decode_m as f64 / 1e6);
    println!(
        "whole pipeline: median {:>6.0} ms   peak heap {:>5.0} MB   ({:.2}× the decode time)",
        p * 1e3,
        pipe_m as f64 / 1e6,
        p / d
    );
    println!("goal: pipeline ≤ 1500 ms and ≤ 256 MB");
}
