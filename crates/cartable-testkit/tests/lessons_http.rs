//! The cahier de textes through the real server, as its users use it
//! (issue 3): teachers write lessons and homework per class, prepare them
//! ahead, edit and delete them; pupils see what is due by day and subject and
//! tick it off; parents see the same per child, read-only; teachers look at a
//! class's workload before adding more; pages stay light.
//!
//! The access matrix follows the conventions of `access_matrix.rs` and
//! `messaging_access.rs`: the expectations are data written out by hand from
//! the rules, never computed by calling the code under test, and every
//! mismatch is reported at once.
//!
//! Outcomes:
//! - `A` allowed: 200 for pages and downloads; for a POST, a 303 to where the
//!   action leads (the lesson, the class's week, `/devoirs#l{id}`);
//! - `R` redirected to the page meant for the role: `/cahier` sends pupils and
//!   parents to `/devoirs`, `/devoirs` sends everyone else to `/cahier`;
//! - `F` forbidden: 403 with `X-Cartable-Error: forbidden` (the person may
//!   know the class or lesson exists, but may not do this);
//! - `N` not found: 404 with `X-Cartable-Error: not_found` (a lesson of a class
//!   one may not read, a scheduled lesson one did not write, anything of
//!   another school: existence does not leak);
//! - `L` login: a 303 to `/connexion…` (anonymous browser).
//!
//! Rules the tables come from (issue 3, `cartable_domain::policy`
//! `WriteLessons`/`ViewLessons`, `cartable_app::lessons`):
//! - writing a class's cahier: the teachers of that class; editing and
//!   deleting a lesson: its author only;
//! - reading a class's cahier and its lessons' files: the class's pupils and
//!   their parents, every teacher of the school (to see the workload), staff,
//!   the school admin; a lesson not yet published: its author only;
//! - the workload page: teachers, staff, admin (not pupils or parents);
//! - ticking homework done: a pupil of the lesson's class, nobody else;
//! - another school: 404, always.

use std::path::{Path, PathBuf};
use std::time::Instant;

use cartable_app::auth::ClientInfo;
use cartable_app::lessons::LessonDraft;
use cartable_app::markdown::{looks_dangerous, XSS_CORPUS};
use cartable_domain::calendar::Day;
use cartable_domain::policy::Actor;
use cartable_domain::{ClassId, SchoolId, Target, UserId};
use cartable_store::{Cohorts, NewAttachment};
use cartable_testkit::matrix::*;
use cartable_testkit::reqwest::header::HeaderMap;
use cartable_testkit::reqwest::multipart::{Form, Part};
use cartable_testkit::reqwest::{Response, StatusCode};
use cartable_testkit::*;

// ---------------------------------------------------------------------------
// Outcomes and reporting

fn describe(resp: &Response) -> String {
    format!(
        "{} (x-cartable-error: {:?}, location: {:?})",
        resp.status(),
        header(resp, "x-cartable-error"),
        header(resp, "location")
    )
}

/// Reads a response as one of the outcomes, or describes it when it is none
/// of them. `allowed_redirect` says which 303 targets mean "done".
fn classify(resp: &Response, allowed_redirect: &dyn Fn(&str) -> bool) -> Result<Outcome, String> {
    let status = resp.status();
    let location = header(resp, "location");
    let code = header(resp, "x-cartable-error");
    match status {
        StatusCode::OK => Ok(Outcome::Allowed),
        StatusCode::SEE_OTHER if location.starts_with("/connexion") => Ok(Outcome::Login),
        StatusCode::SEE_OTHER if allowed_redirect(&location) => Ok(Outcome::Allowed),
        StatusCode::SEE_OTHER if location == "/devoirs" || location == "/cahier" => {
            Ok(Outcome::Redirected)
        }
        StatusCode::FORBIDDEN if code == "forbidden" => Ok(Outcome::Forbidden),
        StatusCode::NOT_FOUND if code == "not_found" => Ok(Outcome::NotFound),
        _ => Err(describe(resp)),
    }
}

// ---------------------------------------------------------------------------
// Helpers

/// A small but real PDF: sniffed as `application/pdf`.
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

const WIDE: (&str, &str) = ("2000-01-01", "2100-12-31");
const DAY: i64 = 86_400;

/// The lesson form's fields, named as the page names them.
#[derive(Clone, Copy, Default)]
struct LessonForm<'a> {
    matiere: &'a str,
    date: &'a str,
    contenu: &'a str,
    travail: &'a str,
    pour_le: &'a str,
    duree: &'a str,
    evaluation: bool,
    publier_le: &'a str,
}

impl<'a> LessonForm<'a> {
    fn fields(&self) -> Vec<(&'a str, &'a str)> {
        let mut v = vec![
            ("matiere", self.matiere),
            ("date", self.date),
            ("contenu", self.contenu),
            ("travail", self.travail),
            ("pour_le", self.pour_le),
            ("duree", self.duree),
            ("publier_le", self.publier_le),
        ];
        if self.evaluation {
            v.push(("evaluation", "1"));
        }
        v
    }
}

/// Posts a multipart form as the pages do: the CSRF token first, then the
/// text fields, then the files (all in the field `fichier`).
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

/// Writes a lesson through `POST /cahier/classes/{class}`; returns its id.
async fn write_http(
    c: &TestClient,
    class: ClassId,
    form: LessonForm<'_>,
    files: &[(&str, &[u8])],
) -> i64 {
    let resp = post_multipart(
        c,
        &format!("/cahier/classes/{}", class.0),
        &form.fields(),
        files,
    )
    .await;
    let what = describe(&resp);
    let loc = header(&resp, "location");
    let body = resp.text().await.unwrap_or_default();
    assert!(
        what.starts_with("303") && loc.starts_with("/cahier/seances/"),
        "writing a lesson: {what}\n{}",
        error_text(&body)
    );
    loc.trim_start_matches("/cahier/seances/")
        .parse()
        .unwrap_or_else(|_| panic!("no id in {loc:?}"))
}

/// The error paragraph of a form page, or the start of the page.
fn error_text(html: &str) -> String {
    match html.find("class=\"error\"") {
        Some(i) => html[i..].chars().take(300).collect(),
        None => html.chars().take(300).collect(),
    }
}

async fn page(c: &TestClient, path: &str) -> String {
    let (status, body) = c.get_text(path).await;
    assert_eq!(status, 200, "GET {path}: {}", error_text(&body));
    body
}

async fn status_of(c: &TestClient, path: &str) -> u16 {
    c.get(path).await.status().as_u16()
}

async fn actor(t: &TestApp, id: UserId) -> Actor {
    t.app.store.actor(id).await.unwrap().expect("actor")
}

fn school_of_key(f: &Fixture, key: &str) -> SchoolId {
    if key.starts_with("other_") {
        f.school_b
    } else {
        f.school_a
    }
}

fn class_of_key(f: &Fixture, key: &str) -> ClassId {
    match key {
        "class_a" => f.class_a,
        "class_b" => f.class_b,
        "other_class" => f.other_class,
        other => panic!("unknown class key {other}"),
    }
}

/// A file put straight into the blob store (for lessons written through the use case).
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

/// A lesson of 1 September with homework for the 2nd.
fn draft(subject: &str, content: &str, publish: &str) -> LessonDraft {
    LessonDraft {
        subject: subject.into(),
        lesson_date: "2026-09-01".into(),
        content: content.into(),
        homework: format!("Travail de {subject} : exercices 1 à 3."),
        due_date: "2026-09-02".into(),
        workload_minutes: "20".into(),
        is_test: false,
        publish_date: publish.into(),
        attachments: Vec::new(),
    }
}

/// Writes a lesson through the use case (for the matrix's fixtures).
async fn write_app(t: &TestApp, author: UserId, class: ClassId, d: LessonDraft) -> i64 {
    t.app
        .write_lesson(
            &actor(t, author).await,
            Target::Class(class),
            d,
            &ClientInfo::default(),
        )
        .await
        .expect("write_lesson through the use case")
}

/// A pupil's done mark on a lesson, as the store has it (None: not listed).
async fn done_mark(
    t: &TestApp,
    school: SchoolId,
    class: ClassId,
    lesson: i64,
    pupil: UserId,
) -> Option<bool> {
    t.app
        .store
        .homework_due(
            school,
            &Cohorts {
                classes: vec![class],
                groups: Vec::new(),
            },
            WIDE.0,
            WIDE.1,
            t.app.now() + 365 * DAY,
            Some(pupil),
        )
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.lesson.id == lesson)
        .map(|d| d.done)
}

async fn lesson_count(t: &TestApp, school: SchoolId, class: ClassId) -> usize {
    t.app
        .store
        .target_lessons(
            school,
            Target::Class(class),
            WIDE.0,
            WIDE.1,
            t.app.now(),
            true,
        )
        .await
        .unwrap()
        .len()
}

/// One homework item of `/devoirs` (`<li id="l{id}"…`), up to the next item
/// or the end of its day.
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

