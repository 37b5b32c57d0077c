//! Homework and assignments for a group (Latin: pupil_a of 6e A and pupil_b
//! of 6e B, taught by teacher_a), through the real server, as its users see
//! them: the teacher writes for the group, its members and their parents
//! see the work on their home page, on /devoirs and in their calendar; a
//! classmate outside the group sees nothing of it; another school gets 404;
//! a teacher who does not teach the group cannot write for it; the class's
//! workload counts what the group's work weighs on its pupils. And a lesson's
//! files can be changed after it was written.

use cartable_domain::Role;
use cartable_testkit::matrix::header;
use cartable_testkit::reqwest::multipart::{Form, Part};
use cartable_testkit::reqwest::{Response, StatusCode};
use cartable_testkit::*;

const PDF: &[u8] = b"%PDF-1.4\n% un document de test\n";

async fn post_multipart(
    c: &TestClient,
    path: &str,
    texts: &[(&str, &str)],
    files: &[(&str, &[u8])],
) -> Response {
    let token = c.csrf().await;
    let mut form = Form::new().text("csrf", token);
    for (k, v) in texts {
        form = form.text(k.to_string(), v.to_string());
    }
    for (name, bytes) in files {
        form = form.part(
            "fichier",
            Part::bytes(bytes.to_vec()).file_name(name.to_string()),
        );
    }
    c.http
        .post(format!("{}{}", c.base, path))
        .multipart(form)
        .send()
        .await
        .expect("POST multipart")
}

