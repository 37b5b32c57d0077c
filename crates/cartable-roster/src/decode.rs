//! Bytes to rows of cells: guess the encoding and the separator the way a
//! spreadsheet would, and keep each row's line number as the spreadsheet
//! shows it, so that the admin can find a rejected line.

use crate::error::RosterFileError;
use crate::{MAX_BYTES, MAX_LINES};

/// One non-blank row of the file, cells trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    /// 1-based, counting blank lines, the way a spreadsheet numbers rows.
    pub line: usize,
    pub cells: Vec<String>,
}

/// A quoted cell spanning more line breaks than this is taken for a quote
/// that was never closed (real multi-line cells are addresses: 2 or 3 lines).
const MAX_BREAKS_IN_CELL: usize = 4;

/// Bytes to text: UTF-8 (with or without BOM), UTF-16 with a BOM (Excel's
/// "Texte Unicode"), else Windows-1252, which is what French spreadsheets
/// write when told "CSV" on Windows.
pub(crate) fn decode(bytes: &[u8]) -> Result<String, RosterFileError> {
    if bytes.len() > MAX_BYTES {
        return Err(RosterFileError::TooLarge { bytes: bytes.len() });
    }
    let text = match encoding_rs::Encoding::for_bom(bytes) {
        Some((encoding, bom_len)) => {
            let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
            text.into_owned()
        }
        None => decode_without_bom(bytes)?,
    };
    if text.trim().is_empty() {
        return Err(RosterFileError::Empty);
    }
    if looks_binary(&text) {
        return Err(RosterFileError::NotText);
    }
    Ok(text)
}

fn decode_without_bom(bytes: &[u8]) -> Result<String, RosterFileError> {
    // A NUL byte never occurs in a text export, but in every binary one
    // (xlsx is a zip, xls an OLE file, PDFs and images too).
    if bytes.contains(&0) {
        return Err(RosterFileError::NotText);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(_) => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            Ok(text.into_owned())
        }
    }
}

/// Binary content decoded as Windows-1252 still "succeeds": look for the
/// control characters that text does not contain. One stray character is
/// left to the line it is on (its name will be rejected); many mean binary.
fn looks_binary(text: &str) -> bool {
    let mut total = 0usize;
    let mut controls = 0usize;
    for c in text.chars() {
        total += 1;
        if c == '\0' {
            return true;
        }
        if c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{0c}' | '\u{1a}') {
            controls += 1;
        }
    }
    controls > 0 && controls * 100 >= total
}

/// The separator is the one of `;`, tab, `,` found most often outside quotes
/// on the header line (`;` first on ties: it is what French exports use).
pub(crate) fn detect_separator(text: &str) -> u8 {
    let header = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut counts = [(b';', 0usize), (b'\t', 0), (b',', 0)];
    let mut in_quotes = false;
    for c in header.chars() {
        if c == '"' {
            in_quotes = !in_quotes;
            continue;
        }
        if in_quotes {
            continue;
        }
        for (sep, n) in counts.iter_mut() {
            if c as u32 == u32::from(*sep) {
                *n += 1;
            }
        }
    }
    let best = counts.iter().copied().fold(
        (b';', 0),
        |best, cur| if cur.1 > best.1 { cur } else { best },
    );
    best.0
}

/// Splits the text into non-blank rows (header included). Errors when the
/// file holds more than [`MAX_LINES`] data rows or a quote is never closed.
pub(crate) fn rows(text: &str, separator: u8) -> Result<Vec<Row>, RosterFileError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let lines = LineIndex::new(text);
    let mut rows = Vec::new();
    // Line breaks inside quoted cells so far: the spreadsheet shows such a
    // record as one row, so they do not count in row numbers.
    let mut breaks_in_cells = 0usize;
    for record in reader.records() {
        let record = record.map_err(|e| malformed(&e, &lines))?;
        let physical = lines.line_of_record(record.position().map_or(0, |p| p.byte() as usize));
        let line = physical - breaks_in_cells;
        let breaks: usize = record.iter().map(count_breaks).sum();
        if record
            .iter()
            .any(|cell| count_breaks(cell) > MAX_BREAKS_IN_CELL)
        {
            return Err(RosterFileError::Malformed {
                line,
                detail: "un guillemet (\") ouvert n'est jamais refermé".into(),
            });
        }
        breaks_in_cells += breaks;
        let cells: Vec<String> = record.iter().map(clean_cell).collect();
        if cells.iter().all(|c| c.is_empty()) {
            continue;
        }
        rows.push(Row { line, cells });
        if rows.len() > MAX_LINES + 1 {
            return Err(RosterFileError::TooManyLines);
        }
    }
    Ok(rows)
}

fn count_breaks(cell: &str) -> usize {
    cell.bytes().filter(|&b| b == b'\n').count()
}

