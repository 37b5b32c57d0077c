//! Messaging, school news and the liaison book through the real server: who
//! sees and does what (an access matrix written out by hand from the rules),
//! who may write to whom, and an XSS corpus posted into every text field and
//! looked for on every page that shows it.
//!
//! As in `access_matrix.rs`, the expectations are data, never computed by
//! calling the code under test, and every mismatch is reported at once.
//!
//! Outcomes:
//! - `A` allowed: 200 for pages and downloads; for a POST, a 303 to where that
//!   action leads (the thread, the note, the news list, the rules page);
//! - `F` forbidden: 403 with `X-Cartable-Error: forbidden` (the person may
//!   know the thing exists, but may not do this);
//! - `N` not found: 404 with `X-Cartable-Error: not_found` (a thread one is not
//!   in, news one is not in the audience of, a note that does not concern one,
//!   anything of another school: existence does not leak);
//! - `L` login: a 303 to `/connexion…` (anonymous browser).
//!
//! Rules the tables come from (DESIGN.md "Security model", issue 4,
//! `cartable_domain::messaging`):
//! - a thread is seen, answered and its files downloaded by its members only
//!   (not even the school office reads other people's mail);
//! - news: the audience only; staff and admins see all of their school's news,
//!   scheduled ones included; a scheduled item is seen by nobody else;
//!   "classes" = pupils, parents and teachers of those classes; "staff" =
//!   teachers and staff;
//! - a liaison note: the parents of the pupils it concerns, those pupils (read
//!   only), its author, the school office (staff, admin); signing: concerned
//!   parents only; reminding: the author, staff, admin;
//! - publishing news: staff and admins; writing a note: teachers, staff and
//!   admins; the messaging rules and the senders' figures: the school admin
//!   ("an admin can adjust", "the admin can see and disable it");
//! - another school: 404, always.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use cartable_app::auth::ClientInfo;
use cartable_app::markdown::{looks_dangerous, XSS_CORPUS};
use cartable_domain::messaging::MessagingRules;
use cartable_domain::{ClassId, SchoolId, UserId};
use cartable_store::{NewAttachment, NewNews, NewNote};
use cartable_testkit::matrix::*;
use cartable_testkit::reqwest::multipart::{Form, Part};
use cartable_testkit::reqwest::{Response, StatusCode};
use cartable_testkit::*;

// ---------------------------------------------------------------------------
// Outcomes and reporting (same conventions as access_matrix.rs)

/// Reads a response as one of the four outcomes, or describes it when it is
/// none of them. `allowed_redirect` says which 303 targets mean "done".
fn classify(resp: &Response, allowed_redirect: &dyn Fn(&str) -> bool) -> Result<Outcome, String> {
    let status = resp.status();
    let location = header(resp, "location");
    let code = header(resp, "x-cartable-error");
    let describe = || format!("{status} (x-cartable-error: {code:?}, location: {location:?})");
    match status {
        StatusCode::OK => Ok(Outcome::Allowed),
        StatusCode::SEE_OTHER if location.starts_with("/connexion") => Ok(Outcome::Login),
        StatusCode::SEE_OTHER if allowed_redirect(&location) => Ok(Outcome::Allowed),
        StatusCode::FORBIDDEN if code == "forbidden" => Ok(Outcome::Forbidden),
        StatusCode::NOT_FOUND if code == "not_found" => Ok(Outcome::NotFound),
        _ => Err(describe()),
    }
}

fn no_redirect(_: &str) -> bool {
    false
}

// ---------------------------------------------------------------------------
// Helpers: multipart posts, ids, counts