/// The id at the end of a 303's location (`/cahier/seances/12` gives 12).
fn created_id(resp: &Response, prefix: &str) -> i64 {
    let loc = header(resp, "location");
    assert!(
        resp.status() == StatusCode::SEE_OTHER && loc.starts_with(prefix),
        "expected a 303 to {prefix}…, got {} to {loc:?}",
        resp.status()
    );
    loc[prefix.len()..]
        .split(['#', '?'])
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Makes a calendar feed for the signed-in client and reads it as a calendar app would.
async fn feed(t: &TestApp, c: TestClient) -> String {
    let r = c.post_form("/compte/calendrier", &[]).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let start = page.find("/calendrier/").expect("a feed URL");
    let end = page[start..].find(".ics").unwrap() + start + 4;
    t.client()
        .get(&page[start..end])
        .await
        .text()
        .await
        .unwrap()
}

const LATIN_WORK: &str = "Apprendre la première déclinaison : rosa, rosae.";

fn latin_lesson() -> Vec<(&'static str, &'static str)> {
    vec![
        ("matiere", "Latin"),
        ("date", "2026-09-01"),
        ("contenu", "Découverte des déclinaisons."),
        ("travail", LATIN_WORK),
        ("pour_le", "2026-09-03"),
        ("duree", "40"),
        ("evaluation", "1"),
    ]
}

fn status_and_code(resp: &Response) -> (u16, String) {
    (resp.status().as_u16(), header(resp, "x-cartable-error"))
}

#[tokio::test]
async fn homework_for_a_group_reaches_its_members_and_their_parents_only() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let g = seed_groups(&t, &f).await;
    let (_, noe_login) =
        add_person(&t, &f, Role::Pupil, "Noé", "Alpha", Some(f.class_a), None).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;

    // The teacher's cahier lists the group next to the class.
    let (status, index) = teacher.get_text("/cahier").await;
    assert_eq!(status, 200);
    assert!(index.contains("Mes groupes"), "{index}");
    assert!(
        index.contains(&format!("href=\"/cahier/groupes/{}\"", g.latin.0)),
        "{index}"
    );
    let (status, home) = teacher.get_text("/").await;
    assert_eq!(status, 200);
    assert!(home.contains("Latin"), "the teacher's home lists the group");

    // The week page and the new-lesson page of the group.
    let (status, week) = teacher
        .get_text(&format!("/cahier/groupes/{}", g.latin.0))
        .await;
    assert_eq!(status, 200);
    assert!(week.contains("groupe Latin"), "{week}");
    let (status, form) = teacher
        .get_text(&format!("/cahier/groupes/{}/nouvelle", g.latin.0))
        .await;
    assert_eq!(status, 200);
    assert!(form.contains(&format!("action=\"/cahier/groupes/{}\"", g.latin.0)));

    let resp = post_multipart(
        &teacher,
        &format!("/cahier/groupes/{}", g.latin.0),
        &latin_lesson(),
        &[("rosa.pdf", PDF)],
    )
    .await;
    let lesson = created_id(&resp, "/cahier/seances/");
    let (status, page) = teacher.get_text(&format!("/cahier/seances/{lesson}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("rosa.pdf") && page.contains("groupe Latin"),
        "{page}"
    );

    // Members (from two classes) and their parents see it.
    for who in ["pupil_a", "pupil_b", "parent_a", "parent_b"] {
        let c = t.signed_in(f.login(who)).await;
        let (status, due) = c.get_text("/devoirs").await;
        assert_eq!(status, 200, "{who}");
        assert!(
            due.contains("rosa, rosae"),
            "{who} sees the group's homework"
        );
        assert!(due.contains("groupe Latin"), "{who}: which group it is for");
        let (_, home) = c.get_text("/").await;
        assert!(home.contains("Latin"), "{who}'s home page");
        let (status, _) = c.get_text(&format!("/cahier/seances/{lesson}")).await;
        assert_eq!(status, 200, "{who} opens the lesson");
    }
    // The pupil ticks it off.
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let resp = pupil
        .post_form(&format!("/devoirs/{lesson}/fait"), &[("fait", "1")])
        .await;
    assert_eq!(resp.status(), 303);
    let (_, due) = pupil.get_text("/devoirs").await;
    assert!(due.contains("Marquer comme non fait"), "ticked");

    // A classmate of pupil_a outside the group, and another school, see nothing.
    let noe = t.signed_in(&noe_login).await;
    let (_, due) = noe.get_text("/devoirs").await;
    assert!(!due.contains("rosa, rosae"), "a non-member's /devoirs");
    let (_, home) = noe.get_text("/").await;
    assert!(!home.contains("Latin"), "a non-member's home page");
    let resp = noe.get(&format!("/cahier/seances/{lesson}")).await;
    assert_eq!(status_and_code(&resp), (404, "not_found".into()));
    let resp = noe.get(&format!("/cahier/groupes/{}", g.latin.0)).await;
    assert_eq!(status_and_code(&resp), (403, "forbidden".into()));
    let resp = noe
        .post_form(&format!("/devoirs/{lesson}/fait"), &[("fait", "1")])
        .await;
    assert_eq!(status_and_code(&resp), (404, "not_found".into()));
    let other = t.signed_in(f.login("other_pupil")).await;
    let (_, due) = other.get_text("/devoirs").await;
    assert!(!due.contains("rosa, rosae"));

    // The calendar feeds of a member and of a parent carry it; a non-member's does not.
    let ics = feed(&t, t.signed_in(f.login("pupil_b")).await).await;
    assert!(ics.contains("Latin (évaluation)"), "{ics}");
    assert!(ics.contains("DTSTART;VALUE=DATE:20260903"), "{ics}");
    let ics = feed(&t, t.signed_in(f.login("parent_a")).await).await;
    assert!(ics.contains("Léa — Latin"), "{ics}");
    let ics = feed(&t, noe).await;
    assert!(!ics.contains("Latin"), "{ics}");
}

#[tokio::test]
async fn only_the_groups_teachers_write_for_it_and_other_schools_get_404() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let g = seed_groups(&t, &f).await;
    let latin = format!("/cahier/groupes/{}", g.latin.0);

    // teacher_b teaches 6e B, where pupil_b comes from, but not the group.
    let teacher_b = t.signed_in(f.login("teacher_b")).await;
    let (status, _) = teacher_b.get_text(&latin).await;
    assert_eq!(
        status, 200,
        "any teacher of the school reads a group's cahier"
    );
    for path in [
        format!("{latin}/nouvelle"),
        format!("{latin}/devoir-a-rendre"),
    ] {
        let resp = teacher_b.get(&path).await;
        assert_eq!(status_and_code(&resp), (403, "forbidden".into()), "{path}");
    }
    let resp = post_multipart(&teacher_b, &latin, &latin_lesson(), &[]).await;
    assert_eq!(status_and_code(&resp), (403, "forbidden".into()));
    let resp = post_multipart(
        &teacher_b,
        &format!("{latin}/devoirs-a-rendre"),
        &[("titre", "Version"), ("date", "2026-09-10"), ("texte", "1")],
        &[],
    )
    .await;
    assert_eq!(status_and_code(&resp), (403, "forbidden".into()));
    // Nor do staff or the admin write for it.
    let admin = t.signed_in(f.login("admin")).await;
    let resp = post_multipart(&admin, &latin, &latin_lesson(), &[]).await;
    assert_eq!(status_and_code(&resp), (403, "forbidden".into()));

    // Another school's teacher: the group does not exist for them.
    let other = t.signed_in(f.login("other_teacher")).await;
    for path in [
        latin.clone(),
        format!("{latin}/nouvelle"),
        format!("{latin}/charge"),
        format!("{latin}/devoir-a-rendre"),
    ] {
        let resp = other.get(&path).await;
        assert_eq!(status_and_code(&resp), (404, "not_found".into()), "{path}");
    }
    let resp = post_multipart(&other, &latin, &latin_lesson(), &[("x.pdf", PDF)]).await;
    assert_eq!(status_and_code(&resp), (404, "not_found".into()));
    // …and their own group is not ours.
    let teacher_a = t.signed_in(f.login("teacher_a")).await;
    let resp = teacher_a
        .get(&format!("/cahier/groupes/{}", g.other_group.0))
        .await;
    assert_eq!(status_and_code(&resp), (404, "not_found".into()));
    let resp = post_multipart(
        &teacher_a,
        &format!("/cahier/groupes/{}", g.other_group.0),
        &latin_lesson(),
        &[],
    )
    .await;
    assert_eq!(status_and_code(&resp), (404, "not_found".into()));
    let (_, index) = teacher_a.get_text("/cahier").await;
    assert!(!index.contains("Grec"));

    // Nothing was written by the refused requests.
    let lessons = t
        .app
        .store
        .target_lessons(
            f.school_a,
            cartable_domain::Target::Group(g.latin),
            "2026-01-01",
            "2027-12-31",
            i64::MAX,
            true,
        )
        .await
        .unwrap();
    assert!(lessons.is_empty());
}