/// The row of a workload table for a day written as `Day::long_fr`.
fn workload_row<'a>(html: &'a str, day: &str) -> Option<&'a str> {
    let th = format!("<th scope=\"row\">{day}</th>");
    html.split("<tr").find(|row| row.contains(&th))
}

/// Every file under `dir`, temp files included.
fn count_files(dir: &Path) -> usize {
    let mut n = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                n += count_files(&path);
            } else {
                n += 1;
            }
        }
    }
    n
}

/// The blob directory of this test's server. The testkit does not expose it,
/// so find the temp dir whose `files/` holds a key we know.
fn blob_root_holding(key: &str) -> PathBuf {
    for entry in std::fs::read_dir(std::env::temp_dir()).unwrap().flatten() {
        let root = entry.path().join("files");
        if root.join(key).is_file() {
            return root;
        }
    }
    panic!("no blob directory holds {key}")
}

fn day(iso: &str) -> Day {
    Day::parse(iso).expect("a valid day")
}

/// Sets the manual clock (forward only) to `unix`.
fn clock_to(t: &TestApp, unix: i64) {
    let now = t.app.now();
    assert!(unix >= now, "the clock only goes forward");
    t.clock.advance(unix - now);
}

// ---------------------------------------------------------------------------
// The access matrix

/// A lesson made for one cell only (its author, its class, scheduled or not).
#[derive(Debug, Clone, Copy)]
struct Fresh {
    author: &'static str,
    class: &'static str,
    scheduled: bool,
}

const MINE: Fresh = Fresh {
    author: "teacher_a",
    class: "class_a",
    scheduled: false,
};
const MINE_SCHEDULED: Fresh = Fresh {
    author: "teacher_a",
    class: "class_a",
    scheduled: true,
};
const CLASS_B: Fresh = Fresh {
    author: "teacher_b",
    class: "class_b",
    scheduled: false,
};
const OTHER_SCHOOL: Fresh = Fresh {
    author: "other_teacher",
    class: "other_class",
    scheduled: false,
};

