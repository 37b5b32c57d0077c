//! Forged forms are refused and change nothing; every response carries the
//! security headers; pages have no inline script or style, declare French and
//! label their fields; oversized and malformed forms get a clean French 4xx.

use std::time::Duration;

use cartable_domain::names::{BirthDate, PersonName};
use cartable_domain::roster::{ClassRef, PersonRecord, PersonRef, RosterOp};
use cartable_domain::{Role, UserId};
use cartable_store::{ActivationRepo, UserRepo};
use cartable_testkit::reqwest::header::{
    HeaderMap, HeaderValue, CONTENT_TYPE, LOCATION, ORIGIN, REFERER, SET_COOKIE,
};
use cartable_testkit::reqwest::multipart::{Form, Part};
use cartable_testkit::reqwest::{Response, StatusCode};
use cartable_testkit::*;

const NEW_PASSWORD: &str = "vélo rouge du mardi";

// ---------------------------------------------------------------- helpers

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn location(r: &Response) -> String {
    header(r.headers(), LOCATION.as_str())
        .unwrap_or_default()
        .to_string()
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

/// Asserts the answer of a forged form: 403, code `csrf`, a French page.
async fn assert_csrf_refused(what: &str, r: Response) {
    let status = r.status();
    let code = header(r.headers(), "x-cartable-error").map(str::to_string);
    let has_session_cookie = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .any(|v| v.to_str().unwrap_or("").starts_with("cartable_session="));
    let body = r.text().await.unwrap();
    assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {body}");
    assert_eq!(code.as_deref(), Some("csrf"), "{what}");
    assert!(
        body.contains("lang=\"fr\"") && body.contains("Formulaire expiré"),
        "{what}: {body}"
    );
    assert!(
        !has_session_cookie,
        "{what}: a refused form must not open a session"
    );
}

/// Is this browser signed in?
async fn signed_in(c: &TestClient) -> bool {
    let r = c.get("/").await;
    match r.status() {
        StatusCode::OK => true,
        StatusCode::SEE_OTHER => false,
        s => panic!("unexpected {s} on /"),
    }
}

async fn login_status(t: &TestApp, login: &str, password: &str) -> StatusCode {
    t.client().login(login, password).await.status()
}

/// The three ways a token can be missing or wrong.
fn bad_tokens() -> Vec<(&'static str, Option<String>)> {
    vec![
        ("no token", None),
        ("empty token", Some(String::new())),
        // Same length and alphabet as a real HMAC-SHA256 in base64url.
        ("forged token", Some("A".repeat(43))),
    ]
}

/// Posts `fields` with the given token (or none) to `path`.
async fn post_with(
    c: &TestClient,
    path: &str,
    token: &Option<String>,
    fields: &[(&str, &str)],
) -> Response {
    let mut all: Vec<(&str, &str)> = Vec::new();
    if let Some(t) = token {
        all.push(("csrf", t.as_str()));
    }
    all.extend_from_slice(fields);
    c.post_raw(path, &all, HeaderMap::new()).await
}

async fn post_multipart(c: &TestClient, path: &str, form: Form) -> Response {
    c.http
        .post(format!("{}{}", c.base, path))
        .multipart(form)
        .send()
        .await
        .expect("POST multipart")
}

const PUPILS_CSV: &str = "Nom;Prénom;Date de naissance;Classe\nNouvelle;Zoé;03/04/2013;6e A\n";

fn import_form(token: Option<&str>) -> Form {
    let mut form = Form::new();
    if let Some(t) = token {
        form = form.text("csrf", t.to_string());
    }
    form.text("kind", "").part(
        "file",
        Part::bytes(PUPILS_CSV.as_bytes().to_vec())
            .file_name("eleves.csv")
            .mime_str("text/csv")
            .unwrap(),
    )
}

/// The draft id in the import preview's "Appliquer" form.
fn draft_of(html: &str) -> String {
    let start = html.find("/admin/import/").expect("an apply form") + "/admin/import/".len();
    let end = html[start..].find('/').unwrap() + start;
    html[start..end].to_string()
}

async fn people_count(t: &TestApp, f: &Fixture) -> usize {
    t.app.store.people(f.school_a, None).await.unwrap().len()
}

async fn user(t: &TestApp, f: &Fixture, id: UserId) -> cartable_store::User {
    t.store
        .user(Some(f.school_a), id)
        .await
        .unwrap()
        .expect("user")
}

fn record(first: &str, last: &str) -> PersonRecord {
    PersonRecord {
        external_id: None,
        last_name: PersonName::parse(last).unwrap(),
        first_name: PersonName::parse(first).unwrap(),
        birth_date: Some(BirthDate::parse("03/04/2013").unwrap()),
        email: None,
    }
}

/// A pupil of 6e A with neither password nor code.
async fn new_pupil_without_code(t: &TestApp, f: &Fixture) -> UserId {
    let ops = [
        RosterOp::CreatePerson {
            role: Role::Pupil,
            person: record("Tom", "Sanscode"),
            subject: None,
        },
        RosterOp::SetClass {
            pupil: PersonRef::New(0),
            class: ClassRef::Existing(f.class_a),
        },
    ];
    t.app
        .store
        .apply_roster(f.school_a, &ops, t.app.now())
        .await
        .unwrap()
        .created[0]
        .0
}

// ---------------------------------------------------------------- forged forms

#[tokio::test]
async fn login_logout_password_and_activation_refuse_forged_forms() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let login = f.login("pupil_a");
    let new_account = t
        .app
        .create_account(Some(f.school_a), Role::Teacher, "Jean", "Neuf", None)
        .await
        .unwrap();

    for (what, token) in bad_tokens() {
        // /connexion: no session opened.
        let c = t.client();
        let _ = c.get("/connexion").await; // a CSRF cookie, as a real browser would have
        let r = post_with(
            &c,
            "/connexion",
            &token,
            &[("login", login), ("password", PASSWORD), ("rester", "1")],
        )
        .await;
        assert_csrf_refused(&format!("/connexion, {what}"), r).await;
        assert!(!signed_in(&c).await);

        // /deconnexion: the session stays.
        let c = t.signed_in(login).await;
        let r = post_with(&c, "/deconnexion", &token, &[]).await;
        assert_csrf_refused(&format!("/deconnexion, {what}"), r).await;
        assert!(
            signed_in(&c).await,
            "{what}: a forged logout must not end the session"
        );

        // /compte: the password does not change.
        let r = post_with(
            &c,
            "/compte",
            &token,
            &[
                ("current", PASSWORD),
                ("password", NEW_PASSWORD),
                ("confirm", NEW_PASSWORD),
            ],
        )
        .await;
        assert_csrf_refused(&format!("/compte, {what}"), r).await;
        assert_eq!(
            login_status(&t, login, PASSWORD).await,
            StatusCode::SEE_OTHER,
            "{what}"
        );
        assert_eq!(
            login_status(&t, login, NEW_PASSWORD).await,
            StatusCode::UNAUTHORIZED,
            "{what}"
        );

        // /activation: the code is not spent, the account not activated.
        let c = t.client();
        let _ = c.get("/activation").await;
        let r = post_with(
            &c,
            "/activation",
            &token,
            &[
                ("login", &new_account.user.login),
                ("code", &new_account.code),
                ("password", NEW_PASSWORD),
                ("confirm", NEW_PASSWORD),
            ],
        )
        .await;
        assert_csrf_refused(&format!("/activation, {what}"), r).await;
        assert!(!user(&t, &f, new_account.user.id).await.activated, "{what}");
    }
    // With the token, the very same activation goes through: the code was never spent.
    let c = t.client();
    let r = c
        .post_form(
            "/activation",
            &[
                ("login", &new_account.user.login),
                ("code", &new_account.code),
                ("password", NEW_PASSWORD),
                ("confirm", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(user(&t, &f, new_account.user.id).await.activated);
}

#[tokio::test]
async fn office_actions_refuse_forged_forms() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let pupil = f.id("pupil_a");
    let pupil_session = t.signed_in(f.login("pupil_a")).await;
    let admin = t.signed_in(f.login("admin")).await;
    let fresh = new_pupil_without_code(&t, &f).await;
    let fresh_s = fresh.to_string();

    for (what, token) in bad_tokens() {
        let r = post_with(
            &admin,
            &format!("/admin/personnes/{pupil}/desactiver"),
            &token,
            &[],
        )
        .await;
        assert_csrf_refused(&format!("desactiver, {what}"), r).await;
        assert!(!user(&t, &f, pupil).await.disabled, "{what}");
        assert!(signed_in(&pupil_session).await, "{what}");

        let r = post_with(
            &admin,
            &format!("/admin/personnes/{pupil}/reinitialiser"),
            &token,
            &[],
        )
        .await;
        assert_csrf_refused(&format!("reinitialiser, {what}"), r).await;
        assert!(
            t.store.activation_code(pupil).await.unwrap().is_none(),
            "{what}"
        );
        assert!(signed_in(&pupil_session).await, "{what}");
        assert_eq!(
            login_status(&t, f.login("pupil_a"), PASSWORD).await,
            StatusCode::SEE_OTHER
        );

        let r = post_with(&admin, "/admin/codes", &token, &[("id", &fresh_s)]).await;
        assert_csrf_refused(&format!("/admin/codes, {what}"), r).await;
        assert!(
            t.store.activation_code(fresh).await.unwrap().is_none(),
            "{what}"
        );
    }

    // /reactiver too: disable for real, then a forged re-enable changes nothing.
    let r = admin
        .post_form(&format!("/admin/personnes/{pupil}/desactiver"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for (what, token) in bad_tokens() {
        let r = post_with(
            &admin,
            &format!("/admin/personnes/{pupil}/reactiver"),
            &token,
            &[],
        )
        .await;
        assert_csrf_refused(&format!("reactiver, {what}"), r).await;
        assert!(user(&t, &f, pupil).await.disabled, "{what}");
    }
}

#[tokio::test]
async fn roster_import_refuses_forged_forms() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let admin = t.signed_in(f.login("admin")).await;
    let before = people_count(&t, &f).await;

    // The upload, without the token field, or with a wrong one first.
    let r = post_multipart(&admin, "/admin/import", import_form(None)).await;
    assert_csrf_refused("/admin/import without csrf field", r).await;
    let r = post_multipart(&admin, "/admin/import", import_form(Some(&"A".repeat(43)))).await;
    assert_csrf_refused("/admin/import with a forged token", r).await;
    // The token of the page, but after the file: the file is not read before the check.
    let token = admin.csrf().await;
    let late = Form::new()
        .text("kind", "")
        .part(
            "file",
            Part::bytes(PUPILS_CSV.as_bytes().to_vec()).file_name("eleves.csv"),
        )
        .text("csrf", token.clone());
    let r = post_multipart(&admin, "/admin/import", late).await;
    assert_csrf_refused("/admin/import with the token after the file", r).await;

    // A real preview makes a draft...
    let r = post_multipart(&admin, "/admin/import", import_form(Some(&token))).await;
    assert_eq!(r.status(), StatusCode::OK);
    let draft = draft_of(&r.text().await.unwrap());
    let apply = format!("/admin/import/{draft}/appliquer");
    // ...that a forged form cannot apply.
    for (what, token) in bad_tokens() {
        let r = post_with(&admin, &apply, &token, &[]).await;
        assert_csrf_refused(&format!("appliquer, {what}"), r).await;
        assert_eq!(
            people_count(&t, &f).await,
            before,
            "{what}: nothing imported"
        );
    }
    let r = admin.post_form(&apply, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        people_count(&t, &f).await,
        before + 1,
        "the draft was good all along"
    );
}

#[tokio::test]
async fn a_token_from_another_browser_is_refused() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let victim = t.signed_in(f.login("pupil_a")).await;
    let attacker = t.signed_in(f.login("pupil_b")).await;
    let attacker_token = attacker.csrf().await;
    let victim_token = victim.csrf().await;
    assert_ne!(
        attacker_token, victim_token,
        "each browser has its own token"
    );

    // The attacker's valid token, in the victim's browser.
    let token = Some(attacker_token.clone());
    let r = post_with(
        &victim,
        "/compte",
        &token,
        &[
            ("current", PASSWORD),
            ("password", NEW_PASSWORD),
            ("confirm", NEW_PASSWORD),
        ],
    )
    .await;
    assert_csrf_refused("/compte with another browser's token", r).await;
    assert_eq!(
        login_status(&t, f.login("pupil_a"), PASSWORD).await,
        StatusCode::SEE_OTHER
    );
    let r = post_with(&victim, "/deconnexion", &token, &[]).await;
    assert_csrf_refused("/deconnexion with another browser's token", r).await;
    assert!(signed_in(&victim).await);

    // Login CSRF: a fresh browser posting the attacker's token.
    let fresh = t.client();
    let _ = fresh.get("/connexion").await;
    let r = post_with(
        &fresh,
        "/connexion",
        &token,
        &[("login", f.login("pupil_b")), ("password", PASSWORD)],
    )
    .await;
    assert_csrf_refused("/connexion with another browser's token", r).await;

    // The token stays valid in its own browser.
    let r = post_with(&attacker, "/deconnexion", &token, &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_post_from_another_origin_is_refused() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let login = f.login("pupil_a");
    let c = t.signed_in(login).await;
    let own = format!("http://{}", t.addr);
    let fields = [
        ("current", PASSWORD),
        ("password", NEW_PASSWORD),
        ("confirm", NEW_PASSWORD),
    ];

    let foreign = [
        headers(&[("origin", "http://evil.example")]),
        headers(&[("origin", "null")]),
        headers(&[("origin", &format!("http://{}.evil.example", t.addr))]),
        headers(&[("referer", "http://evil.example/page")]),
        headers(&[(
            "referer",
            &format!("http://evil.example/?from={own}/compte"),
        )]),
        // A foreign Origin wins over a same-site Referer.
        headers(&[
            ("origin", "http://evil.example"),
            ("referer", &format!("{own}/compte")),
        ]),
    ];
    for h in foreign {
        let mut all = vec![("csrf", c.csrf().await)];
        all.extend(fields.iter().map(|(k, v)| (*k, v.to_string())));
        let all: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = c.post_raw("/compte", &all, h.clone()).await;
        assert_csrf_refused(&format!("/compte with {h:?}"), r).await;
        assert!(signed_in(&c).await);
        assert_eq!(
            login_status(&t, login, PASSWORD).await,
            StatusCode::SEE_OTHER,
            "{h:?}"
        );
    }

    // This site's own origin passes (a login, a logout).
    let anon = t.client();
    let token = anon.csrf().await;
    let r = anon
        .post_raw(
            "/connexion",
            &[("csrf", &token), ("login", login), ("password", PASSWORD)],
            headers(&[(ORIGIN.as_str(), &own)]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "own Origin");
    let token = c.csrf().await;
    let r = c
        .post_raw(
            "/deconnexion",
            &[("csrf", &token)],
            headers(&[(REFERER.as_str(), &format!("{own}/compte"))]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "own Referer");
    assert_eq!(location(&r), "/connexion");
}

// ---------------------------------------------------------------- headers

fn assert_security_headers(what: &str, h: &HeaderMap, dynamic: bool) {
    let csp = header(h, "content-security-policy").unwrap_or_else(|| panic!("{what}: no CSP"));
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-eval"), "{what}: {csp}");
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    assert!(
        directives.contains(&"frame-ancestors 'none'"),
        "{what}: {csp}"
    );
    assert!(
        directives.iter().any(|d| d.starts_with("default-src")),
        "{what}: {csp}"
    );
    assert!(
        !directives
            .iter()
            .any(|d| d.split_whitespace().any(|w| w == "*")),
        "{what}: {csp}"
    );
    assert_eq!(
        header(h, "x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(header(h, "x-frame-options"), Some("DENY"), "{what}");
    let referrer =
        header(h, "referrer-policy").unwrap_or_else(|| panic!("{what}: no Referrer-Policy"));
    assert!(
        [
            "no-referrer",
            "same-origin",
            "strict-origin",
            "strict-origin-when-cross-origin"
        ]
        .contains(&referrer),
        "{what}: Referrer-Policy {referrer}"
    );
    if dynamic {
        let cache =
            header(h, "cache-control").unwrap_or_else(|| panic!("{what}: no Cache-Control"));
        assert!(cache.contains("no-store"), "{what}: Cache-Control {cache}");
    }
}

#[tokio::test]
async fn security_headers_on_pages_errors_and_redirects() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let anon = t.client();
    let pupil = t.signed_in(f.login("pupil_a")).await;

    let cases: Vec<(&str, &TestClient, &str, StatusCode)> = vec![
        ("login page", &anon, "/connexion", StatusCode::OK),
        ("activation page", &anon, "/activation", StatusCode::OK),
        ("404", &anon, "/nexiste-pas", StatusCode::NOT_FOUND),
        (
            "404 signed in",
            &pupil,
            "/nexiste/pas/du/tout",
            StatusCode::NOT_FOUND,
        ),
        ("redirect to login", &anon, "/compte", StatusCode::SEE_OTHER),
        ("home", &pupil, "/", StatusCode::OK),
        ("account", &pupil, "/compte", StatusCode::OK),
        ("403", &pupil, "/admin/personnes", StatusCode::FORBIDDEN),
        ("bad id", &pupil, "/classes/abc", StatusCode::NOT_FOUND),
        ("health", &anon, "/healthz", StatusCode::OK),
    ];
    for (what, c, path, expected) in cases {
        let r = c.get(path).await;
        assert_eq!(r.status(), expected, "{what} {path}");
        assert_security_headers(what, r.headers(), true);
    }
    // Error answers to POSTs too: a refused login, a forged form.
    let r = anon.login(f.login("pupil_a"), "faux").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_security_headers("401 login", r.headers(), true);
    let r = anon
        .post_raw("/connexion", &[("login", "x")], HeaderMap::new())
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_security_headers("csrf 403", r.headers(), true);

    // The stylesheet may be cached; it still gets nosniff.
    let r = anon.get("/static/app.css").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_security_headers("stylesheet", r.headers(), false);
    assert!(header(r.headers(), "content-type")
        .unwrap_or("")
        .starts_with("text/css"));
    let cache = header(r.headers(), "cache-control").unwrap_or_default();
    assert!(
        cache.contains("max-age=") && !cache.contains("no-store") && !cache.contains("private"),
        "{cache}"
    );
}

// ---------------------------------------------------------------- page hygiene

/// What is between `<` and `>` for every tag of a page (comments skipped).
fn tags(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        if rest.starts_with("<!--") {
            rest = rest.find("-->").map(|e| &rest[e + 3..]).unwrap_or("");
            continue;
        }
        match rest.find('>') {
            Some(e) => {
                out.push(rest[1..e].to_string());
                rest = &rest[e + 1..];
            }
            None => break,
        }
    }
    out
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].to_string())
}

/// No inline script, style or event handler; `lang="fr"`; every field labelled.
fn assert_clean_page(what: &str, html: &str) {
    assert!(html.contains("<html lang=\"fr\""), "{what}: no lang=\"fr\"");
    let all = tags(html);
    for tag in &all {
        let lower = tag.to_ascii_lowercase();
        let name = lower.split_whitespace().next().unwrap_or("");
        if name == "script" {
            assert!(lower.contains(" src="), "{what}: inline <{tag}>");
        }
        assert!(name != "style", "{what}: a <style> element");
        for word in lower.split_whitespace().skip(1) {
            assert!(
                !word.starts_with("style="),
                "{what}: style attribute in <{tag}>"
            );
            let handler = word.starts_with("on")
                && word
                    .split_once('=')
                    .is_some_and(|(k, _)| k.len() > 2 && k.chars().all(|c| c.is_ascii_lowercase()));
            assert!(!handler, "{what}: event handler in <{tag}>");
        }
        assert!(
            !lower.contains("javascript:"),
            "{what}: javascript: URL in <{tag}>"
        );
    }
    let inline_script = html.to_ascii_lowercase().matches("<script").count();
    let with_src = all
        .iter()
        .filter(|t| t.to_ascii_lowercase().starts_with("script") && t.contains(" src="))
        .count();
    assert_eq!(inline_script, with_src, "{what}: inline script");

    // Every visible form field has a label (or an aria-label).
    let labels: Vec<String> = all
        .iter()
        .filter(|t| t.starts_with("label "))
        .filter_map(|t| attr(t, "for"))
        .collect();
    for tag in &all {
        let name = tag.split_whitespace().next().unwrap_or("");
        if !matches!(name, "input" | "select" | "textarea") {
            continue;
        }
        let kind = attr(tag, "type").unwrap_or_else(|| "text".into());
        if matches!(
            kind.as_str(),
            "hidden" | "submit" | "button" | "reset" | "image"
        ) {
            continue;
        }
        let labelled = attr(tag, "aria-label").is_some()
            || attr(tag, "aria-labelledby").is_some()
            || attr(tag, "id").is_some_and(|id| labels.contains(&id));
        assert!(labelled, "{what}: unlabelled field <{tag}>");
    }
}

#[tokio::test]
async fn pages_have_no_inline_script_or_style_and_declare_french() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let (a, pa, pb, ta, pra) = (
        f.class_a,
        f.id("pupil_a"),
        f.id("pupil_b"),
        f.id("teacher_a"),
        f.id("parent_a"),
    );

    // An operator, signed in through activation.
    let op = t
        .app
        .create_account(None, Role::Operator, "Olga", "Opératrice", None)
        .await
        .unwrap();
    let operator = t.client();
    let r = operator
        .post_form(
            "/activation",
            &[
                ("login", &op.user.login),
                ("code", &op.code),
                ("password", NEW_PASSWORD),
                ("confirm", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let mut visits: Vec<(&str, TestClient, Vec<String>)> = vec![
        (
            "anonymous",
            t.client(),
            vec![
                "/connexion".into(),
                "/connexion?suite=/compte".into(),
                "/activation".into(),
                "/nexiste-pas".into(),
            ],
        ),
        (
            "pupil",
            t.signed_in(f.login("pupil_a")).await,
            vec![
                "/".into(),
                "/compte".into(),
                "/compte?ok=1".into(),
                format!("/classes/{a}"),
                format!("/personnes/{pa}"),
                format!("/personnes/{ta}"),
                "/admin/personnes".into(),
                "/operateur".into(),
            ],
        ),
        (
            "parent",
            t.signed_in(f.login("parent_a")).await,
            vec![
                "/".into(),
                "/compte".into(),
                format!("/personnes/{pa}"),
                format!("/classes/{a}"),
            ],
        ),
        (
            "teacher",
            t.signed_in(f.login("teacher_a")).await,
            vec![
                "/".into(),
                "/compte".into(),
                format!("/classes/{a}"),
                format!("/classes/{a}/eleves"),
                format!("/personnes/{pa}"),
                format!("/personnes/{pb}"),
            ],
        ),
        (
            "staff",
            t.signed_in(f.login("staff")).await,
            vec![
                "/".into(),
                "/admin/personnes".into(),
                "/admin/classes".into(),
                "/admin/codes".into(),
                format!("/personnes/{pa}"),
            ],
        ),
        (
            "admin",
            t.signed_in(f.login("admin")).await,
            vec![
                "/".into(),
                "/compte".into(),
                "/admin/personnes".into(),
                "/admin/personnes?role=pupil".into(),
                "/admin/classes".into(),
                "/admin/import".into(),
                "/admin/codes".into(),
                format!("/admin/codes?classe={a}&tous=1"),
                "/admin/journal".into(),
                format!("/personnes/{pa}"),
                format!("/personnes/{pra}"),
                format!("/personnes/{ta}"),
                format!("/classes/{a}"),
                format!("/classes/{a}/eleves"),
            ],
        ),
        (
            "operator",
            operator,
            vec!["/operateur".into(), "/compte".into()],
        ),
    ];
    let mut seen = 0;
    for (role, c, paths) in &mut visits {
        for path in paths.iter() {
            let r = c.get(path).await;
            let status = r.status();
            assert!(
                [StatusCode::OK, StatusCode::FORBIDDEN, StatusCode::NOT_FOUND].contains(&status),
                "{role} {path}: {status}"
            );
            let body = r.text().await.unwrap();
            assert_clean_page(&format!("{role} {path} ({status})"), &body);
            seen += 1;
        }
    }
    assert!(seen >= 40);

    // Pages that only answer a POST.
    let admin = &visits[5].1;
    let anon = &visits[0].1;
    let pupil = &visits[1].1;
    let mut posted: Vec<(String, String)> = Vec::new();
    let r = admin
        .post_form(&format!("/admin/personnes/{pb}/reinitialiser"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    posted.push(("slips".into(), r.text().await.unwrap()));
    let token = admin.csrf().await;
    let r = post_multipart(admin, "/admin/import", import_form(Some(&token))).await;
    assert_eq!(r.status(), StatusCode::OK);
    let preview = r.text().await.unwrap();
    let draft = draft_of(&preview);
    posted.push(("import preview".into(), preview));
    let r = admin
        .post_form(&format!("/admin/import/{draft}/appliquer"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    posted.push(("import done".into(), r.text().await.unwrap()));
    let token = admin.csrf().await;
    let empty = Form::new()
        .text("csrf", token)
        .text("kind", "")
        .part("file", Part::bytes(Vec::new()).file_name("vide.csv"));
    let r = post_multipart(admin, "/admin/import", empty).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    posted.push(("import error".into(), r.text().await.unwrap()));
    let r = anon.login(f.login("pupil_a"), "faux").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    posted.push(("login refused".into(), r.text().await.unwrap()));
    let r = anon
        .post_form(
            "/activation",
            &[
                ("login", "x.y"),
                ("code", "AAAA"),
                ("password", "p"),
                ("confirm", "p"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    posted.push(("activation refused".into(), r.text().await.unwrap()));
    let r = pupil
        .post_form(
            "/compte",
            &[("current", "faux"), ("password", "p"), ("confirm", "p")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    posted.push(("password refused".into(), r.text().await.unwrap()));
    let r = anon
        .post_raw("/connexion", &[("login", "x")], HeaderMap::new())
        .await;
    posted.push(("csrf refused".into(), r.text().await.unwrap()));
    for (what, body) in posted {
        assert_clean_page(&what, &body);
    }
}

#[tokio::test]
async fn the_login_page_labels_its_fields() {
    let t = spawn_app().await;
    let (status, body) = t.client().get_text("/connexion").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<html lang=\"fr\""));
    let all = tags(&body);
    let labels: Vec<String> = all
        .iter()
        .filter(|t| t.starts_with("label "))
        .filter_map(|t| attr(t, "for"))
        .collect();
    for field in ["login", "password", "rester"] {
        let input = all
            .iter()
            .find(|t| t.starts_with("input ") && attr(t, "name").as_deref() == Some(field))
            .unwrap_or_else(|| panic!("no {field} input"));
        let id = attr(input, "id").unwrap_or_else(|| panic!("{field} has no id"));
        assert!(labels.contains(&id), "no <label for=\"{id}\">");
    }
    let password = all
        .iter()
        .find(|t| attr(t, "name").as_deref() == Some("password"))
        .unwrap();
    assert_eq!(attr(password, "type").as_deref(), Some("password"));
    assert_eq!(
        attr(password, "autocomplete").as_deref(),
        Some("current-password")
    );
}

// ---------------------------------------------------------------- body limits

#[tokio::test]
async fn oversized_and_malformed_forms_get_a_clean_4xx() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let c = t.client();
    let token = c.csrf().await;

    // 200 KB: refused, quickly, without a hang.
    let body = format!("csrf={token}&login=x&password={}", "a".repeat(200 * 1024));
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        c.http
            .post(t.url("/connexion"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send(),
    )
    .await
    .expect("a 200 KB form must be answered, not left hanging")
    .expect("an answer, not a dropped connection");
    let status = r.status();
    assert!(
        matches!(
            status,
            StatusCode::PAYLOAD_TOO_LARGE | StatusCode::BAD_REQUEST
        ),
        "200 KB form: {status}"
    );
    let page = r.text().await.unwrap();
    assert!(page.contains("lang=\"fr\""), "{page}");

    // The same for a signed-in form.
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let token = pupil.csrf().await;
    let body = format!(
        "csrf={token}&current={0}&password={0}&confirm={0}",
        "b".repeat(70 * 1024)
    );
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        pupil
            .http
            .post(t.url("/compte"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send(),
    )
    .await
    .expect("answered")
    .expect("an answer");
    assert!(
        matches!(
            r.status(),
            StatusCode::PAYLOAD_TOO_LARGE | StatusCode::BAD_REQUEST
        ),
        "{}",
        r.status()
    );
    assert_eq!(
        login_status(&t, f.login("pupil_a"), PASSWORD).await,
        StatusCode::SEE_OTHER
    );

    // Malformed: a field twice.
    let token = c.csrf().await;
    let r = c
        .post_raw(
            "/connexion",
            &[
                ("csrf", &token),
                ("login", "a"),
                ("login", "b"),
                ("password", "x"),
            ],
            HeaderMap::new(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(header(r.headers(), "x-cartable-error"), Some("bad_form"));
    let page = r.text().await.unwrap();
    assert!(
        page.contains("lang=\"fr\"") && page.contains("formulaire"),
        "{page}"
    );

    // Malformed: a selection that is not a number.
    let admin = t.signed_in(f.login("admin")).await;
    let r = admin
        .post_form("/admin/codes", &[("id", "1; DROP TABLE users")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(header(r.headers(), "x-cartable-error"), Some("bad_form"));
    let page = r.text().await.unwrap();
    assert!(page.contains("Sélection invalide"), "{page}");

    // Bytes that are not a form at all: a 4xx, never a 5xx.
    let r = c
        .http
        .post(t.url("/connexion"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(vec![0xff, 0xfe, b'%', b'&', b'=', 0, 0x80, b'%', b'Z'])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
}

/// What the framework refuses before a handler runs (a query string it
/// cannot read, an upload that is not multipart) must still be a French page,
/// with the same headers, not axum's English plain text.
#[tokio::test]
async fn framework_rejections_are_french_pages() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let admin = t.signed_in(f.login("admin")).await;
    let mut failures = Vec::new();
    for path in [
        "/connexion?suite=/a&suite=/b",
        "/admin/codes?classe=1&classe=2",
        "/admin/personnes?role=a&role=b",
    ] {
        let r = admin.get(path).await;
        let status = r.status();
        assert!(status.is_client_error(), "{path}: {status}");
        assert_security_headers(path, r.headers(), true);
        let body = r.text().await.unwrap();
        if !body.contains("<html lang=\"fr\"") {
            failures.push(format!("GET {path} -> {status} {body:?}"));
        }
    }
    // An upload form posted without multipart encoding.
    let r = admin.post_form("/admin/import", &[("kind", "")]).await;
    let status = r.status();
    assert!(status.is_client_error(), "{status}");
    let body = r.text().await.unwrap();
    if !body.contains("<html lang=\"fr\"") {
        failures.push(format!(
            "POST /admin/import (urlencoded) -> {status} {body:?}"
        ));
    }
    // A GET on a POST-only route: no 5xx, the usual headers.
    let r = admin.get("/deconnexion").await;
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_security_headers("GET /deconnexion", r.headers(), true);
    assert!(signed_in(&admin).await, "a GET never logs out");
    assert!(
        failures.is_empty(),
        "not a French page:\n{}",
        failures.join("\n")
    );
}

/// A NUL character (which PostgreSQL cannot store in text) never reaches the
/// database: dropped from a form, refused in an address, never a 500.
#[tokio::test]
async fn a_nul_character_is_dropped_from_forms_and_refused_in_addresses() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let admin = t.signed_in(f.login("admin")).await;
    for path in ["/admin/personnes?q=%00", "/admin/personnes?q=a%00b"] {
        let r = admin.get(path).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(header(r.headers(), "x-cartable-error"), Some("bad_form"));
        let body = r.text().await.unwrap();
        assert!(body.contains("caractère invalide"), "{body}");
    }
    let r = admin.get("/admin/personnes?q=a").await;
    assert_eq!(r.status(), StatusCode::OK);

    // A login typed with a NUL in it is the login without it.
    let c = t.client();
    let r = c
        .login(&format!("{}\0", f.login("pupil_a")), PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", location(&r));
    assert!(signed_in(&c).await);
}
