//! Header cells to logical columns. Exports name the same column in many ways
//! ("Nom élève", "NOM D'USAGE", "Né(e) le"); headers are compared folded
//! (lower case, no accents, no spaces or punctuation) against a synonym table.

use cartable_domain::names::fold_key;

/// What a column of the file means, whatever its header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Column {
    LastName,
    FirstName,
    Class,
    Groups,
    BirthDate,
    ExternalId,
    /// The pupil's national number: an id, but only for pupils, and only
    /// when the file has no `externalId`.
    Ine,
    Email,
    Subject,
    Function,
    HeadTeacher,
    ChildExternalId,
    ChildLastName,
    ChildFirstName,
    ChildClass,
    /// A legal guardian on a pupil's row: R1 or R2.
    Guardian(u8, GuardianField),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum GuardianField {
    LastName,
    FirstName,
    Email,
}

/// Folded header -> column. Within a column, earlier synonyms win when a row
/// fills several of them ("Nom d'usage" before "Nom de famille").
const SYNONYMS: &[(Column, &[&str])] = &[
    (
        Column::LastName,
        &["nomdusage", "nom", "nomeleve", "nomdefamille"],
    ),
    (
        Column::FirstName,
        &["prenomusuel", "prenom", "prenomeleve", "prenom1"],
    ),
    (
        Column::Class,
        &[
            "classe",
            "libelleclasse",
            "classeouregroupement",
            "division",
            "classes",
        ],
    ),
    (
        Column::Groups,
        &["regroupements", "regroupement", "groupes", "groupe"],
    ),
    (
        Column::BirthDate,
        &[
            "datedenaissance",
            "datenaiss",
            "datenaissance",
            "nele",
            "nee",
            "neele",
        ],
    ),
    (
        Column::ExternalId,
        &[
            "externalid",
            "id",
            "identifiant",
            "identifiantexterne",
            "idexterne",
        ],
    ),
    (Column::Ine, &["ine"]),
    (
        Column::Email,
        &[
            "email",
            "courriel",
            "mail",
            "adressemail",
            "adressecourriel",
        ],
    ),
    (
        Column::Subject,
        &["discipline", "matiereenseignee", "matiere", "disciplines"],
    ),
    (Column::Function, &["fonction"]),
    (Column::HeadTeacher, &["professeurprincipal"]),
    (Column::ChildExternalId, &["childexternalid", "idenfant"]),
    (Column::ChildLastName, &["nomenfant"]),
    (Column::ChildFirstName, &["prenomenfant"]),
    (Column::ChildClass, &["classeenfant"]),
];

/// "Nom responsable" names the person in a parents' file, but a guardian when
/// the file also names the pupil ("Nom élève"): decided once the whole header is seen.
const RESPONSABLE_LAST: &str = "nomresponsable";
const RESPONSABLE_FIRST: &str = "prenomresponsable";

/// One recognised column of the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mapped {
    index: usize,
    column: Column,
    /// Rank of the synonym: lower wins when several columns are filled.
    rank: usize,
}

/// The header of a file: which cell index holds which column.
#[derive(Debug, Clone, Default)]
pub(crate) struct Header {
    mapped: Vec<Mapped>,
}

impl Header {
    pub fn parse(cells: &[String]) -> Header {
        let mut mapped: Vec<Mapped> = cells
            .iter()
            .enumerate()
            .filter_map(|(index, cell)| {
                let (column, rank) = column_of(&fold_key(cell))?;
                Some(Mapped {
                    index,
                    column,
                    rank,
                })
            })
            .collect();
        resolve_responsable(cells, &mut mapped);
        // Stable: same-rank duplicates ("Classe", "Classe", ...) keep file order.
        mapped.sort_by_key(|m| m.rank);
        Header { mapped }
    }

    pub fn is_empty(&self) -> bool {
        self.mapped.is_empty()
    }

    pub fn has(&self, column: Column) -> bool {
        self.mapped.iter().any(|m| m.column == column)
    }

    pub fn has_any(&self, columns: &[Column]) -> bool {
        columns.iter().any(|&c| self.has(c))
    }

    pub fn has_guardians(&self) -> bool {
        self.mapped
            .iter()
            .any(|m| matches!(m.column, Column::Guardian(..)))
    }

