//! The per-node memory of what a pupil's pages show (`cartable_app::school_facts`),
//! through the real server: every test first loads the pupil's page (so that
//! this node remembers the class's homework, the school's news, its classes,
//! teachers and people), then acts through the forms as the people concerned
//! do, then loads the page again at once. The test clock does not move: an
//! entry that was not forgotten would be shown stale for ever, so a missing
//! "forget" fails here rather than hiding behind a time to live.
//!
//! SQLite only: the testkit's `spawn_app` has no PostgreSQL variant (no other
//! `*_http.rs` test runs on PostgreSQL either); the memory lives in the node,
//! above the store, and is the same on both backends.

use cartable_domain::UserId;
use cartable_testkit::matrix::header;
use cartable_testkit::reqwest::multipart::{Form, Part};
use cartable_testkit::reqwest::Response;
use cartable_testkit::*;

const DAY: i64 = 86_400;

// ---------------------------------------------------------------------------
// Helpers

/// A page that must answer 200.
async fn page(c: &TestClient, path: &str) -> String {
    let (status, body) = c.get_text(path).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// Posts a multipart form as the pages do: the CSRF token first, then the
/// text fields.
async fn post_multipart(c: &TestClient, path: &str, fields: &[(&str, &str)]) -> Response {
    let mut form = Form::new().text("csrf", c.csrf().await);
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    c.http
        .post(format!("{}{}", c.base, path))
        .multipart(form)
        .send()
        .await
        .expect("multipart POST")
}

/// A 303 to `{prefix}{id}…`: the id.
async fn created(r: Response, prefix: &str) -> i64 {
    let status = r.status().as_u16();
    let location = header(&r, "location");
    let body = r.text().await.unwrap_or_default();
    assert_eq!(status, 303, "expected a 303 to {prefix}…, got: {body}");
    let rest = location
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{location:?} does not start with {prefix:?}"));
    rest.chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or_else(|_| panic!("no id in {location:?}"))
}

async fn see_other(r: Response, what: &str) {
    let status = r.status().as_u16();
    let location = header(&r, "location");
    let body = r.text().await.unwrap_or_default();
    assert_eq!(status, 303, "{what}: {body}");
    assert!(!location.starts_with("/connexion"), "{what}: {location}");
}

/// The lesson form's fields, as the cahier's page names them.
fn lesson<'a>(
    subject: &'a str,
    homework: &'a str,
    due: &'a str,
    publish: &'a str,
) -> [(&'static str, &'a str); 7] {
    [
        ("matiere", subject),
        ("date", "2026-09-01"),
        ("contenu", "Séance du jour."),
        ("travail", homework),
        ("pour_le", due),
        ("duree", "20"),
        ("publier_le", publish),
    ]
}

/// Writes a lesson in a class's or group's cahier (`/cahier/classes/{id}`,
/// `/cahier/groupes/{id}`); returns its id.
async fn write_lesson(teacher: &TestClient, cahier: &str, fields: &[(&str, &str)]) -> i64 {
    created(
        post_multipart(teacher, cahier, fields).await,
        "/cahier/seances/",
    )
    .await
}

