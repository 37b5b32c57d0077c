//! The access matrix: every route x every kind of actor x (own / other class /
//! other school / other family), through the real server, against an
//! expected table written out by hand from the rules (DESIGN.md "Security
//! model" and `cartable_domain::policy`).
//!
//! The expectations are data, never computed by calling `policy::can`: a test
//! that asks the code under test what to expect cannot fail.
//!
//! Outcomes:
//! - `A` allowed: 200 for pages and for "reinitialiser" (the slips page), a
//!   303 back to the person's card for "desactiver";
//! - `F` forbidden: 403 with `X-Cartable-Error: forbidden`;
//! - `N` not found: 404 with `X-Cartable-Error: not_found` (another school's
//!   ids do not exist for you: every query is scoped by school);
//! - `L` login: a 303 to `/connexion…` (anonymous browser).
//!
//! Any other answer (a CSRF 403, a 500, a redirect elsewhere…) is a mismatch.
//!
//! State: the GET matrix runs on one app (GETs change nothing that matters
//! here). Every POST cell (reset a password, disable an account) runs on a
//! FRESH app and fixture, so that one cell's effect (a deleted password, ended
//! sessions) cannot leak into another; each POST cell then also checks its
//! effect on the target: allowed cells really locked the target out, refused
//! cells left the target able to sign in.

use std::time::Instant;

use cartable_domain::Role;
use cartable_testkit::matrix::*;
use cartable_testkit::reqwest::{Response, StatusCode};
use cartable_testkit::*;

/// The columns of the matrix; `None` is an anonymous browser.
const ACTORS: [Option<&str>; 8] = [
    None,
    Some("pupil_a"),
    Some("parent_a"),
    Some("teacher_a"),
    Some("teacher_b"),
    Some("staff"),
    Some("admin"),
    Some("other_admin"),
];

// Fixture reminder (cartable_testkit::seed_fixture):
//   school A: class_a (6e A) = pupil_a, taught by teacher_a, parent_a is pupil_a's parent;
//             class_b (6e B) = pupil_b, taught by teacher_b, parent_b is pupil_b's parent;
//             staff, admin.
//   school B: other_class (5e C) = other_pupil, taught by other_teacher; other_admin.
//
// Rules applied (policy.rs / DESIGN.md):
//   - everyone signed in has a home page and an account page;
//   - class page (name + teachers): admin, staff, any teacher of the school;
//     a pupil or parent only for their (child's) class;
//   - class roster: admin, staff, and the class's own teachers only;
//   - person card: oneself; admin and staff: anyone of the school; a teacher:
//     colleagues (teachers, staff, admins) and the pupils and families of the
//     classes taught; a pupil: the teachers of their classes; a parent: their
//     children and their children's teachers;
//   - directory (/admin/personnes, /admin/classes, /admin/codes): admin, staff;
//   - import and audit log: admin only; /operateur: operator only;
//   - another school's classes and people: 404 for everyone.
#[rustfmt::skip]
const GET_MATRIX: &[(&str, [Outcome; 8])] = &[
    //                                anon pupil_a parent_a teacher_a teacher_b staff admin other_admin
    ("/",                             [L,   A,      A,       A,        A,        A,    A,    A]),
    ("/compte",                       [L,   A,      A,       A,        A,        A,    A,    A]),
    ("/classes/{class_a}",            [L,   A,      A,       A,        A,        A,    A,    N]),
    ("/classes/{class_b}",            [L,   F,      F,       A,        A,        A,    A,    N]),
    ("/classes/{other_class}",        [L,   N,      N,       N,        N,        N,    N,    A]),
    ("/classes/{class_a}/eleves",     [L,   F,      F,       A,        F,        A,    A,    N]),
    ("/classes/{class_b}/eleves",     [L,   F,      F,       F,        A,        A,    A,    N]),
    ("/classes/{other_class}/eleves", [L,   N,      N,       N,        N,        N,    N,    A]),
    ("/personnes/{pupil_a}",          [L,   A,      A,       A,        F,        A,    A,    N]),
    ("/personnes/{pupil_b}",          [L,   F,      F,       F,        A,        A,    A,    N]),
    ("/personnes/{parent_a}",         [L,   F,      A,       A,        F,        A,    A,    N]),
    ("/personnes/{parent_b}",         [L,   F,      F,       F,        A,        A,    A,    N]),
    ("/personnes/{teacher_a}",        [L,   A,      A,       A,        A,        A,    A,    N]),
    ("/personnes/{teacher_b}",        [L,   F,      F,       A,        A,        A,    A,    N]),
    ("/personnes/{staff}",            [L,   F,      F,       A,        A,        A,    A,    N]),
    ("/personnes/{admin}",            [L,   F,      F,       A,        A,        A,    A,    N]),
    ("/personnes/{other_pupil}",      [L,   N,      N,       N,        N,        N,    N,    A]),
    ("/personnes/{other_teacher}",    [L,   N,      N,       N,        N,        N,    N,    A]),
    ("/admin/personnes",              [L,   F,      F,       F,        F,        A,    A,    A]),
    ("/admin/classes",                [L,   F,      F,       F,        F,        A,    A,    A]),
    ("/admin/import",                 [L,   F,      F,       F,        F,        F,    A,    A]),
    ("/admin/codes",                  [L,   F,      F,       F,        F,        A,    A,    A]),
    ("/admin/journal",                [L,   F,      F,       F,        F,        F,    A,    A]),
    ("/operateur",                    [L,   F,      F,       F,        F,        F,    F,    F]),
];

