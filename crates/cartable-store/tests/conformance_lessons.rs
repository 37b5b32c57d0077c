//! Storage conformance for the cahier de textes (lessons, homework due, done
//! marks): the same checks on SQLite (always) and on PostgreSQL (when
//! CARTABLE_TEST_PG_URL is set; loudly skipped otherwise, failed under CI).
//! Each check gets a fresh database.
//!
//! What must hold (issue 3, `LessonRepo` in `src/lib.rs`):
//! - only the author updates or deletes a lesson; a refused update or delete
//!   changes nothing; a delete returns the attachment blob keys (for the
//!   caller to remove the files) and takes the pupils' done marks with it;
//! - `target_lessons` is an inclusive date range, ordered by date then subject,
//!   with unpublished entries only on request;
//! - `homework_due` lists published homework of the given classes only, due
//!   within an inclusive range, ordered by due date then subject, with one
//!   pupil's done marks;
//! - only a pupil enrolled in the lesson's class can mark it done (no row for
//!   anyone else), marking is idempotent and can be undone;
//! - a school never sees, changes or marks another school's lessons, and a
//!   lesson cannot be written into another school's class.

use cartable_domain::names::{BirthDate, ClassName, PersonName};
use cartable_domain::roster::{ClassRef, PersonRecord, PersonRef, RosterOp};
use cartable_domain::{ClassId, Role, SchoolId, Target, UserId};
use cartable_store::sql::SqlStore;
use cartable_store::*;

fn classes_only(classes: &[ClassId]) -> Cohorts {
    Cohorts {
        classes: classes.to_vec(),
        groups: Vec::new(),
    }
}

mod common;

conformance!(
    "the lessons conformance suite";
    create_read_and_update_by_the_author_only,
    delete_by_the_author_only_returns_blob_keys_and_removes_done_marks,
    class_lessons_inclusive_range_order_and_unpublished,
    homework_due_published_in_range_given_classes_ordered_with_done_marks,
    set_homework_done_only_for_pupils_enrolled_in_the_class,
    lessons_of_one_school_are_invisible_from_another,
    create_lesson_for_another_schools_class_fails_and_writes_nothing,
);

/// 1 September 2026, 00:00 UTC (02:00 in Paris): the rentrée.
const NOW: i64 = 1_788_220_800;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

// ---------------------------------------------------------------- fixtures

fn person(last: &str, first: &str) -> PersonRecord {
    PersonRecord {
        external_id: None,
        last_name: PersonName::parse(last).unwrap(),
        first_name: PersonName::parse(first).unwrap(),
        birth_date: Some(BirthDate::parse("03/09/2013").unwrap()),
        email: None,
    }
}

fn create(role: Role, last: &str, first: &str) -> RosterOp {
    RosterOp::CreatePerson {
        role,
        person: person(last, first),
        subject: (role == Role::Teacher).then(|| "Mathématiques".to_string()),
    }
}

/// Two schools. School A: 6e A (Zoé, Hugo; Sophie is Zoé's parent) and 6e B
/// (Léo); Paul teaches 6e A; Marie teaches 6e A and 6e B. School B: 5e C
/// (Inès), taught by Jules.
#[derive(Debug, Clone, Copy)]
struct World {
    a: SchoolId,
    b: SchoolId,
    class_a: ClassId,
    class_b: ClassId,
    class_c: ClassId,
    paul: UserId,
    marie: UserId,
    zoe: UserId,
    hugo: UserId,
    leo: UserId,
    sophie: UserId,
    jules: UserId,
    ines: UserId,
}

