//! The binary as an admin uses it: demo, migrate, admin, import.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_cartable");
const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../cartable-roster/tests/fixtures"
);

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

/// Kills the demo server when the test ends, whatever happens.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `cartable demo` and reads its printed logins and address.
fn start_demo(data_dir: &Path) -> (Running, Vec<(String, String, String)>, String) {
    let mut child = Command::new(BIN)
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env_remove("CARTABLE_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start demo");
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let mut logins = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("Cartable écoute sur ") {
            return (running, logins, url.to_string());
        }
        let parts: Vec<&str> = line.split(' ').collect();
        if parts.len() == 3 && cartable_domain::Role::from_code(parts[0]).is_some() {
            logins.push((
                parts[0].to_string(),
                parts[1].to_string(),
                parts[2].to_string(),
            ));
        }
        assert!(Instant::now() < deadline, "demo did not start");
    }
    panic!("demo exited before listening");
}

#[tokio::test]
async fn demo_prints_working_logins_and_reseeds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (server, logins, url) = start_demo(dir.path());
    let roles: std::collections::BTreeSet<&str> =
        logins.iter().map(|(r, _, _)| r.as_str()).collect();
    for role in ["pupil", "parent", "teacher", "staff", "school_admin"] {
        assert!(
            roles.contains(role),
            "a {role} login is printed: {logins:?}"
        );
    }
    let client = cartable_testkit::TestClient {
        base: url.clone(),
        http: cartable_testkit::reqwest::Client::builder()
            .cookie_store(true)
            .redirect(cartable_testkit::reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    };
    let (_, pupil, password) = logins.iter().find(|(r, _, _)| r == "pupil").unwrap();
    assert_eq!(client.login(pupil, password).await.status(), 303);
    let (status, home) = client.get_text("/").await;
    assert_eq!(status, 200);
    assert!(home.contains("Bonjour"));
    drop(server);

    // Same data directory: same school, same accounts, nothing seeded twice.
    let (_server, again, _) = start_demo(dir.path());
    assert_eq!(again, logins);
}

#[test]
fn import_from_the_command_line_previews_then_applies_once() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = cartable(
        dir.path(),
        &[
            "admin",
            "create-school",
            "--name",
            "Collège Test",
            "--uai",
            "0750001a",
        ],
    );
    assert!(ok, "{err}");
    let (ok, out, err) = cartable(
        dir.path(),
        &[
            "admin",
            "create-admin",
            "--school",
            "0750001A",
            "--first-name",
            "Michel",
            "--last-name",
            "Roux",
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("identifiant michel.roux"), "{out}");
    let file = format!("{FIXTURES}/eleves.csv");

    let (ok, preview, err) = cartable(dir.path(), &["import", "--school", "0750001A", &file]);
    assert!(ok, "{err}");
    assert!(preview.contains("Élèves"), "{preview}");
    assert!(
        preview.contains("REJETÉE"),
        "the bad line is reported: {preview}"
    );
    assert!(preview.contains("rien n'a été écrit"));
    let (_, preview_again, _) = cartable(dir.path(), &["import", "--school", "0750001A", &file]);
    assert_eq!(preview, preview_again, "a preview wrote nothing");

    let (ok, applied, err) = cartable(
        dir.path(),
        &["import", "--school", "0750001A", "--apply", &file],
    );
    assert!(ok, "{err}");
    assert!(applied.contains("Appliqué"), "{applied}");
    let (_, after, _) = cartable(dir.path(), &["import", "--school", "0750001A", &file]);
    assert!(after.contains("créations=0 mises_a_jour=0"), "{after}");
}