// Codes: admin for anyone of the school but themself; staff for pupils and
// parents, not teachers; nobody else. Disabling: admin only.
#[rustfmt::skip]
const POST_MATRIX: &[(&str, [Outcome; 8])] = &[
    //                                              anon pupil_a parent_a teacher_a teacher_b staff admin other_admin
    ("/admin/personnes/{pupil_a}/reinitialiser",     [L,   F,      F,       F,        F,        A,    A,    N]),
    ("/admin/personnes/{parent_a}/reinitialiser",    [L,   F,      F,       F,        F,        A,    A,    N]),
    ("/admin/personnes/{teacher_a}/reinitialiser",   [L,   F,      F,       F,        F,        F,    A,    N]),
    ("/admin/personnes/{other_pupil}/reinitialiser", [L,   N,      N,       N,        N,        N,    N,    A]),
    ("/admin/personnes/{pupil_a}/desactiver",        [L,   F,      F,       F,        F,        F,    A,    N]),
    ("/admin/personnes/{parent_a}/desactiver",       [L,   F,      F,       F,        F,        F,    A,    N]),
    ("/admin/personnes/{teacher_a}/desactiver",      [L,   F,      F,       F,        F,        F,    A,    N]),
    ("/admin/personnes/{other_pupil}/desactiver",    [L,   N,      N,       N,        N,        N,    N,    A]),
];

/// Replaces `{key}` placeholders with the fixture's class or person ids.
fn resolve(template: &str, f: &Fixture) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').expect("closing brace") + start;
        out.push_str(&rest[..start]);
        let key = &rest[start + 1..end];
        let id = match key {
            "class_a" => f.class_a.0,
            "class_b" => f.class_b.0,
            "other_class" => f.other_class.0,
            person => f.id(person).0,
        };
        out.push_str(&id.to_string());
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The person a route template is about (`/admin/personnes/{X}/…` gives `X`).
fn target_key(template: &str) -> &str {
    let start = template.find('{').expect("a placeholder") + 1;
    let end = template.find('}').expect("a placeholder");
    &template[start..end]
}