#[tokio::test]
async fn an_assignment_for_a_group_lists_its_members_for_the_teacher() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let g = seed_groups(&t, &f).await;
    let (_, noe_login) =
        add_person(&t, &f, Role::Pupil, "Noé", "Alpha", Some(f.class_a), None).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let (status, form) = teacher
        .get_text(&format!("/cahier/groupes/{}/devoir-a-rendre", g.latin.0))
        .await;
    assert_eq!(status, 200);
    assert!(form.contains("groupe Latin"));
    let resp = post_multipart(
        &teacher,
        &format!("/cahier/groupes/{}/devoirs-a-rendre", g.latin.0),
        &[
            ("titre", "Version latine"),
            ("matiere", "Latin"),
            ("consigne", "Traduire le texte joint."),
            ("date", "2026-09-10"),
            ("heure", "18:00"),
            ("texte", "1"),
        ],
        &[("texte.pdf", PDF)],
    )
    .await;
    let id = created_id(&resp, "/rendus/");

    // pupil_b (6e B) hands in; the non-member cannot even see it.
    let pupil_b = t.signed_in(f.login("pupil_b")).await;
    let (_, list) = pupil_b.get_text("/devoirs-a-rendre").await;
    assert!(list.contains("Version latine"), "{list}");
    let resp = post_multipart(
        &pupil_b,
        &format!("/rendus/{id}/rendre"),
        &[("cle", "cle-1"), ("texte", "Rosa est pulchra.")],
        &[],
    )
    .await;
    assert!(
        resp.status().is_success() || resp.status() == StatusCode::SEE_OTHER,
        "hand-in: {}",
        resp.status()
    );
    let noe = t.signed_in(&noe_login).await;
    let (_, list) = noe.get_text("/devoirs-a-rendre").await;
    assert!(!list.contains("Version latine"));
    let resp = noe.get(&format!("/rendus/{id}")).await;
    assert_eq!(status_and_code(&resp), (404, "not_found".into()));
    let parent_a = t.signed_in(f.login("parent_a")).await;
    let (_, list) = parent_a.get_text("/devoirs-a-rendre").await;
    assert!(list.contains("Version latine"), "a member's parent");

    // The teacher's table: the group's two members with their classes, not Noé.
    let (status, page) = teacher.get_text(&format!("/rendus/{id}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Rendus du groupe"), "{page}");
    assert!(
        page.contains("Alpha Léa") && page.contains("(6e A)"),
        "{page}"
    );
    assert!(
        page.contains("Bravo Hugo") && page.contains("(6e B)"),
        "{page}"
    );
    assert!(!page.contains("Alpha Noé"), "{page}");
    let (_, list) = teacher.get_text("/devoirs-a-rendre").await;
    assert!(
        list.contains("Nouveau devoir à rendre — groupe Latin"),
        "{list}"
    );
    assert!(list.contains("groupe Latin"));
}

#[tokio::test]
async fn a_class_workload_counts_the_groups_of_its_pupils() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let g = seed_groups(&t, &f).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let resp = post_multipart(
        &teacher,
        &format!("/cahier/groupes/{}", g.latin.0),
        &latin_lesson(),
        &[],
    )
    .await;
    created_id(&resp, "/cahier/seances/");
    // 6e B's teacher sees Latin's test on the day, said to be the group's.
    let teacher_b = t.signed_in(f.login("teacher_b")).await;
    let (status, page) = teacher_b
        .get_text(&format!(
            "/cahier/classes/{}/charge?semaine=2026-08-31",
            f.class_b.0
        ))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("Latin (groupe Latin) (évaluation)"), "{page}");
    assert!(page.contains("40 min"), "{page}");
    // And the group's own workload page.
    let (status, page) = teacher
        .get_text(&format!(
            "/cahier/groupes/{}/charge?semaine=2026-08-31",
            g.latin.0
        ))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("Latin (évaluation)"), "{page}");
}

