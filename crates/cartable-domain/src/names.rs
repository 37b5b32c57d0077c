//! Parse-don't-validate newtypes for what people type or import: names, class
//! names, logins, birth dates. Each constructor returns a French message that
//! can be shown as is to the person who typed the value.

use std::fmt;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    #[error("{field} est vide")]
    Empty { field: &'static str },
    #[error("{field} est trop long ({len} caractères, {max} au plus)")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{field} contient un caractère non autorisé")]
    BadCharacter { field: &'static str },
    #[error("date invalide « {0} » (attendu jj/mm/aaaa)")]
    BadDate(String),
    #[error("identifiant invalide « {0} »")]
    BadLogin(String),
}

/// Trims, folds inner runs of white space to one space, rejects control characters.
fn clean(field: &'static str, raw: &str, max: usize) -> Result<String, NameError> {
    let folded = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.is_empty() {
        return Err(NameError::Empty { field });
    }
    if folded.chars().any(|c| c.is_control()) {
        return Err(NameError::BadCharacter { field });
    }
    let len = folded.chars().count();
    if len > max {
        return Err(NameError::TooLong { field, len, max });
    }
    Ok(folded)
}

macro_rules! text_newtype {
    ($name:ident, $field:expr, $max:expr) => {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(raw: &str) -> Result<Self, NameError> {
                clean($field, raw, $max).map($name)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_newtype!(PersonName, "le nom", 80);
text_newtype!(ClassName, "le nom de classe", 40);
text_newtype!(SchoolName, "le nom de l'établissement", 120);
text_newtype!(Subject, "la matière", 80);
text_newtype!(ExternalId, "l'identifiant externe", 64);

/// Folds a name to what matching and logins compare: ASCII, lower case,
/// letters and digits only ("Zoé  D'Almeida-Roux" -> "zoedalmeidaroux").
pub fn fold_key(raw: &str) -> String {
    deunicode::deunicode(raw)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Folds text for substring search: ASCII, lower case, accents removed
/// ("Été à la Piscine" -> "ete a la piscine"), so that a search typed on a
/// phone without accents finds what was written with them.
pub fn search_key(raw: &str) -> String {
    deunicode::deunicode(raw).to_lowercase()
}

/// A login: lower-case ASCII letters, digits, dots and dashes, 3 to 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Login(String);

impl Login {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let s = raw.trim().to_ascii_lowercase();
        let ok_chars = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
        if !(3..=64).contains(&s.len()) || !ok_chars {
            return Err(NameError::BadLogin(raw.chars().take(64).collect()));
        }
        Ok(Login(s))
    }

    /// The login a person would expect: "prenom.nom", ASCII, with `suffix`
    /// appended when the plain one is taken (2, 3, ...).
    pub fn suggest(first: &PersonName, last: &PersonName, suffix: u32) -> Login {
        let part = |n: &PersonName| {
            let folded: String = deunicode::deunicode(n.as_str())
                .chars()
                .map(|c| c.to_ascii_lowercase())
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            let trimmed = folded
                .split('-')
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join("-");
            trimmed.chars().take(28).collect::<String>()
        };
        let mut base = format!("{}.{}", part(first), part(last));
        if base.len() < 3 {
            base = format!("utilisateur{base}");
        }
        if suffix > 1 {
            base.push_str(&suffix.to_string());
        }
        Login(base)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A calendar date, stored as ISO `YYYY-MM-DD`, accepted as `jj/mm/aaaa`
/// (how French exports write it) or ISO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BirthDate {
    year: u16,
    month: u8,
    day: u8,
}

impl BirthDate {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let s = raw.trim();
        let bad = || NameError::BadDate(s.chars().take(20).collect());
        let parts: Vec<&str> = if s.contains('/') {
            s.split('/').collect()
        } else if s.contains('-') {
            let mut p: Vec<&str> = s.split('-').collect();
            p.reverse();
            p
        } else {
            return Err(bad());
        };
        let [d, m, y] = parts.as_slice() else {
            return Err(bad());
        };
        let day: u8 = d.trim().parse().map_err(|_| bad())?;
        let month: u8 = m.trim().parse().map_err(|_| bad())?;
        let year: u16 = y.trim().parse().map_err(|_| bad())?;
        if !(1900..=2100).contains(&year) || !(1..=12).contains(&month) {
            return Err(bad());
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(bad());
        }
        Ok(BirthDate { year, month, day })
    }

    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    pub fn french(&self) -> String {
        format!("{:02}/{:02}/{:04}", self.day, self.month, self.year)
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_folded() {
        let n = PersonName::parse("  Zoé   D'Almeida ").unwrap();
        assert_eq!(n.as_str(), "Zoé D'Almeida");
        assert!(matches!(
            PersonName::parse("   "),
            Err(NameError::Empty { .. })
        ));
        let long = "a".repeat(81);
        assert!(matches!(
            PersonName::parse(&long),
            Err(NameError::TooLong { len: 81, .. })
        ));
        assert!(PersonName::parse("a\u{7}b").is_err());
    }

    #[test]
    fn error_messages_are_french() {
        let e = PersonName::parse("").unwrap_err();
        assert_eq!(e.to_string(), "le nom est vide");
        let e = ClassName::parse(&"x".repeat(50)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "le nom de classe est trop long (50 caractères, 40 au plus)"
        );
    }

    #[test]
    fn logins_are_ascii() {
        let f = PersonName::parse("Zoé").unwrap();
        let l = PersonName::parse("D'Almeida Roux").unwrap();
        assert_eq!(Login::suggest(&f, &l, 1).as_str(), "zoe.d-almeida-roux");
        assert_eq!(Login::suggest(&f, &l, 3).as_str(), "zoe.d-almeida-roux3");
        assert!(Login::parse("Zoe.Martin").is_ok());
        assert!(Login::parse("zo").is_err());
        assert!(Login::parse("zoé.martin").is_err());
        assert!(Login::parse("a b c").is_err());
    }

    #[test]
    fn dates_french_and_iso() {
        assert_eq!(BirthDate::parse("03/09/2012").unwrap().iso(), "2012-09-03");
        assert_eq!(
            BirthDate::parse("2012-09-03").unwrap().french(),
            "03/09/2012"
        );
        assert!(BirthDate::parse("29/02/2013").is_err());
        assert!(BirthDate::parse("29/02/2012").is_ok());
        assert!(BirthDate::parse("31/04/2012").is_err());
        assert!(BirthDate::parse("2012").is_err());
        assert!(BirthDate::parse("aa/bb/cccc").is_err());
    }

    #[test]
    fn fold_key_matches_accents_case_and_punctuation() {
        assert_eq!(fold_key("Nom d'usage"), fold_key("NOM D USAGE"));
        assert_eq!(fold_key("Prénom élève"), "prenomeleve");
    }
}
