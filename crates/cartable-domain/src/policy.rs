//! The one function that decides every access: [`can`]. Every handler asks it
//! before it reads or changes anything; the access-matrix test walks routes x
//! roles x relations against it through the real server.
//!
//! Tenancy comes first: a school member acts only inside their own school, and
//! the operator (who runs the platform for many schools) sees the list of
//! schools but no pupil's or family's data.

use std::collections::BTreeSet;

use crate::{ClassId, GroupId, Role, SchoolId, Target, UserId};

/// Who is acting, with the relations the rules need. Loaded once per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub school_id: Option<SchoolId>,
    pub role: Role,
    /// Pupil: classes enrolled in. Teacher: classes taught. Parent: the
    /// children's classes. Others: empty.
    pub classes: BTreeSet<ClassId>,
    /// Pupil: groups they belong to. Teacher: groups taught. Parent: the
    /// children's groups. Others: empty.
    pub groups: BTreeSet<GroupId>,
    /// Parent: their children.
    pub children: BTreeSet<UserId>,
}

/// What is known of a person someone wants to look at or act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonFacts {
    pub school_id: Option<SchoolId>,
    pub user_id: UserId,
    pub role: Role,
    /// Same meaning as [`Actor::classes`].
    pub classes: BTreeSet<ClassId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// One's own home page and account.
    ViewHome,
    ChangeOwnPassword,
    /// A class's name and teachers.
    ViewClass,
    /// A class's list of pupils.
    ViewClassRoster,
    /// A person's card (name, role, classes, links).
    ViewPerson,
    /// The list of the school's people and classes.
    ViewDirectory,
    ImportRoster,
    IssueActivationCode,
    DisableAccount,
    ViewAudit,
    /// Operator: list schools and their sizes.
    ViewSchools,
    /// Operator: create a school and its first administrator.
    ManageSchools,
    /// Publish school news (actualités).
    PublishNews,
    /// Send a liaison-book note to the families of a class.
    SendNote,
    /// Change who may write to whom; see who sends how much.
    ManageMessaging,
    /// Write the cahier de textes of a class or a group (its teachers).
    WriteLessons,
    /// Read the cahier de textes of a class or a group and its homework.
    ViewLessons,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource<'a> {
    /// The actor's own things.
    Own,
    School(SchoolId),
    Class {
        school: SchoolId,
        class: ClassId,
    },
    /// A group of pupils across classes (Latin, a language group, a half-class).
    Group {
        school: SchoolId,
        group: GroupId,
    },
    Person(&'a PersonFacts),
    Platform,
}

impl Resource<'static> {
    /// The class or group a lesson or an assignment is for.
    pub fn target(school: SchoolId, target: Target) -> Self {
        match target {
            Target::Class(class) => Resource::Class { school, class },
            Target::Group(group) => Resource::Group { school, group },
        }
    }
}