/// The home page's "À faire" card.
fn to_do(home: &str) -> &str {
    let start = home
        .find("id=\"a-faire\"")
        .unwrap_or_else(|| panic!("no \"À faire\" card on the pupil's home:\n{home}"));
    let rest = &home[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

/// The home page's "Mes professeurs" card of the pupil's class.
fn my_teachers(home: &str) -> &str {
    let start = home
        .find("<h3>Mes professeurs</h3>")
        .unwrap_or_else(|| panic!("no teachers card on the pupil's home:\n{home}"));
    let rest = &home[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

/// The home page's news card ("" when there is none).
fn news_card(home: &str) -> &str {
    match home.find("id=\"actus\"") {
        Some(start) => {
            let rest = &home[start..];
            &rest[..rest.find("</section>").unwrap_or(rest.len())]
        }
        None => "",
    }
}

/// The home page's message counter (not the menu's link).
fn unread_line(home: &str) -> &str {
    let start = home
        .find("aria-label=\"Nouveautés\"")
        .unwrap_or_else(|| panic!("no message counter on the home page:\n{home}"));
    let rest = &home[start..];
    &rest[..rest.find("</a>").unwrap_or(rest.len())]
}

/// Whether the compose page offers `person` as a recipient.
fn offers(compose: &str, person: UserId) -> bool {
    compose.contains(&format!("name=\"personne\" value=\"{person}\""))
}

/// One homework item of `/devoirs`, up to the next item or the end of its day.
fn due_item(html: &str, id: i64) -> Option<&str> {
    let start = html.find(&format!("<li id=\"l{id}\""))?;
    let rest = &html[start..];
    let end = [
        rest[1..].find("<li id=\"l").map(|i| i + 1),
        rest.find("</section>"),
    ]
    .into_iter()
    .flatten()
    .min()
    .unwrap_or(rest.len());
    Some(&rest[..end])
}

const TOMORROW: &str = "Pour mercredi 2 septembre (demain)</strong>";

// ---------------------------------------------------------------------------
// Homework

#[tokio::test]
async fn class_homework_written_edited_and_deleted_shows_at_once() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let class = format!("/cahier/classes/{}", f.class_a.0);

    // Remembered empty.
    let home = page(&pupil, "/").await;
    assert!(
        to_do(&home).contains("Rien à faire pour les deux prochaines semaines."),
        "{}",
        to_do(&home)
    );
    assert!(page(&pupil, "/devoirs")
        .await
        .contains("Rien à faire pour les deux prochaines semaines."));

    // Written for tomorrow: there at once.
    let id = write_lesson(
        &teacher,
        &class,
        &lesson(
            "Histoire-géographie",
            "Compléter la carte des fleuves.",
            "2026-09-02",
            "",
        ),
    )
    .await;
    let home = page(&pupil, "/").await;
    assert!(
        to_do(&home).contains(&format!("{TOMORROW} : Histoire-géographie</li>")),
        "the home page after the write: {}",
        to_do(&home)
    );
    let due = page(&pupil, "/devoirs").await;
    let item = due_item(&due, id).unwrap_or_else(|| panic!("not in /devoirs: {due}"));
    assert!(item.contains("Compléter la carte des fleuves."), "{item}");
    assert!(due.contains("Pour mercredi 2 septembre (demain)"));

    // Subject and homework changed: shown at once.
    see_other(
        teacher
            .post_form(
                &format!("/cahier/seances/{id}/modifier"),
                &lesson(
                    "Géographie",
                    "Colorier les bassins des fleuves.",
                    "2026-09-02",
                    "",
                ),
            )
            .await,
        "editing the lesson",
    )
    .await;
    let home = page(&pupil, "/").await;
    assert!(
        to_do(&home).contains(&format!("{TOMORROW} : Géographie</li>"))
            && !to_do(&home).contains("Histoire-géographie"),
        "the home page after the edit: {}",
        to_do(&home)
    );
    let due = page(&pupil, "/devoirs").await;
    let item = due_item(&due, id).unwrap_or_else(|| panic!("not in /devoirs: {due}"));
    assert!(
        item.contains("Colorier les bassins des fleuves.")
            && !item.contains("Compléter la carte")
            && item.contains("Géographie")
            && !item.contains("Histoire-géographie"),
        "/devoirs after the edit: {item}"
    );

    // Moved to Thursday: the day changes at once.
    see_other(
        teacher
            .post_form(
                &format!("/cahier/seances/{id}/modifier"),
                &lesson(
                    "Géographie",
                    "Colorier les bassins des fleuves.",
                    "2026-09-03",
                    "",
                ),
            )
            .await,
        "moving the due date",
    )
    .await;
    let home = page(&pupil, "/").await;
    assert!(
        to_do(&home).contains("Pour jeudi 3 septembre</strong> : Géographie</li>")
            && !to_do(&home).contains("(demain)"),
        "the home page after the new due date: {}",
        to_do(&home)
    );

    // Deleted: gone at once.
    see_other(
        teacher
            .post_form(&format!("/cahier/seances/{id}/supprimer"), &[])
            .await,
        "deleting the lesson",
    )
    .await;
    let home = page(&pupil, "/").await;
    assert!(
        !to_do(&home).contains("Géographie")
            && to_do(&home).contains("Rien à faire pour les deux prochaines semaines."),
        "the home page after the delete: {}",
        to_do(&home)
    );
    let due = page(&pupil, "/devoirs").await;
    assert!(
        due_item(&due, id).is_none() && !due.contains("Colorier les bassins"),
        "/devoirs after the delete: {due}"
    );
}

#[tokio::test]
async fn group_homework_shows_at_once_to_its_members() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let g = seed_groups(&t, &f).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    // Both pupils are in the Latin group, from two classes.
    let pupil_a = t.signed_in(f.login("pupil_a")).await;
    let pupil_b = t.signed_in(f.login("pupil_b")).await;
    for p in [&pupil_a, &pupil_b] {
        assert!(!to_do(&page(p, "/").await).contains("Latin"));
        page(p, "/devoirs").await;
    }
    let id = write_lesson(
        &teacher,
        &format!("/cahier/groupes/{}", g.latin.0),
        &lesson("Latin", "Décliner rosa, rosae.", "2026-09-02", ""),
    )
    .await;
    for (who, p) in [("pupil_a", &pupil_a), ("pupil_b", &pupil_b)] {
        let home = page(p, "/").await;
        assert!(
            to_do(&home).contains(&format!("{TOMORROW} : Latin</li>")),
            "{who}'s home: {}",
            to_do(&home)
        );
        let due = page(p, "/devoirs").await;
        assert!(
            due_item(&due, id).is_some_and(|i| i.contains("Décliner rosa, rosae.")),
            "{who}'s /devoirs: {due}"
        );
    }
    see_other(
        teacher
            .post_form(&format!("/cahier/seances/{id}/supprimer"), &[])
            .await,
        "deleting the group's lesson",
    )
    .await;
    for (who, p) in [("pupil_a", &pupil_a), ("pupil_b", &pupil_b)] {
        assert!(
            !to_do(&page(p, "/").await).contains("Latin"),
            "{who} still sees the deleted group homework"
        );
        assert!(due_item(&page(p, "/devoirs").await, id).is_none(), "{who}");
    }
}

#[tokio::test]
async fn homework_scheduled_for_later_is_not_shown_before_its_day() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let class = format!("/cahier/classes/{}", f.class_a.0);
    page(&pupil, "/").await;
    page(&pupil, "/devoirs").await;

    // Published from 3 September, due on the 4th; and one published now, so
    // that the page is known to have been read again after the writes.
    let scheduled = write_lesson(
        &teacher,
        &class,
        &lesson(
            "Sciences de la vie et de la Terre",
            "Réviser la cellule.",
            "2026-09-04",
            "2026-09-03",
        ),
    )
    .await;
    write_lesson(
        &teacher,
        &class,
        &lesson("Anglais", "Apprendre les jours.", "2026-09-02", ""),
    )
    .await;
    let home = page(&pupil, "/").await;
    assert!(
        to_do(&home).contains(&format!("{TOMORROW} : Anglais</li>")),
        "the lesson published now: {}",
        to_do(&home)
    );
    assert!(
        !home.contains("Sciences de la vie"),
        "the scheduled homework is on the home page before its day: {}",
        to_do(&home)
    );
    let due = page(&pupil, "/devoirs").await;
    assert!(
        due_item(&due, scheduled).is_none() && !due.contains("Réviser la cellule."),
        "the scheduled homework is in /devoirs before its day: {due}"
    );

    // On its day (2 September, 23:00 Paris: not yet; 3 September: there).
    t.clock.advance(DAY + 20 * 3600);
    assert!(!page(&pupil, "/").await.contains("Sciences de la vie"));
    t.clock.advance(2 * 3600);
    let home = page(&pupil, "/").await;
    assert!(
        to_do(&home).contains(
            "Pour vendredi 4 septembre (demain)</strong> : Sciences de la vie et de la Terre</li>"
        ),
        "on its publication day: {}",
        to_do(&home)
    );
}

#[tokio::test]
async fn ticking_homework_done_shows_at_once_on_the_home_page() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let class = format!("/cahier/classes/{}", f.class_a.0);
    let id = write_lesson(
        &teacher,
        &class,
        &lesson("Mathématiques", "Exercices 4 et 5.", "2026-09-02", ""),
    )
    .await;
    let other = write_lesson(
        &teacher,
        &class,
        &lesson("Anglais", "Apprendre les jours.", "2026-09-02", ""),
    )
    .await;
    let home = page(&pupil, "/").await;
    assert!(
        to_do(&home).contains(&format!("{TOMORROW} : Anglais, Mathématiques</li>")),
        "{}",
        to_do(&home)
    );

    let r = pupil
        .post_form(&format!("/devoirs/{id}/fait"), &[("fait", "1")])
        .await;
    assert_eq!(header(&r, "location"), format!("/devoirs#l{id}"));
    let home = page(&pupil, "/").await;
    assert!(
        to_do(&home).contains(&format!("{TOMORROW} : Anglais, Mathématiques (fait)</li>")),
        "ticked: {}",
        to_do(&home)
    );
    let due = page(&pupil, "/devoirs").await;
    assert!(due_item(&due, id).is_some_and(|i| i.contains(">fait</span>")));
    assert!(due_item(&due, other).is_some_and(|i| !i.contains(">fait</span>")));

    let r = pupil
        .post_form(&format!("/devoirs/{id}/fait"), &[("fait", "0")])
        .await;
    assert_eq!(header(&r, "location"), format!("/devoirs#l{id}"));
    let home = page(&pupil, "/").await;
    assert!(
        to_do(&home).contains(&format!("{TOMORROW} : Anglais, Mathématiques</li>"))
            && !to_do(&home).contains("(fait)"),
        "unticked: {}",
        to_do(&home)
    );
}

