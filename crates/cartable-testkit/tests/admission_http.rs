//! The door, driven over HTTP: the waiting room, its order, its tickets, the
//! people already inside, the switch, the rate limits and the figures an
//! operator reads. The door is set to a known, slow rate (one person every
//! two seconds) so that a crowd of four browsers is already too many.

use std::time::Duration;

use cartable_app::auth::ClientInfo;
use cartable_app::hashing::{HashCost, HashPool, LET_IN_OVERFLOW};
use cartable_domain::{Role, SchoolId};
use cartable_testkit::reqwest::header::{COOKIE, RETRY_AFTER};
use cartable_testkit::reqwest::{self, StatusCode};
use cartable_testkit::{
    extract_csrf, seed_fixture, spawn_app_with, Door, TestApp, TestClient, TestOptions, PASSWORD,
};
use cartable_web::admission::ticket::{device_value, DEVICE_COOKIE};

const RATE: f64 = 0.5;
/// Refresh polls before a test gives up (each waits at most 1 s).
const PATIENCE_POLLS: usize = 40;

async fn slow_door() -> TestApp {
    spawn_app_with(TestOptions {
        door: Some(Door::FixedRate(RATE)),
        ..TestOptions::default()
    })
    .await
}

fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `position=3; eta=6; ticket=12` -> 3
fn field(h: &str, key: &str) -> u64 {
    h.split(';')
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {h}"))
}

fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap_or("").to_string())
}

enum Door2 {
    Form { csrf: String },
    Waiting { position: u64 },
}

async fn knock(c: &TestClient, path: &str) -> Door2 {
    let r = c.get(path).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    match header(&r, "x-cartable-attente") {
        Some(h) => {
            let refresh = header(&r, "refresh").expect("a Refresh header");
            assert!(refresh.contains("url=/connexion"), "{refresh}");
            let body = r.text().await.unwrap();
            assert!(body.contains("file d'attente"), "{body}");
            assert!(body.contains("http-equiv=\"refresh\""), "{body}");
            assert!(!body.contains("type=\"password\""), "{body}");
            // The wait in whole seconds, rounded up, and as estimated.
            let (eta, eta_ms) = (field(&h, "eta"), field(&h, "eta_ms"));
            assert!(eta_ms > 0 && eta == eta_ms.div_ceil(1000), "{h}");
            Door2::Waiting {
                position: field(&h, "position"),
            }
        }
        None => {
            let body = r.text().await.unwrap();
            Door2::Form {
                csrf: extract_csrf(&body).expect("the login form"),
            }
        }
    }
}

fn position(d: &Door2) -> u64 {
    match d {
        Door2::Waiting { position } => *position,
        Door2::Form { .. } => panic!("expected the waiting room, got the form"),
    }
}

/// Refreshes like the page does until the form comes; the `x-cartable-admis` header.
async fn wait_for_turn(c: &TestClient, path: &str) -> (String, String) {
    for _ in 0..PATIENCE_POLLS {
        let r = c.get(path).await;
        if let Some(admis) = header(&r, "x-cartable-admis") {
            let body = r.text().await.unwrap();
            return (extract_csrf(&body).expect("the login form"), admis);
        }
        assert!(header(&r, "x-cartable-attente").is_some());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("never admitted");
}

/// Posts the login form with `csrf` (the password is the fixture's).
async fn sign_in(
    c: &TestClient,
    csrf: &str,
    login: &str,
    suite: Option<&str>,
) -> reqwest::Response {
    let mut fields = vec![("csrf", csrf), ("login", login), ("password", PASSWORD)];
    fields.extend(suite.map(|s| ("suite", s)));
    c.post_raw("/connexion", &fields, Default::default()).await
}

/// A browser already inside: a session opened directly (no door).
async fn inside(t: &TestApp, login: &str) -> reqwest::Client {
    let s = t
        .app
        .login(login, PASSWORD, true, &ClientInfo::default())
        .await
        .expect("login");
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        COOKIE,
        format!("cartable_session={}", s.token).parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_crowd_waits_its_turn_in_order_and_goes_straight_on() {
    let t = slow_door().await;
    let f = seed_fixture(&t).await;
    let path = "/connexion?suite=/devoirs";

    let first = t.client();
    let Door2::Form { .. } = knock(&first, path).await else {
        panic!("the first visitor comes in at once");
    };
    let (b, c) = (t.client(), t.client());
    assert_eq!(position(&knock(&b, path).await), 1);
    assert_eq!(position(&knock(&c, path).await), 2);
    // A refresh keeps the place.
    assert_eq!(position(&knock(&b, path).await), 1);

    // People already inside are not held at the door.
    let pupil = inside(&t, f.login("pupil_a")).await;
    let home = pupil.get(t.url("/")).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::OK);
    let login_page = pupil.get(t.url("/connexion")).send().await.unwrap();
    assert!(login_page.status().is_redirection());

    // b's turn comes before c's; b goes straight on to the form.
    let (csrf, admis) = wait_for_turn(&b, path).await;
    assert!(field(&admis, "attente_ms") > 0, "{admis}");
    assert_eq!(position(&knock(&c, path).await), 1);
    let r = sign_in(&b, &csrf, f.login("pupil_b"), Some("/devoirs")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&r, "location").as_deref(), Some("/devoirs"));
    assert!(set_cookie(&r, "cartable_session").is_some());
    assert!(set_cookie(&r, "cartable_appareil").is_some());
    assert_eq!(b.get("/devoirs").await.status(), StatusCode::OK);

    wait_for_turn(&c, path).await;
}