#[derive(Debug, Clone, Copy)]
enum Req {
    /// GET a path; placeholders: `{class_a}`, `{class_b}`, `{other_class}`,
    /// `{lesson}` (6e A, by teacher_a, published, with a file `{file}`),
    /// `{scheduled}` (the same, visible from 8 September, file
    /// `{scheduled_file}`), `{lesson_b}` (6e B, by teacher_b), `{other_lesson}`
    /// (the other school's).
    Get(&'static str),
    /// `POST /cahier/classes/{class}` (multipart): write a lesson.
    Create(&'static str),
    /// `POST /cahier/seances/{fresh}/modifier`.
    Edit(Fresh),
    /// `POST /cahier/seances/{fresh}/supprimer`.
    Delete(Fresh),
    /// `POST /devoirs/{fresh}/fait` with `fait=1`.
    Done(Fresh),
}

fn fresh_label(fr: &Fresh) -> String {
    format!(
        "{}{} of {}",
        if fr.scheduled { "scheduled " } else { "" },
        fr.class,
        fr.author
    )
}

impl Req {
    fn label(&self) -> String {
        match self {
            Req::Get(p) => format!("GET {p}"),
            Req::Create(c) => format!("POST /cahier/classes/{{{c}}}"),
            Req::Edit(fr) => format!("POST …/modifier ({})", fresh_label(fr)),
            Req::Delete(fr) => format!("POST …/supprimer ({})", fresh_label(fr)),
            Req::Done(fr) => format!("POST /devoirs/…/fait ({})", fresh_label(fr)),
        }
    }
}

#[rustfmt::skip]
const MATRIX: &[(Req, [Outcome; 10])] = &[
    //                                                   anon pupil_a pupil_b parent_a parent_b teacher_a teacher_b staff admin other_admin
    (Req::Get("/cahier/classes/{class_a}"),               [L,   A,      F,      A,       F,       A,        A,        A,    A,    N]),
    (Req::Get("/cahier/classes/{class_b}"),               [L,   F,      A,      F,       A,       A,        A,        A,    A,    N]),
    (Req::Get("/cahier/classes/{other_class}"),           [L,   N,      N,      N,       N,       N,        N,        N,    N,    A]),
    (Req::Get("/cahier/classes/{class_a}/nouvelle"),      [L,   F,      F,      F,       F,       A,        F,        F,    F,    N]),
    (Req::Create("class_a"),                              [L,   F,      F,      F,       F,       A,        F,        F,    F,    N]),
    (Req::Create("class_b"),                              [L,   F,      F,      F,       F,       F,        A,        F,    F,    N]),
    (Req::Get("/cahier/classes/{class_a}/charge"),        [L,   F,      F,      F,       F,       A,        A,        A,    A,    N]),
    (Req::Get("/cahier/seances/{lesson}"),                [L,   A,      N,      A,       N,       A,        A,        A,    A,    N]),
    (Req::Get("/cahier/seances/{lesson}/modifier"),       [L,   F,      N,      F,       N,       A,        F,        F,    F,    N]),
    (Req::Edit(MINE),                                     [L,   F,      N,      F,       N,       A,        F,        F,    F,    N]),
    (Req::Delete(MINE),                                   [L,   F,      N,      F,       N,       A,        F,        F,    F,    N]),
    (Req::Get("/pieces-jointes/{file}"),                  [L,   A,      N,      A,       N,       A,        A,        A,    A,    N]),
    (Req::Done(MINE),                                     [L,   A,      N,      F,       N,       F,        F,        F,    F,    N]),
    (Req::Get("/devoirs"),                                [L,   A,      A,      A,       A,       R,        R,        R,    R,    R]),
    (Req::Get("/cahier"),                                 [L,   R,      R,      R,       R,       A,        A,        A,    A,    A]),
    // A lesson prepared ahead: its author only, until its day.
    (Req::Get("/cahier/seances/{scheduled}"),             [L,   N,      N,      N,       N,       A,        N,        N,    N,    N]),
    (Req::Get("/cahier/seances/{scheduled}/modifier"),    [L,   N,      N,      N,       N,       A,        N,        N,    N,    N]),
    (Req::Get("/pieces-jointes/{scheduled_file}"),        [L,   N,      N,      N,       N,       A,        N,        N,    N,    N]),
    (Req::Done(MINE_SCHEDULED),                           [L,   N,      N,      N,       N,       F,        N,        N,    N,    N]),
    // The other class's cahier, written by its own teacher.
    (Req::Get("/cahier/seances/{lesson_b}"),              [L,   N,      A,      N,       A,       A,        A,        A,    A,    N]),
    (Req::Edit(CLASS_B),                                  [L,   N,      F,      N,       F,       F,        A,        F,    F,    N]),
    (Req::Done(CLASS_B),                                  [L,   N,      A,      N,       F,       F,        F,        F,    F,    N]),
    // Another school's lesson.
    (Req::Get("/cahier/seances/{other_lesson}"),          [L,   N,      N,      N,       N,       N,        N,        N,    N,    A]),
    (Req::Delete(OTHER_SCHOOL),                           [L,   N,      N,      N,       N,       N,        N,        N,    N,    F]),
    (Req::Done(OTHER_SCHOOL),                             [L,   N,      N,      N,       N,       N,        N,        N,    N,    F]),
];

/// The lessons the GET rows look at.
struct Fixed {
    lesson: i64,
    file: i64,
    scheduled: i64,
    scheduled_file: i64,
    lesson_b: i64,
    other_lesson: i64,
}

fn resolve(template: &str, f: &Fixture, x: &Fixed) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').expect("closing brace") + start;
        out.push_str(&rest[..start]);
        let id = match &rest[start + 1..end] {
            "class_a" => f.class_a.0,
            "class_b" => f.class_b.0,
            "other_class" => f.other_class.0,
            "lesson" => x.lesson,
            "file" => x.file,
            "scheduled" => x.scheduled,
            "scheduled_file" => x.scheduled_file,
            "lesson_b" => x.lesson_b,
            "other_lesson" => x.other_lesson,
            other => panic!("unknown placeholder {other}"),
        };
        out.push_str(&id.to_string());
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

async fn make_fixed(t: &TestApp, f: &Fixture) -> Fixed {
    let mut d = draft("Mathématiques", "Les nombres décimaux.", "");
    d.attachments = vec![stored_file(t, "consignes.pdf", PDF).await];
    let lesson = write_app(t, f.id("teacher_a"), f.class_a, d).await;
    let mut d = draft("Mathématiques", "Préparé à l'avance.", "2026-09-08");
    d.attachments = vec![stored_file(t, "plus-tard.pdf", PDF).await];
    let scheduled = write_app(t, f.id("teacher_a"), f.class_a, d).await;
    let lesson_b = write_app(
        t,
        f.id("teacher_b"),
        f.class_b,
        draft("Mathématiques", "Les angles.", ""),
    )
    .await;
    let other_lesson = write_app(
        t,
        f.id("other_teacher"),
        f.other_class,
        draft("Mathématiques", "Ailleurs.", ""),
    )
    .await;
    Fixed {
        lesson,
        file: first_file(t, f.school_a, lesson).await,
        scheduled,
        scheduled_file: first_file(t, f.school_a, scheduled).await,
        lesson_b,
        other_lesson,
    }
}

async fn first_file(t: &TestApp, school: SchoolId, lesson: i64) -> i64 {
    t.app
        .store
        .lesson(school, lesson)
        .await
        .unwrap()
        .unwrap()
        .attachments[0]
        .id
}

async fn make_fresh(t: &TestApp, f: &Fixture, fr: Fresh) -> i64 {
    write_app(
        t,
        f.id(fr.author),
        class_of_key(f, fr.class),
        draft(
            "Mathématiques",
            "Séance d'une seule case.",
            if fr.scheduled { "2026-09-08" } else { "" },
        ),
    )
    .await
}

/// Runs one cell; returns what was observed and, if the effect on the data
/// disagrees with the expected outcome, what is wrong.
async fn run_cell(
    t: &TestApp,
    f: &Fixture,
    x: &Fixed,
    client: &TestClient,
    who: &str,
    req: Req,
    expected: Outcome,
) -> (Result<Outcome, String>, Option<String>) {
    let should = expected == A;
    match req {
        Req::Get(template) => {
            let path = resolve(template, f, x);
            (classify(&client.get(&path).await, &|_| false), None)
        }
        Req::Create(class_key) => {
            let class = class_of_key(f, class_key);
            let school = school_of_key(f, class_key);
            let before = lesson_count(t, school, class).await;
            let marker = format!("Séance écrite par {who}");
            let form = LessonForm {
                matiere: "Mathématiques",
                date: "2026-09-01",
                contenu: &marker,
                ..LessonForm::default()
            };
            let resp = post_multipart(
                client,
                &format!("/cahier/classes/{}", class.0),
                &form.fields(),
                &[],
            )
            .await;
            let got = classify(&resp, &|loc| loc.starts_with("/cahier/seances/"));
            let after = lesson_count(t, school, class).await;
            let effect = (after != before + usize::from(should))
                .then(|| format!("{before} lesson(s) before, {after} after"));
            (got, effect)
        }
        Req::Edit(fr) => {
            let id = make_fresh(t, f, fr).await;
            let marker = format!("Modifié par {who}");
            let form = LessonForm {
                matiere: "Mathématiques",
                date: "2026-09-01",
                contenu: &marker,
                travail: "Exercice 1",
                pour_le: "2026-09-02",
                ..LessonForm::default()
            };
            let resp = client
                .post_form(&format!("/cahier/seances/{id}/modifier"), &form.fields())
                .await;
            let target = format!("/cahier/seances/{id}");
            let got = classify(&resp, &|loc| loc == target);
            let school = school_of_key(f, fr.author);
            let content = t
                .app
                .store
                .lesson(school, id)
                .await
                .unwrap()
                .map(|l| l.fields.content_md)
                .unwrap_or_default();
            let effect =
                ((content == marker) != should).then(|| format!("content is now {content:?}"));
            (got, effect)
        }
        Req::Delete(fr) => {
            let id = make_fresh(t, f, fr).await;
            let resp = client
                .post_form(&format!("/cahier/seances/{id}/supprimer"), &[])
                .await;
            let class = class_of_key(f, fr.class);
            let target = format!("/cahier/classes/{}", class.0);
            let got = classify(&resp, &|loc| loc == target);
            let school = school_of_key(f, fr.author);
            let gone = t.app.store.lesson(school, id).await.unwrap().is_none();
            let effect = (gone != should).then(|| {
                if gone {
                    "the lesson was deleted".to_string()
                } else {
                    "the lesson is still there".to_string()
                }
            });
            (got, effect)
        }
        Req::Done(fr) => {
            let id = make_fresh(t, f, fr).await;
            let resp = client
                .post_form(&format!("/devoirs/{id}/fait"), &[("fait", "1")])
                .await;
            let target = format!("/devoirs#l{id}");
            let got = classify(&resp, &|loc| loc == target);
            let school = school_of_key(f, fr.author);
            let class = class_of_key(f, fr.class);
            let mut wrong = Vec::new();
            for pupil in ["pupil_a", "pupil_b", "other_pupil"] {
                let mark = done_mark(t, school, class, id, f.id(pupil))
                    .await
                    .unwrap_or(false);
                if mark != (should && pupil == who) {
                    wrong.push(format!("{pupil} done={mark}"));
                }
            }
            (got, (!wrong.is_empty()).then(|| wrong.join(", ")))
        }
    }
}

#[tokio::test]
async fn access_matrix_of_the_cahier_de_textes() {
    let started = Instant::now();
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let x = make_fixed(&t, &f).await;
    let mut clients = Vec::new();
    for a in ACTORS {
        let client = match a {
            None => t.client(),
            Some(key) => t.signed_in(f.login(key)).await,
        };
        clients.push((actor_label(a), client));
    }

    let mut mismatches = Vec::new();
    let mut observed = Vec::new();
    let mut cells_run = 0;
    for (req, expected_row) in MATRIX {
        let mut cells = Vec::new();
        for ((who, client), expected) in clients.iter().zip(expected_row) {
            let (got, effect) = run_cell(&t, &f, &x, client, who, *req, *expected).await;
            cells_run += 1;
            let mut cell = match &got {
                Ok(o) => o.to_string(),
                Err(_) => "?".to_string(),
            };
            match got {
                Ok(o) if o == *expected => {}
                Ok(o) => mismatches.push(Mismatch {
                    route: req.label(),
                    actor: who.to_string(),
                    expected: expected.to_string(),
                    got: o.to_string(),
                }),
                Err(other) => mismatches.push(Mismatch {
                    route: req.label(),
                    actor: who.to_string(),
                    expected: expected.to_string(),
                    got: other,
                }),
            }
            if let Some(problem) = effect {
                cell.push('x');
                mismatches.push(Mismatch {
                    route: req.label(),
                    actor: who.to_string(),
                    expected: format!("{expected} (effect)"),
                    got: problem,
                });
            }
            cells.push(cell);
        }
        observed.push((req.label(), cells));
    }
    println!("{}", render_observed(&ACTORS, &observed));
    println!(
        "access matrix: {cells_run} cells in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        mismatches.is_empty(),
        "{}\n{}",
        report("cahier de textes", &mismatches),
        render_observed(&ACTORS, &observed)
    );
}

// ---------------------------------------------------------------------------
// Behaviour

#[tokio::test]
async fn homework_due_tomorrow_reaches_the_pupil_and_the_parent_and_is_ticked() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let parent = t.signed_in(f.login("parent_a")).await;
    let pupil_b = t.signed_in(f.login("pupil_b")).await;
    let parent_b = t.signed_in(f.login("parent_b")).await;

    let id = write_http(
        &teacher,
        f.class_a,
        LessonForm {
            matiere: "Histoire-géographie",
            date: "2026-09-01",
            contenu: "Les premières cités : **Mésopotamie** et Égypte.",
            travail: "Lire les pages 24 à 27 et compléter la carte des fleuves.",
            pour_le: "2026-09-02",
            duree: "30",
            ..LessonForm::default()
        },
        &[("carte-des-fleuves.pdf", PDF)],
    )
    .await;
    // Two more, to see the grouping by day then subject.
    let english = write_http(
        &teacher,
        f.class_a,
        LessonForm {
            matiere: "Anglais",
            date: "2026-09-01",
            travail: "Apprendre les jours de la semaine.",
            pour_le: "2026-09-02",
            ..LessonForm::default()
        },
        &[],
    )
    .await;
    let maths = write_http(
        &teacher,
        f.class_a,
        LessonForm {
            matiere: "Mathématiques",
            date: "2026-09-01",
            travail: "Exercices 4 et 5 page 12.",
            pour_le: "2026-09-03",
            evaluation: true,
            ..LessonForm::default()
        },
        &[],
    )
    .await;

    let stored = t
        .app
        .store
        .lesson(f.school_a, id)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(stored.attachments.len(), 1);
    let file = &stored.attachments[0];
    assert_eq!(file.file_name, "carte-des-fleuves.pdf");
    assert_eq!(file.content_type, "application/pdf");
    assert_eq!(stored.fields.due_date.as_deref(), Some("2026-09-02"));
    assert_eq!(stored.fields.workload_minutes, Some(30));

    // The teacher's lesson page.
    let lesson_page = page(&teacher, &format!("/cahier/seances/{id}")).await;
    for needle in [
        "<strong>Mésopotamie</strong>",
        "compléter la carte des fleuves",
        "pour le 02/09/2026",
        "environ 30 min",
        &format!("href=\"/pieces-jointes/{}\"", file.id),
    ] {
        assert!(lesson_page.contains(needle), "lesson page lacks {needle:?}");
    }

    // The pupil: tomorrow's homework, by subject, then the next day.
    let due = page(&pupil, "/devoirs").await;
    let tomorrow = due
        .find("Pour mercredi 2 septembre (demain)")
        .expect("a day heading for tomorrow, marked (demain)");
    let next = due
        .find("Pour jeudi 3 septembre")
        .expect("a day heading for Thursday");
    assert!(tomorrow < next, "days in order");
    let (p_en, p_hg, p_m) = (
        due.find(&format!("id=\"l{english}\"")).unwrap(),
        due.find(&format!("id=\"l{id}\"")).unwrap(),
        due.find(&format!("id=\"l{maths}\"")).unwrap(),
    );
    assert!(
        tomorrow < p_en && p_en < p_hg && p_hg < next && next < p_m,
        "grouped by day, then by subject (Anglais before Histoire-géographie)"
    );
    let item = due_item(&due, id).unwrap();
    for needle in [
        "Histoire-géographie",
        "compléter la carte des fleuves",
        "environ 30 min",
        "carte-des-fleuves.pdf",
        &format!("href=\"/pieces-jointes/{}\"", file.id),
        "J'ai fait ce travail",
        &format!("action=\"/devoirs/{id}/fait\""),
    ] {
        assert!(
            item.contains(needle),
            "pupil's item lacks {needle:?}:\n{item}"
        );
    }
    assert!(due_item(&due, maths).unwrap().contains("évaluation"));
    let home = page(&pupil, "/").await;
    assert!(
        home.contains("Pour mercredi 2 septembre (demain)</strong> : Anglais, Histoire-géographie"),
        "the pupil's home page lists tomorrow's subjects"
    );

    // The pupil opens the attachment.
    let resp = pupil.get(&format!("/pieces-jointes/{}", file.id)).await;
    assert_eq!(resp.status(), 200);
    assert!(header(&resp, "content-disposition").starts_with("attachment"));
    assert_eq!(header(&resp, "x-content-type-options"), "nosniff");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), PDF);

    // The parent: the same under the child's name, without the button.
    let family = page(&parent, "/devoirs").await;
    let child = family
        .find(&format!(
            "id=\"enfant-{}\">Léa Alpha — 6e A",
            f.id("pupil_a")
        ))
        .expect("a section titled with the child's name and class");
    let p_item = due_item(&family, id).expect("the homework in the parent's list");
    assert!(family.find(&format!("id=\"l{id}\"")).unwrap() > child);
    assert!(family.contains("Pour mercredi 2 septembre (demain)"));
    for needle in [
        "Histoire-géographie",
        "compléter la carte des fleuves",
        "carte-des-fleuves.pdf",
    ] {
        assert!(p_item.contains(needle), "parent's item lacks {needle:?}");
    }
    assert!(
        !family.contains("J'ai fait ce travail") && !family.contains("action=\"/devoirs/"),
        "read-only for parents"
    );
    assert_eq!(
        status_of(&parent, &format!("/pieces-jointes/{}", file.id)).await,
        200
    );

    // Another class's pupil and parent see none of it.
    for (who, c) in [("pupil_b", &pupil_b), ("parent_b", &parent_b)] {
        let other = page(c, "/devoirs").await;
        for needle in [
            "Histoire-géographie",
            "carte des fleuves",
            "carte-des-fleuves.pdf",
            &format!("id=\"l{id}\""),
        ] {
            assert!(!other.contains(needle), "{who} sees {needle:?}");
        }
        assert!(!page(c, "/").await.contains("Histoire-géographie"));
        assert_eq!(
            status_of(c, &format!("/pieces-jointes/{}", file.id)).await,
            404
        );
    }

    // Ticked, then unticked.
    let r = pupil
        .post_form(&format!("/devoirs/{id}/fait"), &[("fait", "1")])
        .await;
    assert_eq!(r.status(), 303, "{}", describe(&r));
    assert_eq!(header(&r, "location"), format!("/devoirs#l{id}"));
    let due = page(&pupil, "/devoirs").await;
    let item = due_item(&due, id).unwrap();
    assert!(
        item.starts_with(&format!("<li id=\"l{id}\" class=\"done\"")),
        "{item}"
    );
    assert!(item.contains(">fait</span>"), "{item}");
    assert!(item.contains("Marquer comme non fait"));
    assert!(!item.contains("J'ai fait ce travail"));
    assert!(
        !due_item(&due, english).unwrap().contains(">fait</span>"),
        "only that one"
    );
    assert_eq!(
        done_mark(&t, f.school_a, f.class_a, id, f.id("pupil_a")).await,
        Some(true)
    );
    assert!(page(&pupil, "/")
        .await
        .contains("Histoire-géographie (fait)"));
    let family = page(&parent, "/devoirs").await;
    assert!(
        due_item(&family, id).unwrap().contains(">fait</span>"),
        "the parent sees the child's mark"
    );
    let parent_home = page(&parent, "/").await;

    let r = pupil
        .post_form(&format!("/devoirs/{id}/fait"), &[("fait", "0")])
        .await;
    assert_eq!(r.status(), 303, "{}", describe(&r));
    let due = page(&pupil, "/devoirs").await;
    let item = due_item(&due, id).unwrap();
    assert!(
        item.starts_with(&format!("<li id=\"l{id}\" class=\"\"")),
        "{item}"
    );
    assert!(item.contains("J'ai fait ce travail"));
    assert_eq!(
        done_mark(&t, f.school_a, f.class_a, id, f.id("pupil_a")).await,
        Some(false)
    );
    // The parent's home page counts what is left (2 of 3 once one is ticked).
    assert!(
        parent_home.contains("Léa : 2 travaux à faire"),
        "the parent's home page: {:?}",
        parent_home
            .find("Léa :")
            .map(|i| parent_home[i..].chars().take(60).collect::<String>())
    );
}

