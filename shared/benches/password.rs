//! What one password verification costs, for the current argon2id parameters and the candidates
//! considered (OWASP's Password Storage Cheat Sheet lists equivalent argon2id settings):
//! `cargo bench -p petrel --bench password`.
//!
//! Each figure is the median wall time of several verifications on this machine with the CPU to
//! itself, and the same scaled to a 256 MB Lambda function's CPU share: Lambda allots CPU in
//! proportion to memory, one full vCPU at 1,769 MB, so a 256 MB function gets 256/1769 ≈ 0.145
//! of one (argon2 with p=1 is single-threaded; a share below one vCPU stretches it
//! proportionally). To measure the share instead of computing it, run the built bench inside a
//! CPU-limited cgroup, e.g. on cgroup v1 as root:
//!
//! ```text
//! cargo bench -p petrel --bench password --no-run      # prints the binary's path
//! mkdir /sys/fs/cgroup/cpu/lambda256
//! echo 100000 > /sys/fs/cgroup/cpu/lambda256/cpu.cfs_period_us
//! echo 14500  > /sys/fs/cgroup/cpu/lambda256/cpu.cfs_quota_us
//! sh -c 'echo $$ > /sys/fs/cgroup/cpu/lambda256/cgroup.procs; exec BINARY --bench --measured-share'
//! ```
//!
//! With `--measured-share` the bench reports the times it sees as they are (no scaling).
// A benchmark's setup failing is a bug to see at once, like in a test.
#![allow(clippy::expect_used)]

use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Lambda's CPU share at 256 MB: one vCPU per 1,769 MB.
const LAMBDA_256_SHARE: f64 = 256.0 / 1769.0;
const ROUNDS: usize = 7;

/// (memory KiB, iterations, lanes, what it is).
const CANDIDATES: &[(u32, u32, u32, &str)] = &[
    (47_104, 1, 1, "OWASP: m=46 MiB, t=1"),
    (19_456, 2, 1, "OWASP: m=19 MiB, t=2 (argon2 crate default)"),
    (12_288, 3, 1, "OWASP: m=12 MiB, t=3"),
    (9_216, 4, 1, "OWASP: m=9 MiB, t=4"),
    (7_168, 5, 1, "OWASP: m=7 MiB, t=5"),
];

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let measured = std::env::args().any(|a| a == "--measured-share");
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.to_string()))
        .unwrap_or_default();
    println!("{cpu}");
    println!(
        "{:<46} {:>12} {:>22}",
        "argon2id parameters",
        if measured { "verify (as seen)" } else { "verify (full CPU)" },
        if measured { "" } else { "at 256 MB Lambda (×6.9)" }
    );
    let salt = SaltString::encode_b64(b"petrel-bench-salt").expect("salt");
    for &(m, t, p, what) in CANDIDATES {
        let params = Params::new(m, t, p, None).expect("params");
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let hash = argon2.hash_password(b"correct horse battery", &salt).expect("hash").to_string();
        let parsed = PasswordHash::new(&hash).expect("parse");
        // Warm up once (first-touch page faults of the memory block).
        argon2.verify_password(b"correct horse battery", &parsed).expect("verifies");
        let times: Vec<Duration> = (0..ROUNDS)
            .map(|_| {
                let started = Instant::now();
                let wrong = argon2.verify_password(b"wrong password", &parsed);
                let took = started.elapsed();
                assert!(wrong.is_err());
                took
            })
            .collect();
        let full = median(times);
        let label = format!("m={m} KiB t={t} p={p} ({what})");
        if measured {
            println!("{label:<46} {:>12.0?}", full);
        } else {
            println!("{label:<46} {:>12.0?} {:>22.0?}", full, full.div_f64(LAMBDA_256_SHARE));
        }
    }
    let current = petrel::crypto::hash_password("correct horse battery").expect("hash");
    println!("petrel's current parameters: {}", current.split('$').nth(3).unwrap_or_default());
}
