//! Rows to records: which profile the file describes, and for each row either
//! a [`RosterRecord`] or the French reason it cannot be used. A bad row never
//! stops the file: the admin sees every problem at once.

use cartable_domain::names::{
    fold_key, BirthDate, ClassName, ExternalId, NameError, PersonName, Subject,
};
use cartable_domain::roster::{ChildRef, GuardianRecord, PersonRecord, RosterKind, RosterRecord};

use crate::decode::Row;
use crate::error::RosterFileError;
use crate::headers::{Column, GuardianField, Header};

/// A file read line by line, ready to be planned against the school.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRoster {
    pub kind: RosterKind,
    pub lines: Vec<ParsedLine>,
}

/// One data line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedLine {
    /// 1-based line number as a spreadsheet shows it (the header is line 1).
    pub line: usize,
    /// "Nom Prénom" as far as readable, else "".
    pub who: String,
    /// The record, or why the line cannot be used (French).
    pub record: Result<RosterRecord, String>,
}

/// Guesses the profile from the columns, most specific first: a subject only
/// appears in teachers' files, children only in parents' files.
pub(crate) fn detect_kind(header: &Header) -> Result<RosterKind, RosterFileError> {
    let has_class = header.has(Column::Class);
    if header.has_any(&[Column::Subject, Column::HeadTeacher]) {
        return Ok(RosterKind::Teachers);
    }
    if header.has_any(&[
        Column::ChildExternalId,
        Column::ChildLastName,
        Column::ChildFirstName,
    ]) {
        return Ok(RosterKind::Parents);
    }
    // "Fonction" with classes and no birth date: teachers whose export calls
    // the subject a function.
    if header.has(Column::Function) && has_class && !header.has(Column::BirthDate) {
        return Ok(RosterKind::Teachers);
    }
    let pupil_columns = [
        Column::Class,
        Column::BirthDate,
        Column::Groups,
        Column::Ine,
    ];
    if header.has_any(&pupil_columns) || header.has_guardians() {
        return Ok(RosterKind::Pupils);
    }
    if header.has(Column::Function) {
        return Ok(RosterKind::Staff);
    }
    Err(RosterFileError::KindUnknown)
}

/// Columns without which no line of a file of this kind can be read.
pub(crate) fn check_required_columns(
    header: &Header,
    kind: RosterKind,
) -> Result<(), RosterFileError> {
    let mut missing = Vec::new();
    if !header.has(Column::LastName) {
        missing.push("Nom");
    }
    if !header.has(Column::FirstName) {
        missing.push("Prénom");
    }
    if kind == RosterKind::Pupils && !header.has(Column::Class) {
        missing.push("Classe");
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(RosterFileError::MissingColumn {
            kind,
            columns: missing,
        })
    }
}

pub(crate) fn parse_line(header: &Header, kind: RosterKind, row: &Row) -> ParsedLine {
    let mut reader = LineReader {
        header,
        cells: &row.cells,
        problems: Vec::new(),
    };
    let record = match kind {
        RosterKind::Pupils => reader.pupil(),
        RosterKind::Parents => reader.parent(),
        RosterKind::Teachers => reader.teacher(),
        RosterKind::Staff => reader.staff(),
    };
    let record = match record {
        Some(record) if reader.problems.is_empty() => Ok(record),
        _ => Err(reader.problems.join(" ; ")),
    };
    ParsedLine {
        line: row.line,
        who: who(header, &row.cells),
        record,
    }
}

/// "Nom Prénom" from the raw cells, even when they are not valid names.
fn who(header: &Header, cells: &[String]) -> String {
    let parts = [Column::LastName, Column::FirstName]
        .into_iter()
        .filter_map(|c| header.value(cells, c))
        .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "));
    let joined = parts.collect::<Vec<_>>().join(" ");
    joined.chars().take(120).collect()
}

/// Reads the cells of one row, collecting every problem rather than the first.
struct LineReader<'a> {
    header: &'a Header,
    cells: &'a [String],
    problems: Vec<String>,
}

