//! Reads the roster files schools export (pupils, parents, teachers, staff)
//! and plans their import against the school as it is now.
//!
//! Pure: bytes in, [`ParsedRoster`] out ([`read_roster`]); parsed file and
//! snapshot in, [`RosterPlan`](cartable_domain::roster::RosterPlan) out
//! ([`plan`]). The store applies the plan, in one transaction.
//!
//! - `decode`: bytes to rows (encoding, separator, line numbers);
//! - `headers`: header cells to logical columns (synonyms);
//! - `parse`: rows to records, with a French reason per bad line;
//! - `plan`: records against the snapshot, to operations and a per-line report.

mod decode;
mod error;
mod headers;
mod parse;
mod plan;
#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

use cartable_domain::roster::RosterKind;

pub use error::RosterFileError;
pub use parse::{ParsedLine, ParsedRoster};
pub use plan::plan;

/// Most data lines a file may hold (a large lycée has about 2,500 pupils and
/// 5,000 parents; a whole-city primary export stays well under this).
pub const MAX_LINES: usize = 20_000;
/// Largest file accepted, in bytes.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// Reads a roster file. `kind` is the admin's choice when given; otherwise
/// it is guessed from the columns, and [`RosterFileError::KindUnknown`] asks
/// the admin to choose.
pub fn read_roster(
    bytes: &[u8],
    kind: Option<RosterKind>,
) -> Result<ParsedRoster, RosterFileError> {
    let text = decode::decode(bytes)?;
    let rows = decode::rows(&text, decode::detect_separator(&text))?;
    let Some((header_row, data)) = rows.split_first() else {
        return Err(RosterFileError::Empty);
    };
    let header = headers::Header::parse(&header_row.cells);
    if header.is_empty() {
        return Err(RosterFileError::NoHeader {
            first_line: header_row.cells.join(" ; ").chars().take(80).collect(),
        });
    }
    let kind = match kind {
        Some(kind) => kind,
        None => parse::detect_kind(&header)?,
    };
    parse::check_required_columns(&header, kind)?;
    let lines = data
        .iter()
        .map(|row| parse::parse_line(&header, kind, row))
        .collect();
    Ok(ParsedRoster { kind, lines })
}
