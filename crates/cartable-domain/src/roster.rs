//! Roster import, as data: what a school's export says about people
//! ([`RosterRecord`]), what the school looks like now ([`RosterSnapshot`]), and
//! the changes an import makes ([`RosterOp`]), applied by the store in one
//! transaction. Parsing files and planning live in `cartable-app::roster`.

use std::collections::BTreeSet;

use crate::names::{BirthDate, ClassName, ExternalId, PersonName, Subject};
use crate::{ClassId, GroupId, Role, UserId};

/// Which profile a file describes. Schools usually export one file per profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RosterKind {
    Pupils,
    Parents,
    Teachers,
    Staff,
}

impl RosterKind {
    pub const ALL: [RosterKind; 4] = [
        RosterKind::Pupils,
        RosterKind::Parents,
        RosterKind::Teachers,
        RosterKind::Staff,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RosterKind::Pupils => "eleves",
            RosterKind::Parents => "responsables",
            RosterKind::Teachers => "enseignants",
            RosterKind::Staff => "personnels",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        RosterKind::ALL.into_iter().find(|k| k.code() == code)
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            RosterKind::Pupils => "Élèves",
            RosterKind::Parents => "Responsables légaux",
            RosterKind::Teachers => "Enseignants",
            RosterKind::Staff => "Personnels",
        }
    }

    pub fn role(self) -> Role {
        match self {
            RosterKind::Pupils => Role::Pupil,
            RosterKind::Parents => Role::Parent,
            RosterKind::Teachers => Role::Teacher,
            RosterKind::Staff => Role::Staff,
        }
    }
}

/// Who a line is about, as the file names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRecord {
    pub external_id: Option<ExternalId>,
    pub last_name: PersonName,
    pub first_name: PersonName,
    pub birth_date: Option<BirthDate>,
    pub email: Option<String>,
}

/// A legal guardian named on a pupil's row (`R1 nom`, `R1 prénom`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardianRecord {
    pub last_name: PersonName,
    pub first_name: PersonName,
    pub email: Option<String>,
}

/// How a parent's row points at a child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildRef {
    ExternalId(ExternalId),
    Name {
        last_name: PersonName,
        first_name: PersonName,
        class: Option<ClassName>,
    },
}

/// One valid line of a roster file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RosterRecord {
    Pupil {
        person: PersonRecord,
        class: Option<ClassName>,
        groups: Vec<ClassName>,
        guardians: Vec<GuardianRecord>,
    },
    Parent {
        person: PersonRecord,
        children: Vec<ChildRef>,
    },
    Teacher {
        person: PersonRecord,
        subject: Option<Subject>,
        /// The `Classe` (or `Classe ou regroupement`) cells: class names, or
        /// names of groups the teacher teaches.
        classes: Vec<ClassName>,
        /// Classes whose professeur principal this teacher is.
        head_of: Vec<ClassName>,
        /// The `Groupes` / `Regroupements` cells: groups taught, created if unknown.
        groups: Vec<ClassName>,
    },
    Staff {
        person: PersonRecord,
        function: Option<Subject>,
    },
}

impl RosterRecord {
    pub fn person(&self) -> &PersonRecord {
        match self {
            RosterRecord::Pupil { person, .. }
            | RosterRecord::Parent { person, .. }
            | RosterRecord::Teacher { person, .. }
            | RosterRecord::Staff { person, .. } => person,
        }
    }
}

/// A person of the school as stored now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotPerson {
    pub id: UserId,
    pub role: Role,
    pub login: String,
    pub external_id: Option<String>,
    pub last_name: String,
    pub first_name: String,
    /// ISO `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    pub email: Option<String>,
    /// Teacher's subject or staff's function.
    pub subject: Option<String>,
    /// Pupil: the class enrolled in.
    pub class: Option<ClassId>,
    /// Pupil: groups.
    pub groups: BTreeSet<GroupId>,
    /// Parent: children.
    pub children: BTreeSet<UserId>,
    /// Teacher: classes taught, and whether as professeur principal.
    pub teaches: BTreeSet<(ClassId, bool)>,
    /// Teacher: groups taught.
    pub teaches_groups: BTreeSet<GroupId>,
}

/// The school as it is, for comparison with a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RosterSnapshot {
    pub classes: Vec<(ClassId, String)>,
    pub groups: Vec<(GroupId, String)>,
    pub people: Vec<SnapshotPerson>,
}

/// A person who exists already, or one created earlier in the same import
/// (index into the import's creations, in order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PersonRef {
    Existing(UserId),
    New(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClassRef {
    Existing(ClassId),
    New(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupRef {
    Existing(GroupId),
    New(usize),
}

/// One change of an import. The store applies a list of them in order, in one
/// transaction; `New(n)` refers to the n-th `Create*` of its kind in the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RosterOp {
    CreateClass {
        name: ClassName,
    },
    CreateGroup {
        name: ClassName,
    },
    /// Creates an account with no password; the login is chosen by the store
    /// from the name ("prenom.nom", then "prenom.nom2", ...).
    CreatePerson {
        role: Role,
        person: PersonRecord,
        subject: Option<String>,
    },
    UpdatePerson {
        id: UserId,
        person: PersonRecord,
        subject: Option<String>,
    },
    /// Puts a pupil in a class (replacing any other class).
    SetClass {
        pupil: PersonRef,
        class: ClassRef,
    },
    /// Replaces a pupil's groups.
    SetGroups {
        pupil: PersonRef,
        groups: Vec<GroupRef>,
    },
    /// Adds a parent-child link (never removes one: files list children partially).
    LinkParent {
        parent: PersonRef,
        child: PersonRef,
    },
    /// Replaces a teacher's classes.
    SetTeachings {
        teacher: PersonRef,
        classes: Vec<(ClassRef, bool)>,
    },
    /// Replaces the groups a teacher teaches.
    SetTeacherGroups {
        teacher: PersonRef,
        groups: Vec<GroupRef>,
    },
}

/// What happens to one line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineOutcome {
    Create,
    /// French descriptions of what changes ("classe : 4e A → 3e B").
    Update(Vec<String>),
    Unchanged,
    /// The same person as an earlier line; what it adds is merged there.
    Duplicate {
        first_line: usize,
    },
    /// Why, in French.
    Rejected(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineReport {
    /// 1-based line number in the file, as a spreadsheet shows it.
    pub line: usize,
    /// Who the line is about, as far as it could be read ("Martin Zoé").
    pub who: String,
    pub outcome: LineOutcome,
}

/// What an import of one file will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterPlan {
    pub kind: RosterKind,
    pub lines: Vec<LineReport>,
    pub ops: Vec<RosterOp>,
}

impl RosterPlan {
    pub fn count(&self, pred: impl Fn(&LineOutcome) -> bool) -> usize {
        self.lines.iter().filter(|l| pred(&l.outcome)).count()
    }

    /// True when applying the plan would write nothing.
    pub fn is_noop(&self) -> bool {
        self.ops.is_empty()
    }
}

/// What the store reports after applying a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RosterApplied {
    pub created: Vec<(UserId, String)>,
    pub updated: usize,
    pub classes_created: usize,
}