async fn world(store: &SqlStore) -> World {
    let a = store
        .create_school("Collège Jean Moulin", "0750001A", 1)
        .await
        .unwrap();
    let b = store
        .create_school("Lycée Victor Hugo", "0750002B", 1)
        .await
        .unwrap();
    let ops_a = vec![
        RosterOp::CreateClass {
            name: ClassName::parse("6e A").unwrap(),
        },
        RosterOp::CreateClass {
            name: ClassName::parse("6e B").unwrap(),
        },
        create(Role::Teacher, "Durand", "Paul"),  // 0
        create(Role::Teacher, "Moreau", "Marie"), // 1
        create(Role::Pupil, "Martin", "Zoé"),     // 2
        create(Role::Pupil, "Petit", "Hugo"),     // 3
        create(Role::Pupil, "Martin", "Léo"),     // 4
        create(Role::Parent, "Martin", "Sophie"), // 5
        RosterOp::SetClass {
            pupil: PersonRef::New(2),
            class: ClassRef::New(0),
        },
        RosterOp::SetClass {
            pupil: PersonRef::New(3),
            class: ClassRef::New(0),
        },
        RosterOp::SetClass {
            pupil: PersonRef::New(4),
            class: ClassRef::New(1),
        },
        RosterOp::LinkParent {
            parent: PersonRef::New(5),
            child: PersonRef::New(2),
        },
        RosterOp::SetTeachings {
            teacher: PersonRef::New(0),
            classes: vec![(ClassRef::New(0), true)],
        },
        RosterOp::SetTeachings {
            teacher: PersonRef::New(1),
            classes: vec![(ClassRef::New(0), false), (ClassRef::New(1), false)],
        },
    ];
    let ops_b = vec![
        RosterOp::CreateClass {
            name: ClassName::parse("5e C").unwrap(),
        },
        create(Role::Teacher, "Yankee", "Jules"), // 0
        create(Role::Pupil, "Xray", "Inès"),      // 1
        RosterOp::SetClass {
            pupil: PersonRef::New(1),
            class: ClassRef::New(0),
        },
        RosterOp::SetTeachings {
            teacher: PersonRef::New(0),
            classes: vec![(ClassRef::New(0), false)],
        },
    ];
    let applied_a = store.apply_roster(a, &ops_a, 5).await.unwrap();
    let applied_b = store.apply_roster(b, &ops_b, 5).await.unwrap();
    let ida = |i: usize| applied_a.created[i].0;
    let idb = |i: usize| applied_b.created[i].0;
    let classes_a = store.classes(a).await.unwrap();
    let classes_b = store.classes(b).await.unwrap();
    let class =
        |list: &[ClassSummary], name: &str| list.iter().find(|c| c.name == name).unwrap().id;
    World {
        a,
        b,
        class_a: class(&classes_a, "6e A"),
        class_b: class(&classes_a, "6e B"),
        class_c: class(&classes_b, "5e C"),
        paul: ida(0),
        marie: ida(1),
        zoe: ida(2),
        hugo: ida(3),
        leo: ida(4),
        sophie: ida(5),
        jules: idb(0),
        ines: idb(1),
    }
}

fn file(name: &str) -> NewAttachment {
    NewAttachment {
        blob_key: format!("blobs/{name}"),
        file_name: name.into(),
        content_type: "application/pdf".into(),
        size: 1234,
        sha256: format!("sha-{name}"),
    }
}

/// Fields of a lesson held on `date`, published at `publish_at`, with
/// homework due on `due` when given.
fn fields(subject: &str, date: &str, due: Option<&str>, publish_at: i64) -> LessonFields {
    let content = format!("Séance de {subject} du {date}.");
    let homework = match due {
        Some(d) => format!("Exercices de {subject} pour le {d}."),
        None => String::new(),
    };
    LessonFields {
        subject: subject.into(),
        lesson_date: date.into(),
        content_html: format!("<p>{content}</p>"),
        content_md: content,
        homework_html: if homework.is_empty() {
            String::new()
        } else {
            format!("<p>{homework}</p>")
        },
        homework_md: homework,
        due_date: due.map(str::to_string),
        workload_minutes: due.map(|_| 30),
        is_test: false,
        publish_at,
    }
}

async fn add(
    store: &SqlStore,
    school: SchoolId,
    class: ClassId,
    author: UserId,
    f: LessonFields,
    files: &[&str],
) -> i64 {
    store
        .create_lesson(&NewLesson {
            school_id: school,
            target: Target::Class(class),
            author_id: author,
            fields: f,
            attachments: files.iter().map(|n| file(n)).collect(),
            now: NOW,
        })
        .await
        .unwrap()
}

async fn get(store: &SqlStore, school: SchoolId, id: i64) -> Option<LessonRow> {
    store.lesson(school, id).await.unwrap()
}

fn ids(rows: &[LessonRow]) -> Vec<i64> {
    rows.iter().map(|l| l.id).collect()
}

fn due_ids(rows: &[DueHomework]) -> Vec<i64> {
    rows.iter().map(|d| d.lesson.id).collect()
}

