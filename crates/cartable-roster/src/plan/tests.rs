//! Planning against a snapshot: matching, outcomes, operations, and
//! idempotence (a file planned against the school its own import produced
//! plans nothing).

use cartable_domain::roster::{
    ClassRef, GroupRef, LineOutcome, PersonRef, RosterKind, RosterOp, RosterPlan, RosterSnapshot,
    SnapshotPerson,
};
use cartable_domain::{ClassId, GroupId, Role, UserId};

use crate::testkit::{apply, person};
use crate::{plan, read_roster};

fn plan_of(text: &str, snapshot: &RosterSnapshot) -> RosterPlan {
    let parsed = read_roster(text.as_bytes(), None).unwrap_or_else(|e| panic!("{e}"));
    plan(&parsed, snapshot)
}

fn outcomes(plan: &RosterPlan) -> Vec<LineOutcome> {
    plan.lines.iter().map(|l| l.outcome.clone()).collect()
}

fn update(changes: &[&str]) -> LineOutcome {
    LineOutcome::Update(changes.iter().map(|c| c.to_string()).collect())
}

fn rejected(why: &str) -> LineOutcome {
    LineOutcome::Rejected(why.into())
}

/// Imports `text` into `snapshot`, then checks that planning it again does
/// nothing; returns the school after the import.
fn assert_idempotent(text: &str, snapshot: &RosterSnapshot) -> RosterSnapshot {
    let first = plan_of(text, snapshot);
    let after = apply(snapshot, &first.ops);
    let again = plan_of(text, &after);
    assert!(
        again.ops.is_empty(),
        "second import still plans {:#?}",
        again.ops
    );
    for l in &again.lines {
        assert!(
            matches!(
                l.outcome,
                LineOutcome::Unchanged | LineOutcome::Duplicate { .. }
            ),
            "line {} ({}): {:?}",
            l.line,
            l.who,
            l.outcome
        );
    }
    after
}

fn count(plan: &RosterPlan, pred: impl Fn(&RosterOp) -> bool) -> usize {
    plan.ops.iter().filter(|op| pred(op)).count()
}

fn creates(plan: &RosterPlan, role: Role) -> usize {
    count(
        plan,
        |op| matches!(op, RosterOp::CreatePerson { role: r, .. } if *r == role),
    )
}

fn find<'a>(s: &'a RosterSnapshot, role: Role, last: &str, first: &str) -> Vec<&'a SnapshotPerson> {
    s.people
        .iter()
        .filter(|p| p.role == role && p.last_name == last && p.first_name == first)
        .collect()
}

/// A school with 4e A (1), 3e B (2), 3e A (3), group Latin (10), and a few people.
fn school() -> RosterSnapshot {
    let mut zoe = person(100, Role::Pupil, "Martin", "Zoé");
    zoe.birth_date = Some("2012-02-01".into());
    zoe.class = Some(ClassId(1));
    zoe.groups.insert(GroupId(10));
    let mut leo = person(101, Role::Pupil, "Durand", "Léo");
    leo.external_id = Some("E101".into());
    leo.birth_date = Some("2011-05-06".into());
    leo.class = Some(ClassId(3));
    let mut sophie = person(200, Role::Parent, "Martin", "Sophie");
    sophie.email = Some("sophie.martin@exemple.fr".into());
    sophie.children.insert(UserId(100));
    let mut helene = person(300, Role::Teacher, "Bernard", "Hélène");
    helene.subject = Some("Mathématiques".into());
    helene.teaches.insert((ClassId(1), true));
    let mut sandrine = person(400, Role::Staff, "Perrin", "Sandrine");
    sandrine.subject = Some("CPE".into());
    RosterSnapshot {
        classes: vec![
            (ClassId(1), "4e A".into()),
            (ClassId(2), "3e B".into()),
            (ClassId(3), "3e A".into()),
        ],
        groups: vec![(GroupId(10), "Latin".into())],
        people: vec![zoe, leo, sophie, helene, sandrine],
    }
}

// ---- pupils ----

#[test]
fn a_pupil_who_moved_class_is_moved_not_duplicated() {
    let text = "Nom;Prénom;Né(e) le;Classe\nMartin;Zoé;01/02/2012;3e B\n";
    let p = plan_of(text, &school());
    assert_eq!(outcomes(&p), [update(&["classe : 4e A → 3e B"])]);
    assert_eq!(
        p.ops,
        [RosterOp::SetClass {
            pupil: PersonRef::Existing(UserId(100)),
            class: ClassRef::Existing(ClassId(2)),
        }]
    );
    let after = assert_idempotent(text, &school());
    assert_eq!(find(&after, Role::Pupil, "Martin", "Zoé").len(), 1);
}