/// A small but real PDF header: sniffed as `application/pdf`.
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// Posts a multipart form as the pages do: the CSRF token first, then the
/// text fields, then the files (all in the field `fichier`). File names are
/// sent as typed (no percent-encoding), as browsers do.
async fn post_multipart(
    c: &TestClient,
    path: &str,
    texts: &[(&str, &str)],
    files: &[(&str, &[u8])],
) -> Response {
    let token = c.csrf().await;
    let mut form = Form::new().percent_encode_noop().text("csrf", token);
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

/// The id in a `Location: {prefix}{id}[#…]`.
fn id_in_location(resp: &Response, prefix: &str) -> Option<i64> {
    let loc = header(resp, "location");
    let rest = loc.strip_prefix(prefix)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn describe(resp: &Response) -> String {
    format!(
        "{} (x-cartable-error: {:?}, location: {:?})",
        resp.status(),
        header(resp, "x-cartable-error"),
        header(resp, "location")
    )
}

fn school_of_key(f: &Fixture, key: &str) -> SchoolId {
    if key.starts_with("other_") {
        f.school_b
    } else {
        f.school_a
    }
}

/// Every message ever written by these people (a new thread has one).
async fn messages_total(t: &TestApp, people: &[UserId]) -> i64 {
    let mut n = 0;
    for id in people {
        n += t.app.store.messages_sent_since(*id, 0).await.unwrap();
    }
    n
}

/// How many (person, thread) memberships these people have, as their inboxes show.
async fn inbox_total(t: &TestApp, people: &[(SchoolId, UserId)]) -> usize {
    let mut n = 0;
    for (school, id) in people {
        n += t
            .app
            .store
            .threads_of(*school, *id, None, 10_000)
            .await
            .unwrap()
            .len();
    }
    n
}

fn fixture_people(f: &Fixture) -> Vec<(SchoolId, UserId)> {
    f.people
        .iter()
        .map(|(k, id, _)| (school_of_key(f, k), *id))
        .collect()
}

fn fixture_ids(f: &Fixture) -> Vec<UserId> {
    f.people.iter().map(|(_, id, _)| *id).collect()
}

/// A file put straight into the blob store (for content created without HTTP).
async fn stored_file(t: &TestApp, name: &str, bytes: &[u8]) -> NewAttachment {
    let mut w = t.app.blobs.create(1 << 20).await.expect("blob writer");
    w.write(bytes).await.expect("blob write");
    let meta = w.finish().await.expect("blob finish");
    NewAttachment {
        blob_key: meta.key,
        file_name: name.to_string(),
        content_type: meta.content_type,
        size: meta.size as i64,
        sha256: meta.sha256,
    }
}

/// Adds pupils of 6e A through the roster importer; returns (id, login) of each.
async fn import_pupils(t: &TestApp, f: &Fixture, lines: &[(&str, &str)]) -> Vec<(UserId, String)> {
    let mut csv = String::from("Nom;Prénom;Date de naissance;Classe\n");
    for (last, first) in lines {
        csv.push_str(&format!("{last};{first};01/02/2013;6e A\n"));
    }
    let plan = t
        .app
        .plan_roster(f.school_a, csv.as_bytes(), None)
        .await
        .expect("roster plan");
    let applied = t
        .app
        .apply_roster_plan(f.school_a, &plan, None, &ClientInfo::default())
        .await
        .expect("roster apply");
    assert_eq!(
        applied.created.len(),
        lines.len(),
        "every imported line creates a pupil: {plan:?}"
    );
    for (_, login) in &applied.created {
        t.app
            .set_password_directly(login, PASSWORD)
            .await
            .expect("password");
    }
    applied.created
}

fn fold_title(raw: &str) -> String {
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// News as the staff's form sends it.
struct NewsSpec<'a> {
    title: &'a str,
    body: &'a str,
    /// `school`, `pupils`, `parents`, `staff` or `classes`.
    public: &'a str,
    classes: Vec<ClassId>,
    /// `yyyy-mm-dd` or empty (now).
    debut: &'a str,
    /// The same date in Unix seconds, for the store fallback.
    from: Option<i64>,
}

/// Publishes news through `POST /actualites` as `client` (the staff). When
/// the product refuses, the refusal is recorded in `problems` and the item is
/// created through the store instead, so that the tests that need it still run.
async fn publish_news(
    t: &TestApp,
    client: &TestClient,
    author: UserId,
    spec: &NewsSpec<'_>,
    files: &[(&str, &[u8])],
    problems: &mut Vec<Mismatch>,
) -> i64 {
    let class_values: Vec<String> = spec.classes.iter().map(|c| c.0.to_string()).collect();
    let mut texts: Vec<(&str, &str)> = vec![
        ("titre", spec.title),
        ("texte", spec.body),
        ("public", spec.public),
        ("debut", spec.debut),
        ("fin", ""),
    ];
    for c in &class_values {
        texts.push(("classe", c));
    }
    let resp = post_multipart(client, "/actualites", &texts, files).await;
    if resp.status() == StatusCode::SEE_OTHER {
        if let Some(id) = id_in_location(&resp, "/actualites/") {
            return id;
        }
    }
    problems.push(Mismatch {
        route: format!("POST /actualites (public={})", spec.public),
        actor: "staff".into(),
        expected: "303 /actualites/{id}".into(),
        got: describe(&resp),
    });
    let actor = t.app.store.actor(author).await.unwrap().unwrap();
    let mut attachments = Vec::new();
    for (name, bytes) in files {
        attachments.push(stored_file(t, name, bytes).await);
    }
    let body = spec.body.trim();
    t.app
        .store
        .create_news(&NewNews {
            school_id: actor.school_id.unwrap(),
            author_id: author,
            title: fold_title(spec.title),
            body_md: body.to_string(),
            body_html: cartable_app::markdown::render(body),
            audience: spec.public.to_string(),
            classes: spec.classes.clone(),
            publish_from: spec.from.unwrap_or_else(|| t.app.now()),
            publish_until: None,
            attachments,
            now: t.app.now(),
        })
        .await
        .expect("news through the store")
}

/// A liaison note as the teacher's form sends it, with the same fallback as
/// [`publish_news`]. `pupils` are the pupils of `class` (for the fallback).
#[allow(clippy::too_many_arguments)]
async fn send_note(
    t: &TestApp,
    client: &TestClient,
    author: UserId,
    class: ClassId,
    title: &str,
    body: &str,
    files: &[(&str, &[u8])],
    problems: &mut Vec<Mismatch>,
) -> i64 {
    let class_value = class.0.to_string();
    let resp = post_multipart(
        client,
        "/carnet",
        &[("titre", title), ("texte", body), ("classe", &class_value)],
        files,
    )
    .await;
    if resp.status() == StatusCode::SEE_OTHER {
        if let Some(id) = id_in_location(&resp, "/carnet/") {
            return id;
        }
    }
    problems.push(Mismatch {
        route: "POST /carnet (classe = own class)".into(),
        actor: "teacher_a".into(),
        expected: "303 /carnet/{id}".into(),
        got: describe(&resp),
    });
    let actor = t.app.store.actor(author).await.unwrap().unwrap();
    let school = actor.school_id.unwrap();
    let pupils = t
        .app
        .store
        .class_pupils(school, class)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    let mut attachments = Vec::new();
    for (name, bytes) in files {
        attachments.push(stored_file(t, name, bytes).await);
    }
    let body = body.trim();
    t.app
        .store
        .create_note(&NewNote {
            school_id: school,
            author_id: author,
            title: fold_title(title),
            body_md: body.to_string(),
            body_html: cartable_app::markdown::render(body),
            pupils,
            attachments,
            now: t.app.now(),
        })
        .await
        .expect("note through the store")
}

// ---------------------------------------------------------------------------
// 1. The access matrix

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Req {
    /// A page or a download.
    Get,
    /// `POST /messages/{id}/repondre` (multipart, a short answer).
    Reply,
    /// `POST /carnet/{id}/signer`.
    Sign,
    /// `POST /carnet/{id}/relancer`.
    Remind,
    /// `POST /admin/messagerie` with a set of rules that differs from the default.
    Rules,
    /// `POST /actualites/{id}/supprimer` on a throw-away item made for the cell.
    Delete,
}

impl Req {
    fn method(self) -> &'static str {
        match self {
            Req::Get => "GET",
            _ => "POST",
        }
    }
}

// Setup (school A): teacher_a writes to "eleves:6e A" + "parents:6e A" with a
// PDF, so the thread's members are teacher_a, pupil_a and parent_a. The staff
// publishes five news items with a PDF each: to the school, to parents, to
// the class 6e B, to teachers and staff, and one to the school scheduled for
// 2099. teacher_a writes a liaison note to 6e A (pupil_a; parent_a signs).
#[rustfmt::skip]
const MATRIX: &[(Req, &str, [Outcome; 10])] = &[
    //                                                        anon pupil_a pupil_b parent_a parent_b teacher_a teacher_b staff admin other_admin
    // The thread: its members only; everybody else 404, the office included.
    (Req::Get,    "/messages/{thread}",                       [L,   A,      N,      A,       N,       A,        N,        N,    N,    N]),
    (Req::Reply,  "/messages/{thread}/repondre",              [L,   A,      N,      A,       N,       A,        N,        N,    N,    N]),
    (Req::Get,    "/pieces-jointes/{thread_file}",            [L,   A,      N,      A,       N,       A,        N,        N,    N,    N]),
    // News: the audience, plus the school's staff and admins.
    (Req::Get,    "/actualites/{news_school}",                [L,   A,      A,      A,       A,       A,        A,        A,    A,    N]),
    (Req::Get,    "/pieces-jointes/{news_school_file}",       [L,   A,      A,      A,       A,       A,        A,        A,    A,    N]),
    (Req::Get,    "/actualites/{news_parents}",               [L,   N,      N,      A,       A,       N,        N,        A,    A,    N]),
    (Req::Get,    "/pieces-jointes/{news_parents_file}",      [L,   N,      N,      A,       A,       N,        N,        A,    A,    N]),
    (Req::Get,    "/actualites/{news_class_b}",               [L,   N,      A,      N,       A,       N,        A,        A,    A,    N]),
    (Req::Get,    "/pieces-jointes/{news_class_b_file}",      [L,   N,      A,      N,       A,       N,        A,        A,    A,    N]),
    (Req::Get,    "/actualites/{news_staff}",                 [L,   N,      N,      N,       N,       A,        A,        A,    A,    N]),
    (Req::Get,    "/pieces-jointes/{news_staff_file}",        [L,   N,      N,      N,       N,       A,        A,        A,    A,    N]),
    (Req::Get,    "/actualites/{news_future}",                [L,   N,      N,      N,       N,       N,        N,        A,    A,    N]),
    (Req::Get,    "/pieces-jointes/{news_future_file}",       [L,   N,      N,      N,       N,       N,        N,        A,    A,    N]),
    // The note: concerned family (the pupil read only), its author, the office.
    (Req::Get,    "/carnet/{note}",                           [L,   A,      N,      A,       N,       A,        N,        A,    A,    N]),
    (Req::Get,    "/pieces-jointes/{note_file}",              [L,   A,      N,      A,       N,       A,        N,        A,    A,    N]),
    // Signing: concerned parents only. Those who may read the note but not
    // sign it are refused (403, as everywhere else in Cartable: the note's
    // existence is no secret to them); for the others it does not exist (404).
    // (messaging_http.rs asserts 404 for the pupil: one of the two must change.)
    (Req::Sign,   "/carnet/{note}/signer",                    [L,   F,      N,      A,       N,       F,        N,        F,    F,    N]),
    // Reminding: the author and the office; readers who may not remind get 403.
    (Req::Remind, "/carnet/{note}/relancer",                  [L,   F,      N,      F,       N,       A,        N,        A,    A,    N]),
    // The messaging rules and the senders' figures: the school admin.
    (Req::Get,    "/admin/messagerie",                        [L,   F,      F,      F,       F,       F,        F,        F,    A,    A]),
    (Req::Rules,  "/admin/messagerie",                        [L,   F,      F,      F,       F,       F,        F,        F,    A,    A]),
    // Publishing and deleting news: staff and admins of the news' school.
    (Req::Get,    "/actualites/nouvelle",                     [L,   F,      F,      F,       F,       F,        F,        A,    A,    A]),
    (Req::Delete, "/actualites/{throwaway}/supprimer",        [L,   F,      F,      F,       F,       F,        F,        A,    A,    N]),
    // Writing a note: teachers, staff, admins.
    (Req::Get,    "/carnet/nouveau",                          [L,   F,      F,      F,       F,       A,        A,        A,    A,    A]),
];

/// Replaces `{key}` placeholders with ids.
fn resolve(template: &str, ids: &HashMap<&'static str, i64>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').expect("closing brace") + start;
        out.push_str(&rest[..start]);
        let key = &rest[start + 1..end];
        let id = ids
            .get(key)
            .unwrap_or_else(|| panic!("no id for {{{key}}}"));
        out.push_str(&id.to_string());
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Creates the matrix's content through the forms (falling back to the store
/// when the product refuses a legitimate action, which is then reported).
async fn matrix_content(
    t: &TestApp,
    f: &Fixture,
    problems: &mut Vec<Mismatch>,
) -> HashMap<&'static str, i64> {
    let mut ids = HashMap::new();
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let staff = t.signed_in(f.login("staff")).await;

    // The thread, to the class and its parents in one go.
    let pupils_a = format!("eleves:{}", f.class_a.0);
    let parents_a = format!("parents:{}", f.class_a.0);
    let resp = post_multipart(
        &teacher,
        "/messages",
        &[
            ("objet", "Sortie au musée"),
            ("message", "Départ à 8 h 30 devant le collège."),
            ("groupe", &pupils_a),
            ("groupe", &parents_a),
        ],
        &[("autorisation.pdf", PDF)],
    )
    .await;
    assert_eq!(
        resp.status(),
        StatusCode::SEE_OTHER,
        "teacher_a writes to 6e A and its parents: {}",
        describe(&resp)
    );
    let thread = id_in_location(&resp, "/messages/").expect("thread id");
    let view = t
        .app
        .store
        .thread_for_member(f.school_a, thread, f.id("teacher_a"))
        .await
        .unwrap()
        .expect("the author is a member");
    let members: BTreeSet<UserId> = view.members.iter().map(|m| m.id).collect();
    let expected: BTreeSet<UserId> = ["teacher_a", "pupil_a", "parent_a"]
        .iter()
        .map(|k| f.id(k))
        .collect();
    assert_eq!(members, expected, "the thread's members");
    ids.insert("thread", thread);
    ids.insert("thread_file", view.messages[0].attachments[0].id);

    // The news items.
    let staff_id = f.id("staff");
    let specs: [(&'static str, &'static str, NewsSpec<'_>); 5] = [
        (
            "news_school",
            "news_school_file",
            NewsSpec {
                title: "Rentrée : horaires",
                body: "Les cours commencent à 8 h.",
                public: "school",
                classes: Vec::new(),
                debut: "",
                from: None,
            },
        ),
        (
            "news_parents",
            "news_parents_file",
            NewsSpec {
                title: "Réunion des parents",
                body: "Jeudi à 18 h.",
                public: "parents",
                classes: Vec::new(),
                debut: "",
                from: None,
            },
        ),
        (
            "news_class_b",
            "news_class_b_file",
            NewsSpec {
                title: "6e B : sortie piscine",
                body: "Prévoir un bonnet.",
                public: "classes",
                classes: vec![f.class_b],
                debut: "",
                from: None,
            },
        ),
        (
            "news_staff",
            "news_staff_file",
            NewsSpec {
                title: "Conseil pédagogique",
                body: "Salle des professeurs, mardi.",
                public: "staff",
                classes: Vec::new(),
                debut: "",
                from: None,
            },
        ),
        (
            "news_future",
            "news_future_file",
            NewsSpec {
                title: "Annonce programmée",
                body: "Pas encore publiée.",
                public: "school",
                classes: Vec::new(),
                debut: "2099-01-01",
                from: Some(4_070_908_800),
            },
        ),
    ];
    for (key, file_key, spec) in &specs {
        let id = publish_news(
            t,
            &staff,
            staff_id,
            spec,
            &[("document.pdf", PDF)],
            problems,
        )
        .await;
        let row = t
            .app
            .store
            .news_item(f.school_a, id)
            .await
            .unwrap()
            .expect("news stored");
        assert_eq!(row.audience, spec.public, "{key}: audience stored");
        ids.insert(*key, id);
        ids.insert(*file_key, row.attachments[0].id);
    }

    // The note.
    let note = send_note(
        t,
        &teacher,
        f.id("teacher_a"),
        f.class_a,
        "Photo de classe",
        "Merci de signer avant vendredi.",
        &[("bon-de-commande.pdf", PDF)],
        problems,
    )
    .await;
    let row = t
        .app
        .store
        .note(f.school_a, note)
        .await
        .unwrap()
        .expect("note stored");
    ids.insert("note", note);
    ids.insert("note_file", row.attachments[0].id);
    ids
}

/// The parents who signed a note.
async fn signatures(t: &TestApp, f: &Fixture, note: i64) -> BTreeSet<UserId> {
    t.app
        .store
        .note_status(f.school_a, note)
        .await
        .unwrap()
        .into_iter()
        .flat_map(|s| s.parents)
        .filter(|(_, at)| at.is_some())
        .map(|(p, _)| p.id)
        .collect()
}

fn changed_rules() -> MessagingRules {
    MessagingRules {
        pupils_to_teachers: true,
        pupils_to_staff: false,
        pupils_to_classmates: true,
        parents_to_teachers: true,
        parents_to_staff: false,
        parents_to_parents: true,
    }
}

/// Runs one cell; returns the outcome, or what went wrong (including a
/// response that says one thing while the database says another).
async fn run_cell(
    t: &TestApp,
    f: &Fixture,
    ids: &mut HashMap<&'static str, i64>,
    req: Req,
    template: &str,
    actor: Option<&str>,
    client: &TestClient,
) -> Result<Outcome, String> {
    let me = actor.map(|k| f.id(k));
    let everyone = fixture_ids(f);
    match req {
        Req::Get => {
            let path = resolve(template, ids);
            classify(&client.get(&path).await, &no_redirect)
        }
        Req::Reply => {
            let path = resolve(template, ids);
            let before = messages_total(t, &everyone).await;
            let resp =
                post_multipart(client, &path, &[("message", "Bien reçu, merci.")], &[]).await;
            let got = classify(&resp, &|l: &str| {
                l.starts_with("/messages/") && l.ends_with("#fin")
            })?;
            let added = messages_total(t, &everyone).await - before;
            let want = i64::from(got == Outcome::Allowed);
            if added != want {
                return Err(format!("{got:?} but {added} message(s) were added"));
            }
            Ok(got)
        }
        Req::Sign => {
            let path = resolve(template, ids);
            let note = ids["note"];
            let before = signatures(t, f, note).await;
            let resp = client.post_form(&path, &[]).await;
            let back = format!("/carnet/{note}");
            let got = classify(&resp, &|l: &str| l == back)?;
            let after = signatures(t, f, note).await;
            let ok = match (got, me) {
                (Outcome::Allowed, Some(me)) => {
                    let mut want = before.clone();
                    want.insert(me);
                    after == want
                }
                _ => after == before,
            };
            if !ok {
                return Err(format!(
                    "{got:?} but the signatures went from {before:?} to {after:?}"
                ));
            }
            Ok(got)
        }
        Req::Remind => {
            let path = resolve(template, ids);
            let note = ids["note"];
            t.clock.advance(60);
            let before = t
                .app
                .store
                .note(f.school_a, note)
                .await
                .unwrap()
                .unwrap()
                .reminded_at;
            let resp = client.post_form(&path, &[]).await;
            let back = format!("/carnet/{note}");
            let got = classify(&resp, &|l: &str| l == back)?;
            let after = t
                .app
                .store
                .note(f.school_a, note)
                .await
                .unwrap()
                .unwrap()
                .reminded_at;
            let want = if got == Outcome::Allowed {
                Some(t.app.now())
            } else {
                before
            };
            if after != want {
                return Err(format!(
                    "{got:?} but reminded_at went from {before:?} to {after:?}"
                ));
            }
            Ok(got)
        }
        Req::Rules => {
            let resp = client
                .post_form(
                    template,
                    &[
                        ("pupils_to_teachers", "1"),
                        ("pupils_to_classmates", "1"),
                        ("parents_to_teachers", "1"),
                        ("parents_to_parents", "1"),
                    ],
                )
                .await;
            let got = classify(&resp, &|l: &str| l == "/admin/messagerie?ok=1");
            let a = t.app.store.messaging_rules(f.school_a).await.unwrap();
            let b = t.app.store.messaging_rules(f.school_b).await.unwrap();
            for school in [f.school_a, f.school_b] {
                t.app
                    .store
                    .set_messaging_rules(school, &MessagingRules::default(), t.app.now())
                    .await
                    .unwrap();
            }
            let got = got?;
            let own = actor.map(|k| school_of_key(f, k));
            let want = |school: SchoolId| {
                if got == Outcome::Allowed && own == Some(school) {
                    changed_rules()
                } else {
                    MessagingRules::default()
                }
            };
            if a != want(f.school_a) || b != want(f.school_b) {
                return Err(format!("{got:?} but the rules are now A: {a:?}, B: {b:?}"));
            }
            Ok(got)
        }
        Req::Delete => {
            let staff = f.id("staff");
            let item = t
                .app
                .store
                .create_news(&NewNews {
                    school_id: f.school_a,
                    author_id: staff,
                    title: "À supprimer".into(),
                    body_md: "x".into(),
                    body_html: "<p>x</p>".into(),
                    audience: "school".into(),
                    classes: Vec::new(),
                    publish_from: t.app.now(),
                    publish_until: None,
                    attachments: Vec::new(),
                    now: t.app.now(),
                })
                .await
                .unwrap();
            ids.insert("throwaway", item);
            let path = resolve(template, ids);
            let resp = client.post_form(&path, &[]).await;
            let got = classify(&resp, &|l: &str| l == "/actualites")?;
            let still_there = t
                .app
                .store
                .news_item(f.school_a, item)
                .await
                .unwrap()
                .is_some();
            t.app.store.delete_news(f.school_a, item).await.unwrap();
            if still_there == (got == Outcome::Allowed) {
                return Err(format!(
                    "{got:?} but the item is {}",
                    if still_there { "still there" } else { "gone" }
                ));
            }
            Ok(got)
        }
    }
}

#[tokio::test]
async fn messages_news_and_notes_answer_exactly_the_allowed_set() {
    let started = Instant::now();
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let mut mismatches = Vec::new();
    let mut ids = matrix_content(&t, &f, &mut mismatches).await;
    let setup_refusals = mismatches.len();

    let mut clients = Vec::new();
    for actor in ACTORS {
        let client = match actor {
            None => t.client(),
            Some(key) => t.signed_in(f.login(key)).await,
        };
        clients.push((actor, client));
    }

    let mut observed = Vec::new();
    for (req, template, expected_row) in MATRIX {
        let mut cells = Vec::new();
        for ((actor, client), expected) in clients.iter().zip(expected_row) {
            let got = run_cell(&t, &f, &mut ids, *req, template, *actor, client).await;
            cells.push(match &got {
                Ok(o) => o.to_string(),
                Err(_) => "?".to_string(),
            });
            if got.as_ref() != Ok(expected) {
                mismatches.push(Mismatch {
                    route: format!("{} {template}", req.method()),
                    actor: actor_label(*actor).to_string(),
                    expected: format!("{expected:?}"),
                    got: got.map_or_else(|e| e, |o| format!("{o:?}")),
                });
            }
        }
        observed.push((format!("{} {template}", req.method()), cells));
    }
    println!("{}", render_observed(&ACTORS, &observed));
    println!(
        "messaging matrix: {} cells in {:?}",
        MATRIX.len() * ACTORS.len(),
        started.elapsed()
    );
    if setup_refusals > 0 {
        println!(
            "{setup_refusals} legitimate setup action(s) were refused over HTTP and done through the store instead"
        );
    }
    assert!(
        mismatches.is_empty(),
        "{}",
        report("messaging/news/notes", &mismatches)
    );
}

// ---------------------------------------------------------------------------
// 1b. Who may write to whom

/// Sends a short message from `c` to these people and groups. Returns the
/// status, what it points to (the `X-Cartable-Error` code of a refusal, or
/// the `Location` of a success) and the page.
async fn send_as(
    c: &TestClient,
    people: &[UserId],
    groups: &[String],
) -> (StatusCode, String, String) {
    let people: Vec<String> = people.iter().map(|p| p.0.to_string()).collect();
    let mut texts: Vec<(&str, &str)> =
        vec![("objet", "Question"), ("message", "Bonjour, une question.")];
    for p in &people {
        texts.push(("personne", p));
    }
    for g in groups {
        texts.push(("groupe", g));
    }
    let resp = post_multipart(c, "/messages", &texts, &[]).await;
    let status = resp.status();
    let code = header(&resp, "x-cartable-error");
    let location = header(&resp, "location");
    let body = resp.text().await.unwrap_or_default();
    let pointer = if status == StatusCode::SEE_OTHER {
        location
    } else {
        code
    };
    (status, pointer, body)
}

#[tokio::test]
async fn recipients_follow_the_school_rules() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let classmate = import_pupils(&t, &f, &[("Charlie", "Zoé")]).await[0].0;
    let mut everyone = fixture_ids(&f);
    everyone.push(classmate);
    let mut people = fixture_people(&f);
    people.push((f.school_a, classmate));
    let mut wrong: Vec<String> = Vec::new();

    let pupil = t.signed_in(f.login("pupil_a")).await;
    let parent = t.signed_in(f.login("parent_a")).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let staff = t.signed_in(f.login("staff")).await;
    let admin = t.signed_in(f.login("admin")).await;
    let other_admin = t.signed_in(f.login("other_admin")).await;

    // Refusals the person can fix: 400, the form again with a French reason,
    // nothing written.
    let refused_400: Vec<(&str, &TestClient, Vec<UserId>)> = vec![
        (
            "pupil_a -> pupil_b (another class)",
            &pupil,
            vec![f.id("pupil_b")],
        ),
        (
            "pupil_a -> classmate (off by default)",
            &pupil,
            vec![classmate],
        ),
        (
            "pupil_a -> teacher_b (not their teacher)",
            &pupil,
            vec![f.id("teacher_b")],
        ),
        (
            "pupil_a -> teacher_a + pupil_b (one bad recipient spoils all)",
            &pupil,
            vec![f.id("teacher_a"), f.id("pupil_b")],
        ),
        ("pupil_a -> parent_a", &pupil, vec![f.id("parent_a")]),
        ("parent_a -> teacher_b", &parent, vec![f.id("teacher_b")]),
        ("parent_a -> parent_b", &parent, vec![f.id("parent_b")]),
        ("parent_a -> pupil_b", &parent, vec![f.id("pupil_b")]),
    ];
    for (what, client, to) in &refused_400 {
        let (m0, i0) = (
            messages_total(&t, &everyone).await,
            inbox_total(&t, &people).await,
        );
        let (status, code, body) = send_as(client, to, &[]).await;
        let (m1, i1) = (
            messages_total(&t, &everyone).await,
            inbox_total(&t, &people).await,
        );
        if status != StatusCode::BAD_REQUEST
            || !body.contains("class=\"error\"")
            || !body.contains("Vous ne pouvez pas écrire")
        {
            wrong.push(format!(
                "{what}: expected 400 with a French reason, got {status} {code}"
            ));
        }
        if (m1, i1) != (m0, i0) {
            wrong.push(format!(
                "{what}: something was written ({m0}->{m1} messages, {i0}->{i1} inbox rows)"
            ));
        }
    }

    // Groups one may not use: 403, nothing sent.
    let ga = |kind: &str| format!("{kind}:{}", f.class_a.0);
    let gb = |kind: &str| format!("{kind}:{}", f.class_b.0);
    let refused_403: Vec<(&str, &TestClient, Vec<String>)> = vec![
        ("parent_a -> group eleves:6e A", &parent, vec![ga("eleves")]),
        (
            "parent_a -> group parents:6e A",
            &parent,
            vec![ga("parents")],
        ),
        (
            "parent_a -> group etablissement",
            &parent,
            vec!["etablissement".into()],
        ),
        (
            "parent_a -> group enseignants",
            &parent,
            vec!["enseignants".into()],
        ),
        ("pupil_a -> group eleves:6e A", &pupil, vec![ga("eleves")]),
        (
            "teacher_a -> group eleves:6e B (not taught)",
            &teacher,
            vec![gb("eleves")],
        ),
        (
            "teacher_a -> group parents:6e B (not taught)",
            &teacher,
            vec![gb("parents")],
        ),
        (
            "teacher_a -> eleves:6e A + parents:6e B (one bad group spoils all)",
            &teacher,
            vec![ga("eleves"), gb("parents")],
        ),
    ];
    for (what, client, groups) in &refused_403 {
        let (m0, i0) = (
            messages_total(&t, &everyone).await,
            inbox_total(&t, &people).await,
        );
        let (status, code, _) = send_as(client, &[], groups).await;
        let (m1, i1) = (
            messages_total(&t, &everyone).await,
            inbox_total(&t, &people).await,
        );
        if status != StatusCode::FORBIDDEN || code != "forbidden" {
            wrong.push(format!(
                "{what}: expected 403 forbidden, got {status} {code}"
            ));
        }
        if (m1, i1) != (m0, i0) {
            wrong.push(format!(
                "{what}: something was sent ({m0}->{m1} messages, {i0}->{i1} inbox rows)"
            ));
        }
    }

    // Another school's people and classes: 400 or 404, nothing written, even
    // mixed with allowed recipients.
    let other_class = format!("eleves:{}", f.other_class.0);
    let cross: Vec<(&str, &TestClient, Vec<UserId>, Vec<String>)> = vec![
        (
            "pupil_a -> other_teacher",
            &pupil,
            vec![f.id("other_teacher")],
            vec![],
        ),
        (
            "parent_a -> other_teacher",
            &parent,
            vec![f.id("other_teacher")],
            vec![],
        ),
        (
            "teacher_a -> other_pupil",
            &teacher,
            vec![f.id("other_pupil")],
            vec![],
        ),
        (
            "teacher_a -> pupil_a + other_parent",
            &teacher,
            vec![f.id("pupil_a"), f.id("other_parent")],
            vec![],
        ),
        (
            "staff -> other_admin",
            &staff,
            vec![f.id("other_admin")],
            vec![],
        ),
        (
            "admin -> other_pupil",
            &admin,
            vec![f.id("other_pupil")],
            vec![],
        ),
        (
            "admin -> group eleves:5e C (school B)",
            &admin,
            vec![],
            vec![other_class.clone()],
        ),
        (
            "staff -> etablissement + other_pupil",
            &staff,
            vec![f.id("other_pupil")],
            vec!["etablissement".into()],
        ),
        (
            "other_admin -> pupil_a",
            &other_admin,
            vec![f.id("pupil_a")],
            vec![],
        ),
        (
            "other_admin -> teacher_a",
            &other_admin,
            vec![f.id("teacher_a")],
            vec![],
        ),
    ];
    for (what, client, to, groups) in &cross {
        let (m0, i0) = (
            messages_total(&t, &everyone).await,
            inbox_total(&t, &people).await,
        );
        let (status, code, _) = send_as(client, to, groups).await;
        let (m1, i1) = (
            messages_total(&t, &everyone).await,
            inbox_total(&t, &people).await,
        );
        if !matches!(status, StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND) {
            wrong.push(format!("{what}: expected 400 or 404, got {status} {code}"));
        }
        if (m1, i1) != (m0, i0) {
            wrong.push(format!(
                "{what}: something was written ({m0}->{m1} messages, {i0}->{i1} inbox rows)"
            ));
        }
    }

    // What is allowed goes through, to exactly those people.
    let allowed: Vec<(&str, &TestClient, &str, Vec<UserId>)> = vec![
        (
            "pupil_a -> teacher_a (their teacher)",
            &pupil,
            "pupil_a",
            vec![f.id("teacher_a")],
        ),
        ("pupil_a -> staff", &pupil, "pupil_a", vec![f.id("staff")]),
        (
            "parent_a -> teacher_a (their child's teacher)",
            &parent,
            "parent_a",
            vec![f.id("teacher_a")],
        ),
        (
            "teacher_a -> pupil_b (any person of the school)",
            &teacher,
            "teacher_a",
            vec![f.id("pupil_b")],
        ),
    ];
    for (what, client, sender, to) in &allowed {
        let (status, location, _) = send_as(client, to, &[]).await;
        let thread: Option<i64> = location
            .strip_prefix("/messages/")
            .and_then(|s| s.parse().ok());
        match (status, thread) {
            (StatusCode::SEE_OTHER, Some(thread)) => {
                let view = t
                    .app
                    .store
                    .thread_for_member(f.school_a, thread, f.id(sender))
                    .await
                    .unwrap();
                let members: BTreeSet<UserId> = view
                    .map(|v| v.members.iter().map(|m| m.id).collect())
                    .unwrap_or_default();
                let mut want: BTreeSet<UserId> = to.iter().copied().collect();
                want.insert(f.id(sender));
                if members != want {
                    wrong.push(format!("{what}: members {members:?}, expected {want:?}"));
                }
            }
            _ => wrong.push(format!(
                "{what}: expected 303 to the thread, got {status} {location}"
            )),
        }
    }

    // The admin opens classmates: then (and only then) pupil_a reaches Zoé,
    // still not pupil_b of another class.
    t.app
        .store
        .set_messaging_rules(
            f.school_a,
            &MessagingRules {
                pupils_to_classmates: true,
                ..MessagingRules::default()
            },
            t.app.now(),
        )
        .await
        .unwrap();
    let (status, location, _) = send_as(&pupil, &[classmate], &[]).await;
    if status != StatusCode::SEE_OTHER || !location.starts_with("/messages/") {
        wrong.push(format!(
            "pupil_a -> classmate once the admin allows it: expected 303, got {status} {location}"
        ));
    }
    let (status, code, _) = send_as(&pupil, &[f.id("pupil_b")], &[]).await;
    if status != StatusCode::BAD_REQUEST {
        wrong.push(format!(
            "pupil_a -> pupil_b (another class) with classmates allowed: expected 400, got {status} {code}"
        ));
    }
    t.app
        .store
        .set_messaging_rules(f.school_a, &MessagingRules::default(), t.app.now())
        .await
        .unwrap();

    // The compose pages list exactly whom one may write to.
    let pages: Vec<(&str, &TestClient, Vec<&str>, Vec<&str>)> = vec![
        (
            "pupil_a",
            &pupil,
            vec!["Camille Tango", "Nadia Sierra", "Michel Romeo"],
            vec![
                "Paul Uniform",
                "Hugo Bravo",
                "Zoé Charlie",
                "Sophie Alpha",
                "Karim Bravo",
                "Inès Xray",
                "Aïcha Xray",
                "Jules Yankee",
                "Élodie Zulu",
                "name=\"groupe\"",
            ],
        ),
        (
            "parent_a",
            &parent,
            vec!["Camille Tango", "Nadia Sierra", "Michel Romeo"],
            vec![
                "Paul Uniform",
                "Hugo Bravo",
                "Léa Alpha",
                "Karim Bravo",
                "Jules Yankee",
                "Aïcha Xray",
                "name=\"groupe\"",
            ],
        ),
        (
            "teacher_a",
            &teacher,
            vec![
                "Léa Alpha",
                "Hugo Bravo",
                "Sophie Alpha",
                "Paul Uniform",
                "Nadia Sierra",
                "value=\"eleves:",
            ],
            vec![
                "Inès Xray",
                "Aïcha Xray",
                "Jules Yankee",
                "Élodie Zulu",
                "etablissement",
            ],
        ),
    ];
    for (who, client, present, absent) in &pages {
        let (status, page) = client.get_text("/messages/nouveau").await;
        if status != StatusCode::OK {
            wrong.push(format!("GET /messages/nouveau as {who}: {status}"));
            continue;
        }
        // Only the recipients' part of the page: the header names the reader.
        let list = page
            .split("<form method=\"post\" action=\"/messages\"")
            .nth(1)
            .unwrap_or("");
        for name in present {
            if !list.contains(name) {
                wrong.push(format!("compose page of {who}: {name:?} missing"));
            }
        }
        for name in absent {
            if list.contains(name) {
                wrong.push(format!("compose page of {who}: {name:?} listed"));
            }
        }
    }
    if !page_lacks(&teacher, "/messages/nouveau", &gb("eleves")).await {
        wrong.push("compose page of teacher_a offers the groups of 6e B".into());
    }

    assert!(
        wrong.is_empty(),
        "{} messaging rule(s) broken:\n  {}",
        wrong.len(),
        wrong.join("\n  ")
    );
}