/// Who must not see a scheduled lesson before its day, and where to look.
struct Viewers<'a> {
    pupil: &'a TestClient,
    parent: &'a TestClient,
    teacher_b: &'a TestClient,
    staff: &'a TestClient,
    id: i64,
    week: &'a str,
    lesson_path: &'a str,
    file_path: &'a str,
}

async fn assert_hidden(label: &str, v: &Viewers<'_>) {
    let id = v.id;
    for (who, c) in [("pupil_a", v.pupil), ("parent_a", v.parent)] {
        let due = page(c, "/devoirs").await;
        assert!(
            !due.contains("la cellule") && !due.contains(&format!("id=\"l{id}\"")),
            "{label}: {who} sees the scheduled homework in /devoirs"
        );
        assert!(
            !page(c, "/").await.contains("Sciences de la vie"),
            "{label}: {who}'s home page"
        );
        assert!(
            !page(c, v.week).await.contains("La cellule"),
            "{label}: {who} sees it in the class's week"
        );
        assert_eq!(status_of(c, v.lesson_path).await, 404, "{label}: {who}");
        assert_eq!(status_of(c, v.file_path).await, 404, "{label}: {who}");
    }
    for (who, c) in [("teacher_b", v.teacher_b), ("staff", v.staff)] {
        assert_eq!(status_of(c, v.lesson_path).await, 404, "{label}: {who}");
        assert!(
            !page(c, v.week).await.contains("La cellule"),
            "{label}: {who}"
        );
    }
}

#[tokio::test]
async fn a_lesson_prepared_ahead_appears_on_its_day() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let teacher_b = t.signed_in(f.login("teacher_b")).await;
    let staff = t.signed_in(f.login("staff")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let parent = t.signed_in(f.login("parent_a")).await;

    let id = write_http(
        &teacher,
        f.class_a,
        LessonForm {
            matiere: "Sciences de la vie et de la Terre",
            date: "2026-09-01",
            contenu: "La cellule, unité du vivant.",
            travail: "Réviser la leçon sur la cellule pour le contrôle.",
            pour_le: "2026-09-10",
            evaluation: true,
            publier_le: "2026-09-08",
            ..LessonForm::default()
        },
        &[("schema-cellule.pdf", PDF)],
    )
    .await;
    let file = t
        .app
        .store
        .lesson(f.school_a, id)
        .await
        .unwrap()
        .unwrap()
        .attachments[0]
        .id;
    let week = format!("/cahier/classes/{}?semaine=2026-08-31", f.class_a.0);
    let lesson_path = format!("/cahier/seances/{id}");
    let file_path = format!("/pieces-jointes/{file}");

    let v = Viewers {
        pupil: &pupil,
        parent: &parent,
        teacher_b: &teacher_b,
        staff: &staff,
        id,
        week: &week,
        lesson_path: &lesson_path,
        file_path: &file_path,
    };

    assert_hidden("just written", &v).await;
    // Its author sees it, marked as scheduled.
    let mine = page(&teacher, &lesson_path).await;
    assert!(mine.contains("La cellule, unité du vivant."));
    assert!(
        mine.contains("programmée, pas encore visible des élèves"),
        "the author's lesson page says it is scheduled"
    );
    let mine_week = page(&teacher, &week).await;
    assert!(
        mine_week.contains("La cellule"),
        "the author's week shows it"
    );
    assert!(
        mine_week.contains("· programmé"),
        "the author's week marks it scheduled"
    );
    assert_eq!(status_of(&teacher, &file_path).await, 200);

    // One minute before 8 September in Paris (7 September, 21:59 UTC).
    let opens = day("2026-09-08").start_unix();
    clock_to(&t, opens - 60);
    assert_hidden("one minute before its day", &v).await;

    // 8 September, 00:00 in Paris.
    clock_to(&t, opens);
    let due = page(&pupil, "/devoirs").await;
    let item = due_item(&due, id).expect("published on its day");
    assert!(item.contains("Réviser la leçon sur la cellule"));
    assert!(item.contains("évaluation"));
    assert!(due.contains("Pour jeudi 10 septembre"));
    let family = page(&parent, "/devoirs").await;
    assert!(due_item(&family, id).is_some(), "and for the parent");
    for c in [&pupil, &parent, &teacher_b, &staff] {
        assert_eq!(status_of(c, &lesson_path).await, 200);
    }
    assert_eq!(status_of(&pupil, &file_path).await, 200);
    let now_public = page(&pupil, &lesson_path).await;
    assert!(!now_public.contains("programmée"));
    assert!(!page(&teacher, &lesson_path).await.contains("programmée"));
    assert!(page(&pupil, &week).await.contains("La cellule"));
}

