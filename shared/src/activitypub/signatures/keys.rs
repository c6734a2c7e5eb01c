//! RSA keys in the forms ring needs, converted once from the PEM the table and actor documents hold.
//!
//! Actors' private keys are stored as PKCS#8 PEM and public keys travel as SPKI PEM
//! (`publicKeyPem`); ring signs with a PKCS#8 key pair and verifies against the PKCS#1
//! `RSAPublicKey` DER inside the SPKI, so both are decoded here, once, and kept in that form.

use std::fmt;
use std::sync::Arc;

use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256};
use rsa::pkcs8::der::pem;
use rsa::pkcs8::spki::SubjectPublicKeyInfoRef;

use super::SignatureError;

/// The smallest and largest RSA moduli ring verifies (`RSA_PKCS1_2048_8192_SHA256`), in bytes.
const MIN_MODULUS_BYTES: usize = 2048 / 8;
const MAX_MODULUS_BYTES: usize = 8192 / 8;

/// An RSA private key ready for ring. Cheap to clone.
#[derive(Clone)]
pub struct PrivateKey {
    pair: Arc<RsaKeyPair>,
}

impl fmt::Debug for PrivateKey {
    // Never print key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey(RSA-{})", self.pair.public().modulus_len() * 8)
    }
}

impl PrivateKey {
    /// A `-----BEGIN PRIVATE KEY-----` (PKCS#8) PEM; a PKCS#1 `RSA PRIVATE KEY` is accepted too.
    pub fn from_pkcs8_pem(pem_text: &str) -> Result<Self, SignatureError> {
        let (label, der) = pem::decode_vec(pem_text.trim().as_bytes())
            .map_err(|e| SignatureError::Key(format!("private key PEM: {e}")))?;
        match label {
            "PRIVATE KEY" => Self::from_pkcs8_der(&der),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der)
                .map(|pair| PrivateKey { pair: Arc::new(pair) })
                .map_err(|e| SignatureError::Key(format!("PKCS#1 private key: {e}"))),
            other => Err(SignatureError::Key(format!("unexpected PEM label {other:?} for a private key"))),
        }
    }

    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, SignatureError> {
        RsaKeyPair::from_pkcs8(der)
            .map(|pair| PrivateKey { pair: Arc::new(pair) })
            .map_err(|e| SignatureError::Key(format!("PKCS#8 private key: {e}")))
    }

    /// The matching public key (handy for tests and for checking a stored pair).
    pub fn public_key(&self) -> PublicKey {
        PublicKey { pkcs1: self.pair.public().as_ref().to_vec().into() }
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message`.
    pub fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, SignatureError> {
        let mut signature = vec![0; self.pair.public().modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut signature)
            .map_err(|_| SignatureError::Sign("RSA signing failed".into()))?;
        Ok(signature)
    }
}

/// An RSA public key as the PKCS#1 `RSAPublicKey` DER ring verifies with. Cheap to clone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    pkcs1: Arc<[u8]>,
}

impl PublicKey {
    /// A `-----BEGIN PUBLIC KEY-----` (SPKI) PEM as actor documents carry it; a PKCS#1
    /// `RSA PUBLIC KEY` PEM (seen from some older servers) is accepted too.
    pub fn from_spki_pem(pem_text: &str) -> Result<Self, SignatureError> {
        let (label, der) = pem::decode_vec(pem_text.trim().as_bytes())
            .map_err(|e| SignatureError::Key(format!("public key PEM: {e}")))?;
        match label {
            "PUBLIC KEY" => Self::from_spki_der(&der),
            "RSA PUBLIC KEY" => Self::from_pkcs1_der(&der),
            other => Err(SignatureError::Key(format!("unexpected PEM label {other:?} for a public key"))),
        }
    }

    pub fn from_spki_der(der: &[u8]) -> Result<Self, SignatureError> {
        let spki = SubjectPublicKeyInfoRef::try_from(der)
            .map_err(|e| SignatureError::Key(format!("SubjectPublicKeyInfo: {e}")))?;
        if spki.algorithm.oid != rsa::pkcs1::ALGORITHM_OID {
            return Err(SignatureError::Key(format!("not an RSA key (algorithm {})", spki.algorithm.oid)));
        }
        let pkcs1 = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| SignatureError::Key("SubjectPublicKeyInfo bit string is not byte-aligned".into()))?;
        Self::from_pkcs1_der(pkcs1)
    }

    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, SignatureError> {
        let key =
            rsa::pkcs1::RsaPublicKey::try_from(der).map_err(|e| SignatureError::Key(format!("RSAPublicKey: {e}")))?;
        let modulus_len = key.modulus.as_bytes().len();
        if !(MIN_MODULUS_BYTES..=MAX_MODULUS_BYTES).contains(&modulus_len) {
            return Err(SignatureError::Key(format!("RSA modulus of {} bits is not supported", modulus_len * 8)));
        }
        Ok(PublicKey { pkcs1: der.to_vec().into() })
    }

    /// Checks an RSASSA-PKCS1-v1_5 SHA-256 signature.
    pub fn verify_sha256(&self, message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &*self.pkcs1)
            .verify(message, signature)
            .map_err(|_| SignatureError::BadSignature)
    }
}

/// Who signs outgoing requests: the actor's key id (`https://host/users/alice#main-key`) and key.
#[derive(Clone, Debug)]
pub struct Signer {
    pub key_id: String,
    pub key: PrivateKey,
}

impl Signer {
    pub fn new(key_id: impl Into<String>, key: PrivateKey) -> Self {
        Signer { key_id: key_id.into(), key }
    }
}