/// Reads a response as one of the four outcomes, or describes it when it is
/// none of them. `allowed_redirect` is where an allowed POST redirects.
async fn classify(resp: Response, allowed_redirect: Option<&str>) -> Result<Outcome, String> {
    let status = resp.status();
    let location = header(&resp, "location");
    let code = header(&resp, "x-cartable-error");
    let describe = || format!("{status} (x-cartable-error: {code:?}, location: {location:?})");
    match status {
        StatusCode::OK => Ok(Outcome::Allowed),
        StatusCode::SEE_OTHER if location.starts_with("/connexion") => Ok(Outcome::Login),
        StatusCode::SEE_OTHER if allowed_redirect == Some(location.as_str()) => {
            Ok(Outcome::Allowed)
        }
        StatusCode::FORBIDDEN if code == "forbidden" => Ok(Outcome::Forbidden),
        StatusCode::NOT_FOUND if code == "not_found" => Ok(Outcome::NotFound),
        _ => Err(describe()),
    }
}

#[tokio::test]
async fn get_routes_answer_exactly_the_allowed_set() {
    let started = Instant::now();
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let mut clients = Vec::new();
    for actor in ACTORS {
        let client = match actor {
            None => t.client(),
            Some(key) => t.signed_in(f.login(key)).await,
        };
        clients.push((actor_label(actor), client));
    }

    let mut mismatches = Vec::new();
    let mut observed = Vec::new();
    for (template, expected_row) in GET_MATRIX {
        let path = resolve(template, &f);
        let mut cells = Vec::new();
        for ((actor, client), expected) in clients.iter().zip(expected_row) {
            let got = classify(client.get(&path).await, None).await;
            cells.push(match &got {
                Ok(o) => o.to_string(),
                Err(_) => "?".to_string(),
            });
            if got.as_ref() != Ok(expected) {
                mismatches.push(Mismatch {
                    route: format!("GET {template} ({path})"),
                    actor: actor.to_string(),
                    expected: format!("{expected:?}"),
                    got: got.map_or_else(|e| e, |o| format!("{o:?}")),
                });
            }
        }
        observed.push((format!("GET {template}"), cells));
    }
    println!("{}", render_observed(&ACTORS, &observed));
    println!(
        "GET matrix: {} cells in {:?}",
        GET_MATRIX.len() * ACTORS.len(),
        started.elapsed()
    );
    assert!(mismatches.is_empty(), "{}", report("GET", &mismatches));
}

/// What a target's own sign-in answers after a POST cell: 303 when the
/// account still works, else the login page's status and error code.
async fn target_login(t: &TestApp, login: &str) -> String {
    let resp = t.client().login(login, PASSWORD).await;
    if resp.status() == StatusCode::SEE_OTHER {
        "signs in".to_string()
    } else {
        format!(
            "{} {}",
            resp.status().as_u16(),
            header(&resp, "x-cartable-error")
        )
    }
}

#[tokio::test]
async fn state_changing_posts_answer_exactly_the_allowed_set() {
    let started = Instant::now();
    let mut mismatches = Vec::new();
    let mut observed = Vec::new();
    for (template, expected_row) in POST_MATRIX {
        let disabling = template.ends_with("/desactiver");
        let target = target_key(template);
        let mut cells = Vec::new();
        for (actor, expected) in ACTORS.iter().zip(expected_row) {
            // A fresh app and fixture per cell: an allowed reset or disable
            // must not change what the next cell sees.
            let t = spawn_app().await;
            let f = seed_fixture(&t).await;
            let client = match actor {
                None => t.client(),
                Some(key) => t.signed_in(f.login(key)).await,
            };
            let path = resolve(template, &f);
            let card = format!("/personnes/{}", f.id(target));
            let allowed_redirect = disabling.then_some(card.as_str());
            let resp = client.post_form(&path, &[]).await;
            let mut got = classify(resp, allowed_redirect).await;

            // The effect on the target must match the answer: allowed cells
            // lock the target out (a reset deletes the password, a disable
            // refuses sign-in); every refused cell leaves it untouched.
            let after = target_login(&t, f.login(target)).await;
            let effect_ok = match got {
                Ok(Outcome::Allowed) if disabling => after == "403 auth.disabled",
                Ok(Outcome::Allowed) => after == "401 auth.bad_credentials",
                _ => after == "signs in",
            };
            if !effect_ok {
                got = Err(format!(
                    "{} but afterwards {target}'s sign-in gives \"{after}\"",
                    got.map_or_else(|e| e, |o| format!("{o:?}"))
                ));
            }

            cells.push(match &got {
                Ok(o) => o.to_string(),
                Err(_) => "?".to_string(),
            });
            if got.as_ref() != Ok(expected) {
                mismatches.push(Mismatch {
                    route: format!("POST {template} ({path})"),
                    actor: actor_label(*actor).to_string(),
                    expected: format!("{expected:?}"),
                    got: got.map_or_else(|e| e, |o| format!("{o:?}")),
                });
            }
        }
        observed.push((format!("POST {template}"), cells));
    }
    println!("{}", render_observed(&ACTORS, &observed));
    println!(
        "POST matrix: {} cells (one fresh app each) in {:?}",
        POST_MATRIX.len() * ACTORS.len(),
        started.elapsed()
    );
    assert!(mismatches.is_empty(), "{}", report("POST", &mismatches));
}