/// The given pupil's done mark on `lesson`, as `homework_due` reports it
/// (over a wide range of dates, at a time everything is published).
async fn done_mark(
    store: &SqlStore,
    school: SchoolId,
    class: ClassId,
    lesson: i64,
    pupil: UserId,
) -> Option<bool> {
    store
        .homework_due(
            school,
            &classes_only(&[class]),
            "2000-01-01",
            "2100-12-31",
            NOW + 365 * DAY,
            Some(pupil),
        )
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.lesson.id == lesson)
        .map(|d| d.done)
}

// ---------------------------------------------------------------- checks

async fn create_read_and_update_by_the_author_only(store: &SqlStore) {
    let w = world(store).await;
    let mut f1 = fields("Histoire-géographie", "2026-09-01", Some("2026-09-03"), NOW);
    f1.workload_minutes = Some(45);
    f1.is_test = true;
    let id = add(
        store,
        w.a,
        w.class_a,
        w.paul,
        f1.clone(),
        &["carte.pdf", "exercices.pdf"],
    )
    .await;

    let l = get(store, w.a, id).await.expect("the lesson reads back");
    assert_eq!(l.id, id);
    assert_eq!(l.target, Target::Class(w.class_a));
    assert_eq!(l.target_name, "6e A");
    assert_eq!(l.author_id, w.paul);
    assert_eq!(l.author_name, "Paul Durand");
    assert_eq!(l.fields, f1, "every field round-trips");
    let mut names: Vec<&str> = l.attachments.iter().map(|a| a.file_name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["carte.pdf", "exercices.pdf"]);
    for a in &l.attachments {
        assert_eq!(a.owner_kind, "lesson");
        assert_eq!(a.owner_id, id);
        assert_eq!(a.blob_key, format!("blobs/{}", a.file_name));
        assert_eq!(a.content_type, "application/pdf");
        assert_eq!(a.size, 1234);
        assert_eq!(a.sha256, format!("sha-{}", a.file_name));
        assert_eq!(
            store.attachment(w.a, a.id).await.unwrap().as_ref(),
            Some(a),
            "the attachment row is the school's"
        );
    }

    // A lesson with no homework: the optional fields stay empty.
    let f_plain = fields("Français", "2026-09-02", None, NOW + HOUR);
    let plain = add(store, w.a, w.class_a, w.paul, f_plain.clone(), &[]).await;
    let p = get(store, w.a, plain).await.unwrap();
    assert_eq!(p.fields, f_plain);
    assert_eq!(p.fields.due_date, None);
    assert_eq!(p.fields.workload_minutes, None);
    assert!(p.attachments.is_empty());
    assert_ne!(plain, id);

    // Another teacher of the same class cannot change it.
    let mut f2 = fields("Histoire", "2026-09-02", None, NOW + 2 * DAY);
    f2.content_md = "Texte modifié".into();
    f2.content_html = "<p>Texte modifié</p>".into();
    assert!(
        !store
            .update_lesson(w.a, id, w.marie, &f2, NOW + 10)
            .await
            .unwrap(),
        "another teacher's update returns false"
    );
    assert_eq!(get(store, w.a, id).await.unwrap(), l, "and changes nothing");
    // The author, but through another school: nothing.
    assert!(!store
        .update_lesson(w.b, id, w.paul, &f2, NOW + 10)
        .await
        .unwrap());
    assert_eq!(get(store, w.a, id).await.unwrap(), l);
    // A lesson that does not exist.
    assert!(!store
        .update_lesson(w.a, id + 1000, w.paul, &f2, NOW + 10)
        .await
        .unwrap());

    // The author replaces every field; the files stay.
    assert!(store
        .update_lesson(w.a, id, w.paul, &f2, NOW + 10)
        .await
        .unwrap());
    let after = get(store, w.a, id).await.unwrap();
    assert_eq!(after.fields, f2, "every field replaced");
    assert_eq!(after.attachments, l.attachments, "attachments untouched");
    assert_eq!(after.author_id, w.paul);
    assert_eq!(after.target, Target::Class(w.class_a));
    // The other lesson is untouched.
    assert_eq!(get(store, w.a, plain).await.unwrap(), p);
}

