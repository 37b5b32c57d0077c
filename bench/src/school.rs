//! A realistic collège, as roster operations the store applies in one
//! transaction: classes of pupils, their parents (households with one or two
//! parents, some with two children in different classes), teachers who each
//! teach a few classes, and office staff.
//!
//! With the defaults: 40 classes (6e A .. 3e J) of 30 pupils = 1,200 pupils;
//! 900 households (300 with two children, 600 with one; two thirds with two
//! parents) = 1,500 parents; 80 teachers teaching 5 classes each (10 per
//! class, one professeur principal per class); 20 staff. 2,800 people.

use std::collections::BTreeSet;

use cartable_domain::names::{BirthDate, ClassName, ExternalId, PersonName};
use cartable_domain::roster::{ClassRef, PersonRecord, PersonRef, RosterOp};
use cartable_domain::{ClassId, Role, SchoolId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchoolSpec {
    pub classes: usize,
    pub pupils_per_class: usize,
    pub teachers: usize,
    pub classes_per_teacher: usize,
    pub staff: usize,
}

impl Default for SchoolSpec {
    fn default() -> Self {
        SchoolSpec {
            classes: 40,
            pupils_per_class: 30,
            teachers: 80,
            classes_per_teacher: 5,
            staff: 20,
        }
    }
}

const SYLLABLES: [&str; 40] = [
    "bar", "mon", "lef", "dur", "ver", "gar", "pet", "ros", "bel", "cha", "dal", "fon", "gir",
    "hou", "jam", "lam", "mar", "nor", "pal", "rey", "sal", "tis", "vig", "bru", "cor", "dev",
    "fab", "gau", "hel", "lan", "mor", "nev", "pic", "rou", "sav", "tho", "val", "bou", "cla",
    "dup",
];
const ENDINGS: [&str; 4] = ["", "et", "ier", "and"];
const PUPIL_NAMES: [&str; 30] = [
    "Léa", "Hugo", "Chloé", "Louis", "Emma", "Gabriel", "Jade", "Raphaël", "Louise", "Arthur",
    "Alice", "Jules", "Inès", "Adam", "Lina", "Maël", "Rose", "Lucas", "Anna", "Noah", "Mila",
    "Sacha", "Zoé", "Nathan", "Ambre", "Tom", "Julia", "Éthan", "Léna", "Timéo",
];
const PARENT_NAMES: [[&str; 10]; 2] = [
    [
        "Sophie", "Nathalie", "Isabelle", "Aïcha", "Céline", "Sandrine", "Claire", "Fatima",
        "Julie", "Élodie",
    ],
    [
        "Karim",
        "Thomas",
        "Nicolas",
        "Stéphane",
        "Julien",
        "David",
        "Mehdi",
        "Olivier",
        "Sébastien",
        "Laurent",
    ],
];
const LEVELS: [&str; 4] = ["6e", "5e", "4e", "3e"];
const SUBJECTS: [&str; 8] = [
    "Mathématiques",
    "Français",
    "Histoire-géographie",
    "Anglais",
    "SVT",
    "Physique-chimie",
    "EPS",
    "Technologie",
];

/// A family name, unique for `i` < 1,600 ("Barmon", "Lefduret", ...).
fn last_name(i: usize) -> String {
    let a = i % SYLLABLES.len();
    let b = (i / SYLLABLES.len()) % SYLLABLES.len();
    let first = SYLLABLES[a];
    let mut s = first[..1].to_uppercase() + &first[1..];
    s.push_str(SYLLABLES[b]);
    s.push_str(ENDINGS[(a + b) % ENDINGS.len()]);
    s
}

fn class_name(c: usize) -> String {
    let letter = (b'A' + (c % 10) as u8) as char;
    format!("{} {letter}", LEVELS[(c / 10) % LEVELS.len()])
}

/// The school as plain indices, and the roster operations that create it.
#[derive(Debug, Clone)]
pub struct SchoolPlan {
    pub spec: SchoolSpec,
    /// Class index of each pupil.
    pub pupil_class: Vec<usize>,
    /// Parent indices of each pupil.
    pub pupil_parents: Vec<Vec<usize>>,
    pub parents: usize,
    pub households: usize,
    /// Class indices each teacher teaches.
    pub teacher_classes: Vec<Vec<usize>>,
    pub ops: Vec<RosterOp>,
}

fn record(first: &str, last: &str, ext: String, birth: Option<&str>) -> PersonRecord {
    PersonRecord {
        external_id: Some(ExternalId::parse(&ext).expect("external id")),
        last_name: PersonName::parse(last).expect("last name"),
        first_name: PersonName::parse(first).expect("first name"),
        birth_date: birth.map(|b| BirthDate::parse(b).expect("birth date")),
        email: None,
    }
}

impl SchoolPlan {
    pub fn new(spec: SchoolSpec) -> SchoolPlan {
        let pupils = spec.classes * spec.pupils_per_class;
        // Half of the pupils have a brother or sister in the next class.
        let pairs = pupils / 4;
        let household_of = |p: usize| if p < 2 * pairs { p / 2 } else { p - pairs };
        let households = pupils - pairs;
        // Two households in three have two parents.
        let mut household_parents = Vec::with_capacity(households);
        let mut parents = 0;
        for h in 0..households {
            let n = if h % 3 == 0 { 1 } else { 2 };
            household_parents.push((parents..parents + n).collect::<Vec<_>>());
            parents += n;
        }
        let pupil_class: Vec<usize> = (0..pupils).map(|p| p % spec.classes).collect();
        let pupil_parents: Vec<Vec<usize>> = (0..pupils)
            .map(|p| household_parents[household_of(p)].clone())
            .collect();
        let stride = (spec.classes / spec.classes_per_teacher).max(1);
        let teacher_classes: Vec<Vec<usize>> = (0..spec.teachers)
            .map(|t| {
                (0..spec.classes_per_teacher)
                    .map(|k| (t + stride * k) % spec.classes)
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect()
            })
            .collect();

        let mut ops = Vec::new();
        for c in 0..spec.classes {
            ops.push(RosterOp::CreateClass {
                name: ClassName::parse(&class_name(c)).expect("class name"),
            });
        }
        for p in 0..pupils {
            let first = PUPIL_NAMES[p % PUPIL_NAMES.len()];
            let year = 2013 - (pupil_class[p] / 10) as i32;
            let birth = format!("{:02}/{:02}/{year}", 1 + p % 28, 1 + p % 12);
            ops.push(RosterOp::CreatePerson {
                role: Role::Pupil,
                person: record(
                    first,
                    &last_name(household_of(p)),
                    format!("E{p:06}"),
                    Some(&birth),
                ),
                subject: None,
            });
        }
        for (h, members) in household_parents.iter().enumerate() {
            for (k, q) in members.iter().enumerate() {
                let first = PARENT_NAMES[k % 2][h % 10];
                ops.push(RosterOp::CreatePerson {
                    role: Role::Parent,
                    person: record(first, &last_name(h), format!("R{q:06}"), None),
                    subject: None,
                });
            }
        }
        for t in 0..spec.teachers {
            let first = PARENT_NAMES[t % 2][(t / 2) % 10];
            ops.push(RosterOp::CreatePerson {
                role: Role::Teacher,
                person: record(first, &last_name(households + t), format!("T{t:06}"), None),
                subject: Some(SUBJECTS[t % SUBJECTS.len()].to_string()),
            });
        }
        for s in 0..spec.staff {
            let first = PARENT_NAMES[s % 2][(s / 2 + 3) % 10];
            ops.push(RosterOp::CreatePerson {
                role: Role::Staff,
                person: record(
                    first,
                    &last_name(households + spec.teachers + s),
                    format!("S{s:06}"),
                    None,
                ),
                subject: Some("Vie scolaire".to_string()),
            });
        }
        for (p, class) in pupil_class.iter().enumerate() {
            ops.push(RosterOp::SetClass {
                pupil: PersonRef::New(p),
                class: ClassRef::New(*class),
            });
        }
        for (p, ps) in pupil_parents.iter().enumerate() {
            for q in ps {
                ops.push(RosterOp::LinkParent {
                    parent: PersonRef::New(pupils + q),
                    child: PersonRef::New(p),
                });
            }
        }
        for (t, classes) in teacher_classes.iter().enumerate() {
            ops.push(RosterOp::SetTeachings {
                teacher: PersonRef::New(pupils + parents + t),
                classes: classes
                    .iter()
                    .map(|c| (ClassRef::New(*c), t < spec.classes && *c == t))
                    .collect(),
            });
        }
        SchoolPlan {
            spec,
            pupil_class,
            pupil_parents,
            parents,
            households,
            teacher_classes,
            ops,
        }
    }

    pub fn pupils(&self) -> usize {
        self.pupil_class.len()
    }

    pub fn people(&self) -> usize {
        self.pupils() + self.parents + self.spec.teachers + self.spec.staff
    }

    /// Index, in creation order, of the n-th pupil, parent, teacher, staff.
    pub fn pupil(&self, n: usize) -> usize {
        n
    }
    pub fn parent(&self, n: usize) -> usize {
        self.pupils() + n
    }
    pub fn teacher(&self, n: usize) -> usize {
        self.pupils() + self.parents + n
    }
    pub fn staff(&self, n: usize) -> usize {
        self.pupils() + self.parents + self.spec.teachers + n
    }

    /// Pupils and distinct parents of a class: the recipients of a message to
    /// "Élèves de 6e A" and "Parents de 6e A".
    pub fn class_recipients(&self, class: usize) -> (usize, usize) {
        let pupils: Vec<usize> = (0..self.pupils())
            .filter(|p| self.pupil_class[*p] == class)
            .collect();
        let parents: BTreeSet<usize> = pupils
            .iter()
            .flat_map(|p| self.pupil_parents[*p].iter().copied())
            .collect();
        (pupils.len(), parents.len())
    }
}

/// The plan once applied: ids and logins.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub school: SchoolId,
    /// By class index.
    pub classes: Vec<ClassId>,
    /// By person index, in creation order.
    pub people: Vec<(UserId, String)>,
}

