//! Storage conformance for documents and calendar feeds, on both backends.

mod common;

use cartable_domain::names::{ClassName, PersonName};
use cartable_domain::roster::{ClassRef, PersonRecord, PersonRef, RosterOp};
use cartable_domain::{Role, SchoolId, UserId};
use cartable_store::sql::SqlStore;
use cartable_store::*;

conformance!(
    "the documents conformance suite";
    folders_live_in_one_space_and_one_school,
    personal_usage_sums_files,
    calendar_tokens_replace_and_vanish,
);

fn person(first: &str) -> PersonRecord {
    PersonRecord {
        external_id: None,
        last_name: PersonName::parse("Martin").unwrap(),
        first_name: PersonName::parse(first).unwrap(),
        birth_date: None,
        email: None,
    }
}

/// A school with one class, a teacher and a pupil: (school, class, teacher, pupil).
async fn school(
    store: &SqlStore,
    uai: &str,
) -> (SchoolId, cartable_domain::ClassId, UserId, UserId) {
    let s = store.create_school("Collège", uai, 1).await.unwrap();
    let ops = vec![
        RosterOp::CreateClass {
            name: ClassName::parse("6e A").unwrap(),
        },
        RosterOp::CreatePerson {
            role: Role::Teacher,
            person: person("Paul"),
            subject: None,
        },
        RosterOp::CreatePerson {
            role: Role::Pupil,
            person: person("Zoé"),
            subject: None,
        },
        RosterOp::SetClass {
            pupil: PersonRef::New(1),
            class: ClassRef::New(0),
        },
    ];
    let applied = store.apply_roster(s, &ops, 1).await.unwrap();
    let class = store.classes(s).await.unwrap()[0].id;
    (s, class, applied.created[0].0, applied.created[1].0)
}

fn file(key: &str, size: i64) -> NewAttachment {
    NewAttachment {
        blob_key: key.into(),
        file_name: format!("{key}.pdf"),
        content_type: "application/pdf".into(),
        size,
        sha256: "00".repeat(32),
    }
}

async fn folders_live_in_one_space_and_one_school(store: &SqlStore) {
    let (a, class, teacher, pupil) = school(store, "0750001A").await;
    let (b, _, other_teacher, _) = school(store, "0750002B").await;
    let root = store
        .class_root_folder(a, class, teacher, 10)
        .await
        .unwrap();
    assert_eq!(root.class_id, Some(class));
    assert_eq!(root.name, "Documents de 6e A");
    assert_eq!(
        store
            .class_root_folder(a, class, teacher, 11)
            .await
            .unwrap(),
        root,
        "made once"
    );
    let sub = store
        .create_folder(a, root.id, "Chapitre 1", teacher, 12)
        .await
        .unwrap();
    let sub_row = store.folder(a, sub).await.unwrap().unwrap();
    assert_eq!(
        (sub_row.class_id, sub_row.parent_id),
        (Some(class), Some(root.id)),
        "same space as its parent"
    );
    assert_eq!(store.subfolders(a, root.id).await.unwrap().len(), 1);
    assert!(
        store.folder(b, root.id).await.unwrap().is_none(),
        "another school sees nothing"
    );
    assert!(store
        .create_folder(b, root.id, "Pirate", other_teacher, 13)
        .await
        .is_err());
    assert!(store
        .add_folder_files(b, root.id, &[file("k1", 10)], 14)
        .await
        .is_err());
    store
        .add_folder_files(a, root.id, &[file("k1", 10), file("k2", 20)], 14)
        .await
        .unwrap();
    let files = store.folder_files(a, root.id).await.unwrap();
    assert_eq!(files.len(), 2);
    assert!(store
        .delete_folder_file(b, root.id, files[0].id)
        .await
        .unwrap()
        .is_none());
    assert!(
        store
            .delete_folder_file(a, sub, files[0].id)
            .await
            .unwrap()
            .is_none(),
        "wrong folder"
    );
    assert_eq!(
        store
            .delete_folder_file(a, root.id, files[0].id)
            .await
            .unwrap()
            .as_deref(),
        Some("k1")
    );
    assert_eq!(store.folder_files(a, root.id).await.unwrap().len(), 1);
    let mine = store.personal_root_folder(a, pupil, 15).await.unwrap();
    assert_eq!((mine.owner_id, mine.class_id), (Some(pupil), None));
    assert_eq!(
        store.personal_root_folder(a, pupil, 16).await.unwrap(),
        mine
    );
}

async fn personal_usage_sums_files(store: &SqlStore) {
    let (a, _, teacher, pupil) = school(store, "0750001A").await;
    assert_eq!(store.personal_usage(a, pupil).await.unwrap(), 0);
    let mine = store.personal_root_folder(a, pupil, 1).await.unwrap();
    let sub = store
        .create_folder(a, mine.id, "Brouillons", pupil, 2)
        .await
        .unwrap();
    store
        .add_folder_files(a, mine.id, &[file("a", 1000)], 3)
        .await
        .unwrap();
    store
        .add_folder_files(a, sub, &[file("b", 2500)], 3)
        .await
        .unwrap();
    assert_eq!(store.personal_usage(a, pupil).await.unwrap(), 3500);
    assert_eq!(store.personal_usage(a, teacher).await.unwrap(), 0);
}

async fn calendar_tokens_replace_and_vanish(store: &SqlStore) {
    let (a, _, _, pupil) = school(store, "0750001A").await;
    assert!(!store.has_calendar(pupil).await.unwrap());
    store.set_calendar_token(a, pupil, "h1", 1).await.unwrap();
    assert_eq!(store.calendar_owner("h1").await.unwrap(), Some(pupil));
    store.set_calendar_token(a, pupil, "h2", 2).await.unwrap();
    assert_eq!(store.calendar_owner("h1").await.unwrap(), None, "replaced");
    assert_eq!(store.calendar_owner("h2").await.unwrap(), Some(pupil));
    store.delete_calendar_token(pupil).await.unwrap();
    assert!(!store.has_calendar(pupil).await.unwrap());
    assert_eq!(store.calendar_owner("h2").await.unwrap(), None);
}
