//! What a chosen password must be. Length is what matters (NIST SP 800-63B,
//! ANSSI): a minimum, a generous maximum, and a refusal of the passwords that
//! every credential-stuffing list tries first. No composition rules: they make
//! pupils write passwords down without making them stronger.

use thiserror::Error;

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PasswordError {
    #[error("le mot de passe doit faire au moins {MIN_CHARS} caractères")]
    TooShort,
    #[error("le mot de passe doit faire au plus {MAX_CHARS} caractères")]
    TooLong,
    #[error("ce mot de passe est trop courant : choisissez-en un autre")]
    TooCommon,
    #[error("le mot de passe ne doit pas reprendre votre identifiant")]
    ContainsLogin,
    #[error("les deux mots de passe ne sont pas identiques")]
    Mismatch,
}

/// Passwords at the top of leaked-password lists, plus the French school
/// favourites. Compared after lower-casing.
const COMMON: &[&str] = &[
    "12345678",
    "123456789",
    "1234567890",
    "12345678910",
    "password",
    "password1",
    "password123",
    "motdepasse",
    "motdepasse1",
    "azertyuiop",
    "azerty123",
    "azertyui",
    "qwertyuiop",
    "qwerty123",
    "11111111",
    "00000000",
    "87654321",
    "iloveyou",
    "jetaime1",
    "doudou123",
    "soleil123",
    "chocolat",
    "football",
    "marseille",
    "bonjour1",
    "bonjour123",
    "loulou123",
    "nicolas1",
    "princesse",
    "celine123",
    "abcd1234",
    "abc12345",
    "a1b2c3d4",
    "aaaaaaaa",
    "sunshine",
    "superman",
    "baseball",
    "dragon123",
    "welcome1",
    "letmein1",
    "trustno1",
    "passw0rd",
    "p@ssw0rd",
    "cartable",
    "cartable1",
    "cartable123",
    "college1",
    "ecole123",
    "lycee123",
    "1q2w3e4r",
    "zaq12wsx",
    "123123123",
    "12341234",
    "minecraft",
    "pokemon1",
    "fortnite",
];

/// Checks a password someone chose. `login` is theirs: the password must not contain it.
pub fn check_new_password(password: &str, confirm: &str, login: &str) -> Result<(), PasswordError> {
    if password != confirm {
        return Err(PasswordError::Mismatch);
    }
    let len = password.chars().count();
    if len < MIN_CHARS {
        return Err(PasswordError::TooShort);
    }
    if len > MAX_CHARS {
        return Err(PasswordError::TooLong);
    }
    let lower = password.to_lowercase();
    if COMMON.contains(&lower.as_str()) || all_same_char(&lower) {
        return Err(PasswordError::TooCommon);
    }
    if !login.is_empty() && lower.contains(&login.to_lowercase()) {
        return Err(PasswordError::ContainsLogin);
    }
    Ok(())
}

fn all_same_char(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => chars.all(|c| c == first),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_long_passphrase() {
        assert_eq!(
            check_new_password("vélo rouge du mardi", "vélo rouge du mardi", "zoe.martin"),
            Ok(())
        );
    }

    #[test]
    fn refuses_short_common_mismatched_and_login() {
        assert_eq!(
            check_new_password("abc", "abc", "x.y"),
            Err(PasswordError::TooShort)
        );
        assert_eq!(
            check_new_password("AZERTYUIOP", "AZERTYUIOP", "x.y"),
            Err(PasswordError::TooCommon)
        );
        assert_eq!(
            check_new_password("zzzzzzzzzz", "zzzzzzzzzz", "x.y"),
            Err(PasswordError::TooCommon)
        );
        assert_eq!(
            check_new_password("abcdefgh1", "abcdefgh2", "x.y"),
            Err(PasswordError::Mismatch)
        );
        assert_eq!(
            check_new_password("zoe.martin2024", "zoe.martin2024", "zoe.martin"),
            Err(PasswordError::ContainsLogin)
        );
        let long = "x".repeat(100) + &"y".repeat(29);
        assert_eq!(
            check_new_password(&long, &long, "a.b"),
            Err(PasswordError::TooLong)
        );
    }
}