// ---------------------------------------------------------------------------
// News

#[tokio::test]
async fn school_news_published_and_deleted_shows_at_once() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let staff = t.signed_in(f.login("staff")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let title = "Fermeture exceptionnelle vendredi";
    assert!(!page(&pupil, "/").await.contains(title));

    let id = created(
        post_multipart(
            &staff,
            "/actualites",
            &[
                ("titre", title),
                ("texte", "Le collège sera fermé **vendredi**."),
                ("public", "school"),
                ("debut", ""),
                ("fin", ""),
            ],
        )
        .await,
        "/actualites/",
    )
    .await;
    let home = page(&pupil, "/").await;
    assert!(
        news_card(&home).contains(&format!("<a href=\"/actualites/{id}\">{title}</a>")),
        "published: {home}"
    );

    // A second item, then the first deleted: the card follows each at once.
    let second = "Photo de classe";
    let id2 = created(
        post_multipart(
            &staff,
            "/actualites",
            &[
                ("titre", second),
                ("texte", "Pensez à la tenue."),
                ("public", "pupils"),
                ("debut", ""),
                ("fin", ""),
            ],
        )
        .await,
        "/actualites/",
    )
    .await;
    let home = page(&pupil, "/").await;
    assert!(news_card(&home).contains(&format!("<a href=\"/actualites/{id2}\">{second}</a>")));
    assert!(news_card(&home).contains(title));

    see_other(
        staff
            .post_form(&format!("/actualites/{id}/supprimer"), &[])
            .await,
        "deleting the news",
    )
    .await;
    let home = page(&pupil, "/").await;
    assert!(
        !home.contains(title) && news_card(&home).contains(second),
        "deleted: {}",
        news_card(&home)
    );
    see_other(
        staff
            .post_form(&format!("/actualites/{id2}/supprimer"), &[])
            .await,
        "deleting the second news",
    )
    .await;
    let home = page(&pupil, "/").await;
    assert!(
        !home.contains(second) && !home.contains("id=\"actus\""),
        "both deleted: {}",
        news_card(&home)
    );
}