/// True when the page does not mention `needle`.
async fn page_lacks(c: &TestClient, path: &str, needle: &str) -> bool {
    let (_, page) = c.get_text(path).await;
    !page.contains(needle)
}

// ---------------------------------------------------------------------------
// 2. XSS corpus in every text field

/// Keeps every account under its hourly sending allowance: at most 25
/// messages (all accounts together) per hour of the test clock.
struct Pace(u32);

impl Pace {
    fn tick(&mut self, t: &TestApp) {
        self.0 += 1;
        if self.0.is_multiple_of(25) {
            t.clock.advance(3601);
        }
    }
}

/// What a page may not contain whatever was typed into Cartable.
fn page_problem(page: &str) -> Option<String> {
    if page.to_ascii_lowercase().contains("<script") {
        return Some("contains <script".into());
    }
    looks_dangerous(page).map(|why| format!("looks dangerous: {why}"))
}

/// Whether `raw` appears on the page escaped, as the templates (`&#60;`) or
/// the Markdown renderer (`&lt;`) escape it.
fn shows_escaped(page: &str, raw: &str) -> bool {
    let numeric = raw
        .replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;");
    let named = raw
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    page.contains(&numeric) || page.contains(&named)
}

/// Identical refusals counted once: "12 x POST /actualites … got 403".
fn grouped(mismatches: &[Mismatch]) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for m in mismatches {
        let line = format!(
            "{} as {}: expected {}, got {}",
            m.route, m.actor, m.expected, m.got
        );
        match counts.iter_mut().find(|(l, _)| *l == line) {
            Some((_, n)) => *n += 1,
            None => counts.push((line, 1)),
        }
    }
    counts
        .iter()
        .map(|(l, n)| format!("  {n} x {l}\n"))
        .collect()
}