/// Decides whether `actor` may do `action` on `resource`. Pure and total:
/// anything not explicitly allowed is refused.
pub fn can(actor: &Actor, action: Action, resource: Resource<'_>) -> bool {
    use Action::*;
    use Role::*;
    let in_school = |school: SchoolId| actor.school_id == Some(school);
    match (action, resource) {
        (ViewHome | ChangeOwnPassword, Resource::Own) => true,

        (ViewSchools | ManageSchools, Resource::Platform) => actor.role == Operator,

        (ViewDirectory, Resource::School(s)) => {
            in_school(s) && matches!(actor.role, SchoolAdmin | Staff)
        }
        (PublishNews, Resource::School(s)) => {
            in_school(s) && matches!(actor.role, SchoolAdmin | Staff)
        }
        (SendNote, Resource::Class { school, class }) => {
            in_school(school)
                && match actor.role {
                    SchoolAdmin | Staff => true,
                    Teacher => actor.classes.contains(&class),
                    _ => false,
                }
        }
        (WriteLessons, Resource::Class { school, class }) => {
            in_school(school) && actor.role == Teacher && actor.classes.contains(&class)
        }
        (ViewLessons, Resource::Class { school, class }) => {
            in_school(school)
                && match actor.role {
                    // All teachers: to see a class's workload before adding to it.
                    SchoolAdmin | Staff | Teacher => true,
                    Pupil | Parent => actor.classes.contains(&class),
                    Operator => false,
                }
        }
        // A group is written by its own teachers, as a class is; teaching one
        // of the classes its pupils come from is not enough.
        (WriteLessons, Resource::Group { school, group }) => {
            in_school(school) && actor.role == Teacher && actor.groups.contains(&group)
        }
        (ViewLessons, Resource::Group { school, group }) => {
            in_school(school)
                && match actor.role {
                    SchoolAdmin | Staff | Teacher => true,
                    Pupil | Parent => actor.groups.contains(&group),
                    Operator => false,
                }
        }
        (ImportRoster | ViewAudit | ManageMessaging, Resource::School(s)) => {
            in_school(s) && actor.role == SchoolAdmin
        }

        (ViewClass, Resource::Class { school, class }) => {
            in_school(school)
                && match actor.role {
                    SchoolAdmin | Staff | Teacher => true,
                    Pupil | Parent => actor.classes.contains(&class),
                    Operator => false,
                }
        }
        (ViewClassRoster, Resource::Class { school, class }) => {
            in_school(school)
                && match actor.role {
                    SchoolAdmin | Staff => true,
                    Teacher => actor.classes.contains(&class),
                    _ => false,
                }
        }

        (ViewPerson, Resource::Person(p)) => {
            if p.user_id == actor.user_id {
                return true;
            }
            let Some(school) = p.school_id else {
                return false;
            };
            in_school(school) && may_view_person(actor, p)
        }
        (IssueActivationCode, Resource::Person(p)) => {
            let Some(school) = p.school_id else {
                return false;
            };
            in_school(school)
                && p.user_id != actor.user_id
                && match actor.role {
                    SchoolAdmin => p.role != Operator,
                    // La vie scolaire hands out codes to pupils and families every day.
                    Staff => matches!(p.role, Pupil | Parent),
                    _ => false,
                }
        }
        (DisableAccount, Resource::Person(p)) => {
            let Some(school) = p.school_id else {
                return false;
            };
            in_school(school)
                && actor.role == SchoolAdmin
                && p.user_id != actor.user_id
                && p.role != Operator
        }
        _ => false,
    }
}

