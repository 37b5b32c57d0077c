//! Secrets handed to people: session tokens (in a cookie) and activation codes
//! (on paper). Only their SHA-256 is stored: a copy of the database opens no account.

use base64::Engine;
use rand::Rng;
use sha2::{Digest, Sha256};

/// 256 random bits, URL-safe.
pub fn new_session_token() -> String {
    let bytes: [u8; 32] = rand::thread_rng().gen();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Letters and digits that cannot be misread on a printed slip (no 0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A 12-character code (about 59 bits) shown as "ABCD-EFGH-JKMN".
pub fn new_activation_code() -> String {
    let mut rng = rand::thread_rng();
    let raw: String = (0..12)
        .map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char)
        .collect();
    format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12])
}

/// What people type back: case, spaces and dashes do not matter.
pub fn normalize_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

pub fn hash_code(code: &str) -> String {
    hash_token(&normalize_code(code))
}

/// Compares two hex digests in time independent of where they differ.
pub fn same_digest(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_readable_and_tolerant() {
        let c = new_activation_code();
        assert_eq!(c.len(), 14);
        assert!(c
            .chars()
            .all(|ch| ch == '-' || CODE_ALPHABET.contains(&(ch as u8))));
        let typed = c.to_lowercase().replace('-', " ");
        assert_eq!(hash_code(&typed), hash_code(&c));
        assert_ne!(new_activation_code(), c);
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let t = new_session_token();
        assert_eq!(t.len(), 43);
        assert_ne!(t, new_session_token());
        assert_eq!(hash_token(&t).len(), 64);
        assert!(same_digest(&hash_token(&t), &hash_token(&t)));
        assert!(!same_digest(&hash_token(&t), &hash_token("x")));
    }
}
