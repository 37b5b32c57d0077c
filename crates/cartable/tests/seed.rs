//! `cartable seed` as the drill uses it: seed a small district into a fresh
//! SQLite database, serve it with `cartable serve`, and check that what
//! accounts.csv lists works: a listed session opens the pupil's home page
//! with homework, a pupil without one logs in with the printed password,
//! the homework page links the attachment and it downloads, and the open
//! assignment accepts a hand-in. Also: a second seed into the same database
//! is refused without --force.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cartable_testkit::reqwest::{self, multipart, StatusCode};
use cartable_testkit::{extract_csrf, TestClient};

const BIN: &str = env!("CARGO_BIN_EXE_cartable");
const HEADER: &str = "role,school_id,class_id,login,password,session_token";

fn cartable(data_dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("CARTABLE_DATABASE_URL")
        .env_remove("CARTABLE_CONFIG")
        .output()
        .expect("run cartable");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Kills the server when the test ends, whatever happens.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(data_dir: &Path) -> (Running, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env_remove("CARTABLE_DATABASE_URL")
        .env_remove("CARTABLE_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start serve");
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    for line in BufReader::new(stdout).lines() {
        if let Some(url) = line.unwrap().strip_prefix("Cartable écoute sur ") {
            return (running, url.to_string());
        }
        assert!(Instant::now() < deadline, "serve did not start");
    }
    panic!("serve exited before listening");
}

/// One line of accounts.csv.
#[derive(Debug, Clone)]
struct Account {
    role: String,
    school_id: String,
    class_id: String,
    login: String,
    password: String,
    token: String,
}

fn read_accounts(path: &Path) -> Vec<Account> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(HEADER));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 6, "{l}");
            Account {
                role: f[0].into(),
                school_id: f[1].into(),
                class_id: f[2].into(),
                login: f[3].into(),
                password: f[4].into(),
                token: f[5].into(),
            }
        })
        .collect()
}

/// A browser that sends a stored session cookie, like a returning pupil's phone.
fn returning(base: &str, token: &str) -> TestClient {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    jar.add_cookie_str(
        &format!("cartable_session={token}; Path=/"),
        &base.parse().unwrap(),
    );
    TestClient {
        base: base.to_string(),
        http: reqwest::Client::builder()
            .cookie_provider(jar)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

fn fresh_browser(base: &str) -> TestClient {
    TestClient {
        base: base.to_string(),
        http: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

/// The first `prefix{number}` link of a page.
fn first_link(html: &str, prefix: &str) -> Option<String> {
    let start = html.find(prefix)?;
    let digits: String = html[start + prefix.len()..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    (!digits.is_empty()).then(|| format!("{prefix}{digits}"))
}

#[tokio::test]
async fn a_seeded_district_serves_what_accounts_csv_lists() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = dir.path().join("out");
    let out_arg = out.to_str().unwrap();

    let (ok, stdout, stderr) = cartable(&data, &["seed", "--pupils", "300", "--out", out_arg]);
    assert!(ok, "seed failed: {stdout}\n{stderr}");
    assert!(stdout.contains("District fictif créé en"), "{stdout}");
    assert!(stdout.contains("300 élèves"), "{stdout}");

    // Never twice into the same database without --force.
    let (ok, _, stderr) = cartable(&data, &["seed", "--pupils", "300", "--out", out_arg]);
    assert!(!ok);
    assert!(stderr.contains("contient déjà"), "{stderr}");

    let accounts = read_accounts(&out.join("accounts.csv"));
    let of = |role: &str| accounts.iter().filter(|a| a.role == role).count();
    assert_eq!(of("eleve"), 300);
    for role in ["parent", "enseignant", "personnel", "admin"] {
        assert!(of(role) > 0, "no {role}");
    }
    assert_eq!(
        of("eleve") + of("parent") + of("enseignant") + of("personnel") + of("admin"),
        accounts.len()
    );
    let password = accounts[0].password.clone();
    assert!(accounts
        .iter()
        .all(|a| a.password == password && !a.school_id.is_empty()));
    assert!(accounts
        .iter()
        .all(|a| (a.role == "eleve") != a.class_id.is_empty()));
    assert!(accounts
        .iter()
        .all(|a| a.role == "eleve" || a.token.is_empty()));
    let with_session = accounts.iter().filter(|a| !a.token.is_empty()).count();
    assert!(
        (150..300).contains(&with_session),
        "{with_session} sessions for 300 pupils"
    );

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("district.json")).unwrap()).unwrap();
    assert_eq!(summary["counts"]["pupils"], 300);
    assert_eq!(summary["password"], password.as_str());
    assert_eq!(summary["counts"]["sessions"], with_session);

    let (_server, base) = serve(&data);

    // A returning pupil: the listed session opens their home page with homework.
    let pupil = accounts
        .iter()
        .find(|a| a.role == "eleve" && !a.token.is_empty())
        .unwrap();
    let phone = returning(&base, &pupil.token);
    let (status, home) = phone.get_text("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("À faire") && home.contains("Pour "), "{home}");

    // Their homework page links the attachment, and it downloads.
    let (status, due) = phone.get_text("/devoirs").await;
    assert_eq!(status, StatusCode::OK);
    let file = first_link(&due, "/pieces-jointes/").expect("an attachment on /devoirs");
    let r = phone.get(&file).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-") && bytes.len() > 1000);

    // The open assignment accepts a hand-in.
    let (status, list) = phone.get_text("/devoirs-a-rendre").await;
    assert_eq!(status, StatusCode::OK);
    let assignment = first_link(&list, "/rendus/").expect("an assignment to hand in");
    let (status, page) = phone.get_text(&assignment).await;
    assert_eq!(status, StatusCode::OK);
    let csrf = extract_csrf(&page).expect("a csrf field on the assignment page");
    let form = multipart::Form::new()
        .text("csrf", csrf)
        .text("cle", "seed-test-1")
        .part(
            "fichier",
            multipart::Part::bytes(bytes.to_vec())
                .file_name("copie.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
    let r = phone
        .http
        .post(format!("{base}{assignment}/rendre"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().contains_key("x-cartable-receipt"));

    // A pupil without a session logs in with the printed password.
    let newcomer = accounts
        .iter()
        .find(|a| a.role == "eleve" && a.token.is_empty())
        .unwrap();
    let browser = fresh_browser(&base);
    let r = browser.login(&newcomer.login, &newcomer.password).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "login of {}",
        newcomer.login
    );
    let (status, home) = browser.get_text("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("À faire"), "{home}");
    // A wrong password does not.
    let r = fresh_browser(&base)
        .login(&newcomer.login, "pas le bon")
        .await;
    assert_ne!(r.status(), StatusCode::SEE_OTHER);
}