async fn delete_by_the_author_only_returns_blob_keys_and_removes_done_marks(store: &SqlStore) {
    let w = world(store).await;
    let due = Some("2026-09-03");
    let keep = add(
        store,
        w.a,
        w.class_a,
        w.paul,
        fields("Anglais", "2026-09-01", due, NOW),
        &["keep.pdf"],
    )
    .await;
    // Created last: on SQLite the next lesson reuses its id once deleted,
    // which shows whether its done marks outlived it.
    let victim = add(
        store,
        w.a,
        w.class_a,
        w.paul,
        fields("Mathématiques", "2026-09-01", due, NOW),
        &["a.pdf", "b.pdf"],
    )
    .await;
    let victim_files: Vec<i64> = get(store, w.a, victim)
        .await
        .unwrap()
        .attachments
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(victim_files.len(), 2);
    for lesson in [keep, victim] {
        store
            .set_homework_done(w.a, lesson, w.zoe, true, NOW)
            .await
            .unwrap();
    }
    assert_eq!(
        done_mark(store, w.a, w.class_a, victim, w.zoe).await,
        Some(true)
    );

    // Refused: another teacher of the class, the author through another school.
    assert_eq!(
        store.delete_lesson(w.a, victim, w.marie).await.unwrap(),
        None,
        "another teacher cannot delete"
    );
    assert_eq!(
        store.delete_lesson(w.b, victim, w.paul).await.unwrap(),
        None,
        "not through another school"
    );
    assert_eq!(
        store.delete_lesson(w.a, victim, w.zoe).await.unwrap(),
        None,
        "nor a pupil"
    );
    let still = get(store, w.a, victim).await.expect("still there");
    assert_eq!(still.attachments.len(), 2);
    assert_eq!(
        done_mark(store, w.a, w.class_a, victim, w.zoe).await,
        Some(true),
        "refused deletes keep the marks"
    );

    // The author deletes: the blob keys come back.
    let mut keys = store
        .delete_lesson(w.a, victim, w.paul)
        .await
        .unwrap()
        .expect("the author deletes");
    keys.sort();
    assert_eq!(keys, ["blobs/a.pdf", "blobs/b.pdf"]);
    assert_eq!(get(store, w.a, victim).await, None);
    for a in victim_files {
        assert_eq!(
            store.attachment(w.a, a).await.unwrap(),
            None,
            "attachment rows go with the lesson"
        );
    }
    assert_eq!(done_mark(store, w.a, w.class_a, victim, w.zoe).await, None);
    assert_eq!(
        store.delete_lesson(w.a, victim, w.paul).await.unwrap(),
        None,
        "a second delete finds nothing"
    );

    // The other lesson keeps its file and its mark.
    let k = get(store, w.a, keep).await.unwrap();
    assert_eq!(k.attachments.len(), 1);
    assert_eq!(
        done_mark(store, w.a, w.class_a, keep, w.zoe).await,
        Some(true)
    );

    // A new lesson (on SQLite, with the deleted one's id): not marked done.
    let next = add(
        store,
        w.a,
        w.class_a,
        w.paul,
        fields("Mathématiques", "2026-09-02", due, NOW),
        &[],
    )
    .await;
    if next == victim {
        eprintln!("lesson id {victim} was reused: checking that its done marks are gone");
    }
    assert_eq!(
        done_mark(store, w.a, w.class_a, next, w.zoe).await,
        Some(false),
        "no done mark survives its lesson (new lesson #{next}, deleted #{victim})"
    );

    // A lesson without files deletes to an empty list.
    let bare = add(
        store,
        w.a,
        w.class_a,
        w.paul,
        fields("SVT", "2026-09-02", None, NOW),
        &[],
    )
    .await;
    assert_eq!(
        store.delete_lesson(w.a, bare, w.paul).await.unwrap(),
        Some(Vec::new())
    );
}

