//! Who may write to whom, who sees which news, who signs which note. Pure
//! rules, next to `policy`; the use cases ask these before anything is sent.
//!
//! Defaults follow French schools' usual settings: pupils write to their
//! teachers and the school staff; parents to their children's teachers and
//! the staff; teachers and staff to everyone in their school; nobody across
//! schools. A school admin can widen or narrow the pupils' and parents' rights.

use std::collections::BTreeSet;

use crate::policy::{Actor, PersonFacts};
use crate::{ClassId, Role};

/// A school's messaging settings, adjustable by its admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessagingRules {
    pub pupils_to_teachers: bool,
    pub pupils_to_staff: bool,
    pub pupils_to_classmates: bool,
    pub parents_to_teachers: bool,
    pub parents_to_staff: bool,
    /// Parents of pupils of the same class, to each other.
    pub parents_to_parents: bool,
}

impl Default for MessagingRules {
    fn default() -> Self {
        MessagingRules {
            pupils_to_teachers: true,
            pupils_to_staff: true,
            pupils_to_classmates: false,
            parents_to_teachers: true,
            parents_to_staff: true,
            parents_to_parents: false,
        }
    }
}

fn shares(a: &BTreeSet<ClassId>, b: &BTreeSet<ClassId>) -> bool {
    a.intersection(b).next().is_some()
}

/// May `sender` start a conversation with `recipient`? (Replies inside a
/// conversation one was brought into are always allowed.)
pub fn may_write(rules: &MessagingRules, sender: &Actor, recipient: &PersonFacts) -> bool {
    use Role::*;
    if sender.user_id == recipient.user_id
        || sender.school_id.is_none()
        || sender.school_id != recipient.school_id
    {
        return false;
    }
    let staff_like = matches!(recipient.role, Staff | SchoolAdmin);
    match sender.role {
        Teacher | Staff | SchoolAdmin => recipient.role != Operator,
        Pupil => match recipient.role {
            Teacher => rules.pupils_to_teachers && shares(&sender.classes, &recipient.classes),
            Pupil => rules.pupils_to_classmates && shares(&sender.classes, &recipient.classes),
            _ if staff_like => rules.pupils_to_staff,
            _ => false,
        },
        Parent => match recipient.role {
            Teacher => rules.parents_to_teachers && shares(&sender.classes, &recipient.classes),
            Parent => rules.parents_to_parents && shares(&sender.classes, &recipient.classes),
            _ if staff_like => rules.parents_to_staff,
            _ => false,
        },
        Operator => false,
    }
}

/// Who a piece of school news is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewsAudience {
    School,
    Pupils,
    Parents,
    /// Teachers and the school staff.
    Staff,
    /// Pupils of these classes, their parents and their teachers.
    Classes(BTreeSet<ClassId>),
}

impl NewsAudience {
    pub fn code(&self) -> &'static str {
        match self {
            NewsAudience::School => "school",
            NewsAudience::Pupils => "pupils",
            NewsAudience::Parents => "parents",
            NewsAudience::Staff => "staff",
            NewsAudience::Classes(_) => "classes",
        }
    }

    pub fn from_code(code: &str, classes: BTreeSet<ClassId>) -> Option<NewsAudience> {
        Some(match code {
            "school" => NewsAudience::School,
            "pupils" => NewsAudience::Pupils,
            "parents" => NewsAudience::Parents,
            "staff" => NewsAudience::Staff,
            "classes" if !classes.is_empty() => NewsAudience::Classes(classes),
            _ => return None,
        })
    }

    pub fn label_fr(&self) -> &'static str {
        match self {
            NewsAudience::School => "Tout l'établissement",
            NewsAudience::Pupils => "Les élèves",
            NewsAudience::Parents => "Les parents",
            NewsAudience::Staff => "Les enseignants et personnels",
            NewsAudience::Classes(_) => "Des classes",
        }
    }
}

/// Does `actor` (of the news' school) belong to `audience`? The school's
/// staff and admins see every news item of their school, to manage them.
pub fn in_news_audience(actor: &Actor, audience: &NewsAudience) -> bool {
    use Role::*;
    if matches!(actor.role, Staff | SchoolAdmin) {
        return true;
    }
    match audience {
        NewsAudience::School => actor.role != Operator,
        NewsAudience::Pupils => actor.role == Pupil,
        NewsAudience::Parents => actor.role == Parent,
        NewsAudience::Staff => actor.role == Teacher,
        NewsAudience::Classes(classes) => {
            matches!(actor.role, Pupil | Parent | Teacher) && shares(&actor.classes, classes)
        }
    }
}