#[tokio::test]
async fn a_lessons_files_can_be_removed_and_added_on_its_edit_page() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let resp = post_multipart(
        &teacher,
        &format!("/cahier/classes/{}", f.class_a.0),
        &latin_lesson(),
        &[("premier.pdf", PDF), ("second.pdf", PDF)],
    )
    .await;
    let lesson = created_id(&resp, "/cahier/seances/");
    let files = || async {
        t.app
            .store
            .lesson(f.school_a, lesson)
            .await
            .unwrap()
            .unwrap()
            .attachments
    };
    let first = files().await[0].clone();
    let (status, edit) = teacher
        .get_text(&format!("/cahier/seances/{lesson}/modifier"))
        .await;
    assert_eq!(status, 200);
    let remove = format!("/cahier/seances/{lesson}/fichiers/{}/supprimer", first.id);
    assert!(edit.contains(&remove), "{edit}");
    assert!(edit.contains(&format!("action=\"/cahier/seances/{lesson}/fichiers\"")));

    // Nobody else may touch them; a form without the token is refused.
    let teacher_b = t.signed_in(f.login("teacher_b")).await;
    let resp = teacher_b.post_form(&remove, &[]).await;
    assert_eq!(status_and_code(&resp), (403, "forbidden".into()));
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let resp = pupil.post_form(&remove, &[]).await;
    assert_eq!(status_and_code(&resp), (403, "forbidden".into()));
    let resp = post_multipart(
        &teacher_b,
        &format!("/cahier/seances/{lesson}/fichiers"),
        &[],
        &[("intrus.pdf", PDF)],
    )
    .await;
    assert_eq!(status_and_code(&resp), (403, "forbidden".into()));
    let other = t.signed_in(f.login("other_teacher")).await;
    let resp = other.post_form(&remove, &[]).await;
    assert_eq!(status_and_code(&resp), (404, "not_found".into()));
    let resp = teacher
        .http
        .post(format!("{}{remove}", teacher.base))
        .form(&[("x", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(status_and_code(&resp), (403, "csrf".into()));
    assert_eq!(files().await.len(), 2);

    // The author removes one: its row and its stored bytes go.
    let resp = teacher.post_form(&remove, &[]).await;
    assert_eq!(resp.status(), 303);
    let left: Vec<String> = files().await.into_iter().map(|a| a.file_name).collect();
    assert_eq!(left, ["second.pdf"]);
    assert!(
        t.app.blobs.open(&first.blob_key).await.is_err(),
        "bytes deleted"
    );
    let resp = teacher.get(&format!("/pieces-jointes/{}", first.id)).await;
    assert_eq!(resp.status(), 404);
    let resp = teacher.post_form(&remove, &[]).await;
    assert_eq!(status_and_code(&resp), (404, "not_found".into()), "twice");

    // …and adds new ones, which pupils can download.
    let resp = post_multipart(
        &teacher,
        &format!("/cahier/seances/{lesson}/fichiers"),
        &[],
        &[("corrigé.pdf", PDF)],
    )
    .await;
    assert_eq!(resp.status(), 303);
    let now: Vec<String> = files().await.into_iter().map(|a| a.file_name).collect();
    assert_eq!(now, ["second.pdf", "corrigé.pdf"]);
    let (_, page) = pupil.get_text(&format!("/cahier/seances/{lesson}")).await;
    assert!(page.contains("corrigé.pdf") && !page.contains("premier.pdf"));
    let added = files().await[1].id;
    let resp = pupil.get(&format!("/pieces-jointes/{added}")).await;
    assert_eq!(resp.status(), 200);

    // An empty add and one beyond the lesson's cap are refused, nothing kept.
    let resp = post_multipart(
        &teacher,
        &format!("/cahier/seances/{lesson}/fichiers"),
        &[],
        &[],
    )
    .await;
    assert_eq!(resp.status(), 400, "no file chosen");
    let many: Vec<(&str, &[u8])> = vec![
        ("a.pdf", PDF),
        ("b.pdf", PDF),
        ("c.pdf", PDF),
        ("d.pdf", PDF),
    ];
    let resp = post_multipart(
        &teacher,
        &format!("/cahier/seances/{lesson}/fichiers"),
        &[],
        &many,
    )
    .await;
    assert_eq!(resp.status(), 400, "2 + 4 files is over the cap of 5");
    let body = resp.text().await.unwrap();
    assert!(body.contains("5 documents au plus"), "{body}");
    assert_eq!(files().await.len(), 2);
}