#[tokio::test]
async fn non_numeric_ids_are_not_found() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let admin = t.signed_in(f.login("admin")).await;
    for path in [
        "/classes/abc",
        "/classes/abc/eleves",
        "/personnes/1x",
        "/classes/",
        "/personnes/",
        "/classes/-",
        "/personnes/99999999999999999999",
    ] {
        let got = classify(admin.get(path).await, None).await;
        assert_eq!(got, Ok(Outcome::NotFound), "GET {path} as admin");
    }
    for path in [
        "/admin/personnes/1x/reinitialiser",
        "/admin/personnes/abc/desactiver",
    ] {
        let got = classify(admin.post_form(path, &[]).await, None).await;
        assert_eq!(got, Ok(Outcome::NotFound), "POST {path} as admin");
    }
}

#[tokio::test]
async fn the_operator_runs_the_platform_and_sees_no_school_page() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let issued = t
        .app
        .create_account(None, Role::Operator, "Olivier", "Martin", None)
        .await
        .expect("operator account");
    let login = issued.user.login.clone();
    t.app
        .set_password_directly(&login, PASSWORD)
        .await
        .expect("operator password");
    let op = t.signed_in(&login).await;

    let (status, _) = op.get_text("/operateur").await;
    assert_eq!(status, StatusCode::OK, "GET /operateur as operator");

    let home = op.get("/").await;
    assert_eq!(home.status(), StatusCode::SEE_OTHER, "GET / as operator");
    assert_eq!(header(&home, "location"), "/operateur", "GET / as operator");

    let mut wrong = Vec::new();
    for template in [
        "/admin/personnes",
        "/admin/classes",
        "/admin/import",
        "/admin/codes",
        "/admin/journal",
        "/personnes/{pupil_a}",
        "/personnes/{other_pupil}",
        "/classes/{class_a}",
        "/classes/{class_a}/eleves",
        "/classes/{other_class}",
    ] {
        let path = resolve(template, &f);
        let got = classify(op.get(&path).await, None).await;
        if !matches!(got, Ok(Outcome::Forbidden | Outcome::NotFound)) {
            wrong.push(format!("GET {path}: {got:?}"));
        }
    }
    for template in [
        "/admin/personnes/{pupil_a}/reinitialiser",
        "/admin/personnes/{pupil_a}/desactiver",
    ] {
        let path = resolve(template, &f);
        let got = classify(op.post_form(&path, &[]).await, None).await;
        if !matches!(got, Ok(Outcome::Forbidden | Outcome::NotFound)) {
            wrong.push(format!("POST {path}: {got:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "the operator must get 403/404 on school pages:\n{}",
        wrong.join("\n")
    );
    assert_eq!(
        target_login(&t, f.login("pupil_a")).await,
        "signs in",
        "the operator's refused POSTs changed nothing"
    );
}

#[tokio::test]
async fn a_disabled_account_is_signed_out_at_once() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let class_a = resolve("/classes/{class_a}", &f);
    assert_eq!(teacher.get("/").await.status(), StatusCode::OK);
    assert_eq!(teacher.get(&class_a).await.status(), StatusCode::OK);

    let admin = t.signed_in(f.login("admin")).await;
    let path = resolve("/admin/personnes/{teacher_a}/desactiver", &f);
    let resp = admin.post_form(&path, &[]).await;
    assert_eq!(
        resp.status(),
        StatusCode::SEE_OTHER,
        "admin disables teacher_a"
    );
    assert_eq!(
        header(&resp, "location"),
        format!("/personnes/{}", f.id("teacher_a"))
    );

    let home = teacher.get("/").await;
    assert_eq!(
        home.status(),
        StatusCode::SEE_OTHER,
        "teacher_a's next GET /"
    );
    assert!(
        header(&home, "location").starts_with("/connexion"),
        "teacher_a's next GET / goes to the login page, not {:?}",
        header(&home, "location")
    );
    let class = classify(teacher.get(&class_a).await, None).await;
    assert_eq!(class, Ok(Outcome::Login), "teacher_a's next GET {class_a}");
    assert_eq!(
        target_login(&t, f.login("teacher_a")).await,
        "403 auth.disabled",
        "a disabled account cannot sign in again"
    );
    // The admin's own session is untouched.
    assert_eq!(admin.get("/").await.status(), StatusCode::OK);
}

// ---------------------------------------------------------------- groups
//
// Fixture (cartable_testkit::seed_groups): school A's group Latin = pupil_a
// (6e A) and pupil_b (6e B), taught by teacher_a; `noe` is a pupil of 6e A
// outside the group. School B's group Grec is taught by other_teacher. A
// lesson and an assignment of teacher_a for Latin exist.
//
// Rules applied (policy.rs): a group's cahier is read by its members, their
// parents and every teacher, staff and admin of the school; written (lessons,
// assignments, files) by its own teachers only (the lesson's author for
// edits); the workload page is for teachers, staff and admins; another
// school's group is 404.

const GROUP_ACTORS: [Option<&str>; 10] = [
    None,
    Some("pupil_a"),
    Some("pupil_b"),
    Some("noe"),
    Some("parent_a"),
    Some("teacher_a"),
    Some("teacher_b"),
    Some("staff"),
    Some("admin"),
    Some("other_teacher"),
];

#[rustfmt::skip]
const GROUP_GET_MATRIX: &[(&str, [Outcome; 10])] = &[
    //                                          anon pupil_a pupil_b noe parent_a teacher_a teacher_b staff admin other_teacher
    ("/cahier/groupes/{latin}",                  [L,  A,      A,      F,  A,       A,        A,        A,    A,    N]),
    ("/cahier/groupes/{latin}/nouvelle",         [L,  F,      F,      F,  F,       A,        F,        F,    F,    N]),
    ("/cahier/groupes/{latin}/charge",           [L,  F,      F,      F,  F,       A,        A,        A,    A,    N]),
    ("/cahier/groupes/{latin}/devoir-a-rendre",  [L,  F,      F,      F,  F,       A,        F,        F,    F,    N]),
    ("/cahier/groupes/{grec}",                   [L,  N,      N,      N,  N,       N,        N,        N,    N,    A]),
    ("/cahier/groupes/{grec}/nouvelle",          [L,  N,      N,      N,  N,       N,        N,        N,    N,    A]),
    ("/cahier/seances/{lesson}",                 [L,  A,      A,      N,  A,       A,        A,        A,    A,    N]),
    ("/cahier/seances/{lesson}/modifier",        [L,  F,      F,      N,  F,       A,        F,        F,    F,    N]),
    ("/rendus/{assignment}",                     [L,  A,      A,      N,  A,       A,        A,        A,    A,    N]),
];

/// Writes: each allowed cell must have its effect (one more lesson, one more
/// assignment, one more file), each refused cell none.
#[rustfmt::skip]
const GROUP_POST_MATRIX: &[(&str, [Outcome; 10])] = &[
    //                                          anon pupil_a pupil_b noe parent_a teacher_a teacher_b staff admin other_teacher
    ("/cahier/groupes/{latin}",                  [L,  F,      F,      F,  F,       A,        F,        F,    F,    N]),
    ("/cahier/groupes/{latin}/devoirs-a-rendre", [L,  F,      F,      F,  F,       A,        F,        F,    F,    N]),
    ("/cahier/groupes/{grec}",                   [L,  N,      N,      N,  N,       N,        N,        N,    N,    A]),
    ("/cahier/seances/{lesson}/fichiers",        [L,  F,      F,      N,  F,       A,        F,        F,    F,    N]),
];

struct GroupWorld {
    t: TestApp,
    f: Fixture,
    g: GroupFixture,
    noe: String,
    lesson: i64,
    assignment: i64,
}

async fn group_world() -> GroupWorld {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let g = seed_groups(&t, &f).await;
    let (_, noe) = add_person(&t, &f, Role::Pupil, "Noé", "Alpha", Some(f.class_a), None).await;
    let teacher = t.app.store.actor(f.id("teacher_a")).await.unwrap().unwrap();
    let client = cartable_app::auth::ClientInfo::default();
    let target = cartable_domain::Target::Group(g.latin);
    let lesson = t
        .app
        .write_lesson(
            &teacher,
            target,
            cartable_app::lessons::LessonDraft {
                lesson_date: "2026-09-01".into(),
                homework: "Rosa, rosae".into(),
                due_date: "2026-09-03".into(),
                ..Default::default()
            },
            &client,
        )
        .await
        .unwrap();
    let assignment = t
        .app
        .create_assignment(
            &teacher,
            target,
            cartable_app::assignments::AssignmentDraft {
                title: "Version".into(),
                due_date: "2026-09-10".into(),
                accepts_text: true,
                ..Default::default()
            },
            &client,
        )
        .await
        .unwrap();
    GroupWorld {
        t,
        f,
        g,
        noe,
        lesson,
        assignment,
    }
}

impl GroupWorld {
    fn resolve(&self, template: &str) -> String {
        template
            .replace("{latin}", &self.g.latin.0.to_string())
            .replace("{grec}", &self.g.other_group.0.to_string())
            .replace("{lesson}", &self.lesson.to_string())
            .replace("{assignment}", &self.assignment.to_string())
    }

    async fn client(&self, actor: Option<&str>) -> TestClient {
        match actor {
            None => self.t.client(),
            Some("noe") => self.t.signed_in(&self.noe).await,
            Some(key) => self.t.signed_in(self.f.login(key)).await,
        }
    }

    /// What the writes of the POST matrix change: lessons of each group,
    /// assignments of Latin, files of the lesson.
    async fn written(&self) -> (usize, usize, usize, usize) {
        let store = &self.t.app.store;
        let lessons = |school, group| async move {
            store
                .target_lessons(
                    school,
                    cartable_domain::Target::Group(group),
                    "2026-01-01",
                    "2027-12-31",
                    i64::MAX,
                    true,
                )
                .await
                .unwrap()
                .len()
        };
        let assignments = store
            .cohort_assignments(
                self.f.school_a,
                &cartable_store::Cohorts {
                    classes: Vec::new(),
                    groups: vec![self.g.latin],
                },
                0,
            )
            .await
            .unwrap()
            .len();
        let files = store
            .lesson(self.f.school_a, self.lesson)
            .await
            .unwrap()
            .unwrap()
            .attachments
            .len();
        (
            lessons(self.f.school_a, self.g.latin).await,
            lessons(self.f.school_b, self.g.other_group).await,
            assignments,
            files,
        )
    }
}

#[tokio::test]
async fn group_pages_answer_exactly_the_allowed_set() {
    let w = group_world().await;
    let mut clients = Vec::new();
    for actor in GROUP_ACTORS {
        clients.push((actor_label(actor), w.client(actor).await));
    }
    let mut mismatches = Vec::new();
    let mut observed = Vec::new();
    for (template, expected_row) in GROUP_GET_MATRIX {
        let path = w.resolve(template);
        let mut cells = Vec::new();
        for ((actor, client), expected) in clients.iter().zip(expected_row) {
            let got = classify(client.get(&path).await, None).await;
            cells.push(got.as_ref().map_or("?".to_string(), |o| o.to_string()));
            if got.as_ref() != Ok(expected) {
                mismatches.push(Mismatch {
                    route: format!("GET {template} ({path})"),
                    actor: actor.to_string(),
                    expected: format!("{expected:?}"),
                    got: got.map_or_else(|e| e, |o| format!("{o:?}")),
                });
            }
        }
        observed.push((format!("GET {template}"), cells));
    }
    println!("{}", render_observed(&GROUP_ACTORS, &observed));
    assert!(
        mismatches.is_empty(),
        "{}",
        report("group GET", &mismatches)
    );
}

#[tokio::test]
async fn group_writes_answer_exactly_the_allowed_set_and_refusals_write_nothing() {
    let w = group_world().await;
    let lesson_fields: &[(&str, &str)] = &[
        ("matiere", "Latin"),
        ("date", "2026-09-01"),
        ("travail", "Apprendre rosa"),
        ("pour_le", "2026-09-03"),
    ];
    let assignment_fields: &[(&str, &str)] =
        &[("titre", "Thème"), ("date", "2026-09-12"), ("texte", "1")];
    let mut mismatches = Vec::new();
    let mut observed = Vec::new();
    for (template, expected_row) in GROUP_POST_MATRIX {
        let path = w.resolve(template);
        let (fields, allowed_prefix) = if template.ends_with("/devoirs-a-rendre") {
            (assignment_fields, "/rendus/".to_string())
        } else if template.ends_with("/fichiers") {
            (
                &[][..],
                format!("/cahier/seances/{}/modifier#documents", w.lesson),
            )
        } else {
            (lesson_fields, "/cahier/seances/".to_string())
        };
        let mut cells = Vec::new();
        for (actor, expected) in GROUP_ACTORS.iter().zip(expected_row) {
            let client = w.client(*actor).await;
            let before = w.written().await;
            let token = client.csrf().await;
            let mut form = cartable_testkit::reqwest::multipart::Form::new().text("csrf", token);
            for (k, v) in fields {
                form = form.text(k.to_string(), v.to_string());
            }
            form = form.part(
                "fichier",
                cartable_testkit::reqwest::multipart::Part::bytes(b"%PDF-1.4\n".to_vec())
                    .file_name("doc.pdf"),
            );
            let resp = client
                .http
                .post(format!("{}{}", client.base, path))
                .multipart(form)
                .send()
                .await
                .unwrap();
            let location = header(&resp, "location");
            let mut got = if resp.status() == StatusCode::SEE_OTHER
                && location.starts_with(&allowed_prefix)
            {
                Ok(Outcome::Allowed)
            } else {
                classify(resp, None).await
            };
            let after = w.written().await;
            let changed = after != before;
            if changed != (got == Ok(Outcome::Allowed)) {
                got = Err(format!(
                    "{} but what is stored went from {before:?} to {after:?}",
                    got.map_or_else(|e| e, |o| format!("{o:?}"))
                ));
            }
            cells.push(got.as_ref().map_or("?".to_string(), |o| o.to_string()));
            if got.as_ref() != Ok(expected) {
                mismatches.push(Mismatch {
                    route: format!("POST {template} ({path})"),
                    actor: actor_label(*actor).to_string(),
                    expected: format!("{expected:?}"),
                    got: got.map_or_else(|e| e, |o| format!("{o:?}")),
                });
            }
        }
        observed.push((format!("POST {template}"), cells));
    }
    println!("{}", render_observed(&GROUP_ACTORS, &observed));
    assert!(
        mismatches.is_empty(),
        "{}",
        report("group POST", &mismatches)
    );
}