/// Line numbers from byte offsets. (The csv reader's own line counter lags
/// behind on blank lines and CRLF, so it is not used.)
struct LineIndex<'t> {
    text: &'t str,
    newlines: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    fn new(text: &'t str) -> Self {
        let newlines = text
            .bytes()
            .enumerate()
            .filter(|&(_, b)| b == b'\n')
            .map(|(i, _)| i)
            .collect();
        LineIndex { text, newlines }
    }

    /// The csv reader reports where it started looking for a record, before
    /// the blank lines it skips: the record starts after them.
    fn line_of_record(&self, byte: usize) -> usize {
        let skipped = self.text.as_bytes()[byte.min(self.text.len())..]
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        1 + self.newlines.partition_point(|&p| p < byte + skipped)
    }
}

fn malformed(e: &csv::Error, lines: &LineIndex) -> RosterFileError {
    let line = e
        .position()
        .map_or(0, |p| lines.line_of_record(p.byte() as usize));
    RosterFileError::Malformed {
        line,
        detail: e.to_string(),
    }
}

/// Trims a cell and unwraps Excel's `="00123"` (written to keep leading zeros).
fn clean_cell(raw: &str) -> String {
    let trimmed = raw.trim();
    let unwrapped = trimmed
        .strip_prefix("=\"")
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(trimmed);
    unwrapped.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(decode("Nom;Prénom\n".as_bytes()).unwrap(), "Nom;Prénom\n");
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice("Nom;Prénom\n".as_bytes());
        assert_eq!(decode(&bom).unwrap(), "Nom;Prénom\n");
    }

    #[test]
    fn windows_1252_is_recognised() {
        let text = decode(b"Nom;Pr\xe9nom\r\nL\xe9a;\x80\r\n").unwrap();
        assert_eq!(text, "Nom;Prénom\r\nLéa;€\r\n");
    }

    #[test]
    fn utf16_with_bom_is_read() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "Nom\tPrénom\r\n".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode(&bytes).unwrap(), "Nom\tPrénom\r\n");
    }

    #[test]
    fn binary_and_empty_are_refused() {
        assert_eq!(
            decode(b"PK\x03\x04\x14\x00\x06\x00"),
            Err(RosterFileError::NotText)
        );
        let garbage: Vec<u8> = (1..=255u8).cycle().take(2000).filter(|&b| b != 0).collect();
        assert_eq!(decode(&garbage), Err(RosterFileError::NotText));
        assert_eq!(decode(b""), Err(RosterFileError::Empty));
        assert_eq!(decode(b" \r\n\r\n"), Err(RosterFileError::Empty));
        assert_eq!(decode(&[0xEF, 0xBB, 0xBF]), Err(RosterFileError::Empty));
    }

    #[test]
    fn too_large_is_refused_before_decoding() {
        let big = vec![b'a'; MAX_BYTES + 1];
        assert_eq!(decode(&big).unwrap_err().code(), "roster.too_large");
    }

    #[test]
    fn separator_is_guessed_from_the_header_outside_quotes() {
        assert_eq!(detect_separator("Nom;Prénom;Classe\n"), b';');
        assert_eq!(detect_separator("Nom,Prénom,Classe\n"), b',');
        assert_eq!(detect_separator("Nom\tPrénom\tClasse\n"), b'\t');
        assert_eq!(detect_separator("\"Nom, d'usage\";Prénom\n"), b';');
        assert_eq!(detect_separator("\n\nNom,Prénom\n"), b',');
        assert_eq!(detect_separator("Nom\n"), b';');
    }

    #[test]
    fn rows_keep_spreadsheet_line_numbers() {
        let text = "Nom;Prénom\r\n\r\nMartin ; Zoé ;;\r\n;;\r\n\"Durand\";\"Léo\"\r\n";
        let rows = rows(text, b';').unwrap();
        let lines: Vec<usize> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![1, 3, 5]);
        assert_eq!(rows[1].cells, vec!["Martin", "Zoé", "", ""]);
        assert_eq!(rows[2].cells, vec!["Durand", "Léo"]);
    }

    #[test]
    fn quoted_cells_keep_separators_and_line_breaks() {
        let text =
            "Nom,Prénom,Adresse\n\"Martin, dit Bob\",Zoé,\"1 rue A\n75000 Paris\"\nDurand,Léo,\n";
        let rows = rows(text, b',').unwrap();
        assert_eq!(rows[1].cells[0], "Martin, dit Bob");
        assert_eq!(rows[1].line, 2);
        // The address took two physical lines but one spreadsheet row.
        assert_eq!(rows[2].line, 3);
    }

    #[test]
    fn an_unclosed_quote_is_malformed() {
        let mut text = String::from("Nom;Prénom\n\"Martin;Zoé\n");
        for _ in 0..10 {
            text.push_str("Durand;Léo\n");
        }
        let err = rows(&text, b';').unwrap_err();
        assert_eq!(err.code(), "roster.malformed");
        assert!(matches!(err, RosterFileError::Malformed { line: 2, .. }));
    }

    #[test]
    fn excel_text_formulas_are_unwrapped() {
        assert_eq!(clean_cell(" =\"00123\" "), "00123");
        assert_eq!(clean_cell("=SOMME(A1)"), "=SOMME(A1)");
    }
}