/// An excerpt around the first dangerous-looking spot, for the report.
fn excerpt(page: &str) -> String {
    let lower = page.to_ascii_lowercase();
    let spot = ["<script", "<img", "<svg", "<iframe", "javascript:", " on"]
        .iter()
        .filter_map(|n| lower.find(n))
        .min()
        .unwrap_or(0);
    let start = page.floor_char_boundary(spot.saturating_sub(80));
    let end = page.ceil_char_boundary((spot + 120).min(page.len()));
    page[start..end].replace('\n', " ")
}

const XSS_FILE_NAMES: [&str; 3] = [
    "<img src=x onerror=alert(1)>.pdf",
    "<svg onload=alert(1)>.pdf",
    "<iframe src=javascript:alert(1)>.pdf",
];

#[tokio::test]
async fn xss_corpus_in_every_text_field_stays_inert() {
    let started = Instant::now();
    // One teacher sends the whole corpus in seconds: far past the message
    // rate limit, which is not what this test is about.
    let t = spawn_app_with(TestOptions {
        no_rate_limits: true,
        ..TestOptions::default()
    })
    .await;
    let f = seed_fixture(&t).await;
    let corpus: Vec<&str> = XSS_CORPUS.to_vec();
    assert!(
        corpus.len() >= 25,
        "the corpus has {} payloads",
        corpus.len()
    );
    let joined = corpus.join("\n\n");

    // A person whose name is a payload, in 6e A.
    let (xss_pupil, xss_login) = import_pupils(
        &t,
        &f,
        &[("<img src=x onerror=alert(1)>", "<svg onload=alert(1)>")],
    )
    .await
    .remove(0);

    let teacher = t.signed_in(f.login("teacher_a")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let parent = t.signed_in(f.login("parent_a")).await;
    let staff = t.signed_in(f.login("staff")).await;
    let admin = t.signed_in(f.login("admin")).await;
    let xss = t.signed_in(&xss_login).await;

    let mut refused: Vec<String> = Vec::new();
    let mut setup_refusals = Vec::new();
    let mut pace = Pace(0);
    let recipients = [
        f.id("pupil_a").0.to_string(),
        f.id("parent_a").0.to_string(),
        xss_pupil.0.to_string(),
    ];

    // Messages: each payload as subject and body, then all of them in one
    // body, with payload file names.
    let mut threads = Vec::new();
    let mut bodies: Vec<(String, String)> = corpus
        .iter()
        .map(|p| (p.to_string(), p.to_string()))
        .collect();
    bodies.push(("Tout le corpus".into(), joined.clone()));
    for (i, (subject, body)) in bodies.iter().enumerate() {
        let mut texts: Vec<(&str, &str)> = vec![("objet", subject), ("message", body)];
        for r in &recipients {
            texts.push(("personne", r));
        }
        let files: Vec<(&str, &[u8])> = if i + 1 == bodies.len() {
            XSS_FILE_NAMES.iter().map(|n| (*n, PDF)).collect()
        } else {
            Vec::new()
        };
        pace.tick(&t);
        let resp = post_multipart(&teacher, "/messages", &texts, &files).await;
        match id_in_location(&resp, "/messages/") {
            Some(id) if resp.status() == StatusCode::SEE_OTHER => threads.push(id),
            _ => refused.push(format!("message {subject:?}: {}", describe(&resp))),
        }
    }
    let joined_thread = *threads.last().expect("the joined message was sent");

    // Replies: each payload, from pupil_a, in the joined thread.
    let mut replies = 0;
    let reply_path = format!("/messages/{joined_thread}/repondre");
    let mut reply_texts: Vec<&str> = corpus.clone();
    reply_texts.push(&joined);
    for p in &reply_texts {
        pace.tick(&t);
        let resp = post_multipart(&pupil, &reply_path, &[("message", p)], &[]).await;
        if resp.status() == StatusCode::SEE_OTHER {
            replies += 1;
        } else {
            refused.push(format!("reply {p:?}: {}", describe(&resp)));
        }
    }
    // The pupil with a payload for a name writes to their teacher.
    pace.tick(&t);
    let resp = post_multipart(
        &xss,
        "/messages",
        &[
            ("objet", "Bonjour"),
            ("message", "Une question sur le devoir."),
            ("personne", &f.id("teacher_a").0.to_string()),
        ],
        &[],
    )
    .await;
    let xss_thread = id_in_location(&resp, "/messages/");
    if xss_thread.is_none() {
        refused.push(format!(
            "message from the pupil named with a payload: {}",
            describe(&resp)
        ));
    }

    // News: each payload as title and body, to the whole school.
    let mut news = Vec::new();
    let staff_id = f.id("staff");
    let mut items: Vec<(String, String)> = corpus
        .iter()
        .map(|p| (p.to_string(), p.to_string()))
        .collect();
    items.push(("Tout le corpus".into(), joined.clone()));
    for (i, (title, body)) in items.iter().enumerate() {
        let files: Vec<(&str, &[u8])> = if i + 1 == items.len() {
            XSS_FILE_NAMES.iter().map(|n| (*n, PDF)).collect()
        } else {
            Vec::new()
        };
        let spec = NewsSpec {
            title,
            body,
            public: "school",
            classes: Vec::new(),
            debut: "",
            from: None,
        };
        let before = setup_refusals.len();
        let id = publish_news(&t, &staff, staff_id, &spec, &files, &mut setup_refusals).await;
        if setup_refusals.len() > before {
            let m = setup_refusals.last().unwrap();
            if m.got.starts_with("400") {
                // Refused as invalid: not shown anywhere, not a finding.
                refused.push(format!("news {title:?}: {}", m.got));
                setup_refusals.pop();
            }
        }
        news.push(id);
    }

    // Notes: each payload as title and body, to 6e A (pupil_a, the pupil
    // named with a payload; parent_a).
    let mut notes = Vec::new();
    let teacher_id = f.id("teacher_a");
    for (i, (title, body)) in items.iter().enumerate() {
        let files: Vec<(&str, &[u8])> = if i + 1 == items.len() {
            XSS_FILE_NAMES.iter().map(|n| (*n, PDF)).collect()
        } else {
            Vec::new()
        };
        let before = setup_refusals.len();
        let id = send_note(
            &t,
            &teacher,
            teacher_id,
            f.class_a,
            title,
            body,
            &files,
            &mut setup_refusals,
        )
        .await;
        if setup_refusals.len() > before {
            let m = setup_refusals.last().unwrap();
            if m.got.starts_with("400") {
                refused.push(format!("note {title:?}: {}", m.got));
                setup_refusals.pop();
            }
        }
        notes.push(id);
    }
    println!(
        "posted: {} threads, {replies} replies, {} news, {} notes; refused as invalid: {}",
        threads.len(),
        news.len(),
        notes.len(),
        refused.len()
    );
    for r in &refused {
        println!("  refused: {r}");
    }
    assert!(
        threads.len() >= 25 && replies >= 25,
        "too few payloads accepted to mean anything:\n{}",
        refused.join("\n")
    );

    // Every page that shows them, as the sender and as the recipients.
    let thread_pages: Vec<String> = threads.iter().map(|id| format!("/messages/{id}")).collect();
    let news_pages: Vec<String> = news.iter().map(|id| format!("/actualites/{id}")).collect();
    let note_pages: Vec<String> = notes.iter().map(|id| format!("/carnet/{id}")).collect();
    let common = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = ["/", "/messages", "/actualites", "/carnet"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let xss_card = format!("/personnes/{}", xss_pupil.0);
    let roster = format!("/classes/{}/eleves", f.class_a.0);
    let mut visits: Vec<(&str, &TestClient, Vec<String>)> = Vec::new();
    let mut v = common(&["/messages/nouveau", &xss_card, &roster]);
    v.extend(thread_pages.iter().cloned());
    v.extend(note_pages.iter().cloned());
    v.extend(news_pages.iter().cloned());
    if let Some(id) = xss_thread {
        v.push(format!("/messages/{id}"));
    }
    visits.push(("teacher_a", &teacher, v));
    let mut v = common(&["/messages/nouveau"]);
    v.extend(thread_pages.iter().cloned());
    v.extend(note_pages.iter().cloned());
    v.extend(news_pages.iter().cloned());
    visits.push(("pupil_a", &pupil, v));
    let mut v = common(&["/messages/nouveau"]);
    v.extend(thread_pages.iter().cloned());
    v.extend(note_pages.iter().cloned());
    v.extend(news_pages.iter().cloned());
    visits.push(("parent_a", &parent, v));
    let mut v = common(&["/admin/personnes", "/messages/nouveau", &xss_card]);
    v.extend(note_pages.iter().cloned());
    v.extend(news_pages.iter().cloned());
    visits.push(("staff", &staff, v));
    let mut v = common(&["/admin/personnes", "/admin/messagerie", &xss_card]);
    v.extend(news_pages.iter().cloned());
    visits.push(("admin", &admin, v));
    let mut v = common(&["/compte", "/messages/nouveau"]);
    v.extend(thread_pages.iter().cloned());
    v.extend(note_pages.iter().cloned());
    if let Some(id) = xss_thread {
        v.push(format!("/messages/{id}"));
    }
    visits.push(("pupil named <img…>", &xss, v));

    // Where the payloads must show (escaped): proof that the pages looked at
    // really carry them.
    let name_first = "<svg onload=alert(1)> <img src=x onerror=alert(1)>";
    let last_news = news_pages.last().cloned().unwrap_or_default();
    let last_note = note_pages.last().cloned().unwrap_or_default();
    let joined_page = format!("/messages/{joined_thread}");
    let evidence: Vec<(&str, String, &str)> = vec![
        (
            "admin",
            "/admin/personnes".into(),
            "<img src=x onerror=alert(1)>",
        ),
        ("teacher_a", "/messages/nouveau".into(), name_first),
        ("teacher_a", roster.clone(), "<img src=x onerror=alert(1)>"),
        ("teacher_a", joined_page.clone(), XSS_FILE_NAMES[1]),
        (
            "teacher_a",
            joined_page.clone(),
            "<script>alert(1)</script>",
        ),
        ("pupil_a", joined_page.clone(), XSS_FILE_NAMES[0]),
        ("parent_a", joined_page.clone(), XSS_FILE_NAMES[2]),
        ("staff", last_news.clone(), XSS_FILE_NAMES[1]),
        ("pupil_a", last_news, "<svg onload=alert(1)>"),
        ("parent_a", last_note.clone(), XSS_FILE_NAMES[0]),
        ("staff", last_note, "<img src=x onerror=alert(1)>"),
        ("teacher_a", "/messages".into(), name_first),
        ("pupil named <img…>", "/".into(), "<svg onload=alert(1)>"),
    ];
    let mut seen = vec![false; evidence.len()];

    let mut findings: Vec<String> = Vec::new();
    let mut not_shown: Vec<String> = Vec::new();
    let mut fetched = 0;
    for (who, client, paths) in &visits {
        for path in paths {
            let (status, page) = client.get_text(path).await;
            fetched += 1;
            if status != StatusCode::OK {
                not_shown.push(format!("GET {path} as {who}: {status} (expected 200)"));
                continue;
            }
            if let Some(problem) = page_problem(&page) {
                findings.push(format!(
                    "GET {path} as {who}: {problem}: …{}…",
                    excerpt(&page)
                ));
            }
            for (i, (ewho, epath, raw)) in evidence.iter().enumerate() {
                if ewho == who && epath == path && shows_escaped(&page, raw) {
                    seen[i] = true;
                }
            }
        }
    }
    println!("XSS: {fetched} pages fetched in {:?}", started.elapsed());
    for ((who, path, raw), seen) in evidence.iter().zip(&seen) {
        if !seen {
            findings.push(format!(
                "GET {path} as {who} does not show {raw:?} (escaped): the check saw nothing there"
            ));
        }
    }

    // The attachments with payload names download as files.
    let view = t
        .app
        .store
        .thread_for_member(f.school_a, joined_thread, f.id("pupil_a"))
        .await
        .unwrap()
        .expect("pupil_a is a member");
    let files: Vec<i64> = view.messages[0].attachments.iter().map(|a| a.id).collect();
    if files.len() != XSS_FILE_NAMES.len() {
        findings.push(format!(
            "{} of {} payload-named files attached",
            files.len(),
            XSS_FILE_NAMES.len()
        ));
    }
    for id in files {
        let resp = pupil.get(&format!("/pieces-jointes/{id}")).await;
        let cd = header(&resp, "content-disposition");
        if resp.status() != StatusCode::OK
            || !cd.starts_with("attachment")
            || header(&resp, "x-content-type-options") != "nosniff"
            || cd.contains(['\r', '\n'])
        {
            findings.push(format!(
                "download {id}: {} content-disposition {cd:?} nosniff {:?}",
                resp.status(),
                header(&resp, "x-content-type-options")
            ));
        }
    }

    let mut message = String::new();
    if !findings.is_empty() {
        message.push_str(&format!(
            "{} XSS finding(s):\n  {}\n",
            findings.len(),
            findings.join("\n  ")
        ));
    }
    if !not_shown.is_empty() || !setup_refusals.is_empty() {
        message.push_str(&format!(
            "legitimate actions refused (not XSS; the content was then created through the store):\n  {}\n{}",
            not_shown.join("\n  "),
            grouped(&setup_refusals)
        ));
    }
    assert!(message.is_empty(), "{message}");
}

// ---------------------------------------------------------------------------
// 2b. Files: downloads are attachments, pages are refused

#[tokio::test]
async fn attachments_download_as_files_and_html_uploads_are_refused() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let everyone = fixture_ids(&f);
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let mut wrong = Vec::new();

    let pupil_id = f.id("pupil_a").0.to_string();
    let resp = post_multipart(
        &teacher,
        "/messages",
        &[
            ("objet", "Le cours"),
            ("message", "Ci-joint."),
            ("personne", &pupil_id),
        ],
        &[("cours.pdf", PDF)],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{}", describe(&resp));
    let thread = id_in_location(&resp, "/messages/").unwrap();
    let (_, page) = pupil.get_text(&format!("/messages/{thread}")).await;
    let start = page.find("/pieces-jointes/").expect("a download link") + "/pieces-jointes/".len();
    let id: String = page[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let resp = pupil.get(&format!("/pieces-jointes/{id}")).await;
    let checks = [
        ("status", resp.status().as_u16().to_string(), "200"),
        (
            "content-type",
            header(&resp, "content-type"),
            "application/pdf",
        ),
        (
            "x-content-type-options",
            header(&resp, "x-content-type-options"),
            "nosniff",
        ),
    ];
    for (name, got, want) in checks {
        if got != want {
            wrong.push(format!("download: {name} is {got:?}, expected {want:?}"));
        }
    }
    let cd = header(&resp, "content-disposition");
    if !cd.starts_with("attachment;") || !cd.contains("cours.pdf") {
        wrong.push(format!("download: content-disposition {cd:?}"));
    }
    let bytes = resp.bytes().await.unwrap();
    if bytes.as_ref() != PDF {
        wrong.push("download: not the bytes that were sent".into());
    }

    // Markup, whatever its name: refused with a French reason, nothing sent.
    let pages: [(&str, &[u8]); 5] = [
        ("page.html", b"<!doctype html><script>alert(1)</script>"),
        ("cours.pdf", b"<!doctype html><script>alert(1)</script>"),
        ("notes.txt", b"\xEF\xBB\xBF  \n<html><body onload=alert(1)>"),
        ("image.svg", b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>"),
        ("x.xml", b"<?xml version=\"1.0\"?><x:script xmlns:x=\"http://www.w3.org/1999/xhtml\">alert(1)</x:script>"),
    ];
    for (name, bytes) in pages {
        for (what, path) in [
            ("new message", "/messages".to_string()),
            ("reply", format!("/messages/{thread}/repondre")),
        ] {
            let before = messages_total(&t, &everyone).await;
            let resp = post_multipart(
                &teacher,
                &path,
                &[
                    ("objet", "Page"),
                    ("message", "Voir la pièce jointe."),
                    ("personne", &pupil_id),
                ],
                &[(name, bytes)],
            )
            .await;
            let status = resp.status();
            let code = header(&resp, "x-cartable-error");
            let body = resp.text().await.unwrap_or_default();
            let after = messages_total(&t, &everyone).await;
            if status != StatusCode::BAD_REQUEST
                || !body.contains("pas accepté")
                || !body.contains("class=\"error\"")
            {
                wrong.push(format!(
                    "{what} with {name:?}: expected 400 with a French reason, got {status} {code}"
                ));
            }
            if after != before {
                wrong.push(format!("{what} with {name:?}: a message was created"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} file rule(s) broken:\n  {}",
        wrong.len(),
        wrong.join("\n  ")
    );
}