// ---------------------------------------------------------------------------
// Roster

/// Uploads a roster file to the preview step, then applies it.
async fn import(admin: &TestClient, name: &str, csv: &str) {
    let form = Form::new()
        .text("csrf", admin.csrf().await)
        .text("kind", "")
        .part(
            "file",
            Part::bytes(csv.as_bytes().to_vec()).file_name(name.to_string()),
        );
    let r = admin
        .http
        .post(format!("{}/admin/import", admin.base))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    let status = r.status().as_u16();
    let preview = r.text().await.unwrap_or_default();
    assert_eq!(status, 200, "{preview}");
    let start = preview
        .find("/admin/import/")
        .unwrap_or_else(|| panic!("no apply form: {preview}"))
        + "/admin/import/".len();
    let draft = preview[start..].split('/').next().unwrap();
    let r = admin
        .post_form(&format!("/admin/import/{draft}/appliquer"), &[])
        .await;
    let status = r.status().as_u16();
    let done = r.text().await.unwrap_or_default();
    assert_eq!(status, 200, "{done}");
    assert!(done.contains("Import terminé"), "{done}");
}

#[tokio::test]
async fn a_teacher_imported_into_the_class_shows_at_once_on_the_pupils_home() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let admin = t.signed_in(f.login("admin")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let home = page(&pupil, "/").await;
    let before = my_teachers(&home);
    assert!(before.contains("Camille Tango"), "{before}");
    assert!(!before.contains("Zoé Victor"), "{before}");

    import(
        &admin,
        "profs.csv",
        "Nom;Prénom;Discipline;Classe\nVictor;Zoé;Anglais;6e A\n",
    )
    .await;
    let home = page(&pupil, "/").await;
    let after = my_teachers(&home);
    assert!(
        after.contains("Zoé Victor</a> — Anglais") && after.contains("Camille Tango"),
        "after the import: {after}"
    );
    // And the pupil may write to the new teacher at once.
    let victor = t
        .app
        .store
        .people(f.school_a, Some(cartable_domain::Role::Teacher))
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.last_name == "Victor")
        .expect("the imported teacher")
        .id;
    assert!(
        offers(&page(&pupil, "/messages/nouveau").await, victor),
        "the compose page after the import"
    );
}