impl<'a> LineReader<'a> {
    fn value(&self, column: Column) -> Option<&'a str> {
        self.header.value(self.cells, column)
    }

    fn reject<T>(&mut self, problem: String) -> Option<T> {
        self.problems.push(problem);
        None
    }

    fn pupil(&mut self) -> Option<RosterRecord> {
        let person = self.person(true);
        let class = match self.value(Column::Class) {
            None => self.reject("classe manquante".into()),
            Some(raw) => self.class_name(raw, "classe"),
        };
        let groups = self.class_list(Column::Groups, "groupe");
        let guardians = self.guardians();
        Some(RosterRecord::Pupil {
            person: person?,
            class: Some(class?),
            groups,
            guardians,
        })
    }

    fn parent(&mut self) -> Option<RosterRecord> {
        let person = self.person(false);
        let mut children = self.children_by_id();
        children.extend(self.children_by_name());
        Some(RosterRecord::Parent {
            person: person?,
            children,
        })
    }

    fn teacher(&mut self) -> Option<RosterRecord> {
        let person = self.person(false);
        let subject = self.subject(&[Column::Subject, Column::Function], "discipline");
        let mut classes = self.class_list(Column::Class, "classe");
        let head_of = self.head_of(&classes);
        // A professeur principal teaches the class even when the file only
        // says so in the "Professeur principal" column.
        for class in &head_of {
            push_unique_class(&mut classes, class.clone());
        }
        // Same reading as the pupils' column: several names per cell.
        let groups = self.class_list(Column::Groups, "groupe");
        Some(RosterRecord::Teacher {
            person: person?,
            subject,
            classes,
            head_of,
            groups,
        })
    }

    fn staff(&mut self) -> Option<RosterRecord> {
        let person = self.person(false);
        let function = self.subject(&[Column::Function, Column::Subject], "fonction");
        Some(RosterRecord::Staff {
            person: person?,
            function,
        })
    }

    fn person(&mut self, is_pupil: bool) -> Option<PersonRecord> {
        let last_name = self.name(self.value(Column::LastName), "nom");
        let first_name = self.name(self.value(Column::FirstName), "prénom");
        let birth_date = self.birth_date();
        let external_id = self.external_id(is_pupil);
        let email = self.email(self.value(Column::Email), "courriel");
        Some(PersonRecord {
            external_id: external_id?,
            last_name: last_name?,
            first_name: first_name?,
            birth_date: birth_date?,
            email: email?,
        })
    }

    /// `label` names the column in the message ("prénom manquant").
    fn name(&mut self, raw: Option<&str>, label: &str) -> Option<PersonName> {
        match PersonName::parse(raw.unwrap_or("")) {
            Ok(name) => Some(name),
            Err(NameError::Empty { .. }) => self.reject(format!("{label} manquant")),
            Err(e) => self.reject(format!("{label} : {e}")),
        }
    }

    fn birth_date(&mut self) -> Option<Option<BirthDate>> {
        let Some(raw) = self.value(Column::BirthDate) else {
            return Some(None);
        };
        match BirthDate::parse(raw) {
            Ok(date) => Some(Some(date)),
            Err(e) => self.reject(format!("date de naissance : {e}")),
        }
    }

    /// The file's own id; for pupils the INE stands in when there is none.
    fn external_id(&mut self, is_pupil: bool) -> Option<Option<ExternalId>> {
        let raw = self
            .value(Column::ExternalId)
            .or_else(|| is_pupil.then(|| self.value(Column::Ine)).flatten());
        let Some(raw) = raw else {
            return Some(None);
        };
        match ExternalId::parse(raw) {
            Ok(id) => Some(Some(id)),
            Err(e) => self.reject(format!("identifiant : {e}")),
        }
    }

    fn email(&mut self, raw: Option<&str>, label: &str) -> Option<Option<String>> {
        match raw {
            None => Some(None),
            Some(raw) if looks_like_email(raw) => Some(Some(raw.to_owned())),
            Some(raw) => {
                let shown: String = raw.chars().take(80).collect();
                self.reject(format!("{label} invalide « {shown} »"))
            }
        }
    }

    fn class_name(&mut self, raw: &str, label: &str) -> Option<ClassName> {
        match ClassName::parse(raw) {
            Ok(class) => Some(class),
            Err(e) => self.reject(format!("{label} : {e}")),
        }
    }

    /// Every class or group named in the (possibly repeated) columns, each
    /// cell possibly listing several ("6e A, 6e B" or "Latin|Grec").
    fn class_list(&mut self, column: Column, label: &str) -> Vec<ClassName> {
        let raws: Vec<&str> = self
            .header
            .values(self.cells, column)
            .into_iter()
            .flat_map(split_list)
            .collect();
        let mut names = Vec::new();
        for raw in raws {
            if let Some(name) = self.class_name(raw, label) {
                push_unique_class(&mut names, name);
            }
        }
        names
    }

    fn subject(&mut self, columns: &[Column], label: &str) -> Option<Subject> {
        let raw = columns.iter().find_map(|&c| self.value(c))?;
        match Subject::parse(raw) {
            Ok(subject) => Some(subject),
            Err(e) => self.reject(format!("{label} : {e}")),
        }
    }

    /// "Professeur principal" holds either a yes ("oui", "x", "1") meaning
    /// every class of the row, or the classes themselves.
    fn head_of(&mut self, classes: &[ClassName]) -> Vec<ClassName> {
        let Some(raw) = self.value(Column::HeadTeacher) else {
            return Vec::new();
        };
        let folded = fold_key(raw);
        if ["oui", "o", "x", "1", "yes", "y", "vrai", "true"].contains(&folded.as_str()) {
            return classes.to_vec();
        }
        if ["non", "n", "0", "no", "faux", "false", ""].contains(&folded.as_str()) {
            return Vec::new();
        }
        let mut heads = Vec::new();
        for part in split_list(raw) {
            if let Some(class) = self.class_name(part, "professeur principal") {
                push_unique_class(&mut heads, class);
            }
        }
        heads
    }

    fn guardians(&mut self) -> Vec<GuardianRecord> {
        (1..=2u8).filter_map(|n| self.guardian(n)).collect()
    }

    fn guardian(&mut self, n: u8) -> Option<GuardianRecord> {
        let cell = |field| self.value(Column::Guardian(n, field));
        let (last, first, email) = (
            cell(GuardianField::LastName),
            cell(GuardianField::FirstName),
            cell(GuardianField::Email),
        );
        if last.is_none() && first.is_none() && email.is_none() {
            return None;
        }
        let label = |what: &str| format!("responsable {n} : {what}");
        let last_name = self.name(last, &label("nom"));
        let first_name = self.name(first, &label("prénom"));
        let email = self.email(email, &label("courriel"));
        Some(GuardianRecord {
            last_name: last_name?,
            first_name: first_name?,
            email: email?,
        })
    }

    fn children_by_id(&mut self) -> Vec<ChildRef> {
        let raws: Vec<&str> = self
            .header
            .values(self.cells, Column::ChildExternalId)
            .into_iter()
            .flat_map(split_list)
            .collect();
        let mut children = Vec::new();
        for raw in raws {
            match ExternalId::parse(raw) {
                Ok(id) if !children.contains(&ChildRef::ExternalId(id.clone())) => {
                    children.push(ChildRef::ExternalId(id));
                }
                Ok(_) => {}
                Err(e) => self.problems.push(format!("identifiant de l'enfant : {e}")),
            }
        }
        children
    }

    /// Repeated "Nom enfant" / "Prénom enfant" / "Classe enfant" columns are
    /// paired by position: the second "Nom enfant" goes with the second "Prénom enfant".
    fn children_by_name(&mut self) -> Vec<ChildRef> {
        let lasts = self.header.positional(self.cells, Column::ChildLastName);
        let firsts = self.header.positional(self.cells, Column::ChildFirstName);
        let mut classes = self.header.positional(self.cells, Column::ChildClass);
        if classes.is_empty() {
            // Some exports call the child's class just "Classe".
            classes = self.header.positional(self.cells, Column::Class);
        }
        let mut children = Vec::new();
        for i in 0..lasts.len().max(firsts.len()) {
            let last = lasts.get(i).copied().flatten();
            let first = firsts.get(i).copied().flatten();
            if last.is_none() && first.is_none() {
                continue;
            }
            let last_name = self.name(last, "nom de l'enfant");
            let first_name = self.name(first, "prénom de l'enfant");
            let class = match classes.get(i).copied().flatten() {
                Some(raw) => self.class_name(raw, "classe de l'enfant").map(Some),
                None => Some(None),
            };
            if let (Some(last_name), Some(first_name), Some(class)) = (last_name, first_name, class)
            {
                children.push(ChildRef::Name {
                    last_name,
                    first_name,
                    class,
                });
            }
        }
        children
    }
}