/// How much one account may send, so that one stolen password cannot flood a school.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendingLimits {
    pub messages_per_hour: i64,
    pub recipients_per_message: usize,
}

pub fn sending_limits(role: Role) -> SendingLimits {
    match role {
        Role::Pupil | Role::Parent => SendingLimits {
            messages_per_hour: 30,
            recipients_per_message: 30,
        },
        Role::Teacher => SendingLimits {
            messages_per_hour: 120,
            recipients_per_message: 500,
        },
        Role::Staff | Role::SchoolAdmin => SendingLimits {
            messages_per_hour: 200,
            recipients_per_message: 5_000,
        },
        Role::Operator => SendingLimits {
            messages_per_hour: 0,
            recipients_per_message: 0,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SchoolId, UserId};

    fn actor(role: Role, school: i64, classes: &[i64]) -> Actor {
        Actor {
            user_id: UserId(1),
            school_id: Some(SchoolId(school)),
            role,
            classes: classes.iter().map(|c| ClassId(*c)).collect(),
            groups: BTreeSet::new(),
            children: BTreeSet::new(),
        }
    }

    fn person(role: Role, school: i64, classes: &[i64]) -> PersonFacts {
        PersonFacts {
            school_id: Some(SchoolId(school)),
            user_id: UserId(2),
            role,
            classes: classes.iter().map(|c| ClassId(*c)).collect(),
        }
    }

    #[test]
    fn default_rules() {
        let r = MessagingRules::default();
        let pupil = actor(Role::Pupil, 1, &[10]);
        assert!(may_write(&r, &pupil, &person(Role::Teacher, 1, &[10])));
        assert!(
            !may_write(&r, &pupil, &person(Role::Teacher, 1, &[11])),
            "not another class's teacher"
        );
        assert!(may_write(&r, &pupil, &person(Role::Staff, 1, &[])));
        assert!(
            !may_write(&r, &pupil, &person(Role::Pupil, 1, &[10])),
            "classmates off by default"
        );
        assert!(!may_write(&r, &pupil, &person(Role::Parent, 1, &[10])));
        let parent = actor(Role::Parent, 1, &[10]);
        assert!(may_write(&r, &parent, &person(Role::Teacher, 1, &[10])));
        assert!(!may_write(&r, &parent, &person(Role::Parent, 1, &[10])));
        let teacher = actor(Role::Teacher, 1, &[10]);
        assert!(may_write(&r, &teacher, &person(Role::Parent, 1, &[99])));
        for role in Role::ALL {
            assert!(
                !may_write(&r, &actor(role, 1, &[10]), &person(Role::Teacher, 2, &[10])),
                "{role:?} across schools"
            );
        }
    }

    #[test]
    fn admin_can_open_classmates() {
        let r = MessagingRules {
            pupils_to_classmates: true,
            pupils_to_staff: false,
            ..MessagingRules::default()
        };
        let pupil = actor(Role::Pupil, 1, &[10]);
        assert!(may_write(&r, &pupil, &person(Role::Pupil, 1, &[10])));
        assert!(!may_write(&r, &pupil, &person(Role::Pupil, 1, &[11])));
        assert!(!may_write(&r, &pupil, &person(Role::SchoolAdmin, 1, &[])));
    }

    #[test]
    fn news_audiences() {
        let classes: BTreeSet<ClassId> = [ClassId(10)].into();
        let aud = NewsAudience::Classes(classes);
        assert!(in_news_audience(&actor(Role::Pupil, 1, &[10]), &aud));
        assert!(!in_news_audience(&actor(Role::Pupil, 1, &[11]), &aud));
        assert!(in_news_audience(&actor(Role::Parent, 1, &[10]), &aud));
        assert!(in_news_audience(&actor(Role::Staff, 1, &[]), &aud));
        assert!(!in_news_audience(
            &actor(Role::Parent, 1, &[]),
            &NewsAudience::Staff
        ));
        assert!(!in_news_audience(
            &actor(Role::Pupil, 1, &[]),
            &NewsAudience::Parents
        ));
        assert!(in_news_audience(
            &actor(Role::Teacher, 1, &[]),
            &NewsAudience::Staff
        ));
    }
}
