//! The six roles of Cartable. A user has exactly one role in exactly one school
//! (operators belong to no school).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Pupil,
    Parent,
    Teacher,
    Staff,
    SchoolAdmin,
    Operator,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Pupil,
        Role::Parent,
        Role::Teacher,
        Role::Staff,
        Role::SchoolAdmin,
        Role::Operator,
    ];

    /// Stable code stored in the database and used in programs.
    pub fn code(self) -> &'static str {
        match self {
            Role::Pupil => "pupil",
            Role::Parent => "parent",
            Role::Teacher => "teacher",
            Role::Staff => "staff",
            Role::SchoolAdmin => "school_admin",
            Role::Operator => "operator",
        }
    }

    pub fn from_code(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The word a French school uses.
    pub fn label_fr(self) -> &'static str {
        match self {
            Role::Pupil => "Élève",
            Role::Parent => "Parent",
            Role::Teacher => "Enseignant",
            Role::Staff => "Personnel",
            Role::SchoolAdmin => "Administrateur de l'établissement",
            Role::Operator => "Opérateur",
        }
    }

    /// Roles that belong to a school (all but the operator).
    pub fn is_school_member(self) -> bool {
        self != Role::Operator
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::from_code(r.code()), Some(r));
        }
        assert_eq!(Role::from_code("admin"), None);
    }
}