#[tokio::test]
async fn a_disabled_teacher_leaves_the_pupils_recipients_at_once_and_comes_back() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let admin = t.signed_in(f.login("admin")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let teacher = f.id("teacher_a");
    let staff = f.id("staff");
    let compose = page(&pupil, "/messages/nouveau").await;
    assert!(offers(&compose, teacher), "the pupil's teacher: {compose}");
    assert!(offers(&compose, staff), "the staff: {compose}");

    see_other(
        admin
            .post_form(&format!("/admin/personnes/{teacher}/desactiver"), &[])
            .await,
        "disabling the teacher",
    )
    .await;
    let compose = page(&pupil, "/messages/nouveau").await;
    assert!(
        !offers(&compose, teacher) && !compose.contains("Camille Tango"),
        "the disabled teacher is still offered: {compose}"
    );
    assert!(offers(&compose, staff), "the staff still: {compose}");

    see_other(
        admin
            .post_form(&format!("/admin/personnes/{teacher}/reactiver"), &[])
            .await,
        "enabling the teacher again",
    )
    .await;
    let compose = page(&pupil, "/messages/nouveau").await;
    assert!(
        offers(&compose, teacher),
        "the enabled teacher is not offered: {compose}"
    );
}

// ---------------------------------------------------------------------------
// Messages