async fn class_lessons_inclusive_range_order_and_unpublished(store: &SqlStore) {
    let w = world(store).await;
    let lesson =
        |subject: &str, date: &str, publish_at: i64| fields(subject, date, None, publish_at);
    let before = add(
        store,
        w.a,
        w.class_a,
        w.paul,
        lesson("Anglais", "2026-08-30", NOW),
        &[],
    )
    .await;
    let monday = add(
        store,
        w.a,
        w.class_a,
        w.paul,
        lesson("Mathématiques", "2026-08-31", NOW),
        &[],
    )
    .await;
    let wed_fr = add(
        store,
        w.a,
        w.class_a,
        w.paul,
        lesson("Français", "2026-09-02", NOW),
        &["texte.pdf"],
    )
    .await;
    let wed_en = add(
        store,
        w.a,
        w.class_a,
        w.marie,
        lesson("Anglais", "2026-09-02", NOW),
        &[],
    )
    .await;
    let scheduled = add(
        store,
        w.a,
        w.class_a,
        w.paul,
        lesson("Physique-chimie", "2026-09-03", NOW + DAY),
        &[],
    )
    .await;
    let published_now = add(
        store,
        w.a,
        w.class_a,
        w.paul,
        lesson("SVT", "2026-09-04", NOW),
        &[],
    )
    .await;
    let sunday = add(
        store,
        w.a,
        w.class_a,
        w.paul,
        lesson("Musique", "2026-09-06", NOW - DAY),
        &[],
    )
    .await;
    let next_monday = add(
        store,
        w.a,
        w.class_a,
        w.paul,
        lesson("Mathématiques", "2026-09-07", NOW),
        &[],
    )
    .await;
    let other_class = add(
        store,
        w.a,
        w.class_b,
        w.marie,
        lesson("Anglais", "2026-09-02", NOW),
        &[],
    )
    .await;

    let week = |now: i64, all: bool| async move {
        store
            .target_lessons(
                w.a,
                Target::Class(w.class_a),
                "2026-08-31",
                "2026-09-06",
                now,
                all,
            )
            .await
            .unwrap()
    };
    let published = week(NOW, false).await;
    assert_eq!(
        ids(&published),
        [monday, wed_en, wed_fr, published_now, sunday],
        "both ends included, by date then subject, scheduled left out, publish_at = now included"
    );
    for excluded in [before, next_monday, other_class, scheduled] {
        assert!(!ids(&published).contains(&excluded));
    }
    let fr = published.iter().find(|l| l.id == wed_fr).unwrap();
    assert_eq!(fr.attachments.len(), 1, "files come with the list");
    assert_eq!(fr.attachments[0].file_name, "texte.pdf");
    assert_eq!(fr.target_name, "6e A");
    let en = published.iter().find(|l| l.id == wed_en).unwrap();
    assert_eq!(en.author_name, "Marie Moreau");

    assert_eq!(
        ids(&week(NOW, true).await),
        [monday, wed_en, wed_fr, scheduled, published_now, sunday],
        "include_unpublished adds the scheduled entry"
    );
    assert_eq!(
        ids(&week(NOW + DAY, false).await),
        [monday, wed_en, wed_fr, scheduled, published_now, sunday],
        "published once its time has come"
    );
    assert_eq!(
        ids(&week(NOW + DAY - 1, false).await),
        [monday, wed_en, wed_fr, published_now, sunday],
        "not one second before"
    );

    let one_day = store
        .target_lessons(
            w.a,
            Target::Class(w.class_a),
            "2026-09-02",
            "2026-09-02",
            NOW,
            false,
        )
        .await
        .unwrap();
    assert_eq!(ids(&one_day), [wed_en, wed_fr], "a one-day range");
    let empty = store
        .target_lessons(
            w.a,
            Target::Class(w.class_a),
            "2026-09-03",
            "2026-09-02",
            NOW,
            true,
        )
        .await
        .unwrap();
    assert!(empty.is_empty(), "an inverted range is empty");
    let b_week = store
        .target_lessons(
            w.a,
            Target::Class(w.class_b),
            "2026-08-31",
            "2026-09-06",
            NOW,
            true,
        )
        .await
        .unwrap();
    assert_eq!(ids(&b_week), [other_class], "only the class asked for");
}

