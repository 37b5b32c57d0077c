//! The shape of a synthetic district, drawn from a seeded random generator
//! so that the same `--seed` always gives the same schools, classes and
//! people. Nothing here touches the database.

use std::collections::{HashMap, HashSet};

use cartable_domain::names::{ClassName, Login, PersonName};
use cartable_domain::Role;
use cartable_store::{BulkPerson, BulkSchool};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;

use super::names::{ADULT_FIRST_NAMES, LAST_NAMES, NAMESAKES, PUPIL_FIRST_NAMES, TOWNS};

/// Pupils per class aimed at (classes end up between about 24 and 32).
const CLASS_TARGET: u32 = 28;
/// About one teacher for this many pupils.
const PUPILS_PER_TEACHER: u32 = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ecole,
    College,
    Lycee,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::Ecole => "ecole",
            Kind::College => "college",
            Kind::Lycee => "lycee",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Kind::Ecole => "École élémentaire",
            Kind::College => "Collège",
            Kind::Lycee => "Lycée",
        }
    }

    /// Pupils of a school of this kind, inclusive.
    fn sizes(self) -> (u32, u32) {
        match self {
            Kind::Ecole => (100, 300),
            Kind::College => (300, 900),
            Kind::Lycee => (800, 2500),
        }
    }

    fn levels(self) -> &'static [&'static str] {
        match self {
            Kind::Ecole => &["CP", "CE1", "CE2", "CM1", "CM2"],
            Kind::College => &["6e", "5e", "4e", "3e"],
            Kind::Lycee => &["Seconde", "Première", "Terminale"],
        }
    }

    /// Age at the rentrée of the first level.
    fn first_age(self) -> i64 {
        match self {
            Kind::Ecole => 6,
            Kind::College => 11,
            Kind::Lycee => 15,
        }
    }

    fn subjects(self) -> &'static [&'static str] {
        match self {
            Kind::Ecole => &[
                "Français",
                "Mathématiques",
                "Anglais",
                "Sciences",
                "Histoire-géographie",
                "EPS",
            ],
            Kind::College => &[
                "Français",
                "Mathématiques",
                "Histoire-géographie",
                "Anglais",
                "Espagnol",
                "Allemand",
                "SVT",
                "Physique-chimie",
                "Technologie",
                "EPS",
                "Latin",
            ],
            Kind::Lycee => &[
                "Français",
                "Philosophie",
                "Mathématiques",
                "Histoire-géographie",
                "Anglais",
                "Espagnol",
                "Allemand",
                "SVT",
                "Physique-chimie",
                "SES",
                "NSI",
                "EPS",
            ],
        }
    }

    /// "6e A" in écoles and collèges, "Seconde 3" in lycées.
    fn class_name(self, level: &str, n: usize) -> String {
        match self {
            Kind::Lycee => format!("{level} {}", n + 1),
            _ => format!("{level} {}", (b'A' + (n % 26) as u8) as char),
        }
    }
}

/// One school to create: its kind and number of pupils.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolSize {
    pub kind: Kind,
    pub pupils: u32,
}

/// Draws schools until `total` pupils are placed: six écoles in ten, a
/// quarter collèges, the rest lycées, each of a size typical of its kind.
pub fn school_sizes(rng: &mut StdRng, total: u32) -> Vec<SchoolSize> {
    let mut out = Vec::new();
    let mut left = total;
    while left > 0 {
        let roll: f64 = rng.gen();
        let kind = if roll < 0.6 {
            Kind::Ecole
        } else if roll < 0.85 {
            Kind::College
        } else {
            Kind::Lycee
        };
        let (lo, hi) = kind.sizes();
        let mut pupils = rng.gen_range(lo..=hi).min(left);
        // No crumb of a school at the end: the last one takes the rest.
        if left - pupils < 100 {
            pupils = left;
        }
        left -= pupils;
        out.push(SchoolSize { kind, pupils });
    }
    out
}

/// Hands out free logins ("prenom.nom", then "prenom.nom2", …) in memory.
pub struct Logins {
    taken: HashSet<String>,
    next_suffix: HashMap<String, u32>,
}

impl Logins {
    pub fn new(existing: impl IntoIterator<Item = String>) -> Logins {
        Logins {
            taken: existing.into_iter().collect(),
            next_suffix: HashMap::new(),
        }
    }

    pub fn take(&mut self, first: &PersonName, last: &PersonName) -> Login {
        let base = Login::suggest(first, last, 1).as_str().to_string();
        let mut n = self.next_suffix.get(&base).copied().unwrap_or(1);
        loop {
            let candidate = Login::suggest(first, last, n);
            n += 1;
            if self.taken.insert(candidate.as_str().to_string()) {
                self.next_suffix.insert(base, n);
                return candidate;
            }
        }
    }
}