/// Cells that list several values: "6e A, 6e B", "Latin|Grec", "A;B".
fn split_list(cell: &str) -> impl Iterator<Item = &str> {
    cell.split([',', '|', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Adds a class unless one with the same folded name is there ("3E B" == "3e B").
fn push_unique_class(list: &mut Vec<ClassName>, class: ClassName) {
    let key = fold_key(class.as_str());
    if !list.iter().any(|c| fold_key(c.as_str()) == key) {
        list.push(class);
    }
}

/// Enough to catch a phone number or a name typed in the wrong column:
/// something@domain.tld, no spaces.
fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let labels_ok = domain.split('.').count() >= 2 && domain.split('.').all(|l| !l.is_empty());
    !local.is_empty()
        && !domain.contains('@')
        && labels_ok
        && s.len() <= 254
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',' || c == ';')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(looks_like_email("sophie.martin@exemple.fr"));
        assert!(looks_like_email("a@b.c"));
        assert!(!looks_like_email("06 12 34 56 78"));
        assert!(!looks_like_email("martin@exemple"));
        assert!(!looks_like_email("@exemple.fr"));
        assert!(!looks_like_email("a@@b.fr"));
        assert!(!looks_like_email("a@b..fr"));
        assert!(!looks_like_email("a b@c.fr"));
    }

    #[test]
    fn lists() {
        assert_eq!(
            split_list(" Latin | Grec ,Anglais ").collect::<Vec<_>>(),
            ["Latin", "Grec", "Anglais"]
        );
        let mut v = vec![ClassName::parse("3e B").unwrap()];
        push_unique_class(&mut v, ClassName::parse("3E B").unwrap());
        assert_eq!(v.len(), 1);
    }
}