fn may_view_person(actor: &Actor, p: &PersonFacts) -> bool {
    use Role::*;
    let shares_class = || actor.classes.intersection(&p.classes).next().is_some();
    match actor.role {
        SchoolAdmin | Staff => true,
        // Colleagues, and the pupils and families of the classes taught.
        Teacher => {
            matches!(p.role, Teacher | Staff | SchoolAdmin)
                || (matches!(p.role, Pupil | Parent) && shares_class())
        }
        // A pupil sees the teachers of their classes.
        Pupil => p.role == Teacher && shares_class(),
        // A parent sees their children and their children's teachers.
        Parent => actor.children.contains(&p.user_id) || (p.role == Teacher && shares_class()),
        Operator => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, school: i64, classes: &[i64], children: &[i64]) -> Actor {
        Actor {
            user_id: UserId(1000),
            school_id: (role != Role::Operator).then_some(SchoolId(school)),
            role,
            classes: classes.iter().map(|c| ClassId(*c)).collect(),
            groups: BTreeSet::new(),
            children: children.iter().map(|c| UserId(*c)).collect(),
        }
    }

    fn in_groups(mut actor: Actor, groups: &[i64]) -> Actor {
        actor.groups = groups.iter().map(|g| GroupId(*g)).collect();
        actor
    }

    fn person(role: Role, school: i64, id: i64, classes: &[i64]) -> PersonFacts {
        PersonFacts {
            school_id: Some(SchoolId(school)),
            user_id: UserId(id),
            role,
            classes: classes.iter().map(|c| ClassId(*c)).collect(),
        }
    }

    #[test]
    fn nobody_crosses_schools() {
        for role in Role::ALL {
            let a = actor(role, 1, &[10], &[20]);
            let other = person(Role::Pupil, 2, 20, &[10]);
            for action in [
                Action::ViewPerson,
                Action::IssueActivationCode,
                Action::DisableAccount,
            ] {
                assert!(
                    !can(&a, action, Resource::Person(&other)),
                    "{role:?} {action:?}"
                );
            }
            assert!(!can(
                &a,
                Action::ViewClass,
                Resource::Class {
                    school: SchoolId(2),
                    class: ClassId(10)
                }
            ));
            assert!(!can(
                &a,
                Action::ViewDirectory,
                Resource::School(SchoolId(2))
            ));
        }
    }

    #[test]
    fn pupil_sees_own_class_and_its_teachers_only() {
        let p = actor(Role::Pupil, 1, &[10], &[]);
        assert!(can(
            &p,
            Action::ViewClass,
            Resource::Class {
                school: SchoolId(1),
                class: ClassId(10)
            }
        ));
        assert!(!can(
            &p,
            Action::ViewClass,
            Resource::Class {
                school: SchoolId(1),
                class: ClassId(11)
            }
        ));
        assert!(!can(
            &p,
            Action::ViewClassRoster,
            Resource::Class {
                school: SchoolId(1),
                class: ClassId(10)
            }
        ));
        assert!(can(
            &p,
            Action::ViewPerson,
            Resource::Person(&person(Role::Teacher, 1, 5, &[10]))
        ));
        assert!(!can(
            &p,
            Action::ViewPerson,
            Resource::Person(&person(Role::Teacher, 1, 5, &[11]))
        ));
        assert!(!can(
            &p,
            Action::ViewPerson,
            Resource::Person(&person(Role::Pupil, 1, 6, &[10]))
        ));
        assert!(!can(
            &p,
            Action::ViewDirectory,
            Resource::School(SchoolId(1))
        ));
    }

    #[test]
    fn parent_sees_own_children_only() {
        let a = actor(Role::Parent, 1, &[10], &[20]);
        assert!(can(
            &a,
            Action::ViewPerson,
            Resource::Person(&person(Role::Pupil, 1, 20, &[10]))
        ));
        assert!(!can(
            &a,
            Action::ViewPerson,
            Resource::Person(&person(Role::Pupil, 1, 21, &[10]))
        ));
    }

    #[test]
    fn staff_issues_codes_to_families_not_teachers() {
        let s = actor(Role::Staff, 1, &[], &[]);
        assert!(can(
            &s,
            Action::IssueActivationCode,
            Resource::Person(&person(Role::Pupil, 1, 20, &[]))
        ));
        assert!(!can(
            &s,
            Action::IssueActivationCode,
            Resource::Person(&person(Role::Teacher, 1, 21, &[]))
        ));
        assert!(!can(
            &s,
            Action::DisableAccount,
            Resource::Person(&person(Role::Pupil, 1, 20, &[]))
        ));
        let admin = actor(Role::SchoolAdmin, 1, &[], &[]);
        assert!(can(
            &admin,
            Action::DisableAccount,
            Resource::Person(&person(Role::Teacher, 1, 21, &[]))
        ));
        let me = PersonFacts {
            user_id: admin.user_id,
            ..person(Role::SchoolAdmin, 1, 0, &[])
        };
        assert!(
            !can(&admin, Action::DisableAccount, Resource::Person(&me)),
            "an admin cannot lock themself out"
        );
    }

    #[test]
    fn news_notes_and_messaging_rules() {
        let school = SchoolId(1);
        let class = |c| Resource::Class {
            school,
            class: ClassId(c),
        };
        let staff = actor(Role::Staff, 1, &[], &[]);
        let admin = actor(Role::SchoolAdmin, 1, &[], &[]);
        let teacher = actor(Role::Teacher, 1, &[10], &[]);
        let parent = actor(Role::Parent, 1, &[10], &[20]);
        assert!(can(&staff, Action::PublishNews, Resource::School(school)));
        assert!(!can(
            &teacher,
            Action::PublishNews,
            Resource::School(school)
        ));
        assert!(!can(
            &staff,
            Action::PublishNews,
            Resource::School(SchoolId(2))
        ));
        assert!(can(&teacher, Action::SendNote, class(10)));
        assert!(!can(&teacher, Action::SendNote, class(11)));
        assert!(can(&staff, Action::SendNote, class(11)));
        assert!(!can(&parent, Action::SendNote, class(10)));
        assert!(can(
            &admin,
            Action::ManageMessaging,
            Resource::School(school)
        ));
        assert!(!can(
            &staff,
            Action::ManageMessaging,
            Resource::School(school)
        ));
    }

    #[test]
    fn cahier_de_textes() {
        let school = SchoolId(1);
        let class = |c| Resource::Class {
            school,
            class: ClassId(c),
        };
        let teacher = actor(Role::Teacher, 1, &[10], &[]);
        assert!(can(&teacher, Action::WriteLessons, class(10)));
        assert!(!can(&teacher, Action::WriteLessons, class(11)));
        assert!(
            can(&teacher, Action::ViewLessons, class(11)),
            "workload of other classes"
        );
        let admin = actor(Role::SchoolAdmin, 1, &[], &[]);
        assert!(!can(&admin, Action::WriteLessons, class(10)));
        assert!(can(&admin, Action::ViewLessons, class(10)));
        let pupil = actor(Role::Pupil, 1, &[10], &[]);
        assert!(can(&pupil, Action::ViewLessons, class(10)));
        assert!(!can(&pupil, Action::ViewLessons, class(11)));
        assert!(!can(
            &teacher,
            Action::ViewLessons,
            Resource::Class {
                school: SchoolId(2),
                class: ClassId(10)
            }
        ));
    }

    #[test]
    fn cahier_de_textes_of_a_group() {
        let group = |school, g| Resource::Group {
            school: SchoolId(school),
            group: GroupId(g),
        };
        // Teaches 6e A (10) and the Latin group (50), whose pupils come from several classes.
        let teacher = in_groups(actor(Role::Teacher, 1, &[10], &[]), &[50]);
        assert!(can(&teacher, Action::WriteLessons, group(1, 50)));
        assert!(!can(&teacher, Action::WriteLessons, group(1, 51)));
        assert!(can(&teacher, Action::ViewLessons, group(1, 51)));
        assert!(!can(&teacher, Action::WriteLessons, group(2, 50)));
        assert!(!can(&teacher, Action::ViewLessons, group(2, 50)));
        // Teaching the class a member comes from does not make one the group's teacher.
        let class_teacher = actor(Role::Teacher, 1, &[10], &[]);
        assert!(!can(&class_teacher, Action::WriteLessons, group(1, 50)));

        let member = in_groups(actor(Role::Pupil, 1, &[10], &[]), &[50]);
        assert!(can(&member, Action::ViewLessons, group(1, 50)));
        assert!(!can(&member, Action::WriteLessons, group(1, 50)));
        let classmate = actor(Role::Pupil, 1, &[10], &[]);
        assert!(
            !can(&classmate, Action::ViewLessons, group(1, 50)),
            "same class, not in the group"
        );
        let parent = in_groups(actor(Role::Parent, 1, &[10], &[20]), &[50]);
        assert!(can(&parent, Action::ViewLessons, group(1, 50)));
        assert!(!can(&parent, Action::ViewLessons, group(1, 51)));
        assert!(!can(&parent, Action::WriteLessons, group(1, 50)));

        for role in [Role::Staff, Role::SchoolAdmin] {
            let a = actor(role, 1, &[], &[]);
            assert!(can(&a, Action::ViewLessons, group(1, 50)), "{role:?}");
            assert!(!can(&a, Action::WriteLessons, group(1, 50)), "{role:?}");
            assert!(!can(&a, Action::ViewLessons, group(2, 50)), "{role:?}");
        }
        let operator = actor(Role::Operator, 0, &[], &[]);
        assert!(!can(&operator, Action::ViewLessons, group(1, 50)));
        // Another school's member of a group with the same id sees nothing here.
        let elsewhere = in_groups(actor(Role::Pupil, 2, &[10], &[]), &[50]);
        assert!(!can(&elsewhere, Action::ViewLessons, group(1, 50)));
        // Groups open nothing else: not a class, not a class roster.
        assert!(!can(
            &member,
            Action::ViewClassRoster,
            Resource::Class {
                school: SchoolId(1),
                class: ClassId(50)
            }
        ));
        assert_eq!(
            Resource::target(SchoolId(1), Target::Group(GroupId(50))),
            group(1, 50)
        );
    }

    #[test]
    fn operator_sees_platform_not_people() {
        let o = actor(Role::Operator, 0, &[], &[]);
        assert!(can(&o, Action::ViewSchools, Resource::Platform));
        assert!(!can(
            &o,
            Action::ViewPerson,
            Resource::Person(&person(Role::Pupil, 1, 20, &[]))
        ));
        let t = actor(Role::Teacher, 1, &[10], &[]);
        assert!(!can(&t, Action::ViewSchools, Resource::Platform));
    }
}
