//! Storage conformance for the blob sweep's question "which of these files do
//! rows still point to?", on both backends.

mod common;

use std::collections::HashSet;

use cartable_domain::messaging::NewsAudience;
use cartable_domain::names::PersonName;
use cartable_domain::roster::{PersonRecord, RosterOp};
use cartable_domain::{Role, SchoolId, UserId};
use cartable_store::sql::SqlStore;
use cartable_store::*;

conformance!(
    "the blob references conformance suite";
    referenced_keys_across_owners_and_schools,
    many_keys_are_asked_in_batches,
    platform_events_are_kept_apart_from_schools,
);

/// A school with a teacher and a pupil: (school, teacher, pupil).
async fn school(store: &SqlStore, uai: &str) -> (SchoolId, UserId, UserId) {
    let s = store.create_school("Collège", uai, 1).await.unwrap();
    let person = |first: &str| PersonRecord {
        external_id: None,
        last_name: PersonName::parse("Martin").unwrap(),
        first_name: PersonName::parse(first).unwrap(),
        birth_date: None,
        email: None,
    };
    let ops = vec![
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
    ];
    let applied = store.apply_roster(s, &ops, 1).await.unwrap();
    (s, applied.created[0].0, applied.created[1].0)
}

/// A key of the blob store's shape (`ab/cd/abcd…`), from a number.
fn key(n: u32) -> String {
    let hex = format!("{n:08x}{}", "0".repeat(24));
    format!("{}/{}/{hex}", &hex[0..2], &hex[2..4])
}

fn file(key: &str) -> NewAttachment {
    NewAttachment {
        blob_key: key.into(),
        file_name: "devoir.pdf".into(),
        content_type: "application/pdf".into(),
        size: 10,
        sha256: "00".repeat(32),
    }
}

fn set(keys: &[&String]) -> HashSet<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

async fn referenced_keys_across_owners_and_schools(store: &SqlStore) {
    let (a, teacher, pupil) = school(store, "0750001A").await;
    let (b, _, other_pupil) = school(store, "0750002B").await;
    let (in_doc, in_message, in_news, in_other_school, deleted, never) =
        (key(0xabcd_ef01), key(2), key(3), key(4), key(5), key(6));

    let mine = store.personal_root_folder(a, pupil, 1).await.unwrap();
    store
        .add_folder_files(a, mine.id, &[file(&in_doc), file(&deleted)], 2)
        .await
        .unwrap();
    store
        .create_thread(&NewThread {
            school_id: a,
            subject: "Sortie".into(),
            author_id: teacher,
            members: vec![teacher, pupil],
            private_replies: false,
            reply_to_thread_id: None,
            body_md: "Voir la pièce jointe.".into(),
            body_html: "<p>Voir la pièce jointe.</p>".into(),
            attachments: vec![file(&in_message)],
            now: 3,
        })
        .await
        .unwrap();
    store
        .create_news(&NewNews {
            school_id: a,
            author_id: teacher,
            title: "Menu".into(),
            body_md: "Le menu.".into(),
            body_html: "<p>Le menu.</p>".into(),
            audience: NewsAudience::School.code().into(),
            classes: vec![],
            publish_from: 0,
            publish_until: None,
            attachments: vec![file(&in_news)],
            now: 4,
        })
        .await
        .unwrap();
    let theirs = store.personal_root_folder(b, other_pupil, 1).await.unwrap();
    store
        .add_folder_files(b, theirs.id, &[file(&in_other_school)], 5)
        .await
        .unwrap();
    // A file whose row is removed is no longer referenced.
    let rows = store.folder_files(a, mine.id).await.unwrap();
    let gone = rows.iter().find(|r| r.blob_key == deleted).unwrap();
    assert_eq!(
        store
            .delete_folder_file(a, mine.id, gone.id)
            .await
            .unwrap()
            .as_deref(),
        Some(deleted.as_str())
    );

    let asked = vec![
        in_doc.clone(),
        in_message.clone(),
        in_news.clone(),
        in_other_school.clone(),
        deleted.clone(),
        never.clone(),
        // Asked twice: answered once.
        in_doc.clone(),
    ];
    assert_eq!(
        store.referenced_blob_keys(&asked).await.unwrap(),
        set(&[&in_doc, &in_message, &in_news, &in_other_school]),
        "every owner kind and every school counts; a removed row and a key never stored do not"
    );
    assert!(store.referenced_blob_keys(&[]).await.unwrap().is_empty());
    // Keys are matched exactly, not as patterns or case-insensitively.
    let lookalikes = vec![in_doc.to_uppercase(), format!("{}%", &in_doc[..10])];
    assert!(store
        .referenced_blob_keys(&lookalikes)
        .await
        .unwrap()
        .is_empty());
}

async fn many_keys_are_asked_in_batches(store: &SqlStore) {
    let (a, _, pupil) = school(store, "0750001A").await;
    let folder = store.personal_root_folder(a, pupil, 1).await.unwrap();
    // More keys than any one statement may carry (65,535 parameters on
    // PostgreSQL, 32,766 on SQLite), a few of them referenced, spread out.
    let keys: Vec<String> = (0..70_000).map(key).collect();
    let stored: Vec<&String> = [0usize, 199, 200, 40_001, 69_999]
        .iter()
        .map(|i| &keys[*i])
        .collect();
    let files: Vec<NewAttachment> = stored.iter().map(|k| file(k)).collect();
    store
        .add_folder_files(a, folder.id, &files, 2)
        .await
        .unwrap();
    assert_eq!(
        store.referenced_blob_keys(&keys).await.unwrap(),
        set(&stored)
    );
}

/// The sweep's audit event belongs to no school: it is read with the
/// platform's events, never in a school's log.
async fn platform_events_are_kept_apart_from_schools(store: &SqlStore) {
    let (a, teacher, _) = school(store, "0750001A").await;
    let event = |school: Option<SchoolId>, action: &str, at: i64| AuditEvent {
        school_id: school,
        actor_id: school.map(|_| teacher),
        action: action.into(),
        target: None,
        ip: None,
        detail: Some("fichiers orphelins supprimés : 2".into()),
        at,
    };
    store.audit(&event(None, "blobs.swept", 10)).await.unwrap();
    store.audit(&event(Some(a), "login.ok", 11)).await.unwrap();
    store.audit(&event(None, "blobs.swept", 12)).await.unwrap();
    let platform = store.platform_audit_log(10).await.unwrap();
    assert_eq!(
        platform.iter().map(|e| e.at).collect::<Vec<_>>(),
        [12, 10],
        "newest first, no school event"
    );
    assert_eq!(platform[0], event(None, "blobs.swept", 12));
    assert_eq!(store.platform_audit_log(1).await.unwrap().len(), 1);
    let school_log = store.audit_log(a, 10).await.unwrap();
    assert_eq!(
        school_log
            .iter()
            .map(|e| e.action.as_str())
            .collect::<Vec<_>>(),
        ["login.ok"]
    );
}