    /// The best filled cell of `column` on this row, if any.
    pub fn value<'r>(&self, cells: &'r [String], column: Column) -> Option<&'r str> {
        self.cells_of(cells, column).flatten().next()
    }

    /// Every filled cell of `column` on this row (repeated "Classe" columns).
    pub fn values<'r>(&self, cells: &'r [String], column: Column) -> Vec<&'r str> {
        self.cells_of(cells, column).flatten().collect()
    }

    /// Every cell of `column`, filled or not, in file order, so that repeated
    /// "Nom enfant" / "Prénom enfant" columns can be paired by position.
    pub fn positional<'r>(&self, cells: &'r [String], column: Column) -> Vec<Option<&'r str>> {
        let mut found: Vec<&Mapped> = self.mapped.iter().filter(|m| m.column == column).collect();
        found.sort_by_key(|m| m.index);
        found.into_iter().map(|m| cell_at(cells, m.index)).collect()
    }

    fn cells_of<'a, 'r: 'a>(
        &'a self,
        cells: &'r [String],
        column: Column,
    ) -> impl Iterator<Item = Option<&'r str>> + 'a {
        self.mapped
            .iter()
            .filter(move |m| m.column == column)
            .map(move |m| cell_at(cells, m.index))
    }
}

/// A row may be shorter than the header: missing cells are empty.
fn cell_at(cells: &[String], index: usize) -> Option<&str> {
    cells
        .get(index)
        .map(String::as_str)
        .filter(|c| !c.is_empty())
}

fn column_of(folded: &str) -> Option<(Column, usize)> {
    if let Some(found) = plain_column(folded) {
        return Some(found);
    }
    if folded == RESPONSABLE_LAST {
        return Some((Column::LastName, 100));
    }
    if folded == RESPONSABLE_FIRST {
        return Some((Column::FirstName, 100));
    }
    guardian_column(folded).map(|c| (c, 0))
}

fn plain_column(folded: &str) -> Option<(Column, usize)> {
    SYNONYMS.iter().find_map(|(column, names)| {
        let rank = names.iter().position(|n| *n == folded)?;
        Some((*column, rank))
    })
}

/// `R1 nom`, `Nom R1`, `Nom responsable 1`, `R2 courriel`...
fn guardian_column(folded: &str) -> Option<Column> {
    for n in [1u8, 2] {
        let prefixes = [
            format!("r{n}"),
            format!("responsable{n}"),
            format!("resp{n}"),
        ];
        for affix in &prefixes {
            let rest = folded
                .strip_prefix(affix.as_str())
                .or_else(|| folded.strip_suffix(affix.as_str()));
            let field = match rest.and_then(plain_column) {
                Some((Column::LastName, _)) => GuardianField::LastName,
                Some((Column::FirstName, _)) => GuardianField::FirstName,
                Some((Column::Email, _)) => GuardianField::Email,
                _ => continue,
            };
            return Some(Column::Guardian(n, field));
        }
    }
    None
}