#[tokio::test]
async fn a_login_without_a_pass_while_full_checks_no_password() {
    let t = slow_door().await;
    let f = seed_fixture(&t).await;
    let first = t.client();
    let Door2::Form { csrf } = knock(&first, "/connexion").await else {
        panic!()
    };
    let late = t.client();
    assert_eq!(position(&knock(&late, "/connexion").await), 1);
    let hashes = t.app.hasher.totals().completed;
    // `late` posts the first visitor's form (a token from another browser).
    let r = sign_in(&late, &csrf, f.login("pupil_a"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(header(&r, "x-cartable-attente").is_some());
    assert!(set_cookie(&r, "cartable_session").is_none());
    assert_eq!(t.app.hasher.totals().completed, hashes);
}

#[tokio::test]
async fn tickets_cannot_be_forged_copied_or_replayed() {
    let t = slow_door().await;
    let f = seed_fixture(&t).await;
    let a = t.client();
    let r = a.get("/connexion").await;
    let pass = set_cookie(&r, "cartable_entree").expect("a ticket");
    let browser = set_cookie(&r, "cartable_csrf").expect("a browser cookie");
    let csrf = extract_csrf(&r.text().await.unwrap()).unwrap();
    let queued = t.client();
    assert_eq!(position(&knock(&queued, "/connexion").await), 1);

    // A forged ticket, or a's pass copied into another browser: a new place
    // at the back, not a way in.
    for cookie in [
        "cartable_entree=1.1.AAAAAAAAAAAAAAAAAAAAAA".to_string(),
        pass.clone(),
    ] {
        let thief = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = thief
            .get(t.url("/connexion"))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        let h = header(&r, "x-cartable-attente").expect("sent to the back of the line");
        assert!(field(&h, "position") >= 2, "{h}");
    }

    // a signs in: the pass is used up; replaying it gains nothing.
    let r = sign_in(&a, &csrf, f.login("teacher_a"), None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        set_cookie(&r, "cartable_entree").as_deref(),
        Some("cartable_entree=")
    );
    // The same browser (its CSRF cookie) with the old pass and no session.
    let replay = reqwest::Client::new()
        .get(t.url("/connexion"))
        .header(COOKIE, format!("{browser}; {pass}"))
        .send()
        .await
        .unwrap();
    assert!(header(&replay, "x-cartable-attente").is_some());
}

#[tokio::test]
async fn with_the_door_off_nobody_waits() {
    let t = spawn_app_with(TestOptions {
        door: Some(Door::Off),
        ..TestOptions::default()
    })
    .await;
    for _ in 0..6 {
        let Door2::Form { .. } = knock(&t.client(), "/connexion").await else {
            panic!("the door is off")
        };
    }
}

#[tokio::test]
async fn one_account_hammering_the_login_gets_429_in_french_but_the_school_does_not() {
    let t = spawn_app_with(TestOptions {
        door: Some(Door::Off),
        ..TestOptions::default()
    })
    .await;
    let f = seed_fixture(&t).await;
    let c = t.client();
    let mut limited = None;
    for _ in 0..40 {
        let r = c.login(f.login("pupil_a"), PASSWORD).await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let r = limited.expect("a limit");
    assert_eq!(
        header(&r, "x-cartable-error").as_deref(),
        Some("rate_limited")
    );
    let wait: u64 = header(&r, RETRY_AFTER.as_str()).unwrap().parse().unwrap();
    assert!(wait >= 1);
    assert!(r.text().await.unwrap().contains("Réessayez dans"));
    // Another pupil behind the same address still gets in.
    assert_eq!(
        t.client()
            .login(f.login("pupil_b"), PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_operator_reads_the_door_on_metrics_and_the_status_page() {
    let t = slow_door().await;
    let _ = knock(&t.client(), "/connexion").await;
    let _ = knock(&t.client(), "/connexion").await;
    let (status, metrics) = t.client().get_text("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    for family in [
        "cartable_admission_admitted_total{how=\"at_once\"} 1",
        "cartable_admission_queued_total 1",
        "cartable_admission_waiting 1",
        "cartable_admission_limit 0.5",
        "cartable_admission_wait_seconds_count",
        "cartable_hashes_running",
        "cartable_hashes_queued",
        "cartable_logins_in_flight 0",
        "cartable_session_slides_pending 0",
        "cartable_http_request_duration_seconds_bucket{route=\"GET /connexion\",le=\"+Inf\"} 2",
        "cartable_http_requests_total{route=\"GET /connexion\",status=\"2xx\"} 2",
    ] {
        assert!(metrics.contains(family), "{family} missing in\n{metrics}");
    }
    // What the hashing threads sustain, from the pool's first hash (timed at
    // start): the figure the drill multiplies for "five times too many".
    let capacity: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("cartable_hash_capacity_per_second "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no hash capacity in\n{metrics}"));
    assert!(capacity.is_finite() && capacity > 0.0, "{capacity}");
    let (status, page) = t.client().get_text("/etat").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("1 personne dans la file d'attente"), "{page}");
}

/// The operator can tell a slow login's queue for a hashing thread from a
/// slow hash: both add up on /metrics, per hash counted.
#[tokio::test]
async fn the_operator_reads_where_the_logins_time_went() {
    let t = spawn_app_with(TestOptions {
        door: Some(Door::Off),
        ..TestOptions::default()
    })
    .await;
    let f = seed_fixture(&t).await;
    let figure = |metrics: &str, name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in\n{metrics}"))
    };
    let (_, before) = t.client().get_text("/metrics").await;
    let busy_before = figure(&before, "cartable_hash_busy_seconds_total");
    let hashes_before = figure(&before, "cartable_hashes_total");
    assert_eq!(
        t.client()
            .login(f.login("pupil_a"), PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let (_, after) = t.client().get_text("/metrics").await;
    assert_eq!(figure(&after, "cartable_hashes_total"), hashes_before + 1.0);
    assert!(figure(&after, "cartable_hash_busy_seconds_total") > busy_before);
    assert!(figure(&after, "cartable_hash_queue_wait_seconds_total") >= 0.0);
}

/// A browser with no session whose cookie jar starts with `cookie`.
fn browser_with(t: &TestApp, cookie: &str) -> TestClient {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let base = t.url("");
    jar.add_cookie_str(cookie, &base.parse().unwrap());
    TestClient {
        base,
        http: reqwest::Client::builder()
            .cookie_provider(jar)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

/// A browser with no session, on a device where `role` of `school` signed in
/// before: it carries the signed device hint the server set then.
fn remembered_device(t: &TestApp, school: SchoolId, role: Role) -> TestClient {
    let value = device_value(&t.state.web.secret_key, school, role);
    browser_with(t, &format!("{DEVICE_COOKIE}={value}; Path=/"))
}

#[tokio::test]
async fn a_teacher_goes_ahead_of_the_pupils_and_a_parents_visit_behind() {
    let t = slow_door().await;
    let f = seed_fixture(&t).await;
    let path = "/connexion";

    let first = t.client();
    let Door2::Form { .. } = knock(&first, path).await else {
        panic!("the first visitor comes in at once");
    };
    let pupils = [t.client(), t.client(), t.client()];
    for (i, p) in pupils.iter().enumerate() {
        assert_eq!(position(&knock(p, path).await), i as u64 + 1);
    }
    // A parent's casual visit, then a teacher, both after the pupils.
    let parent = remembered_device(&t, f.school_a, Role::Parent);
    let parent_first = position(&knock(&parent, path).await);
    assert!(
        parent_first >= 4,
        "the parent waits behind the pupils: {parent_first}"
    );
    let teacher = remembered_device(&t, f.school_a, Role::Teacher);
    assert_eq!(
        position(&knock(&teacher, path).await),
        1,
        "the teacher goes ahead of everyone waiting"
    );
    assert!(position(&knock(&parent, path).await) > 1);

    // The teacher's turn comes first; the pupils are still waiting, and
    // then go in their own order.
    let (csrf, _) = wait_for_turn(&teacher, path).await;
    assert_eq!(position(&knock(&pupils[0], path).await), 1);
    let r = sign_in(&teacher, &csrf, f.login("teacher_a"), None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    wait_for_turn(&pupils[0], path).await;
    assert!(
        position(&knock(&pupils[2], path).await) <= 2,
        "pupils keep their order"
    );
}

#[tokio::test]
async fn a_forged_device_hint_gains_no_lane() {
    let t = slow_door().await;
    let f = seed_fixture(&t).await;
    let path = "/connexion";
    let first = t.client();
    let Door2::Form { .. } = knock(&first, path).await else {
        panic!("the first visitor comes in at once");
    };
    let pupil = t.client();
    assert_eq!(position(&knock(&pupil, path).await), 1);
    // "Teacher" typed by hand, with a made-up signature: a normal place.
    let forged = format!(
        "{DEVICE_COOKIE}={}.teacher.{}; Path=/",
        f.school_a.0,
        "0".repeat(64)
    );
    let forger = browser_with(&t, &forged);
    assert_eq!(position(&knock(&forger, path).await), 2);
    // The same hint, signed: first in line.
    let teacher = remembered_device(&t, f.school_a, Role::Teacher);
    assert_eq!(position(&knock(&teacher, path).await), 1);
}

/// The door marks whom it let in, and the hashing pool keeps a place for
/// them: with one slow hashing thread and room for one waiting hash, a burst
/// of logins the door did not count (door off) meets 503s, while the same
/// burst let in by the door queues and signs in.
#[tokio::test]
async fn people_the_door_let_in_queue_for_the_hash_where_uncounted_visitors_are_refused() {
    const BURST: usize = 6;
    // All of the burst fits in the let-in queue.
    const { assert!(BURST <= 1 + LET_IN_OVERFLOW) };
    // About a hundred milliseconds a hash in a test build: the burst arrives
    // long before the first hash ends.
    let slow = HashCost {
        memory_kib: 16 * 1024,
        iterations: 4,
        parallelism: 1,
    };
    for (door, refusals_expected) in [(Some(Door::Off), true), (None, false)] {
        let t = spawn_app_with(TestOptions {
            door,
            hashing: Some(HashPool::new(1, 1, slow)),
            ..TestOptions::default()
        })
        .await;
        let f = seed_fixture(&t).await;
        let mut ready = Vec::new();
        for (_, _, login) in f.people.iter().take(BURST) {
            let c = t.client();
            let Door2::Form { csrf } = knock(&c, "/connexion").await else {
                panic!("the door lets everyone in at this rate")
            };
            ready.push((c, csrf, login.clone()));
        }
        // All posted at once, then all awaited.
        let posts: Vec<_> = ready
            .into_iter()
            .map(|(c, csrf, login)| {
                tokio::spawn(async move { sign_in(&c, &csrf, &login, None).await.status() })
            })
            .collect();
        let mut statuses = Vec::new();
        for p in posts {
            statuses.push(p.await.unwrap());
        }
        let refused = statuses
            .iter()
            .filter(|s| **s == StatusCode::SERVICE_UNAVAILABLE)
            .count();
        if refusals_expected {
            assert!(refused >= 1, "door off: {statuses:?}");
        } else {
            assert!(
                statuses.iter().all(|s| *s == StatusCode::SEE_OTHER),
                "let in by the door: {statuses:?}"
            );
        }
    }
}