async fn homework_due_published_in_range_given_classes_ordered_with_done_marks(store: &SqlStore) {
    let w = world(store).await;
    let hw = |subject: &str, due: &str, publish_at: i64| {
        fields(subject, "2026-09-01", Some(due), publish_at)
    };
    let maths = add(
        store,
        w.a,
        w.class_a,
        w.paul,
        hw("Mathématiques", "2026-09-03", NOW),
        &["fiche.pdf"],
    )
    .await;
    let svt = add(
        store,
        w.a,
        w.class_a,
        w.marie,
        hw("SVT", "2026-09-02", NOW),
        &[],
    )
    .await;
    let anglais = add(
        store,
        w.a,
        w.class_a,
        w.paul,
        hw("Anglais", "2026-09-02", NOW),
        &[],
    )
    .await;
    let after_range = add(
        store,
        w.a,
        w.class_a,
        w.paul,
        hw("Français", "2026-09-05", NOW),
        &[],
    )
    .await;
    let before_range = add(
        store,
        w.a,
        w.class_a,
        w.paul,
        hw("Musique", "2026-09-01", NOW),
        &[],
    )
    .await;
    let scheduled = add(
        store,
        w.a,
        w.class_a,
        w.paul,
        hw("Physique-chimie", "2026-09-03", NOW + HOUR),
        &[],
    )
    .await;
    let no_homework = add(
        store,
        w.a,
        w.class_a,
        w.paul,
        fields("Technologie", "2026-09-02", None, NOW),
        &[],
    )
    .await;
    let class_b = add(
        store,
        w.a,
        w.class_b,
        w.marie,
        hw("Histoire", "2026-09-03", NOW),
        &[],
    )
    .await;
    let school_b = add(
        store,
        w.b,
        w.class_c,
        w.jules,
        hw("Allemand", "2026-09-03", NOW),
        &[],
    )
    .await;

    let due = |classes: Vec<ClassId>, now: i64, pupil: Option<UserId>| async move {
        store
            .homework_due(
                w.a,
                &classes_only(&classes),
                "2026-09-02",
                "2026-09-04",
                now,
                pupil,
            )
            .await
            .unwrap()
    };

    let a_only = due(vec![w.class_a], NOW, None).await;
    assert_eq!(
        due_ids(&a_only),
        [anglais, svt, maths],
        "published, due within the range (ends included), by due date then subject"
    );
    for excluded in [
        after_range,
        before_range,
        scheduled,
        no_homework,
        class_b,
        school_b,
    ] {
        assert!(!due_ids(&a_only).contains(&excluded), "#{excluded} listed");
    }
    assert!(a_only.iter().all(|d| !d.done), "no pupil: nothing done");
    let m = a_only.iter().find(|d| d.lesson.id == maths).unwrap();
    assert_eq!(m.lesson.attachments.len(), 1, "files come with the list");
    assert_eq!(m.lesson.fields.due_date.as_deref(), Some("2026-09-03"));

    assert_eq!(
        due_ids(&due(vec![w.class_a, w.class_b], NOW, None).await),
        [anglais, svt, class_b, maths],
        "two classes: merged in due-date then subject order (Histoire < Mathématiques)"
    );
    assert_eq!(due_ids(&due(vec![w.class_b], NOW, None).await), [class_b]);
    assert!(
        due(Vec::new(), NOW, None).await.is_empty(),
        "no class, no homework"
    );
    assert_eq!(
        due_ids(&due(vec![w.class_a, w.class_c], NOW, None).await),
        [anglais, svt, maths],
        "another school's class id adds nothing"
    );
    assert_eq!(
        due_ids(&due(vec![w.class_a], NOW + HOUR, None).await),
        [anglais, svt, maths, scheduled],
        "the scheduled homework once published (Mathématiques < Physique-chimie)"
    );

    // Done marks: one pupil's, not another's.
    store
        .set_homework_done(w.a, svt, w.zoe, true, NOW)
        .await
        .unwrap();
    store
        .set_homework_done(w.a, maths, w.hugo, true, NOW)
        .await
        .unwrap();
    let flags = |rows: Vec<DueHomework>| -> Vec<(i64, bool)> {
        rows.into_iter().map(|d| (d.lesson.id, d.done)).collect()
    };
    assert_eq!(
        flags(due(vec![w.class_a], NOW, Some(w.zoe)).await),
        [(anglais, false), (svt, true), (maths, false)]
    );
    assert_eq!(
        flags(due(vec![w.class_a], NOW, Some(w.hugo)).await),
        [(anglais, false), (svt, false), (maths, true)]
    );
    assert_eq!(
        flags(due(vec![w.class_a], NOW, None).await),
        [(anglais, false), (svt, false), (maths, false)],
        "without a pupil, nobody's marks"
    );
}

