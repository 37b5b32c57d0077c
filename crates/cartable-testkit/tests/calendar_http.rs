//! The private calendar feed: made from the account, read without a session
//! by a calendar app, revoked by making a new one or deleting it.

use cartable_app::auth::ClientInfo;
use cartable_app::lessons::LessonDraft;
use cartable_domain::Target;
use cartable_testkit::*;

/// The feed URL shown once on the page after creating it.
fn feed_path(page: &str) -> String {
    let start = page.find("/calendrier/").expect("a feed URL on the page");
    let end = page[start..].find(".ics").expect(".ics") + start + 4;
    page[start..end].to_string()
}

async fn create_feed(c: &TestClient) -> String {
    let r = c.post_form("/compte/calendrier", &[]).await;
    assert_eq!(r.status(), 200);
    feed_path(&r.text().await.unwrap())
}

#[tokio::test]
async fn pupils_and_parents_subscribe_to_their_homework() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.app.store.actor(f.id("teacher_a")).await.unwrap().unwrap();
    let other = t.app.store.actor(f.id("teacher_b")).await.unwrap().unwrap();
    let draft = |work: &str| LessonDraft {
        lesson_date: "2026-09-01".into(),
        homework: work.into(),
        due_date: "2026-09-03".into(),
        ..LessonDraft::default()
    };
    t.app
        .write_lesson(
            &teacher,
            Target::Class(f.class_a),
            draft("Exercices 3, 4; page 52"),
            &ClientInfo::default(),
        )
        .await
        .unwrap();
    t.app
        .write_lesson(
            &other,
            Target::Class(f.class_b),
            draft("Autre classe"),
            &ClientInfo::default(),
        )
        .await
        .unwrap();

    let pupil = t.signed_in(f.login("pupil_a")).await;
    let path = create_feed(&pupil).await;
    // A calendar app has no cookie.
    let app = t.client();
    let r = app.get(&path).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/calendar; charset=utf-8");
    let ics = r.text().await.unwrap();
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"), "{ics}");
    assert!(ics.contains("DTSTART;VALUE=DATE:20260903"), "{ics}");
    assert!(ics.contains("Exercices 3\\, 4\\; page 52"), "{ics}");
    assert!(!ics.contains("Autre classe"), "another class's homework");

    let parent = t.signed_in(f.login("parent_a")).await;
    let parent_path = create_feed(&parent).await;
    let ics = app.get(&parent_path).await.text().await.unwrap();
    assert!(
        ics.contains("Léa — Mathématiques"),
        "the child's name in the title: {ics}"
    );

    // A new URL revokes the old one; deleting revokes it too.
    let newer = create_feed(&pupil).await;
    assert_ne!(newer, path);
    assert_eq!(app.get(&path).await.status(), 404);
    assert_eq!(app.get(&newer).await.status(), 200);
    assert_eq!(
        pupil
            .post_form("/compte/calendrier/supprimer", &[])
            .await
            .status(),
        303
    );
    assert_eq!(app.get(&newer).await.status(), 404);

    // A disabled account's feed stops.
    let admin = t.signed_in(f.login("admin")).await;
    let r = admin
        .post_form(
            &format!("/admin/personnes/{}/desactiver", f.id("parent_a")),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(app.get(&parent_path).await.status(), 404);
}

#[tokio::test]
async fn forged_tokens_and_other_roles_get_nothing() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let app = t.client();
    for path in [
        "/calendrier/x.ics",
        "/calendrier/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics",
        "/calendrier/.ics",
    ] {
        assert_eq!(app.get(path).await.status(), 404, "{path}");
    }
    for who in ["teacher_a", "staff", "admin"] {
        let c = t.signed_in(f.login(who)).await;
        assert_eq!(c.get("/compte/calendrier").await.status(), 403, "{who}");
        assert_eq!(
            c.post_form("/compte/calendrier", &[]).await.status(),
            403,
            "{who}"
        );
    }
    assert_eq!(
        app.get("/compte/calendrier").await.status(),
        303,
        "anonymous: sign in first"
    );
}