#[tokio::test]
async fn invalid_lessons_get_french_messages_and_write_nothing() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;

    // One valid lesson with a file, to find the blob directory.
    let valid = write_http(
        &teacher,
        f.class_a,
        LessonForm {
            matiere: "Français",
            date: "2026-09-01",
            contenu: "Lecture du conte.",
            ..LessonForm::default()
        },
        &[("conte.pdf", PDF)],
    )
    .await;
    let key = t
        .app
        .store
        .lesson(f.school_a, valid)
        .await
        .unwrap()
        .unwrap()
        .attachments[0]
        .blob_key
        .clone();
    let root = blob_root_holding(&key);
    let files_before = count_files(&root);
    let lessons_before = lesson_count(&t, f.school_a, f.class_a).await;

    let long = "a".repeat(20_001);
    let base = LessonForm {
        matiere: "Français",
        date: "2026-09-01",
        contenu: "Lecture du conte.",
        travail: "Lire la suite du conte.",
        pour_le: "2026-09-03",
        duree: "30",
        ..LessonForm::default()
    };
    let cases: Vec<(&str, LessonForm, &str, &str)> = vec![
        (
            "no content and no homework",
            LessonForm {
                contenu: "",
                travail: "",
                pour_le: "",
                duree: "",
                ..base
            },
            "lesson.empty",
            "Écrivez ce qui a été fait en séance ou le travail à faire.",
        ),
        (
            "blank content and homework",
            LessonForm {
                contenu: "   \n  ",
                travail: " \t ",
                pour_le: "",
                duree: "",
                ..base
            },
            "lesson.empty",
            "Écrivez ce qui a été fait en séance ou le travail à faire.",
        ),
        (
            "homework without a due date",
            LessonForm {
                pour_le: "",
                ..base
            },
            "lesson.work_without_date",
            "Indiquez pour quand est le travail à faire.",
        ),
        (
            "a due date without homework",
            LessonForm {
                travail: "",
                ..base
            },
            "lesson.due_without_work",
            "Une date « pour le » demande un travail à faire.",
        ),
        (
            "due before the lesson",
            LessonForm {
                pour_le: "2026-08-31",
                ..base
            },
            "lesson.due_before",
            "Le travail ne peut pas être dû avant la séance.",
        ),
        (
            "workload 0",
            LessonForm { duree: "0", ..base },
            "lesson.workload",
            "La charge estimée est un nombre de minutes, de 1 à 600.",
        ),
        (
            "workload 601",
            LessonForm {
                duree: "601",
                ..base
            },
            "lesson.workload",
            "La charge estimée est un nombre de minutes, de 1 à 600.",
        ),
        (
            "workload abc",
            LessonForm {
                duree: "abc",
                ..base
            },
            "lesson.workload",
            "La charge estimée est un nombre de minutes, de 1 à 600.",
        ),
        (
            "lesson date 31/02/2026",
            LessonForm {
                date: "31/02/2026",
                ..base
            },
            "lesson.date",
            "Indiquez la date de la séance (jj/mm/aaaa).",
        ),
        (
            "no lesson date",
            LessonForm { date: "", ..base },
            "lesson.date",
            "Indiquez la date de la séance (jj/mm/aaaa).",
        ),
        (
            "due date 31/02/2026",
            LessonForm {
                pour_le: "31/02/2026",
                ..base
            },
            "lesson.due_date",
            "Date « pour le » invalide (jj/mm/aaaa).",
        ),
        (
            "publication date 31/02/2026",
            LessonForm {
                publier_le: "31/02/2026",
                ..base
            },
            "lesson.publish",
            "Date de publication invalide (jj/mm/aaaa).",
        ),
        (
            "content of 20,001 characters",
            LessonForm {
                contenu: &long,
                ..base
            },
            "text.too_long",
            "Le contenu de la séance est trop long",
        ),
        (
            "homework of 20,001 characters",
            LessonForm {
                travail: &long,
                ..base
            },
            "text.too_long",
            "Le travail à faire est trop long",
        ),
    ];

    let mut problems = Vec::new();
    for (what, form, code, message) in &cases {
        let resp = post_multipart(
            &teacher,
            &format!("/cahier/classes/{}", f.class_a.0),
            &form.fields(),
            &[("piece-jointe.pdf", PDF)],
        )
        .await;
        let status = resp.status();
        let got_code = header(&resp, "x-cartable-error");
        let body = resp.text().await.unwrap_or_default();
        if status != 400 || got_code != *code || !body.contains(message) {
            problems.push(format!(
                "{what}: expected 400 {code} « {message} », got {status} {got_code:?}: {}",
                error_text(&body)
            ));
        } else if !body.contains("role=\"alert\"") {
            problems.push(format!("{what}: the message is not announced (role=alert)"));
        }
    }
    // Files the server refuses (not an allowed type, empty): the whole
    // lesson is refused, its other file is not kept.
    let exe: &[u8] = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00This program cannot be run in DOS mode.";
    for (what, files) in [
        (
            "an executable",
            vec![("consignes.pdf", PDF), ("devoir.exe", exe)],
        ),
        (
            "an empty file",
            vec![("consignes.pdf", PDF), ("vide.pdf", &b""[..])],
        ),
    ] {
        let resp = post_multipart(
            &teacher,
            &format!("/cahier/classes/{}", f.class_a.0),
            &base.fields(),
            &files,
        )
        .await;
        let status = resp.status();
        let code = header(&resp, "x-cartable-error");
        let body = resp.text().await.unwrap_or_default();
        println!(
            "upload of {what}: {status} {code:?}: {}",
            error_text(&body).chars().take(160).collect::<String>()
        );
        if status != 400 || !code.starts_with("upload.") {
            problems.push(format!(
                "{what}: expected 400 upload.*, got {status} {code:?}"
            ));
        }
    }
    // Without the CSRF token: refused before anything is read.
    let form = base
        .fields()
        .into_iter()
        .fold(Form::new(), |form, (k, v)| form.text(k, v.to_string()));
    let resp = teacher
        .http
        .post(format!("{}/cahier/classes/{}", teacher.base, f.class_a.0))
        .multipart(form.part("fichier", Part::bytes(PDF.to_vec()).file_name("x.pdf")))
        .send()
        .await
        .unwrap();
    if resp.status() != 403 || header(&resp, "x-cartable-error") != "csrf" {
        problems.push(format!("no CSRF token: got {}", describe(&resp)));
    }

    // The form keeps what was typed.
    let resp = post_multipart(
        &teacher,
        &format!("/cahier/classes/{}", f.class_a.0),
        &LessonForm {
            pour_le: "",
            travail: "Lire le chapitre suivant du conte",
            ..base
        }
        .fields(),
        &[],
    )
    .await;
    let body = resp.text().await.unwrap();
    assert!(
        body.contains("Lire le chapitre suivant du conte"),
        "the refused form shows the typed homework again"
    );

    let lessons_after = lesson_count(&t, f.school_a, f.class_a).await;
    let files_after = count_files(&root);
    println!(
        "validation: {} cases; lessons {lessons_before} -> {lessons_after}; files {files_before} -> {files_after}",
        cases.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(
        lessons_after, lessons_before,
        "a refused lesson writes nothing"
    );
    assert_eq!(files_after, files_before, "a refused lesson leaves no file");

    // Edits are checked the same way and change nothing when refused.
    let before = t
        .app
        .store
        .lesson(f.school_a, valid)
        .await
        .unwrap()
        .unwrap();
    for (what, form, code, message) in cases.iter().filter(|c| !c.0.contains("20,001")) {
        let resp = teacher
            .post_form(&format!("/cahier/seances/{valid}/modifier"), &form.fields())
            .await;
        let status = resp.status();
        let got_code = header(&resp, "x-cartable-error");
        let body = resp.text().await.unwrap_or_default();
        if status != 400 || got_code != *code || !body.contains(message) {
            problems.push(format!(
                "edit, {what}: expected 400 {code} « {message} », got {status} {got_code:?}: {}",
                error_text(&body)
            ));
        }
    }
    // A 20,001-character text in an (urlencoded) edit form.
    let resp = teacher
        .post_form(
            &format!("/cahier/seances/{valid}/modifier"),
            &LessonForm {
                contenu: &long,
                ..base
            }
            .fields(),
        )
        .await;
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    if status != 400 || !body.contains("Le contenu de la séance est trop long") {
        problems.push(format!(
            "edit, content of 20,001 characters: got {status}: {}",
            error_text(&body)
        ));
    }
    let after = t
        .app
        .store
        .lesson(f.school_a, valid)
        .await
        .unwrap()
        .unwrap();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(after, before, "refused edits change nothing");
}

