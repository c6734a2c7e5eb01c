//! Key and password material. RSA key generation uses the `rsa` crate because ring cannot
//! generate RSA keys; signing and verifying use ring. Passwords are hashed with argon2id.
//!
//! ## Password hashing cost
//!
//! argon2id with **m = 19 MiB (19,456 KiB), t = 2, p = 1**: the first of OWASP's equivalent
//! argon2id settings (Password Storage Cheat Sheet), pinned here rather than taken from the
//! crate's default so a dependency update cannot change it unnoticed. Chosen by what one
//! verification costs where it runs, a 256 MB Lambda function, which gets 256/1769 ≈ 0.145 of a
//! vCPU (Lambda allots one vCPU per 1,769 MB). Measured with `cargo bench -p petrel --bench
//! password` (medians of 7; on an AMD EPYC host; 2026-11):
//!
//! | argon2id | full CPU | 0.145 CPU, computed (×6.9) | 0.145 CPU, measured in a cgroup |
//! |---|---|---|---|
//! | m=46 MiB t=1 | 37 ms | 250 ms | 300 ms |
//! | **m=19 MiB t=2** | **20 ms** | **135 ms** | **160 ms** |
//! | m=12 MiB t=3 | 10 ms | 70 ms | 80 ms |
//! | m=9 MiB t=4 | 10 ms | 68 ms | 80 ms |
//! | m=7 MiB t=5 | 9 ms | 65 ms | 80 ms |
//!
//! (measured: cgroup v1 `cpu.cfs_quota_us` = 1,450 per 10,000 µs period; the bench's doc says
//! how.) The larger memory settings lose cache locality on this host, so the equivalents are not
//! equally fast here; Lambda's arm64 cores may differ by tens of percent either way.
//!
//! m=19 MiB t=2 lands at ≈ 0.15 s per verification on the function: inside the 0.1–0.5 s aimed
//! for (slow enough to make an offline attack on a leaked hash costly, fast enough that a
//! sign-in does not drag and that failed attempts, which the throttle caps at 10 per account and
//! 30 per address every 15 minutes, cost little), and its 19 MiB block fits many times over in
//! 256 MB (a function instance verifies one password at a time). m=46 MiB t=1 would double the
//! time for no gain in OWASP's terms. Stored hashes carry their own parameters in the PHC
//! string, so hashes made under other parameters keep verifying; a successful sign-in rehashes
//! them with these (`needs_rehash`).

use std::sync::atomic::{AtomicU64, Ordering};

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use thiserror::Error;

/// The lowercase hex SHA-256 of `s`: how secrets and tokens are stored, and how values longer
/// than a sort key may be are named in one.
pub fn sha256_hex(s: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, s.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Error)]
pub enum CryptoError {
    #[error("key generation failed: {0}")]
    KeyGeneration(String),
    #[error("password hashing failed: {0}")]
    Password(String),
}

/// An actor's key pair as PEM: PKCS#8 private key, SPKI public key (what `publicKeyPem` carries).
#[derive(Debug, Clone)]
pub struct KeyPair {
    pub private_pem: String,
    pub public_pem: String,
}

pub fn generate_rsa_2048() -> Result<KeyPair, CryptoError> {
    let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
        .map_err(|e| CryptoError::KeyGeneration(e.to_string()))?;
    let private_pem =
        private.to_pkcs8_pem(LineEnding::LF).map_err(|e| CryptoError::KeyGeneration(e.to_string()))?.to_string();
    let public_pem = private
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| CryptoError::KeyGeneration(e.to_string()))?;
    Ok(KeyPair { private_pem, public_pem })
}

/// argon2id memory in KiB, iterations and lanes (see the module's doc for why).
pub const ARGON2_MEMORY_KIB: u32 = 19_456;
pub const ARGON2_ITERATIONS: u32 = 2;
pub const ARGON2_LANES: u32 = 1;

fn argon2() -> Result<Argon2<'static>, CryptoError> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_LANES, None)
        .map_err(|e| CryptoError::Password(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// An argon2id PHC string with a random salt.
pub fn hash_password(password: &str) -> Result<String, CryptoError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CryptoError::Password(e.to_string()))
}

static VERIFICATIONS: AtomicU64 = AtomicU64::new(0);
static DUMMY_VERIFICATIONS: AtomicU64 = AtomicU64::new(0);

/// Whether `password` matches the stored hash (verified with the parameters the hash carries);
/// a malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else { return false };
    VERIFICATIONS.fetch_add(1, Ordering::Relaxed);
    // The algorithm, version and parameters come from the PHC string, not from this instance.
    Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
}

/// A hash of a random password nobody knows, made with the current parameters (a unit test
/// checks they match), so a sign-in as an unknown user, or as an account without a password,
/// spends the same argon2 work as one with a wrong password and answers no faster.
pub const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$qfYSrUcZtXQo2H6ZM9LdZg$CFKb3WjW7HS1PVG7rTUpkKJFYXxOXdr6X+iLlB78OxM";

/// Spends one verification on `DUMMY_HASH`; always false.
pub fn verify_dummy(password: &str) -> bool {
    DUMMY_VERIFICATIONS.fetch_add(1, Ordering::Relaxed);
    // black_box: the work must be done even though its answer is known.
    std::hint::black_box(verify_password(password, DUMMY_HASH));
    false
}

/// How many argon2 verifications this process has run, and how many of them were on
/// `DUMMY_HASH`: a hook for tests that an unknown user costs a verification.
pub fn verification_counts() -> (u64, u64) {
    (VERIFICATIONS.load(Ordering::Relaxed), DUMMY_VERIFICATIONS.load(Ordering::Relaxed))
}

/// Whether a stored hash was made with other parameters (or another algorithm) than the current
/// ones, so a successful sign-in should store a fresh hash.
pub fn needs_rehash(hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else { return false };
    let Ok(params) = Params::try_from(&parsed) else { return true };
    parsed.algorithm != Algorithm::Argon2id.ident()
        || parsed.version != Some(Version::V0x13.into())
        || params.m_cost() != ARGON2_MEMORY_KIB
        || params.t_cost() != ARGON2_ITERATIONS
        || params.p_cost() != ARGON2_LANES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn hashes_carry_the_chosen_parameters_and_old_ones_still_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(!needs_rehash(&h));
        // The dummy hash costs what a real one does.
        assert_eq!(DUMMY_HASH.split('$').nth(3), h.split('$').nth(3));
        assert!(!needs_rehash(DUMMY_HASH));
        assert!(!verify_dummy("correct horse"));
        // A hash made under other parameters keeps verifying, and is marked for a rehash.
        let old = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8192, 1, 1, None).unwrap())
            .hash_password(b"correct horse", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify_password("correct horse", &old));
        assert!(!verify_password("wrong", &old));
        assert!(needs_rehash(&old));
    }

    #[test]
    fn generated_key_is_usable_by_ring() {
        use rsa::pkcs8::DecodePrivateKey;
        let kp = generate_rsa_2048().unwrap();
        assert!(kp.public_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(&kp.private_pem).unwrap();
        let der = key.to_pkcs8_der().unwrap();
        let ring_key = ring::signature::RsaKeyPair::from_pkcs8(der.as_bytes()).unwrap();
        assert_eq!(ring_key.public().modulus_len(), 256);
    }
}