#[test]
fn class_names_match_folded_and_new_ones_are_created_once() {
    let text = "Nom;Prénom;Classe\nDurand;Léo;3E A\nPetit;Noé;5e C\nRoux;Léna;5E  C\n";
    let p = plan_of(text, &school());
    let created: Vec<String> = p
        .ops
        .iter()
        .filter_map(|op| match op {
            RosterOp::CreateClass { name } => Some(name.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(created, ["5e C"]);
    // Léo is known by name only (no birth date in the file): one namesake, found.
    assert_eq!(p.lines[0].outcome, LineOutcome::Unchanged);
    assert_idempotent(text, &school());
}

#[test]
fn pupils_match_by_name_and_birth_date() {
    let text = "Nom;Prénom;Date de naissance;Classe\n\
        Martin;Zoé;01/02/2012;4e A\n\
        Martin;Zoé;15/09/2013;4e A\n";
    let p = plan_of(text, &school());
    // Same name, another birth date: a namesake, not the same pupil.
    assert_eq!(outcomes(&p), [LineOutcome::Unchanged, LineOutcome::Create]);
    let after = assert_idempotent(text, &school());
    assert_eq!(find(&after, Role::Pupil, "Martin", "Zoé").len(), 2);
    // Now "Martin Zoé" without a date is ambiguous.
    let p = plan_of("Nom;Prénom;Classe\nMartin;Zoé;4e A\n", &after);
    assert_eq!(
        outcomes(&p),
        [rejected(
            "plusieurs élèves s'appellent Martin Zoé : ajoutez la date de naissance ou l'identifiant pour les distinguer"
        )]
    );
    assert!(p.ops.is_empty());
}

#[test]
fn the_file_fills_in_ids_and_updates_names_and_dates() {
    let text = "Identifiant;Nom;Prénom;Date de naissance;Classe\n\
        E100;MARTIN;Zoé;01/02/2012;4e A\n\
        E101;Durand;Léo;07/05/2011;3e A\n";
    let p = plan_of(text, &school());
    assert_eq!(
        outcomes(&p),
        [
            update(&["nom : Martin → MARTIN", "identifiant : E100 (ajouté)"]),
            update(&["date de naissance : 06/05/2011 → 07/05/2011"]),
        ]
    );
    assert_eq!(
        count(&p, |op| matches!(op, RosterOp::UpdatePerson { .. })),
        2
    );
    assert_idempotent(text, &school());
}

#[test]
fn duplicated_rows_are_reported_once() {
    let text = "Nom;Prénom;Classe\nPetit;Noé;3e A\nPetit;Noé;3e A\nPETIT ; Noé ;3E A\n";
    let p = plan_of(text, &school());
    assert_eq!(
        outcomes(&p),
        [
            LineOutcome::Create,
            LineOutcome::Duplicate { first_line: 2 },
            LineOutcome::Duplicate { first_line: 2 },
        ]
    );
    assert_eq!(creates(&p, Role::Pupil), 1);
    assert_idempotent(text, &school());
}

#[test]
fn a_second_row_contradicting_the_first_is_rejected() {
    let text = "INE;Nom;Prénom;Classe\n1234567890A;Petit;Noé;3e A\n1234567890A;Petit;Noé;3e B\n";
    let p = plan_of(text, &school());
    assert_eq!(
        p.lines[1].outcome,
        rejected("même personne qu'à la ligne 2, avec une autre classe : « 3e B » ici, « 3e A » à la ligne 2")
    );
}

#[test]
fn groups_are_replaced_only_when_the_file_has_groups() {
    let with_groups = "Nom;Prénom;Date de naissance;Classe;Groupes\n\
        Martin;Zoé;01/02/2012;4e A;Grec|Théâtre\n\
        Durand;Léo;06/05/2011;3e A;\n";
    let p = plan_of(with_groups, &school());
    assert_eq!(
        outcomes(&p),
        [
            update(&[
                "nouveau groupe : Grec",
                "nouveau groupe : Théâtre",
                "groupe retiré : Latin"
            ]),
            LineOutcome::Unchanged,
        ]
    );
    assert_eq!(
        count(&p, |op| matches!(op, RosterOp::CreateGroup { .. })),
        2
    );
    assert_idempotent(with_groups, &school());

    let without = "Nom;Prénom;Date de naissance;Classe\nMartin;Zoé;01/02/2012;4e A\n";
    let p = plan_of(without, &school());
    assert_eq!(outcomes(&p), [LineOutcome::Unchanged]);
    assert!(p.ops.is_empty());
}

#[test]
fn ops_come_in_the_order_the_store_expects() {
    let text = "Nom;Prénom;Classe;Groupe;R1 nom;R1 prénom\n\
        Petit;Noé;5e C;Latin;Petit;Anne\n\
        Martin;Zoé;6e D;Chorale;Martin;Sophie\n";
    let p = plan_of(text, &school());
    let phase = |op: &RosterOp| match op {
        RosterOp::CreateClass { .. } | RosterOp::CreateGroup { .. } => 0,
        RosterOp::CreatePerson { .. } | RosterOp::UpdatePerson { .. } => 1,
        _ => 2,
    };
    let phases: Vec<u8> = p.ops.iter().map(phase).collect();
    assert!(phases.windows(2).all(|w| w[0] <= w[1]), "{:#?}", p.ops);
    // Noé (New 0) and Anne (New 1) from line 2; classes 5e C (New 0), 6e D (New 1).
    assert!(p.ops.contains(&RosterOp::LinkParent {
        parent: PersonRef::New(1),
        child: PersonRef::New(0),
    }));
    // Zoé without a birth date is the school's only Martin Zoé, moved to
    // the new 6e D; Sophie is already her mother: nothing to link.
    assert!(p.ops.contains(&RosterOp::SetClass {
        pupil: PersonRef::Existing(UserId(100)),
        class: ClassRef::New(1),
    }));
    assert_eq!(
        p.lines[1].outcome,
        update(&[
            "classe : 4e A → 6e D",
            "nouveau groupe : Chorale",
            "groupe retiré : Latin"
        ])
    );
    assert_eq!(creates(&p, Role::Pupil), 1);
    assert_eq!(creates(&p, Role::Parent), 1);
}

// ---- guardians on pupil rows ----

const SIBLINGS: &str = "Nom;Prénom;Date de naissance;Classe;R1 nom;R1 prénom;R1 courriel;R2 nom;R2 prénom;R2 courriel\n\
    Durand;Léa;14/03/2013;6e A;Durand;Sophie;sophie.durand@exemple.fr;Durand;Marc;\n\
    Durand;Hugo;02/11/2011;5e A;DURAND;Sophie;sophie.durand@exemple.fr;Durand;Marc;marc@exemple.fr\n\
    Petit;Noah;11/04/2013;6e A;Petit;Aurélie;;;;\n";

#[test]
fn siblings_share_their_guardians() {
    let p = plan_of(SIBLINGS, &RosterSnapshot::default());
    assert_eq!(
        outcomes(&p),
        [
            LineOutcome::Create,
            LineOutcome::Create,
            LineOutcome::Create
        ]
    );
    assert_eq!(creates(&p, Role::Parent), 3, "{:#?}", p.ops);
    assert_eq!(count(&p, |op| matches!(op, RosterOp::LinkParent { .. })), 5);
    let after = assert_idempotent(SIBLINGS, &RosterSnapshot::default());
    let sophie = find(&after, Role::Parent, "Durand", "Sophie");
    assert_eq!(sophie.len(), 1);
    assert_eq!(sophie[0].children.len(), 2);
    // Marc's email came from Hugo's row: merged into the one account.
    let marc = find(&after, Role::Parent, "Durand", "Marc");
    assert_eq!(marc[0].email.as_deref(), Some("marc@exemple.fr"));
}

#[test]
fn guardians_are_reported_on_existing_pupils() {
    let text =
        "Nom;Prénom;Date de naissance;Classe;R1 nom;R1 prénom;R1 courriel;R2 nom;R2 prénom\n\
        Martin;Zoé;01/02/2012;4e A;Martin;Sophie;sophie.martin@exemple.fr;Martin;Paul\n\
        Durand;Léo;06/05/2011;3e A;Martin;Sophie;;;\n";
    let p = plan_of(text, &school());
    assert_eq!(
        outcomes(&p),
        [
            update(&["responsable créé : Martin Paul"]),
            update(&["responsable rattaché : Martin Sophie"]),
        ]
    );
    assert_eq!(creates(&p, Role::Parent), 1);
    assert_idempotent(text, &school());
}

#[test]
fn a_guardian_with_another_email_is_another_person() {
    let text = "Nom;Prénom;Classe;R1 nom;R1 prénom;R1 courriel\n\
        Petit;Noé;3e A;Martin;Sophie;sophie.autre@exemple.fr\n";
    let p = plan_of(text, &school());
    assert_eq!(creates(&p, Role::Parent), 1);
    assert_idempotent(text, &school());
}

// ---- teachers ----

const TEACHERS: &str = "Nom;Prénom;Discipline;Classe;Classe;Professeur principal\n\
    Bernard;Hélène;Mathématiques;4e A;3e B;3e B\n\
    Leroy;Paul;Français;3e A;;\n\
    Leroy;Paul;Français;3e B;;\n";

#[test]
fn teachers_classes_replace_and_head_teachers_are_set() {
    let p = plan_of(TEACHERS, &school());
    assert_eq!(
        outcomes(&p),
        [
            update(&[
                "n'est plus professeur principal : 4e A",
                "nouvelle classe : 3e B",
                "professeur principal : 3e B",
            ]),
            LineOutcome::Create,
            update(&["nouvelle classe : 3e B"]),
        ]
    );
    assert!(p.ops.contains(&RosterOp::SetTeachings {
        teacher: PersonRef::Existing(UserId(300)),
        classes: vec![
            (ClassRef::Existing(ClassId(1)), false),
            (ClassRef::Existing(ClassId(2)), true)
        ],
    }));
    assert_idempotent(TEACHERS, &school());
}

#[test]
fn teacher_files_do_not_create_classes() {
    let text =
        "Nom;Prénom;Discipline;Classe\nLeroy;Paul;Français;3e Z\nRoux;Anaïs;Anglais;3e Y, 3e X\n";
    let p = plan_of(text, &school());
    assert_eq!(
        outcomes(&p),
        [
            rejected("classe inconnue « 3e Z » : importez d'abord les élèves"),
            rejected("classes inconnues « 3e Y », « 3e X » : importez d'abord les élèves"),
        ]
    );
    assert!(p.ops.is_empty());
}

#[test]
fn teacher_subject_changes_and_several_subjects() {
    let text =
        "Nom;Prénom;Discipline;Classe\nBernard;Hélène;Maths;4e A\nBernard;Hélène;Physique;4e A\n";
    let p = plan_of(text, &school());
    assert_eq!(
        outcomes(&p),
        [
            update(&["discipline : Mathématiques → Maths, Physique"]),
            LineOutcome::Duplicate { first_line: 2 },
        ]
    );
    assert_idempotent(text, &school());
}

// ---- teachers of groups ----

const TEACHERS_OF_GROUPS: &str =
    "Nom;Prénom;Discipline;Classe ou regroupement;Classe ou regroupement;Groupes\n\
    Bernard;Hélène;Mathématiques;4e A;LATIN;\n\
    Leroy;Paul;Espagnol;3e A;;Espagnol LV2 gr1|Espagnol LV2 gr2\n";

fn teacher_groups_op(p: &RosterPlan, teacher: PersonRef) -> Option<Vec<GroupRef>> {
    p.ops.iter().find_map(|op| match op {
        RosterOp::SetTeacherGroups { teacher: t, groups } if *t == teacher => Some(groups.clone()),
        _ => None,
    })
}

#[test]
fn a_class_column_naming_a_group_and_a_groups_column_make_group_teachings() {
    let p = plan_of(TEACHERS_OF_GROUPS, &school());
    assert_eq!(
        outcomes(&p),
        [
            update(&["nouveau groupe enseigné : Latin"]),
            LineOutcome::Create
        ]
    );
    // "LATIN" is the school's Latin group (folded), not an unknown class.
    assert_eq!(
        teacher_groups_op(&p, PersonRef::Existing(UserId(300))),
        Some(vec![GroupRef::Existing(GroupId(10))])
    );
    // Names in a groups column create the groups, once each.
    let created: Vec<String> = p
        .ops
        .iter()
        .filter_map(|op| match op {
            RosterOp::CreateGroup { name } => Some(name.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(created, ["Espagnol LV2 gr1", "Espagnol LV2 gr2"]);
    assert_eq!(
        teacher_groups_op(&p, PersonRef::New(0)),
        Some(vec![GroupRef::New(0), GroupRef::New(1)])
    );
    // Classes stay as they were: Hélène keeps 4e A as professeur principal.
    assert_eq!(
        count(&p, |op| matches!(
            op,
            RosterOp::SetTeachings {
                teacher: PersonRef::Existing(_),
                ..
            }
        )),
        0
    );
    let after = assert_idempotent(TEACHERS_OF_GROUPS, &school());
    let helene = &find(&after, Role::Teacher, "Bernard", "Hélène")[0];
    assert_eq!(helene.teaches_groups, [GroupId(10)].into());
    assert_eq!(helene.teaches, [(ClassId(1), true)].into());
    let paul = &find(&after, Role::Teacher, "Leroy", "Paul")[0];
    assert_eq!(paul.teaches_groups.len(), 2);
    assert_eq!(after.groups.len(), 3);
}

#[test]
fn a_group_created_by_an_earlier_line_can_be_named_in_a_class_column() {
    let text = "Nom;Prénom;Discipline;Classe;Groupes\n\
        Leroy;Paul;Espagnol;3e A;Esp 1\n\
        Roux;Anaïs;Espagnol;esp 1;\n";
    let p = plan_of(text, &school());
    assert_eq!(outcomes(&p), [LineOutcome::Create, LineOutcome::Create]);
    assert_eq!(
        count(&p, |op| matches!(op, RosterOp::CreateGroup { .. })),
        1
    );
    assert_eq!(
        teacher_groups_op(&p, PersonRef::New(1)),
        Some(vec![GroupRef::New(0)])
    );
    assert_idempotent(text, &school());
}

#[test]
fn group_teachings_are_replaced_and_left_alone_by_files_without_them() {
    let school = assert_idempotent(TEACHERS_OF_GROUPS, &school());
    // The same teacher without the group: it is taken away.
    let text = "Nom;Prénom;Discipline;Classe\nBernard;Hélène;Mathématiques;4e A\n";
    let p = plan_of(text, &school);
    assert_eq!(outcomes(&p), [update(&["groupe enseigné retiré : Latin"])]);
    assert_eq!(
        teacher_groups_op(&p, PersonRef::Existing(UserId(300))),
        Some(vec![])
    );
    assert_idempotent(text, &school);
    // A file that says nothing of classes or groups changes neither.
    let text = "Nom;Prénom;Discipline\nBernard;Hélène;Mathématiques\n";
    let p = plan_of(text, &school);
    assert_eq!(outcomes(&p), [LineOutcome::Unchanged]);
    assert!(p.ops.is_empty());
}

#[test]
fn a_head_teacher_yes_on_a_row_with_a_group_heads_only_the_class() {
    let text = "Nom;Prénom;Discipline;Classe;Classe;Professeur principal\n\
        Bernard;Hélène;Mathématiques;3e B;Latin;oui\n";
    let p = plan_of(text, &school());
    assert_eq!(
        outcomes(&p),
        [update(&[
            "nouvelle classe : 3e B",
            "professeur principal : 3e B",
            "classe retirée : 4e A",
            "nouveau groupe enseigné : Latin",
        ])]
    );
    assert!(p.ops.contains(&RosterOp::SetTeachings {
        teacher: PersonRef::Existing(UserId(300)),
        classes: vec![(ClassRef::Existing(ClassId(2)), true)],
    }));
    assert_idempotent(text, &school());
}

#[test]
fn a_name_that_is_neither_class_nor_group_is_still_refused() {
    let text = "Nom;Prénom;Discipline;Classe;Groupes\nLeroy;Paul;Français;Grec;Latin\n";
    let p = plan_of(text, &school());
    assert_eq!(
        outcomes(&p),
        [rejected(
            "classe inconnue « Grec » : importez d'abord les élèves"
        )]
    );
    assert!(p.ops.is_empty(), "a refused line creates no group either");
}

#[test]
fn never_match_across_roles() {
    // Sandrine Perrin is staff; as a teacher she is someone else.
    let text = "Nom;Prénom;Discipline;Classe\nPerrin;Sandrine;Anglais;3e A\n";
    let p = plan_of(text, &school());
    assert_eq!(outcomes(&p), [LineOutcome::Create]);
    assert_idempotent(text, &school());
}

// ---- parents ----

#[test]
fn parents_link_children_by_id_or_name_and_class() {
    let text = "Nom,Prénom,Courriel,Childexternalid,Nom enfant,Prénom enfant,Classe enfant\n\
        Durand,Marc,marc@exemple.fr,E101,,,\n\
        Martin,Sophie,,,Martin,Zoé,4e A\n\
        Martin,Sophie,,E101,,,\n";
    let p = plan_of(text, &school());
    assert_eq!(
        outcomes(&p),
        [
            LineOutcome::Create,
            LineOutcome::Unchanged,
            // The second line of the same parent adds a child: an update, not a duplicate.
            update(&["enfant rattaché : Durand Léo"]),
        ]
    );
    assert_idempotent(text, &school());
}

#[test]
fn unknown_children_and_classes_reject_parent_lines() {
    let text = "Nom,Prénom,Childexternalid,Nom enfant,Prénom enfant,Classe enfant\n\
        Durand,Marc,E999,,,\n\
        Petit,Anne,,Petit,Noé,3e A\n\
        Roux,Paul,,Roux,Léna,3e Z\n\
        Lenoir,Eva,,Martin,Zoé,\n";
    let p = plan_of(text, &school());
    assert_eq!(
        outcomes(&p),
        [
            rejected("enfant introuvable : aucun élève n'a l'identifiant « E999 »"),
            rejected("enfant introuvable : aucun élève Petit Noé en 3e A"),
            rejected("classe inconnue « 3e Z » : importez d'abord les élèves"),
            LineOutcome::Create,
        ]
    );
    assert_eq!(
        count(&p, |op| matches!(op, RosterOp::CreateClass { .. })),
        0
    );
}

#[test]
fn parent_namesakes_are_told_apart_by_email_then_children() {
    let mut s = school();
    let mut other = person(201, Role::Parent, "Martin", "Sophie");
    other.email = Some("autre@exemple.fr".into());
    other.children.insert(UserId(101));
    s.people.push(other);
    let text = "Nom;Prénom;Courriel;Childexternalid\n\
        Martin;Sophie;autre@exemple.fr;\n\
        Martin;Sophie;;E101\n\
        Martin;Sophie;;\n";
    let p = plan_of(text, &s);
    assert_eq!(p.lines[0].outcome, LineOutcome::Unchanged);
    assert_eq!(p.lines[1].outcome, LineOutcome::Duplicate { first_line: 2 });
    assert_eq!(
        p.lines[2].outcome,
        rejected("plusieurs responsables s'appellent Martin Sophie : ajoutez le courriel, l'identifiant ou un enfant pour les distinguer")
    );
}

// ---- staff ----

const STAFF: &str = "Nom;Prénom;Fonction;Courriel\n\
    Perrin;Sandrine;Conseillère principale d'éducation;s.perrin@exemple.fr\n\
    Gauthier;Isabelle;Principale;\n\
    Gauthier;Isabelle;Principale;\n";

#[test]
fn staff_functions_update_and_reimport_is_a_noop() {
    let p = plan_of(STAFF, &school());
    assert_eq!(
        outcomes(&p),
        [
            update(&[
                "courriel : s.perrin@exemple.fr (ajouté)",
                "fonction : CPE → Conseillère principale d'éducation",
            ]),
            LineOutcome::Create,
            LineOutcome::Duplicate { first_line: 3 },
        ]
    );
    assert_idempotent(STAFF, &school());
}

#[test]
fn kind_given_by_the_admin_is_used() {
    let parsed = read_roster(
        "Nom;Prénom\nPerrin;Sandrine\n".as_bytes(),
        Some(RosterKind::Staff),
    )
    .unwrap();
    let p = plan(&parsed, &school());
    assert_eq!(p.kind, RosterKind::Staff);
    assert_eq!(outcomes(&p), [LineOutcome::Unchanged]);
}

#[test]
fn rejected_lines_change_nothing() {
    let text = "Nom;Prénom;Date de naissance;Classe;R1 nom;R1 prénom\n\
        Petit;Noé;31/02/2012;9e Z;Petit;Anne\n";
    let p = plan_of(text, &school());
    assert!(matches!(p.lines[0].outcome, LineOutcome::Rejected(_)));
    assert!(p.ops.is_empty());
}
