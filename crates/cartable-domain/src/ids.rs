//! Typed identifiers: a `ClassId` cannot be passed where a `UserId` is expected.

use std::fmt;
use std::str::FromStr;

macro_rules! id_type {
    ($name:ident) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    };
}

id_type!(SchoolId);
id_type!(UserId);
id_type!(ClassId);
id_type!(GroupId);

/// Whom a lesson or an assignment is for: a whole class, or a group of
/// pupils that cuts across classes (Latin, LV2 espagnol groupe 1, a half-class).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Class(ClassId),
    Group(GroupId),
}

impl Target {
    pub fn class(self) -> Option<ClassId> {
        match self {
            Target::Class(c) => Some(c),
            Target::Group(_) => None,
        }
    }

    pub fn group(self) -> Option<GroupId> {
        match self {
            Target::Group(g) => Some(g),
            Target::Class(_) => None,
        }
    }

    pub fn is_group(self) -> bool {
        matches!(self, Target::Group(_))
    }

    /// The path segment of its pages: `classes/3` or `groupes/5`.
    pub fn path(self) -> String {
        match self {
            Target::Class(c) => format!("classes/{c}"),
            Target::Group(g) => format!("groupes/{g}"),
        }
    }
}