/// When the pupil is named too, "Nom responsable" / "Prénom responsable" are
/// the first guardian, not a second spelling of the pupil's name.
fn resolve_responsable(cells: &[String], mapped: &mut [Mapped]) {
    let names_pupil = mapped
        .iter()
        .any(|m| matches!(m.column, Column::LastName | Column::FirstName) && m.rank < 100);
    let names_guardian_1 = mapped
        .iter()
        .any(|m| matches!(m.column, Column::Guardian(1, _)));
    if !names_pupil || names_guardian_1 {
        return;
    }
    for m in mapped.iter_mut().filter(|m| m.rank == 100) {
        let folded = fold_key(&cells[m.index]);
        m.column = if folded == RESPONSABLE_LAST {
            Column::Guardian(1, GuardianField::LastName)
        } else {
            Column::Guardian(1, GuardianField::FirstName)
        };
        m.rank = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(cells: &[&str]) -> Header {
        Header::parse(&cells.iter().map(|c| c.to_string()).collect::<Vec<_>>())
    }

    fn column(cell: &str) -> Option<Column> {
        column_of(&fold_key(cell)).map(|(c, _)| c)
    }

    #[test]
    fn header_variants_from_real_exports() {
        for h in [
            "Nom",
            "NOM",
            "Nom élève",
            "Nom d'usage",
            "Nom de famille",
            "Nom responsable",
        ] {
            assert_eq!(column(h), Some(Column::LastName), "{h}");
        }
        for h in [
            "Prénom",
            "PRENOM",
            "Prénom élève",
            "Prénom responsable",
            "Prénom 1",
        ] {
            assert_eq!(column(h), Some(Column::FirstName), "{h}");
        }
        for h in [
            "Classe",
            "Libellé classe",
            "Classe ou regroupement",
            "Division",
        ] {
            assert_eq!(column(h), Some(Column::Class), "{h}");
        }
        for h in ["Regroupement(s)", "Regroupement", "Groupes", "Groupe"] {
            assert_eq!(column(h), Some(Column::Groups), "{h}");
        }
        for h in [
            "Date de naissance",
            "Date naiss.",
            "Date naissance",
            "Né(e) le",
            "Né le",
            "Née le",
        ] {
            assert_eq!(column(h), Some(Column::BirthDate), "{h}");
        }
        for h in ["externalId", "Id", "Identifiant"] {
            assert_eq!(column(h), Some(Column::ExternalId), "{h}");
        }
        assert_eq!(column("INE"), Some(Column::Ine));
        for h in ["Email", "Courriel", "Mail", "E-mail"] {
            assert_eq!(column(h), Some(Column::Email), "{h}");
        }
        for h in ["Discipline", "Matière enseignée", "Matière"] {
            assert_eq!(column(h), Some(Column::Subject), "{h}");
        }
        assert_eq!(column("Fonction"), Some(Column::Function));
        assert_eq!(column("Professeur principal"), Some(Column::HeadTeacher));
        assert_eq!(column("Childexternalid"), Some(Column::ChildExternalId));
        assert_eq!(column("Nom enfant"), Some(Column::ChildLastName));
        assert_eq!(column("Prénom enfant"), Some(Column::ChildFirstName));
        assert_eq!(column("Classe enfant"), Some(Column::ChildClass));
        for h in [
            "Sexe",
            "Civilité",
            "Téléphone",
            "Adresse",
            "CP",
            "Commune",
            "Niveau",
            "",
        ] {
            assert_eq!(column(h), None, "{h}");
        }
    }

    #[test]
    fn guardian_columns() {
        use GuardianField::*;
        assert_eq!(column("R1 nom"), Some(Column::Guardian(1, LastName)));
        assert_eq!(column("R1 prénom"), Some(Column::Guardian(1, FirstName)));
        assert_eq!(column("R1 courriel"), Some(Column::Guardian(1, Email)));
        assert_eq!(column("R2 email"), Some(Column::Guardian(2, Email)));
        assert_eq!(column("Nom R2"), Some(Column::Guardian(2, LastName)));
        assert_eq!(
            column("Prénom responsable 2"),
            Some(Column::Guardian(2, FirstName))
        );
    }

    #[test]
    fn responsable_is_a_guardian_when_the_pupil_is_named() {
        let h = header(&[
            "Nom élève",
            "Prénom élève",
            "Nom responsable",
            "Prénom responsable",
        ]);
        assert!(h.has_guardians());
        let h = header(&["Nom responsable", "Prénom responsable", "Nom enfant"]);
        assert!(!h.has_guardians());
        assert!(h.has(Column::LastName));
    }

    #[test]
    fn best_filled_synonym_wins_and_repeats_are_collected() {
        let h = header(&[
            "Nom de famille",
            "Nom d'usage",
            "Prénom",
            "Classe",
            "Classe",
            "Sexe",
        ]);
        let row: Vec<String> = ["MARTIN", "", "Zoé", "6e A", "5e B", "F"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(h.value(&row, Column::LastName), Some("MARTIN"));
        let row2: Vec<String> = ["MARTIN", "DUPONT", "Zoé"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(h.value(&row2, Column::LastName), Some("DUPONT"));
        assert_eq!(h.values(&row, Column::Class), vec!["6e A", "5e B"]);
        // A short row: the missing cells are empty.
        assert_eq!(h.values(&row2, Column::Class), Vec::<&str>::new());
    }
}