#[test]
fn errors_are_clear_and_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = cartable(
        dir.path(),
        &["admin", "reset-password", "personne.inconnue"],
    );
    assert!(!ok);
    assert!(err.contains("aucun compte"), "{err}");
    let (ok, _, err) = cartable(
        dir.path(),
        &["admin", "create-school", "--name", "X", "--uai", "12"],
    );
    assert!(!ok);
    assert!(err.contains("UAI"), "{err}");
    let (ok, _, err) = cartable(
        dir.path(),
        &["import", "--school", "0750001A", "/nonexistent.csv"],
    );
    assert!(!ok);
    assert!(err.contains("aucun établissement"), "{err}");
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "listen = 12\n").unwrap();
    let (ok, _, err) = cartable(
        dir.path(),
        &["--config", config.to_str().unwrap(), "migrate"],
    );
    assert!(!ok);
    assert!(err.contains("configuration"), "{err}");
    let (ok, out, _) = cartable(dir.path(), &["migrate"]);
    assert!(ok);
    assert!(out.contains("Migrations appliquées"));
}

/// Writes a file under the data directory's file store, last written `hours_ago`.
fn stored_file(data_dir: &Path, rel: &str, hours_ago: u64) -> std::path::PathBuf {
    let path = data_dir.join("files").join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"%PDF-1.7 coupe par un crash").unwrap();
    let when = std::time::SystemTime::now() - Duration::from_secs(hours_ago * 3600);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(when)
        .unwrap();
    path
}

#[test]
fn sweep_blobs_previews_then_removes_old_orphans_only() {
    let dir = tempfile::tempdir().unwrap();
    // Any admin command sets up the database and the file store.
    let (ok, _, err) = cartable(dir.path(), &["migrate"]);
    assert!(ok, "{err}");
    let old = stored_file(dir.path(), "ab/cd/abcd0123456789abcdef0123456789ab", 3);
    let fresh = stored_file(dir.path(), "12/34/12340123456789abcdef0123456789ab", 0);
    let old_temp = stored_file(dir.path(), "tmp/00ff00ff.part", 3);

    let (ok, preview, err) = cartable(dir.path(), &["admin", "sweep-blobs", "--dry-run"]);
    assert!(ok, "{err}");
    assert!(
        preview.contains("Fichiers examinés : 2 (dont 1 écrit(s) il y a moins de 1 h"),
        "{preview}"
    );
    assert!(preview.contains("rien n'a été supprimé"), "{preview}");
    assert!(
        preview.contains("examines=2 orphelins=1 inacheves=1 supprimes=0"),
        "{preview}"
    );
    assert!(old.exists() && fresh.exists() && old_temp.exists());

    let (ok, swept, err) = cartable(dir.path(), &["admin", "sweep-blobs"]);
    assert!(ok, "{err}");
    assert!(
        swept.contains("Supprimés : 1 fichier(s) orphelin(s), 1 envoi(s) inachevé(s)"),
        "{swept}"
    );
    assert!(swept.contains("supprimes=2"), "{swept}");
    assert!(!old.exists() && !old_temp.exists());
    assert!(fresh.exists(), "an upload of the last hour is left alone");

    let (ok, out, err) = cartable(
        dir.path(),
        &["admin", "sweep-blobs", "--min-age-hours", "0"],
    );
    assert!(ok, "{err}");
    assert!(out.contains("supprimes=1"), "{out}");
    assert!(!fresh.exists());
}

#[test]
fn a_closed_output_ends_a_command_with_a_french_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = cartable(
        dir.path(),
        &[
            "admin",
            "create-school",
            "--name",
            "École",
            "--uai",
            "0750002b",
        ],
    );
    assert!(ok, "{err}");
    // stdout is a pipe nobody reads any more, as after `| head -1` has
    // exited: the first line written meets EPIPE.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "admin",
            "create-admin",
            "--school",
            "0750002B",
            "--first-name",
            "Anne",
            "--last-name",
            "Morel",
        ])
        .env_remove("CARTABLE_DATABASE_URL")
        .env_remove("CARTABLE_CONFIG")
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("run cartable");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("la sortie a été fermée"), "{err}");
    // The work was done: the account exists (a new code can be issued).
    let (ok, out, err) = cartable(dir.path(), &["admin", "reset-password", "anne.morel"]);
    assert!(ok, "{err}");
    assert!(out.contains("code "), "{out}");
}