#[tokio::test]
async fn the_author_edits_and_deletes_a_lesson() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;

    let id = write_http(
        &teacher,
        f.class_a,
        LessonForm {
            matiere: "Anglais",
            date: "2026-09-01",
            contenu: "Present simple.",
            travail: "Apprendre la liste de verbes numéro un.",
            pour_le: "2026-09-02",
            duree: "15",
            ..LessonForm::default()
        },
        &[("verbes.pdf", PDF)],
    )
    .await;
    let stored = t.app.store.lesson(f.school_a, id).await.unwrap().unwrap();
    let key = stored.attachments[0].blob_key.clone();
    let file = stored.attachments[0].id;
    let root = blob_root_holding(&key);
    assert!(page(&pupil, "/devoirs")
        .await
        .contains("Apprendre la liste de verbes numéro un."));

    // The edit page shows what is stored.
    let form = page(&teacher, &format!("/cahier/seances/{id}/modifier")).await;
    for needle in [
        "value=\"Anglais\"",
        "Present simple.</textarea>",
        "Apprendre la liste de verbes numéro un.</textarea>",
        "value=\"2026-09-02\"",
        "value=\"15\"",
        &format!("action=\"/cahier/seances/{id}/modifier\""),
    ] {
        assert!(form.contains(needle), "edit page lacks {needle:?}");
    }

    let r = teacher
        .post_form(
            &format!("/cahier/seances/{id}/modifier"),
            &LessonForm {
                matiere: "Anglais",
                date: "2026-09-01",
                contenu: "Present simple et present continuous.",
                travail: "Apprendre la liste de verbes numéro deux.",
                pour_le: "2026-09-03",
                duree: "20",
                ..LessonForm::default()
            }
            .fields(),
        )
        .await;
    assert_eq!(r.status(), 303, "{}", describe(&r));
    assert_eq!(header(&r, "location"), format!("/cahier/seances/{id}"));
    let shown = page(&teacher, &format!("/cahier/seances/{id}")).await;
    assert!(shown.contains("Present simple et present continuous."));
    assert!(shown.contains("verbes numéro deux"));
    assert!(!shown.contains("verbes numéro un"));
    assert!(shown.contains("verbes.pdf"), "the file stays");
    let due = page(&pupil, "/devoirs").await;
    assert!(due.contains("verbes numéro deux") && !due.contains("verbes numéro un"));
    assert!(
        due.contains("Pour jeudi 3 septembre") && !due.contains("Pour mercredi 2 septembre"),
        "the new due date"
    );

    // Delete.
    let r = teacher
        .post_form(&format!("/cahier/seances/{id}/supprimer"), &[])
        .await;
    assert_eq!(r.status(), 303, "{}", describe(&r));
    assert_eq!(
        header(&r, "location"),
        format!("/cahier/classes/{}", f.class_a.0)
    );
    let due = page(&pupil, "/devoirs").await;
    assert!(!due.contains("verbes numéro") && !due.contains(&format!("id=\"l{id}\"")));
    assert!(due.contains("Rien à faire pour les deux prochaines semaines."));
    assert!(!page(&pupil, "/").await.contains("Anglais"));
    assert_eq!(
        status_of(&pupil, &format!("/cahier/seances/{id}")).await,
        404
    );
    assert_eq!(
        status_of(&teacher, &format!("/cahier/seances/{id}")).await,
        404
    );
    assert_eq!(
        status_of(&pupil, &format!("/pieces-jointes/{file}")).await,
        404
    );
    assert!(!page(
        &teacher,
        &format!("/cahier/classes/{}?semaine=2026-08-31", f.class_a.0)
    )
    .await
    .contains("Present simple"));
    assert!(
        !root.join(&key).exists(),
        "the file is deleted from storage"
    );
    let audit = t.app.store.audit_log(f.school_a, 50).await.unwrap();
    for action in ["lesson.written", "lesson.deleted"] {
        assert!(
            audit.iter().any(|e| e.action == action),
            "audit log lacks {action}"
        );
    }
    // Deleting again: not found.
    let r = teacher
        .post_form(&format!("/cahier/seances/{id}/supprimer"), &[])
        .await;
    assert_eq!(r.status(), 404, "{}", describe(&r));
}

#[tokio::test]
async fn the_workload_page_flags_heavy_days() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let homework =
        |subject: &'static str, due: &'static str, minutes: &'static str, test: bool| LessonForm {
            matiere: subject,
            date: "2026-09-01",
            travail: "Travail à faire pour la séance suivante.",
            pour_le: due,
            duree: minutes,
            evaluation: test,
            ..LessonForm::default()
        };
    // Thursday: three subjects, two of them tests (65 minutes).
    for (s, m, test) in [
        ("Mathématiques", "30", true),
        ("Français", "20", true),
        ("Anglais", "15", false),
    ] {
        write_http(&teacher, f.class_a, homework(s, "2026-09-03", m, test), &[]).await;
    }
    // Wednesday: no test but 95 minutes. Friday: one light homework.
    write_http(
        &teacher,
        f.class_a,
        homework("Histoire", "2026-09-02", "50", false),
        &[],
    )
    .await;
    write_http(
        &teacher,
        f.class_a,
        homework("Physique", "2026-09-02", "45", false),
        &[],
    )
    .await;
    write_http(
        &teacher,
        f.class_a,
        homework("SVT", "2026-09-04", "20", false),
        &[],
    )
    .await;
    // Another class's test on Thursday does not count for 6e A.
    let teacher_b = t.signed_in(f.login("teacher_b")).await;
    write_http(
        &teacher_b,
        f.class_b,
        homework("Musique", "2026-09-03", "30", true),
        &[],
    )
    .await;

    let path = format!("/cahier/classes/{}/charge?semaine=2026-08-31", f.class_a.0);
    for who in ["teacher_a", "teacher_b", "staff", "admin"] {
        let c = t.signed_in(f.login(who)).await;
        let html = page(&c, &path).await;
        let thursday = workload_row(&html, "jeudi 3 septembre")
            .unwrap_or_else(|| panic!("{who}: no Thursday row"));
        assert!(
            thursday.starts_with(" class=\"heavy\""),
            "{who}: Thursday (2 tests) is heavy: <tr{thursday}"
        );
        for needle in [
            "Mathématiques (évaluation)",
            "Français (évaluation)",
            "Anglais",
            "65 min, 2 évaluations",
        ] {
            assert!(
                thursday.contains(needle),
                "{who}: Thursday lacks {needle:?}"
            );
        }
        assert!(!thursday.contains("Musique"), "{who}: another class's test");
        let wednesday = workload_row(&html, "mercredi 2 septembre").unwrap();
        assert!(
            wednesday.starts_with(" class=\"heavy\"") && wednesday.contains("95 min"),
            "{who}: Wednesday (95 min) is heavy: <tr{wednesday}"
        );
        let friday = workload_row(&html, "vendredi 4 septembre").unwrap();
        assert!(
            !friday.contains("heavy") && friday.contains("SVT") && friday.contains("20 min"),
            "{who}: Friday is light: <tr{friday}"
        );
        let monday = workload_row(&html, "lundi 31 août").unwrap();
        assert!(!monday.contains("heavy") && monday.contains("—"));
    }
    // The form to add a lesson shows the same before the teacher adds more.
    let form = page(
        &teacher,
        &format!("/cahier/classes/{}/nouvelle", f.class_a.0),
    )
    .await;
    let thursday = workload_row(&form, "jeudi 3 septembre").expect("workload on the form");
    assert!(thursday.starts_with(" class=\"heavy\""), "<tr{thursday}");
}