async fn set_homework_done_only_for_pupils_enrolled_in_the_class(store: &SqlStore) {
    let w = world(store).await;
    let hw = fields("Mathématiques", "2026-09-01", Some("2026-09-03"), NOW);
    let lesson = add(store, w.a, w.class_a, w.paul, hw.clone(), &[]).await;
    let lesson_b = add(store, w.a, w.class_b, w.marie, hw.clone(), &[]).await;
    let lesson_c = add(store, w.b, w.class_c, w.jules, hw, &[]).await;

    // Zoé (6e A): marks, idempotently, and unmarks.
    for _ in 0..2 {
        store
            .set_homework_done(w.a, lesson, w.zoe, true, NOW)
            .await
            .expect("marking twice is fine");
        assert_eq!(
            done_mark(store, w.a, w.class_a, lesson, w.zoe).await,
            Some(true)
        );
    }
    store
        .set_homework_done(w.a, lesson, w.zoe, false, NOW + 1)
        .await
        .unwrap();
    assert_eq!(
        done_mark(store, w.a, w.class_a, lesson, w.zoe).await,
        Some(false),
        "undone"
    );
    store
        .set_homework_done(w.a, lesson, w.zoe, false, NOW + 2)
        .await
        .expect("undoing twice is fine");
    assert_eq!(
        done_mark(store, w.a, w.class_a, lesson, w.zoe).await,
        Some(false)
    );
    store
        .set_homework_done(w.a, lesson, w.zoe, true, NOW + 3)
        .await
        .unwrap();
    assert_eq!(
        done_mark(store, w.a, w.class_a, lesson, w.zoe).await,
        Some(true),
        "marked again"
    );

    // Nobody else gets a row: not a pupil of another class, not another
    // school's pupil (through either school), not a teacher, not a parent.
    let outsiders = [
        ("Léo (6e B)", w.a, w.leo),
        ("Inès (school B) through school A", w.a, w.ines),
        ("Inès (school B) through school B", w.b, w.ines),
        ("Paul (teacher of 6e A)", w.a, w.paul),
        ("Sophie (Zoé's parent)", w.a, w.sophie),
    ];
    for (who, school, id) in outsiders {
        let r = store.set_homework_done(school, lesson, id, true, NOW).await;
        eprintln!("set_homework_done by {who}: {r:?}");
        assert_eq!(
            done_mark(store, w.a, w.class_a, lesson, id).await,
            Some(false),
            "{who} has no done mark on a 6e A lesson"
        );
    }
    // Zoé cannot mark another class's or another school's lesson.
    let _ = store
        .set_homework_done(w.a, lesson_b, w.zoe, true, NOW)
        .await;
    assert_eq!(
        done_mark(store, w.a, w.class_b, lesson_b, w.zoe).await,
        Some(false),
        "Zoé is not in 6e B"
    );
    let _ = store
        .set_homework_done(w.a, lesson_c, w.zoe, true, NOW)
        .await;
    let _ = store
        .set_homework_done(w.b, lesson_c, w.zoe, true, NOW)
        .await;
    assert_eq!(
        done_mark(store, w.b, w.class_c, lesson_c, w.zoe).await,
        Some(false),
        "Zoé is not in school B"
    );
    // Léo can mark his own class's lesson.
    store
        .set_homework_done(w.a, lesson_b, w.leo, true, NOW)
        .await
        .unwrap();
    assert_eq!(
        done_mark(store, w.a, w.class_b, lesson_b, w.leo).await,
        Some(true)
    );
    // Inès marks her lesson only through her own school.
    let _ = store
        .set_homework_done(w.a, lesson_c, w.ines, true, NOW)
        .await;
    assert_eq!(
        done_mark(store, w.b, w.class_c, lesson_c, w.ines).await,
        Some(false),
        "not through school A"
    );
    store
        .set_homework_done(w.b, lesson_c, w.ines, true, NOW)
        .await
        .unwrap();
    assert_eq!(
        done_mark(store, w.b, w.class_c, lesson_c, w.ines).await,
        Some(true)
    );

    // Another pupil's undo, or an undo through another school, leaves Zoé's mark.
    store
        .set_homework_done(w.a, lesson, w.hugo, false, NOW)
        .await
        .unwrap();
    let _ = store
        .set_homework_done(w.b, lesson, w.zoe, false, NOW)
        .await;
    assert_eq!(
        done_mark(store, w.a, w.class_a, lesson, w.zoe).await,
        Some(true),
        "only Zoé, through her school, undoes her mark"
    );
    // A lesson that does not exist: nothing happens.
    let _ = store
        .set_homework_done(w.a, lesson_c + 1000, w.zoe, true, NOW)
        .await;
}