#[tokio::test]
async fn a_message_to_the_pupil_counts_at_once_and_reading_it_clears_the_count() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let home = page(&pupil, "/").await;
    assert!(
        unread_line(&home).contains("Messages : rien de nouveau"),
        "{}",
        unread_line(&home)
    );

    let pupil_id = f.id("pupil_a").to_string();
    let first = created(
        post_multipart(
            &teacher,
            "/messages",
            &[
                ("objet", "Sortie au musée"),
                ("message", "N'oublie pas l'autorisation."),
                ("personne", &pupil_id),
            ],
        )
        .await,
        "/messages/",
    )
    .await;
    let home = page(&pupil, "/").await;
    assert!(
        unread_line(&home).contains("<strong>1</strong> conversation non lue"),
        "one message: {}",
        unread_line(&home)
    );
    let second = created(
        post_multipart(
            &teacher,
            "/messages",
            &[
                ("objet", "Cahier oublié"),
                ("message", "Ton cahier est en salle 12."),
                ("personne", &pupil_id),
            ],
        )
        .await,
        "/messages/",
    )
    .await;
    let home = page(&pupil, "/").await;
    assert!(
        unread_line(&home).contains("<strong>2</strong> conversations non lues"),
        "two messages: {}",
        unread_line(&home)
    );

    assert!(page(&pupil, &format!("/messages/{first}"))
        .await
        .contains("N'oublie pas l'autorisation."));
    let home = page(&pupil, "/").await;
    assert!(
        unread_line(&home).contains("<strong>1</strong> conversation non lue"),
        "one read: {}",
        unread_line(&home)
    );
    assert!(page(&pupil, &format!("/messages/{second}"))
        .await
        .contains("Ton cahier est en salle 12."));
    let home = page(&pupil, "/").await;
    assert!(
        unread_line(&home).contains("Messages : rien de nouveau"),
        "both read: {}",
        unread_line(&home)
    );
}

// ---------------------------------------------------------------------------
// Writes during reads

/// A pupil's page that misses the memory reads the database, then
/// remembers what it read. If a lesson is written and the memory forgotten in
/// between, the old list is remembered after the forget, and shown until it
/// ages (`DAILY_TTL_SECS`, 15 s; for ever here, the clock does not move).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn homework_written_while_pupils_load_their_pages_is_shown_after_the_write() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let other_teacher = Arc::new(t.signed_in(f.login("teacher_b")).await);
    let mut readers = Vec::new();
    for i in 0..4 {
        let (_, login) = add_person(
            &t,
            &f,
            cartable_domain::Role::Pupil,
            "Élève",
            &format!("Lecteur{i}"),
            Some(f.class_a),
            None,
        )
        .await;
        readers.push(Arc::new(t.signed_in(&login).await));
    }
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let class_a = format!("/cahier/classes/{}", f.class_a.0);
    let class_b = Arc::new(format!("/cahier/classes/{}", f.class_b.0));
    // The first round whose homework is missing once everything answered:
    // (round, lesson id, what the node's memory shows once it has aged).
    let mut stale = None;
    for round in 0..ROUNDS {
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for r in &readers {
            let (r, stop) = (r.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    r.get_text("/devoirs").await;
                }
            }));
        }
        {
            // Another class's lessons: each write makes the node forget the
            // school's homework, so that the readers read it again.
            let (c, stop, path) = (other_teacher.clone(), stop.clone(), class_b.clone());
            tasks.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    write_lesson(&c, &path, &lesson("Musique", "Chanter.", "2026-09-02", "")).await;
                }
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let homework = format!("Travail numéro {round}.");
        let id = write_lesson(
            &teacher,
            &class_a,
            &lesson("Français", &homework, "2026-09-02", ""),
        )
        .await;
        stop.store(true, Ordering::Relaxed);
        for task in tasks {
            task.await.expect("reader");
        }
        // Everything has answered, and the write answered before the last
        // reads: its homework must be on the page.
        let due = page(&pupil, "/devoirs").await;
        if due_item(&due, id).is_none() {
            let stored = t.app.store.lesson(f.school_a, id).await.unwrap();
            assert!(stored.is_some(), "round {round}: lesson {id} not stored");
            // Once the memory has aged past its time to live, it is there.
            t.clock.advance(15);
            let aged = due_item(&page(&pupil, "/devoirs").await, id).is_some();
            stale = Some((round, id, aged));
            break;
        }
    }
    assert!(
        stale.is_none(),
        "homework written while pupils' pages were being read is missing from /devoirs after \
         the write answered (round, lesson id, shown once the memory aged 15 s): {stale:?}"
    );
}

/// Rounds of the race above (each about 60 ms).
const ROUNDS: usize = 150;
