//! Whole-file problems: the file cannot be read as a roster at all. Problems of
//! one line are not errors of the file: they become that line's `Err(reason)`.

use cartable_domain::roster::RosterKind;
use thiserror::Error;

use crate::{MAX_BYTES, MAX_LINES};

/// Why a file cannot be read. `Display` is French, for the admin who uploaded
/// it; [`RosterFileError::code`] is stable, for programs and tests.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RosterFileError {
    #[error("le fichier est vide")]
    Empty,
    #[error(
        "le fichier est trop volumineux ({} Mo, {} Mo au plus) : découpez-le en plusieurs fichiers",
        megabytes(*.bytes),
        MAX_BYTES / (1024 * 1024)
    )]
    TooLarge { bytes: usize },
    #[error(
        "ce fichier n'est pas un fichier texte : enregistrez-le depuis votre tableur au format \
         « CSV (séparateur : point-virgule) »"
    )]
    NotText,
    #[error(
        "la première ligne doit donner les noms des colonnes (Nom ; Prénom ; Classe…) : \
         aucune colonne reconnue dans « {first_line} »"
    )]
    NoHeader { first_line: String },
    #[error(
        "{} pour un fichier « {} » : {}",
        if .columns.len() > 1 { "colonnes manquantes" } else { "colonne manquante" },
        .kind.label_fr(),
        .columns.join(", ")
    )]
    MissingColumn {
        kind: RosterKind,
        columns: Vec<&'static str>,
    },
    #[error(
        "impossible de reconnaître le type de fichier d'après ses colonnes : \
         choisissez s'il s'agit d'élèves, de responsables légaux, d'enseignants ou de personnels"
    )]
    KindUnknown,
    #[error(
        "le fichier compte plus de {} lignes : découpez-le en plusieurs fichiers",
        MAX_LINES
    )]
    TooManyLines,
    #[error("fichier illisible à la ligne {line} : {detail}")]
    Malformed { line: usize, detail: String },
}

impl RosterFileError {
    /// Stable code for programs (API answers, CLI exit reports, tests).
    pub fn code(&self) -> &'static str {
        match self {
            RosterFileError::Empty => "roster.empty",
            RosterFileError::TooLarge { .. } => "roster.too_large",
            RosterFileError::NotText => "roster.not_text",
            RosterFileError::NoHeader { .. } => "roster.no_header",
            RosterFileError::MissingColumn { .. } => "roster.missing_column",
            RosterFileError::KindUnknown => "roster.kind_unknown",
            RosterFileError::TooManyLines => "roster.too_many_lines",
            RosterFileError::Malformed { .. } => "roster.malformed",
        }
    }
}

/// Rounded up so that a file just over the limit does not read "10 Mo, 10 Mo au plus".
fn megabytes(bytes: usize) -> usize {
    bytes.div_ceil(1024 * 1024)
}