async fn lessons_of_one_school_are_invisible_from_another(store: &SqlStore) {
    let w = world(store).await;
    let hw = fields("Mathématiques", "2026-09-01", Some("2026-09-03"), NOW);
    let lesson = add(store, w.a, w.class_a, w.paul, hw.clone(), &["a.pdf"]).await;
    let theirs = add(store, w.b, w.class_c, w.jules, hw.clone(), &["c.pdf"]).await;
    let file_a = get(store, w.a, lesson).await.unwrap().attachments[0].id;
    let file_c = get(store, w.b, theirs).await.unwrap().attachments[0].id;
    let wide = ("2000-01-01", "2100-12-31");

    for (here, there, class_there, id, file) in [
        (w.b, w.a, w.class_a, lesson, file_a),
        (w.a, w.b, w.class_c, theirs, file_c),
    ] {
        assert_eq!(get(store, here, id).await, None, "lesson() across schools");
        assert!(store
            .target_lessons(here, Target::Class(class_there), wide.0, wide.1, NOW, true)
            .await
            .unwrap()
            .is_empty());
        assert!(store
            .homework_due(
                here,
                &classes_only(&[class_there]),
                wide.0,
                wide.1,
                NOW,
                None
            )
            .await
            .unwrap()
            .is_empty());
        assert_eq!(store.attachment(here, file).await.unwrap(), None);
        // Its own school still sees it.
        assert!(get(store, there, id).await.is_some());
        assert_eq!(
            ids(&store
                .target_lessons(
                    there,
                    Target::Class(class_there),
                    wide.0,
                    wide.1,
                    NOW,
                    false
                )
                .await
                .unwrap()),
            [id]
        );
    }

    // Nor can it be changed or deleted through another school, even by its author.
    let mut changed = hw.clone();
    changed.content_md = "Piraté".into();
    changed.content_html = "<p>Piraté</p>".into();
    assert!(!store
        .update_lesson(w.b, lesson, w.paul, &changed, NOW)
        .await
        .unwrap());
    assert_eq!(
        store.delete_lesson(w.b, lesson, w.paul).await.unwrap(),
        None
    );
    let _ = store.set_homework_done(w.b, lesson, w.zoe, true, NOW).await;
    let l = get(store, w.a, lesson).await.expect("still there");
    assert_eq!(l.fields, hw);
    assert_eq!(l.attachments.len(), 1);
    assert_eq!(
        done_mark(store, w.a, w.class_a, lesson, w.zoe).await,
        Some(false),
        "no mark through another school"
    );
}

async fn create_lesson_for_another_schools_class_fails_and_writes_nothing(store: &SqlStore) {
    let w = world(store).await;
    let hw = fields("Mathématiques", "2026-09-01", Some("2026-09-03"), NOW);
    let attempts = [
        ("school A, class of school B", w.a, w.class_c, w.paul),
        ("school B, class of school A", w.b, w.class_a, w.jules),
        (
            "school A, no such class",
            w.a,
            ClassId(w.class_c.0 + 1000),
            w.paul,
        ),
    ];
    for (what, school, class, author) in attempts {
        let r = store
            .create_lesson(&NewLesson {
                school_id: school,
                target: Target::Class(class),
                author_id: author,
                fields: hw.clone(),
                attachments: vec![file("fuite.pdf")],
                now: NOW,
            })
            .await;
        assert!(
            matches!(r, Err(StoreError::NotFound(_))),
            "{what}: expected NotFound, got {r:?}"
        );
    }
    let wide = ("2000-01-01", "2100-12-31");
    for (school, class) in [
        (w.a, w.class_a),
        (w.a, w.class_b),
        (w.a, w.class_c),
        (w.b, w.class_c),
        (w.b, w.class_a),
    ] {
        assert!(
            store
                .target_lessons(school, Target::Class(class), wide.0, wide.1, NOW, true)
                .await
                .unwrap()
                .is_empty(),
            "no lesson written ({school:?}, {class:?})"
        );
        assert!(store
            .homework_due(school, &classes_only(&[class]), wide.0, wide.1, NOW, None)
            .await
            .unwrap()
            .is_empty());
    }
    // A fresh database: ids start at 1, so the first few would be any row written.
    for id in 1..=20 {
        for school in [w.a, w.b] {
            assert_eq!(get(store, school, id).await, None, "lesson #{id}");
            assert_eq!(
                store.attachment(school, id).await.unwrap(),
                None,
                "attachment #{id}"
            );
        }
    }
    // The same lesson in its own school's class works.
    let ok = add(store, w.a, w.class_a, w.paul, hw, &["cours.pdf"]).await;
    assert_eq!(get(store, w.a, ok).await.unwrap().attachments.len(), 1);
}