/// A test prepared ahead (published next week) is already on its day's
/// calendar: the workload page exists "so that a class does not get five
/// tests on one day", so the teachers who look at it before adding more must
/// see it, even though pupils and parents do not yet. (It shows the subject
/// and "évaluation" only, not the lesson.)
#[tokio::test]
async fn homework_prepared_ahead_counts_in_the_workload_teachers_see() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    write_http(
        &teacher,
        f.class_a,
        LessonForm {
            matiere: "Mathématiques",
            date: "2026-09-01",
            travail: "Réviser les chapitres 1 et 2 pour le contrôle.",
            pour_le: "2026-09-10",
            duree: "60",
            evaluation: true,
            publier_le: "2026-09-08",
            ..LessonForm::default()
        },
        &[],
    )
    .await;
    write_http(
        &teacher,
        f.class_a,
        LessonForm {
            matiere: "Français",
            date: "2026-09-01",
            travail: "Réviser la conjugaison pour le contrôle.",
            pour_le: "2026-09-10",
            duree: "30",
            evaluation: true,
            ..LessonForm::default()
        },
        &[],
    )
    .await;
    let path = format!("/cahier/classes/{}/charge?semaine=2026-09-07", f.class_a.0);
    let mut problems = Vec::new();
    for who in ["teacher_a", "teacher_b", "staff"] {
        let c = t.signed_in(f.login(who)).await;
        let html = page(&c, &path).await;
        let row = workload_row(&html, "jeudi 10 septembre").expect("a Thursday row");
        if !row.contains("Mathématiques (évaluation)") || !row.starts_with(" class=\"heavy\"") {
            problems.push(format!(
                "{who}: Thursday 10 September shows <tr{}",
                row.split("</tr>").next().unwrap_or(row)
            ));
        }
    }
    // The new-lesson form, where the author looks before adding a third test.
    let form = page(
        &teacher,
        &format!("/cahier/classes/{}/nouvelle", f.class_a.0),
    )
    .await;
    let row = workload_row(&form, "jeudi 10 septembre").expect("next week on the form");
    if !row.contains("Mathématiques (évaluation)") {
        problems.push(format!(
            "teacher_a's new-lesson form: Thursday 10 September shows <tr{}",
            row.split("</tr>").next().unwrap_or(row)
        ));
    }
    // Pupils still do not see it.
    let pupil = t.signed_in(f.login("pupil_a")).await;
    assert!(!page(&pupil, "/devoirs")
        .await
        .contains("Réviser les chapitres 1 et 2"));
    assert!(
        problems.is_empty(),
        "a scheduled test is missing from the class's workload:\n{}",
        problems.join("\n")
    );
}

#[tokio::test]
async fn days_are_paris_days() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    for (subject, due) in [
        ("Mathématiques", "2026-09-01"),
        ("Français", "2026-09-02"),
        ("Anglais", "2026-09-03"),
    ] {
        write_http(
            &teacher,
            f.class_a,
            LessonForm {
                matiere: subject,
                date: "2026-09-01",
                travail: "Exercices du manuel.",
                pour_le: due,
                ..LessonForm::default()
            },
            &[],
        )
        .await;
    }
    let start = t.app.now(); // 2026-09-01 00:00 UTC
    let due = page(&pupil, "/devoirs").await;
    assert!(due.contains("Aujourd'hui : mardi 1er septembre"));
    assert!(due.contains("Pour mardi 1er septembre (aujourd'hui)"));
    assert!(due.contains("Pour mercredi 2 septembre (demain)"));

    // 21:59 UTC is 23:59 in Paris: still 1 September.
    clock_to(&t, start + 21 * 3600 + 59 * 60);
    let due = page(&pupil, "/devoirs").await;
    assert!(
        due.contains("Pour mercredi 2 septembre (demain)"),
        "at 23:59 in Paris, the 2nd is tomorrow"
    );

    // 23:30 UTC on 1 September is 01:30 on 2 September in Paris.
    clock_to(&t, start + 23 * 3600 + 1800);
    let due = page(&pupil, "/devoirs").await;
    assert!(
        due.contains("Aujourd'hui : mercredi 2 septembre"),
        "today in Paris"
    );
    assert!(
        due.contains("Pour mercredi 2 septembre (aujourd'hui)"),
        "homework due on the 2nd is due today"
    );
    assert!(due.contains("Pour jeudi 3 septembre (demain)"));
    assert!(
        !due.contains("1er septembre"),
        "yesterday's homework is no longer listed"
    );
    let home = page(&pupil, "/").await;
    assert!(home.contains("Pour mercredi 2 septembre"));
    assert!(!home.contains("1er septembre"));
    let form = page(
        &teacher,
        &format!("/cahier/classes/{}/nouvelle", f.class_a.0),
    )
    .await;
    assert!(
        form.contains("name=\"date\" type=\"date\" value=\"2026-09-02\""),
        "a new lesson defaults to today in Paris"
    );
    let week = page(&teacher, &format!("/cahier/classes/{}", f.class_a.0)).await;
    assert!(week.contains("Semaine du lundi 31 août"));
}

// ---------------------------------------------------------------------------
// XSS

