//! Key and password material. RSA key generation uses the `rsa` crate because ring cannot
//! generate RSA keys; signing and verifying use ring. Passwords are hashed with argon2id.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use thiserror::Error;

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

/// An argon2id PHC string with a random salt.
pub fn hash_password(password: &str) -> Result<String, CryptoError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CryptoError::Password(e.to_string()))
}

/// Whether `password` matches the stored hash; a malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
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