impl Seeded {
    /// Matches the created classes (listed by the store) to the plan's indices.
    pub fn new(
        plan: &SchoolPlan,
        school: SchoolId,
        created: Vec<(UserId, String)>,
        classes: &[(ClassId, String)],
    ) -> Result<Seeded, String> {
        if created.len() != plan.people() {
            return Err(format!(
                "{} people created, {} planned",
                created.len(),
                plan.people()
            ));
        }
        let classes = (0..plan.spec.classes)
            .map(|c| {
                let name = class_name(c);
                classes
                    .iter()
                    .find(|(_, n)| *n == name)
                    .map(|(id, _)| *id)
                    .ok_or_else(|| format!("class {name} not found after seeding"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Seeded {
            school,
            classes,
            people: created,
        })
    }

    pub fn id(&self, index: usize) -> UserId {
        self.people[index].0
    }

    pub fn login(&self, index: usize) -> &str {
        &self.people[index].1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_school_sizes() {
        let plan = SchoolPlan::new(SchoolSpec::default());
        assert_eq!(plan.pupils(), 1_200);
        assert_eq!(plan.households, 900);
        assert_eq!(plan.parents, 1_500);
        assert_eq!(plan.people(), 2_800);
        for t in &plan.teacher_classes {
            assert_eq!(t.len(), 5);
        }
        let (p, q) = plan.class_recipients(0);
        assert_eq!(p, 30);
        assert!((40..=60).contains(&q), "{q} parents in a class");
        let names: BTreeSet<String> = (0..1_000).map(last_name).collect();
        assert_eq!(names.len(), 1_000);
        // Siblings are in different classes.
        assert_ne!(plan.pupil_class[0], plan.pupil_class[1]);
        assert_eq!(plan.pupil_parents[0], plan.pupil_parents[1]);
    }
}