/// A school's people and what the homework needs to know about its classes.
pub struct SchoolPlan {
    pub name: String,
    pub batch: BulkSchool,
    /// Per class: (subject, index of its teacher in `batch.people`).
    pub class_subjects: Vec<Vec<(String, usize)>>,
}

fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list[rng.gen_range(0..list.len())]
}

fn name(raw: &str) -> PersonName {
    PersonName::parse(raw).expect("the name lists hold valid names")
}

fn class_name(raw: &str) -> ClassName {
    ClassName::parse(raw).expect("generated class names are valid")
}

fn person(logins: &mut Logins, role: Role, first: &str, last: &str) -> BulkPerson {
    let (first, last) = (name(first), name(last));
    BulkPerson {
        role,
        login: logins.take(&first, &last),
        last_name: last,
        first_name: first,
        birth_date: None,
        subject: None,
        class: None,
        groups: Vec::new(),
        children: Vec::new(),
        teaches: Vec::new(),
    }
}

/// Draws one school: classes by level, pupils in families with one or two
/// parents (some families with two children in the school), teachers with
/// a subject each teaching several classes, one staff and one admin.
pub fn plan_school(
    rng: &mut StdRng,
    logins: &mut Logins,
    size: &SchoolSize,
    rentree_year: i64,
    password_hash: Option<String>,
) -> SchoolPlan {
    let kind = size.kind;
    let name = format!(
        "{} {} — {}",
        kind.title(),
        pick(rng, NAMESAKES),
        pick(rng, TOWNS)
    );

    // Classes, level by level, and one seat per pupil.
    let levels = kind.levels();
    let mut classes = Vec::new();
    let mut class_level = Vec::new();
    let mut seats = Vec::new();
    for (li, level) in levels.iter().enumerate() {
        let n_levels = levels.len() as u32;
        let level_pupils = size.pupils / n_levels + u32::from((li as u32) < size.pupils % n_levels);
        if level_pupils == 0 {
            continue;
        }
        let n_classes = ((level_pupils + CLASS_TARGET / 2) / CLASS_TARGET).max(1);
        for c in 0..n_classes {
            let index = classes.len();
            classes.push(class_name(&kind.class_name(level, c as usize)));
            class_level.push(li);
            let in_class = level_pupils / n_classes + u32::from(c < level_pupils % n_classes);
            seats.extend(std::iter::repeat_n(index, in_class as usize));
        }
    }
    seats.shuffle(rng);

    let groups: Vec<&str> = match kind {
        Kind::Ecole => Vec::new(),
        Kind::College | Kind::Lycee => vec!["LV2 espagnol", "LV2 allemand", "Latin"],
    };

    // Pupils, family by family; parents come after all pupils.
    let mut pupils: Vec<BulkPerson> = Vec::new();
    let mut parents: Vec<BulkPerson> = Vec::new();
    let mut seats = seats.into_iter().peekable();
    while seats.peek().is_some() {
        let family = pick(rng, LAST_NAMES);
        let children = if rng.gen_bool(0.15) { 2 } else { 1 };
        let mut kids = Vec::new();
        for _ in 0..children {
            let Some(class) = seats.next() else { break };
            let mut p = person(logins, Role::Pupil, pick(rng, PUPIL_FIRST_NAMES), family);
            let level = class_level[class] as i64;
            let year = rentree_year - kind.first_age() - level;
            p.birth_date = Some(format!(
                "{year:04}-{:02}-{:02}",
                rng.gen_range(1..=12),
                rng.gen_range(1..=28)
            ));
            p.class = Some(class);
            // LV2 from 5e on (and in lycée), Latin for a few.
            if kind == Kind::Lycee || (kind == Kind::College && level >= 1) {
                p.groups.push(if rng.gen_bool(0.7) { 0 } else { 1 });
            }
            if kind != Kind::Ecole && rng.gen_bool(0.12) {
                p.groups.push(2);
            }
            kids.push(pupils.len());
            pupils.push(p);
        }
        let n_parents = if rng.gen_bool(0.75) { 2 } else { 1 };
        for i in 0..n_parents {
            let last = if i == 0 || rng.gen_bool(0.6) {
                family
            } else {
                pick(rng, LAST_NAMES)
            };
            let mut p = person(logins, Role::Parent, pick(rng, ADULT_FIRST_NAMES), last);
            p.children = kids.clone();
            parents.push(p);
        }
    }

    // Teachers: subjects in turn; each class gets one teacher per subject,
    // taken in turn among that subject's teachers.
    let subjects = kind.subjects();
    let n_teachers = size.pupils.div_ceil(PUPILS_PER_TEACHER).max(2) as usize;
    let mut teachers: Vec<BulkPerson> = (0..n_teachers)
        .map(|i| {
            let mut t = person(
                logins,
                Role::Teacher,
                pick(rng, ADULT_FIRST_NAMES),
                pick(rng, LAST_NAMES),
            );
            t.subject = Some(subjects[i % subjects.len()].to_string());
            t
        })
        .collect();
    let mut by_subject: Vec<Vec<usize>> = vec![Vec::new(); subjects.len()];
    for i in 0..n_teachers {
        by_subject[i % subjects.len()].push(i);
    }
    let mut turn = vec![0usize; subjects.len()];
    let first_teacher = pupils.len() + parents.len();
    let mut class_subjects = vec![Vec::new(); classes.len()];
    for (c, taught) in class_subjects.iter_mut().enumerate() {
        for (s, subject) in subjects.iter().enumerate() {
            let pool = &by_subject[s];
            if pool.is_empty() {
                continue;
            }
            let t = pool[turn[s] % pool.len()];
            turn[s] += 1;
            teachers[t].teaches.push((c, taught.is_empty()));
            taught.push((subject.to_string(), first_teacher + t));
        }
    }

    let staff = person(
        logins,
        Role::Staff,
        pick(rng, ADULT_FIRST_NAMES),
        pick(rng, LAST_NAMES),
    );
    let admin = person(
        logins,
        Role::SchoolAdmin,
        pick(rng, ADULT_FIRST_NAMES),
        pick(rng, LAST_NAMES),
    );

    let mut people = pupils;
    people.append(&mut parents);
    people.append(&mut teachers);
    people.push(staff);
    people.push(admin);
    SchoolPlan {
        name,
        batch: BulkSchool {
            classes,
            groups: groups.into_iter().map(class_name).collect(),
            people,
            password_hash,
        },
        class_subjects,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn sizes_add_up_and_suit_their_kind() {
        let mut rng = StdRng::seed_from_u64(42);
        let sizes = school_sizes(&mut rng, 100_000);
        assert_eq!(sizes.iter().map(|s| s.pupils).sum::<u32>(), 100_000);
        for s in &sizes[..sizes.len() - 1] {
            let (lo, hi) = s.kind.sizes();
            assert!((lo..=hi).contains(&s.pupils), "{s:?}");
        }
        let again = school_sizes(&mut StdRng::seed_from_u64(42), 100_000);
        assert_eq!(sizes, again, "the same seed gives the same district");
    }

    #[test]
    fn a_college_has_classes_families_and_teachers() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut logins = Logins::new(["lea.martin".to_string()]);
        let size = SchoolSize {
            kind: Kind::College,
            pupils: 600,
        };
        let plan = plan_school(&mut rng, &mut logins, &size, 2026, None);
        let people = &plan.batch.people;
        let count = |r: Role| people.iter().filter(|p| p.role == r).count();
        assert_eq!(count(Role::Pupil), 600);
        assert_eq!(count(Role::Teacher), 50);
        assert_eq!((count(Role::Staff), count(Role::SchoolAdmin)), (1, 1));
        assert!(count(Role::Parent) > 600);
        let mut per_class = vec![0; plan.batch.classes.len()];
        for p in people.iter().filter(|p| p.role == Role::Pupil) {
            per_class[p.class.unwrap()] += 1;
        }
        assert!(
            per_class.iter().all(|&n| (24..=32).contains(&n)),
            "{per_class:?}"
        );
        assert!(plan.batch.classes.iter().any(|c| c.as_str() == "6e A"));
        let logins: HashSet<&str> = people.iter().map(|p| p.login.as_str()).collect();
        assert_eq!(logins.len(), people.len(), "logins are unique");
        assert!(
            !logins.contains("lea.martin"),
            "a taken login is not reused"
        );
        assert!(people
            .iter()
            .any(|p| p.role == Role::Parent && p.children.len() == 2));
        for t in people.iter().filter(|p| p.role == Role::Teacher) {
            assert!(t.subject.is_some() && t.teaches.len() >= 2, "{t:?}");
        }
        for taught in &plan.class_subjects {
            assert!(taught.len() >= 5);
            assert!(taught.iter().all(|(_, t)| people[*t].role == Role::Teacher));
        }
    }
}