/// A form page with the `value` of its inputs emptied. The value of a text
/// input is never a URL the browser follows nor script it runs (askama
/// escapes its quotes, so it cannot close the attribute): `looks_dangerous`
/// would flag a subject typed as `[x](javascript:…)` in it all the same.
fn without_input_values(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(" value=\"") {
        let start = i + " value=\"".len();
        out.push_str(&rest[..start]);
        let end = rest[start..].find('"').map_or(rest.len(), |j| start + j);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Checks a page for anything that could run script; records the problem.
fn check_page(what: &str, html: &str, problems: &mut Vec<String>) {
    if let Some(why) = looks_dangerous(html) {
        let lower = html.to_ascii_lowercase();
        let at = ["<script", "<img", "<iframe", "<svg", "javascript:", " on"]
            .iter()
            .filter_map(|n| lower.find(n))
            .min()
            .unwrap_or(0);
        let mut from = at.saturating_sub(80);
        while !html.is_char_boundary(from) {
            from -= 1;
        }
        let excerpt: String = html[from..].chars().take(200).collect();
        problems.push(format!("{what}: {why}: …{excerpt}…"));
    }
    if html.to_ascii_lowercase().contains("<script") {
        problems.push(format!("{what}: a <script"));
    }
}

#[tokio::test]
async fn xss_corpus_in_every_lesson_field_stays_inert_on_every_page() {
    let started = Instant::now();
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let parent = t.signed_in(f.login("parent_a")).await;
    let staff = t.signed_in(f.login("staff")).await;

    let mut lessons = Vec::new();
    let mut refused = Vec::new();
    let mut subjects_used = 0;
    for (i, payload) in XSS_CORPUS.iter().enumerate() {
        let folded = payload.split_whitespace().collect::<Vec<_>>().join(" ");
        let fallback = format!("Matière {i}");
        let subject = if !folded.is_empty() && folded.chars().count() <= 80 {
            subjects_used += 1;
            payload.to_string()
        } else {
            fallback
        };
        let form = LessonForm {
            matiere: &subject,
            date: "2026-09-01",
            contenu: payload,
            travail: payload,
            pour_le: "2026-09-02",
            duree: "10",
            evaluation: i % 2 == 0,
            ..LessonForm::default()
        };
        let resp = post_multipart(
            &teacher,
            &format!("/cahier/classes/{}", f.class_a.0),
            &form.fields(),
            &[],
        )
        .await;
        let status = resp.status();
        let loc = header(&resp, "location");
        let body = resp.text().await.unwrap_or_default();
        match status.as_u16() {
            303 => lessons.push(
                loc.trim_start_matches("/cahier/seances/")
                    .parse::<i64>()
                    .expect("lesson id"),
            ),
            400 => {
                let mut p = Vec::new();
                check_page(
                    &format!("refusal page for payload {i} (input values emptied)"),
                    &without_input_values(&body),
                    &mut p,
                );
                assert!(p.is_empty(), "{}", p.join("\n"));
                refused.push((i, error_text(&body)));
            }
            other => panic!("payload {i} {payload:?}: {other}: {}", error_text(&body)),
        }
    }
    // One lesson holding the whole corpus, written through the edit form.
    let all = XSS_CORPUS.join("\n\n");
    let first = lessons[0];
    let r = teacher
        .post_form(
            &format!("/cahier/seances/{first}/modifier"),
            &LessonForm {
                matiere: "<script>alert(1)</script>",
                date: "2026-09-01",
                contenu: &all,
                travail: &all,
                pour_le: "2026-09-02",
                ..LessonForm::default()
            }
            .fields(),
        )
        .await;
    assert_eq!(r.status(), 303, "{}", describe(&r));
    // And a refused edit with the corpus: the form shows it back.
    let r = teacher
        .post_form(
            &format!("/cahier/seances/{first}/modifier"),
            &LessonForm {
                matiere: "[x](javascript:alert(1))\" onfocus=\"alert(1)\" autofocus x=\"",
                date: "31/02/2026",
                contenu: &all,
                travail: &all,
                ..LessonForm::default()
            }
            .fields(),
        )
        .await;
    assert_eq!(r.status(), 400);
    let mut problems = Vec::new();
    check_page(
        "refused edit form (input values emptied)",
        &without_input_values(&r.text().await.unwrap()),
        &mut problems,
    );

    let class = f.class_a.0;
    let mut pages: Vec<(String, String)> = Vec::new();
    for (who, c) in [
        ("teacher_a", &teacher),
        ("pupil_a", &pupil),
        ("parent_a", &parent),
        ("staff", &staff),
    ] {
        pages.push((
            format!("{who} week"),
            page(c, &format!("/cahier/classes/{class}?semaine=2026-08-31")).await,
        ));
        pages.push((format!("{who} home"), page(c, "/").await));
    }
    for (who, c) in [("pupil_a", &pupil), ("parent_a", &parent)] {
        pages.push((format!("{who} /devoirs"), page(c, "/devoirs").await));
    }
    for (who, c) in [("teacher_a", &teacher), ("staff", &staff)] {
        pages.push((
            format!("{who} workload"),
            page(
                c,
                &format!("/cahier/classes/{class}/charge?semaine=2026-08-31"),
            )
            .await,
        ));
    }
    pages.push((
        "new lesson form (workload)".into(),
        page(&teacher, &format!("/cahier/classes/{class}/nouvelle")).await,
    ));
    for id in &lessons {
        pages.push((
            format!("lesson {id} (pupil)"),
            page(&pupil, &format!("/cahier/seances/{id}")).await,
        ));
        pages.push((
            format!("lesson {id} (author)"),
            page(&teacher, &format!("/cahier/seances/{id}")).await,
        ));
        pages.push((
            format!("lesson {id} edit form (input values emptied)"),
            without_input_values(&page(&teacher, &format!("/cahier/seances/{id}/modifier")).await),
        ));
    }
    for (what, html) in &pages {
        check_page(what, html, &mut problems);
    }

    // The payloads did reach the pages (else this test proves nothing).
    let due = &pages
        .iter()
        .find(|(w, _)| w == "pupil_a /devoirs")
        .unwrap()
        .1;
    let items = due.matches("<li id=\"l").count();
    let family = &pages
        .iter()
        .find(|(w, _)| w == "parent_a /devoirs")
        .unwrap()
        .1;
    assert_eq!(
        items,
        lessons.len(),
        "every accepted lesson is in the pupil's list"
    );
    assert_eq!(family.matches("<li id=\"l").count(), lessons.len());
    assert!(
        due.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "escaped, not dropped"
    );
    println!(
        "xss: {} payloads, {} lessons accepted ({} with the payload as subject), {} refused, {} pages checked in {:.1} s",
        XSS_CORPUS.len(),
        lessons.len(),
        subjects_used,
        refused.len(),
        pages.len() + 1,
        started.elapsed().as_secs_f64()
    );
    for (i, why) in &refused {
        println!("  refused payload {i}: {why}");
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

// ---------------------------------------------------------------------------
// Page weight

/// A realistic week of homework: (subject, what was done, homework), about
/// 200 characters each.
const WEEK: &[(&str, &str, &str)] = &[
    (
        "Mathématiques",
        "Correction des exercices de la semaine dernière, puis introduction aux fractions décimales : définition, écriture et comparaison. Exercices 1 à 4 page 32 faits ensemble en classe.",
        "Apprendre la leçon sur les fractions décimales (cahier de cours, partie 2). Faire les exercices 5, 6 et 8 page 33 sur le cahier d'exercices en justifiant chaque réponse et en soignant la présentation.",
    ),
    (
        "Français",
        "Lecture à voix haute du chapitre 3 du roman, puis travail sur le portrait du personnage principal : relevé des adjectifs, des comparaisons et des indices sur son caractère et ses sentiments.",
        "Relire le chapitre 3 et rédiger le portrait physique et moral d'un personnage de votre choix en dix à quinze lignes, en utilisant au moins trois comparaisons et cinq adjectifs qualificatifs variés.",
    ),
    (
        "Histoire-géographie",
        "Les premières civilisations : naissance de l'écriture en Mésopotamie, les cités-États et le rôle des scribes. Étude d'une tablette d'argile et lecture de la frise chronologique du manuel.",
        "Apprendre les définitions de cité-État, scribe et cunéiforme. Compléter la frise chronologique de la fiche distribuée et répondre aux questions 1 à 4 du document 2 page 41 du manuel.",
    ),
    (
        "Anglais",
        "Révision du présent simple et des adverbes de fréquence. Écoute d'un dialogue sur la routine quotidienne d'un collégien britannique, puis jeu de rôle par groupes de deux élèves.",
        "Apprendre la liste de vocabulaire de la routine quotidienne (fiche 4). Écrire six phrases sur votre propre journée en utilisant always, usually, often, sometimes et never. Préparer la lecture.",
    ),
];

/// The body bytes of a GET as they come over the wire. Asks for compression
/// as a browser does: if the server ever compresses, the bytes counted are the
/// compressed ones (reqwest here does not decompress). Also the content-encoding.
async fn fetch_wire(c: &TestClient, path: &str) -> (Vec<u8>, String) {
    let mut h = HeaderMap::new();
    h.insert("accept-encoding", "gzip, deflate, br".parse().unwrap());
    let r = c
        .http
        .get(format!("{}{}", c.base, path))
        .headers(h)
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 200, "GET {path}");
    let encoding = header(&r, "content-encoding");
    (r.bytes().await.unwrap().to_vec(), encoding)
}

#[tokio::test]
async fn a_pupils_home_page_with_a_week_of_homework_stays_under_30_kb() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = actor(&t, f.id("teacher_a")).await;
    // Five school days from tomorrow: Wed 2, Thu 3, Fri 4, Mon 7, Tue 8 September.
    let days = [
        "2026-09-02",
        "2026-09-03",
        "2026-09-04",
        "2026-09-07",
        "2026-09-08",
    ];
    let mut written = 0;
    for (d, due) in days.iter().enumerate() {
        for (s, (subject, content, homework)) in WEEK.iter().enumerate() {
            let mut attachments = Vec::new();
            if s == d % WEEK.len() {
                attachments.push(stored_file(&t, &format!("fiche-{subject}-{due}.pdf"), PDF).await);
            }
            t.app
                .write_lesson(
                    &teacher,
                    Target::Class(f.class_a),
                    LessonDraft {
                        subject: subject.to_string(),
                        lesson_date: "2026-09-01".into(),
                        content: content.to_string(),
                        homework: homework.to_string(),
                        due_date: due.to_string(),
                        workload_minutes: (15 + 5 * s).to_string(),
                        is_test: s == d % WEEK.len(),
                        publish_date: String::new(),
                        attachments,
                    },
                    &ClientInfo::default(),
                )
                .await
                .expect("a week of homework");
            written += 1;
        }
    }
    assert_eq!(written, 20);

    let pupil = t.signed_in(f.login("pupil_a")).await;
    let (home, home_enc) = fetch_wire(&pupil, "/").await;
    let (css, css_enc) = fetch_wire(&pupil, "/static/app.css").await;
    let (due, due_enc) = fetch_wire(&pupil, "/devoirs").await;
    let home_text = String::from_utf8_lossy(&home);
    let due_text = String::from_utf8_lossy(&due);

    // The pages really hold the week (else the figure means nothing).
    assert!(home_text.contains("Pour mercredi 2 septembre (demain)</strong> : Anglais, Français, Histoire-géographie, Mathématiques"));
    assert!(home_text.contains("Pour jeudi 3 septembre"));
    assert_eq!(
        due_text.matches("<li id=\"l").count(),
        20,
        "20 homework items on /devoirs"
    );
    assert!(due_text.contains("fractions décimales"));
    assert!(
        !home_text.to_ascii_lowercase().contains("<script"),
        "no JavaScript"
    );
    assert!(
        !due_text.to_ascii_lowercase().contains("<script"),
        "no JavaScript"
    );

    let total = home.len() + css.len();
    println!(
        "page weight (pupil, 20 homework items over 5 days): home {} B + app.css {} B = {} B (budget 30000 B); /devoirs {} B (limit 60000 B); content-encoding: home {:?}, css {:?}, devoirs {:?}",
        home.len(),
        css.len(),
        total,
        due.len(),
        home_enc,
        css_enc,
        due_enc
    );
    let parent = t.signed_in(f.login("parent_a")).await;
    let (_, parent_home) = parent.get_text("/").await;
    let (_, parent_due) = parent.get_text("/devoirs").await;
    println!(
        "page weight (parent): home {} B, /devoirs {} B",
        parent_home.len(),
        parent_due.len()
    );
    assert!(
        total < 30_000,
        "a pupil's home page and its stylesheet weigh {total} bytes: over the 30 KB budget"
    );
    assert!(
        due.len() < 60_000,
        "the pupil's /devoirs weighs {} bytes",
        due.len()
    );
}
