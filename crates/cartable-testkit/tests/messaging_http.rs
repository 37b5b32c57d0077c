//! Messaging, school news and the liaison book, as browsers use them: a
//! teacher writing to a class and its parents in one go, private replies to
//! broadcasts, attachments, search, sending limits, the school's rules, news
//! with a publication window, and notes that families sign.

use std::path::{Path, PathBuf};

use cartable_app::auth::ClientInfo;
use cartable_app::messaging::Compose;
use cartable_domain::policy::Actor;
use cartable_domain::{Role, UserId};
use cartable_testkit::reqwest::multipart::{Form, Part};
use cartable_testkit::reqwest::Response;
use cartable_testkit::*;

const DAY: i64 = 86_400;

/// What a browser gets back from a form post.
struct Answer {
    status: u16,
    location: String,
    body: String,
}

async fn answer(r: Response) -> Answer {
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    Answer {
        status,
        location,
        body: r.text().await.unwrap_or_default(),
    }
}

/// A file to attach: its name, the type the browser claims, its bytes.
struct Upload(&'static str, &'static str, Vec<u8>);

/// Posts a multipart form as the page does: CSRF token first, then the text
/// fields, then the files (field `fichier`).
async fn post_multipart(
    c: &TestClient,
    path: &str,
    fields: &[(&str, &str)],
    files: Vec<Upload>,
) -> Answer {
    let mut form = Form::new().text("csrf", c.csrf().await);
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    for Upload(name, mime, bytes) in files {
        let part = Part::bytes(bytes)
            .file_name(name.to_string())
            .mime_str(mime)
            .expect("mime type");
        form = form.part("fichier", part);
    }
    let r = c
        .http
        .post(format!("{}{}", c.base, path))
        .multipart(form)
        .send()
        .await
        .expect("multipart POST");
    answer(r).await
}

async fn post(c: &TestClient, path: &str, fields: &[(&str, &str)]) -> Answer {
    answer(c.post_form(path, fields).await).await
}

async fn page(c: &TestClient, path: &str) -> String {
    let (status, body) = c.get_text(path).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

async fn status_of(c: &TestClient, path: &str) -> u16 {
    c.get(path).await.status().as_u16()
}

/// The number in `/messages/12#fin` after `prefix`.
fn id_after(location: &str, prefix: &str) -> i64 {
    let rest = location
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{location:?} does not start with {prefix:?}"));
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no id in {location:?}"))
}

/// Sends a new message through the compose form.
async fn write(c: &TestClient, subject: &str, body: &str, to: &[(&str, String)]) -> Answer {
    let mut fields: Vec<(&str, &str)> = vec![("objet", subject), ("message", body)];
    fields.extend(to.iter().map(|(k, v)| (*k, v.as_str())));
    post_multipart(c, "/messages", &fields, Vec::new()).await
}

fn person_to(id: UserId) -> (&'static str, String) {
    ("personne", id.to_string())
}

fn group(code: String) -> (&'static str, String) {
    ("groupe", code)
}

/// The inbox line of the conversation titled exactly `subject`.
fn thread_row<'a>(inbox: &'a str, subject: &str) -> Option<&'a str> {
    let plain = format!("\">{subject}</a>");
    let unread = format!("</span> {subject}</a>");
    inbox
        .split("<li")
        .skip(1)
        .find(|li| li.contains(&plain) || li.contains(&unread))
}

fn rows_with(inbox: &str, subject: &str) -> usize {
    let plain = format!("\">{subject}</a>");
    let unread = format!("</span> {subject}</a>");
    inbox
        .split("<li")
        .skip(1)
        .filter(|li| li.contains(&plain) || li.contains(&unread))
        .count()
}

/// Percent-encodes a query value.
fn q(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

const UNREAD_ONE: &str = "<strong>1</strong> conversation non lue";
const NOTHING_NEW: &str = "Messages : rien de nouveau";

async fn actor(t: &TestApp, id: UserId) -> Actor {
    t.app.store.actor(id).await.unwrap().expect("actor")
}

// ---------------------------------------------------------------- messages

#[tokio::test]
async fn teacher_writes_to_a_class_and_its_parents_in_one_post() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let subject = "Sortie au musée jeudi";
    let sent = write(
        &teacher,
        subject,
        "Rendez-vous à **8 h** devant le collège.",
        &[
            group(format!("eleves:{}", f.class_a)),
            group(format!("parents:{}", f.class_a)),
        ],
    )
    .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let thread = id_after(&sent.location, "/messages/");
    assert_eq!(sent.location, format!("/messages/{thread}"));

    for who in ["pupil_a", "parent_a"] {
        let c = t.signed_in(f.login(who)).await;
        let inbox = page(&c, "/messages").await;
        let row = thread_row(&inbox, subject).unwrap_or_else(|| panic!("{who}: {inbox}"));
        assert!(row.contains("non lu"), "{who}: {row}");
        assert!(row.contains("Camille Tango"), "{who}: the author is shown");
        assert!(row.contains("3 participants"), "{who}: {row}");
        let home = page(&c, "/").await;
        assert!(home.contains(UNREAD_ONE), "{who}: {home}");

        let opened = page(&c, &format!("/messages/{thread}")).await;
        assert!(opened.contains("<strong>8 h</strong>"), "{who}: {opened}");
        assert!(
            opened.contains("Votre réponse ira seulement à l"),
            "{who}: told that replies are private"
        );
        let home = page(&c, "/").await;
        assert!(
            home.contains(NOTHING_NEW),
            "{who}: read once opened: {home}"
        );
        let inbox = page(&c, "/messages").await;
        assert!(!thread_row(&inbox, subject).unwrap().contains("non lu"));
    }

    for who in ["pupil_b", "parent_b", "teacher_b", "other_pupil"] {
        let c = t.signed_in(f.login(who)).await;
        let inbox = page(&c, "/messages").await;
        assert!(thread_row(&inbox, subject).is_none(), "{who}: {inbox}");
        assert_eq!(
            status_of(&c, &format!("/messages/{thread}")).await,
            404,
            "{who}"
        );
        assert!(page(&c, "/").await.contains(NOTHING_NEW), "{who}");
    }

    let inbox = page(&teacher, "/messages").await;
    let row = thread_row(&inbox, subject).expect("the sender's inbox has it");
    assert!(!row.contains("non lu"), "the sender has read it: {row}");
    assert!(page(&teacher, "/").await.contains(NOTHING_NEW));
}

#[tokio::test]
async fn replies_to_a_broadcast_go_to_its_author_only() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let parent = t.signed_in(f.login("parent_a")).await;
    let subject = "Sortie au musée jeudi";
    let sent = write(
        &teacher,
        subject,
        "Rendez-vous à 8 h.",
        &[
            group(format!("eleves:{}", f.class_a)),
            group(format!("parents:{}", f.class_a)),
        ],
    )
    .await;
    let broadcast = id_after(&sent.location, "/messages/");

    let r = post_multipart(
        &pupil,
        &format!("/messages/{broadcast}/repondre"),
        &[("message", "Je serai en retard de dix minutes.")],
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let private = id_after(&r.location, "/messages/");
    assert_ne!(private, broadcast, "a new conversation");
    assert!(r.location.ends_with("#fin"));

    let mine = page(&pupil, &format!("/messages/{private}")).await;
    assert!(mine.contains("Re : Sortie au musée jeudi"), "{mine}");
    assert!(
        mine.contains("Avec : Camille Tango<"),
        "only the teacher: {mine}"
    );
    assert!(mine.contains("Je serai en retard de dix minutes."));

    // The teacher sees it unread, with two participants.
    let inbox = page(&teacher, "/messages").await;
    let row = thread_row(&inbox, "Re : Sortie au musée jeudi").expect("teacher has the reply");
    assert!(row.contains("non lu"), "{row}");
    assert!(row.contains("2 participants"), "{row}");
    assert!(page(&teacher, "/").await.contains(UNREAD_ONE));
    let seen = page(&teacher, &format!("/messages/{private}")).await;
    assert!(seen.contains("Je serai en retard de dix minutes."));
    assert!(seen.contains("Avec : Léa Alpha<"), "{seen}");

    // The parent sees neither the reply nor its conversation.
    assert_eq!(
        status_of(&parent, &format!("/messages/{private}")).await,
        404
    );
    let theirs = page(&parent, &format!("/messages/{broadcast}")).await;
    assert!(!theirs.contains("dix minutes"), "{theirs}");
    let inbox = page(&parent, "/messages").await;
    assert!(thread_row(&inbox, "Re : Sortie au musée jeudi").is_none());
    assert!(!page(&teacher, &format!("/messages/{broadcast}"))
        .await
        .contains("dix minutes"));

    // Replying again to the broadcast lands in the same private conversation.
    let again = post_multipart(
        &pupil,
        &format!("/messages/{broadcast}/repondre"),
        &[("message", "Finalement je serai à l'heure.")],
        Vec::new(),
    )
    .await;
    assert_eq!(again.status, 303, "{}", again.body);
    assert_eq!(id_after(&again.location, "/messages/"), private);
    let inbox = page(&teacher, "/messages").await;
    assert_eq!(
        rows_with(&inbox, "Re : Sortie au musée jeudi"),
        1,
        "{inbox}"
    );
    let mine = page(&pupil, &format!("/messages/{private}")).await;
    assert!(mine.contains("dix minutes") && mine.contains("Finalement"));

    // The parent's reply is a conversation of its own, unseen by the pupil.
    let r = post_multipart(
        &parent,
        &format!("/messages/{broadcast}/repondre"),
        &[("message", "Je peux accompagner la classe.")],
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let parents = id_after(&r.location, "/messages/");
    assert!(parents != private && parents != broadcast);
    assert_eq!(
        status_of(&pupil, &format!("/messages/{parents}")).await,
        404
    );
    let inbox = page(&teacher, "/messages").await;
    assert_eq!(
        rows_with(&inbox, "Re : Sortie au musée jeudi"),
        2,
        "{inbox}"
    );
}

#[tokio::test]
async fn a_reply_in_a_plain_conversation_reaches_everyone_in_it() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let parent = t.signed_in(f.login("parent_a")).await;
    let sent = write(
        &teacher,
        "Devoir de mathématiques",
        "Le devoir est à rendre lundi.",
        &[person_to(f.id("pupil_a")), person_to(f.id("parent_a"))],
    )
    .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let thread = id_after(&sent.location, "/messages/");
    let opened = page(&pupil, &format!("/messages/{thread}")).await;
    assert!(!opened.contains("ira seulement"), "not a broadcast");
    page(&parent, &format!("/messages/{thread}")).await;

    let r = post_multipart(
        &pupil,
        &format!("/messages/{thread}/repondre"),
        &[("message", "Je l'ai presque fini.")],
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, format!("/messages/{thread}#fin"));
    for c in [&parent, &teacher] {
        assert!(page(c, "/").await.contains(UNREAD_ONE));
        let inbox = page(c, "/messages").await;
        assert!(thread_row(&inbox, "Devoir de mathématiques")
            .unwrap()
            .contains("non lu"));
        let seen = page(c, &format!("/messages/{thread}")).await;
        assert!(seen.contains("presque fini"), "{seen}");
    }
}

// ------------------------------------------------------------- attachments

fn pdf_bytes(len: usize) -> Vec<u8> {
    let mut v = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    let mut x: u32 = 7;
    while v.len() + 6 < len {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        v.push((x >> 16) as u8);
    }
    v.extend_from_slice(b"%%EOF\n");
    v
}

fn png_bytes() -> Vec<u8> {
    let mut v = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    v.extend_from_slice(&[0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1]);
    v.extend_from_slice(&[8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89]);
    v.extend((0..=255u8).cycle().take(3000));
    v
}

/// `(id, file name)` of the attachment links of a page.
fn attachment_links(html: &str) -> Vec<(i64, String)> {
    html.split("href=\"/pieces-jointes/")
        .skip(1)
        .map(|rest| {
            let id = rest.split('"').next().unwrap().parse().unwrap();
            let name = rest.split('>').nth(1).unwrap().split('<').next().unwrap();
            (id, name.to_string())
        })
        .collect()
}

/// Every file under `dir`, temp files included.
fn count_files(dir: &Path) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            n += count_files(&path);
        } else {
            n += 1;
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

#[tokio::test]
async fn attachments_download_identical_and_bad_files_leave_nothing() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let pdf = pdf_bytes(40_000);
    let png = png_bytes();
    let sent = post_multipart(
        &teacher,
        "/messages",
        &[
            ("objet", "Documents de la sortie"),
            ("message", "Voici l'autorisation et le plan."),
            ("personne", &f.id("pupil_a").to_string()),
        ],
        vec![
            Upload(
                "Sortie à la piscine été.pdf",
                "application/pdf",
                pdf.clone(),
            ),
            // The browser's claim is not believed: the type is sniffed.
            Upload("plan été.png", "text/html", png.clone()),
        ],
    )
    .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let thread = id_after(&sent.location, "/messages/");
    let html = page(&pupil, &format!("/messages/{thread}")).await;
    let links = attachment_links(&html);
    assert_eq!(links.len(), 2, "{html}");
    let expected = [
        (
            "Sortie à la piscine été.pdf",
            "application/pdf",
            "Sortie%20%C3%A0%20la%20piscine%20%C3%A9t%C3%A9.pdf",
            &pdf,
        ),
        (
            "plan été.png",
            "image/png",
            "plan%20%C3%A9t%C3%A9.png",
            &png,
        ),
    ];
    for (name, ctype, encoded, bytes) in expected {
        let (id, _) = links
            .iter()
            .find(|(_, n)| n == name)
            .unwrap_or_else(|| panic!("{name} listed: {links:?}"));
        let r = pupil.get(&format!("/pieces-jointes/{id}")).await;
        assert_eq!(r.status(), 200, "{name}");
        let h = r.headers().clone();
        assert_eq!(h["content-type"], ctype, "{name}: sniffed type");
        assert_eq!(h["x-content-type-options"], "nosniff");
        let disposition = h["content-disposition"].to_str().unwrap().to_string();
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        assert!(
            disposition.contains(&format!("filename*=UTF-8''{encoded}")),
            "{name}: {disposition}"
        );
        let body = r.bytes().await.unwrap();
        assert_eq!(body.len(), bytes.len(), "{name}");
        assert!(body[..] == bytes[..], "{name}: byte-for-byte");
        // Someone outside the conversation does not even learn it exists.
        let parent = t.signed_in(f.login("parent_a")).await;
        assert_eq!(
            status_of(&parent, &format!("/pieces-jointes/{id}")).await,
            404
        );
    }

    // Where files live, to check that refusals leave none behind.
    let last_id = links.iter().map(|(id, _)| *id).max().unwrap();
    let key = t
        .app
        .store
        .attachment(f.school_a, last_id)
        .await
        .unwrap()
        .unwrap()
        .blob_key;
    let root = blob_root_holding(&key);
    let files_before = count_files(&root);
    assert!(files_before >= 2, "the two attachments are on disk");
    let threads_before = t
        .app
        .store
        .threads_of(f.school_a, f.id("teacher_a"), None, 200)
        .await
        .unwrap()
        .len();

    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xFF\xFF\x00\x00".to_vec();
    exe.extend(std::iter::repeat_n(0u8, 2000));
    let html_file =
        b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
            .to_vec();
    let cases: Vec<(&str, Upload, &str)> = vec![
        (
            "an executable named .pdf",
            Upload("devoirs.pdf", "application/pdf", exe.clone()),
            "programme",
        ),
        (
            "an executable",
            Upload("jeu.exe", "application/octet-stream", exe),
            "programme",
        ),
        (
            "a web page",
            Upload("page.html", "text/html", html_file),
            "page web",
        ),
        (
            "a file over 10 MB",
            Upload(
                "gros.pdf",
                "application/pdf",
                pdf_bytes(10 * 1024 * 1024 + 1),
            ),
            "10 Mo",
        ),
    ];
    for (what, bad, says) in cases {
        // A good file first: it is stored while the form is read, and must
        // be removed when the bad one is refused.
        let r = post_multipart(
            &teacher,
            "/messages",
            &[
                ("objet", "Fichier refusé"),
                ("message", "Ce message ne doit pas partir."),
                ("personne", &f.id("pupil_a").to_string()),
            ],
            vec![Upload("bon.pdf", "application/pdf", pdf.clone()), bad],
        )
        .await;
        assert_eq!(r.status, 400, "{what}: {}", r.location);
        assert!(r.body.contains(says), "{what}: {}", r.body);
        assert!(
            r.body.contains("Formats acceptés") || r.body.contains("dépasse"),
            "{what}: a French explanation: {}",
            r.body
        );
        assert_eq!(count_files(&root), files_before, "{what}: no file left");
    }
    assert_eq!(
        t.app
            .store
            .threads_of(f.school_a, f.id("teacher_a"), None, 200)
            .await
            .unwrap()
            .len(),
        threads_before,
        "no message created"
    );
    assert!(
        t.app
            .store
            .attachment(f.school_a, last_id + 1)
            .await
            .unwrap()
            .is_none(),
        "no attachment row"
    );
    let inbox = page(&pupil, "/messages").await;
    assert!(thread_row(&inbox, "Fichier refusé").is_none());
}

// ------------------------------------------------------------------ search

#[tokio::test]
async fn search_finds_subjects_and_bodies_case_insensitively_with_literal_wildcards() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let messages = [
        ("Sortie PISCINE jeudi", "Maillot obligatoire."),
        ("Affaires de sport", "N'oubliez pas la Piscine mardi."),
        ("Cantine", "Menu de la semaine."),
        ("Vacances été", "Bonnes vacances."),
        ("Remise de 5% sur les fournitures", "Chez le libraire."),
        ("Réunion 5 septembre", "À 18 h."),
        ("Fichier cours_2", "Ci-joint."),
        ("Fichier cours-2", "Ci-joint."),
    ];
    for (subject, body) in messages {
        let r = write(&teacher, subject, body, &[person_to(f.id("pupil_a"))]).await;
        assert_eq!(r.status, 303, "{subject}: {}", r.body);
    }
    let cases: &[(&str, &[&str])] = &[
        ("piscine", &["Sortie PISCINE jeudi", "Affaires de sport"]),
        ("PISCINE", &["Sortie PISCINE jeudi", "Affaires de sport"]),
        ("ÉTÉ", &["Vacances été"]),
        ("été", &["Vacances été"]),
        ("5%", &["Remise de 5% sur les fournitures"]),
        ("%", &["Remise de 5% sur les fournitures"]),
        ("cours_2", &["Fichier cours_2"]),
        ("semaine", &["Cantine"]),
    ];
    for (search, expected) in cases {
        for c in [&pupil, &teacher] {
            let html = page(c, &format!("/messages?q={}", q(search))).await;
            let found: Vec<&str> = messages
                .iter()
                .map(|(s, _)| *s)
                .filter(|s| thread_row(&html, s).is_some())
                .collect();
            assert_eq!(&found, expected, "search {search:?}");
        }
    }
    let none = page(&pupil, "/messages?q=zzz").await;
    assert!(
        none.contains("Aucun message ne correspond à « zzz »"),
        "{none}"
    );
    // Someone else's messages are not searched.
    let other = t.signed_in(f.login("pupil_b")).await;
    let html = page(&other, "/messages?q=piscine").await;
    assert!(thread_row(&html, "Sortie PISCINE jeudi").is_none());
}

#[tokio::test]
async fn search_folds_the_case_of_accented_capitals() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let r = write(
        &teacher,
        "STAGE ÉTÉ 2027",
        "Inscriptions au secrétariat.",
        &[person_to(f.id("pupil_a"))],
    )
    .await;
    assert_eq!(r.status, 303);
    let r = write(
        &teacher,
        "Calendrier",
        "Le CONSEIL DE CLASSE DU PREMIER TRIMESTRE AURA LIEU EN DÉCEMBRE.",
        &[person_to(f.id("pupil_a"))],
    )
    .await;
    assert_eq!(r.status, 303);
    for (search, subject) in [
        ("été", "STAGE ÉTÉ 2027"),
        ("Été", "STAGE ÉTÉ 2027"),
        ("décembre", "Calendrier"),
    ] {
        let html = page(&pupil, &format!("/messages?q={}", q(search))).await;
        assert!(
            thread_row(&html, subject).is_some(),
            "search {search:?} should find {subject:?}: {html}"
        );
    }
}

// ---------------------------------------------------------- sending limits

#[tokio::test]
async fn sending_limit_refuses_then_recovers_and_the_admin_disables_the_account() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let pupil_id = f.id("pupil_a");
    let me = actor(&t, pupil_id).await;
    for i in 1..=29 {
        t.app
            .send_message(
                &me,
                Compose {
                    subject: format!("Question {i}"),
                    body: "Bonjour, j'ai une question.".into(),
                    people: vec![f.id("teacher_a")],
                    ..Compose::default()
                },
                &ClientInfo::default(),
            )
            .await
            .unwrap();
    }
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let to_teacher = [person_to(f.id("teacher_a"))];
    let r = write(&pupil, "Question 30", "Encore une.", &to_teacher).await;
    assert_eq!(r.status, 303, "the 30th is allowed: {}", r.body);
    let thread30 = id_after(&r.location, "/messages/");

    let r = write(&pupil, "Question 31", "Et une de plus.", &to_teacher).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(
        r.body.contains("30 messages dans l") && r.body.contains("la limite de votre compte"),
        "{}",
        r.body
    );
    assert!(r.body.contains("Question 31"), "what was typed is kept");
    // A reply counts too.
    let r = post_multipart(
        &pupil,
        &format!("/messages/{thread30}/repondre"),
        &[("message", "Vous avez vu ma question ?")],
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, 429, "{}", r.body);
    let teacher_threads = t
        .app
        .store
        .threads_of(f.school_a, f.id("teacher_a"), None, 200)
        .await
        .unwrap();
    assert_eq!(teacher_threads.len(), 30);
    assert!(!teacher_threads.iter().any(|th| th.subject == "Question 31"));
    let log = t.app.store.audit_log(f.school_a, 200).await.unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "message.rate_limited" && e.actor_id == Some(pupil_id)),
        "{log:?}"
    );

    // One second short of an hour, still refused; an hour later, the
    // allowance is back.
    t.clock.advance(3599);
    let r = write(&pupil, "Question 31", "Et une de plus.", &to_teacher).await;
    assert_eq!(r.status, 429, "{}", r.body);
    t.clock.advance(1);
    let r = write(&pupil, "Question 31", "Et une de plus.", &to_teacher).await;
    assert_eq!(r.status, 303, "an hour later: {}", r.body);

    // The admin sees who sends the most and disables the account.
    let admin = t.signed_in(f.login("admin")).await;
    let overview = page(&admin, "/admin/messagerie").await;
    let tbody = overview
        .split("<tbody>")
        .nth(1)
        .expect("a table of senders");
    let first = tbody.split("<tr>").nth(1).unwrap();
    assert!(
        first.contains(&format!("<a href=\"/personnes/{pupil_id}\">Léa Alpha</a>")),
        "the pupil tops the list: {first}"
    );
    assert!(first.contains("<td>31</td>"), "{first}");
    let person = page(&admin, &format!("/personnes/{pupil_id}")).await;
    assert!(person.contains(&format!("/admin/personnes/{pupil_id}/desactiver")));
    let r = post(
        &admin,
        &format!("/admin/personnes/{pupil_id}/desactiver"),
        &[],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);

    let r = pupil.get("/").await;
    assert_eq!(r.status(), 303, "the pupil's session has ended");
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/connexion"));
    let r = write(&pupil, "Question 32", "Toujours là ?", &to_teacher).await;
    assert_eq!(r.status, 303, "sent back to the login page");
    assert!(r.location.starts_with("/connexion"), "{}", r.location);
    let again = t.client();
    assert_ne!(
        again.login(f.login("pupil_a"), PASSWORD).await.status(),
        303,
        "a disabled account cannot sign in"
    );
    let overview = page(&admin, "/admin/messagerie").await;
    assert!(overview.contains("Léa Alpha</a> (désactivé)"), "{overview}");
}

// ------------------------------------------------------------------- rules

#[tokio::test]
async fn the_admin_opens_classmates_and_staff_cannot_change_rules() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let (mate, mate_login) =
        add_person(&t, &f, Role::Pupil, "Tom", "Charlie", Some(f.class_a), None).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let compose = page(&pupil, "/messages/nouveau").await;
    assert!(!compose.contains(&format!("value=\"{mate}\"")), "{compose}");
    assert!(compose.contains(&format!("value=\"{}\"", f.id("teacher_a"))));

    // By default, no: a 400 with the reason, nothing sent.
    let r = write(&pupil, "Coucou", "Tu viens ?", &[person_to(mate)]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("Vous ne pouvez pas écrire à"), "{}", r.body);
    assert!(r.body.contains("règles de la messagerie"));
    // Nor to a class as a group.
    let r = write(
        &pupil,
        "Coucou",
        "Tout le monde ?",
        &[group(format!("eleves:{}", f.class_a))],
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);

    // Staff cannot change the rules.
    let staff = t.signed_in(f.login("staff")).await;
    assert_eq!(status_of(&staff, "/admin/messagerie").await, 403);
    let r = post(
        &staff,
        "/admin/messagerie",
        &[("pupils_to_teachers", "1"), ("pupils_to_classmates", "1")],
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = write(&pupil, "Coucou", "Tu viens ?", &[person_to(mate)]).await;
    assert_eq!(r.status, 400, "rules unchanged by staff");

    // The admin opens classmates.
    let admin = t.signed_in(f.login("admin")).await;
    let r = post(
        &admin,
        "/admin/messagerie",
        &[
            ("pupils_to_teachers", "1"),
            ("pupils_to_staff", "1"),
            ("pupils_to_classmates", "1"),
            ("parents_to_teachers", "1"),
            ("parents_to_staff", "1"),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.location.starts_with("/admin/messagerie"));
    let rules = page(&admin, "/admin/messagerie").await;
    assert!(rules.contains("name=\"pupils_to_classmates\" value=\"1\" checked"));
    assert!(!rules.contains("name=\"parents_to_parents\" value=\"1\" checked"));
    let log = t.app.store.audit_log(f.school_a, 100).await.unwrap();
    assert!(log.iter().any(|e| e.action == "messaging.rules_changed"));

    let compose = page(&pupil, "/messages/nouveau").await;
    assert!(compose.contains(&format!("value=\"{mate}\"")), "{compose}");
    assert!(!compose.contains(&format!("value=\"{}\"", f.id("pupil_b"))));
    let r = write(&pupil, "Coucou", "Tu viens ?", &[person_to(mate)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let mate_browser = t.signed_in(&mate_login).await;
    let inbox = page(&mate_browser, "/messages").await;
    assert!(thread_row(&inbox, "Coucou").unwrap().contains("non lu"));

    // Still not to a pupil of another class.
    let r = write(&pupil, "Salut", "Et toi ?", &[person_to(f.id("pupil_b"))]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let other = t.signed_in(f.login("pupil_b")).await;
    assert!(thread_row(&page(&other, "/messages").await, "Salut").is_none());
}

// ----------------------------------------------------------- whole school

#[tokio::test]
async fn staff_writes_to_the_whole_school() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let staff = t.signed_in(f.login("staff")).await;
    let r = write(
        &staff,
        "Fermeture exceptionnelle vendredi",
        "Le collège sera fermé vendredi.",
        &[group("etablissement".into())],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    for who in [
        "pupil_a",
        "pupil_b",
        "parent_a",
        "parent_b",
        "teacher_a",
        "teacher_b",
        "admin",
    ] {
        let c = t.signed_in(f.login(who)).await;
        let inbox = page(&c, "/messages").await;
        let row = thread_row(&inbox, "Fermeture exceptionnelle vendredi")
            .unwrap_or_else(|| panic!("{who}: {inbox}"));
        assert!(row.contains("non lu"), "{who}");
    }
    for who in [
        "other_pupil",
        "other_parent",
        "other_teacher",
        "other_admin",
    ] {
        let c = t.signed_in(f.login(who)).await;
        let inbox = page(&c, "/messages").await;
        assert!(
            thread_row(&inbox, "Fermeture exceptionnelle vendredi").is_none(),
            "{who}"
        );
    }
    let inbox = page(&staff, "/messages").await;
    let row = thread_row(&inbox, "Fermeture exceptionnelle vendredi").unwrap();
    assert!(
        row.contains("8 participants"),
        "the 8 members of school A: {row}"
    );

    // A teacher cannot write to the whole school in one go.
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let r = write(
        &teacher,
        "À tous",
        "Bonjour.",
        &[group("etablissement".into())],
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
}

// -------------------------------------------------------------------- news

/// The news card of a list page titled `title`.
fn card<'a>(html: &'a str, title: &str) -> Option<&'a str> {
    let needle = format!(">{title}</a>");
    html.split("<article").skip(1).find(|a| a.contains(&needle))
}

fn home_lists(html: &str, title: &str) -> bool {
    html.contains(&format!(">{title}</a>"))
}

#[tokio::test]
async fn news_for_parents_with_a_window() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let staff = t.signed_in(f.login("staff")).await;
    let title = "Réunion parents-professeurs";
    let r = post_multipart(
        &staff,
        "/actualites",
        &[
            ("titre", title),
            ("texte", "Mardi à **18 h** en salle polyvalente."),
            ("public", "parents"),
            ("debut", "2026-09-01"),
            ("fin", "2026-09-02"),
        ],
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let id = id_after(&r.location, "/actualites/");

    let parent = t.signed_in(f.login("parent_a")).await;
    let list = page(&parent, "/actualites").await;
    let c = card(&list, title).unwrap_or_else(|| panic!("{list}"));
    assert!(c.contains("<strong>18 h</strong>"));
    assert!(home_lists(&page(&parent, "/").await, title));
    page(&parent, &format!("/actualites/{id}")).await;
    let other_parent = t.signed_in(f.login("parent_b")).await;
    assert!(card(&page(&other_parent, "/actualites").await, title).is_some());

    for who in ["pupil_a", "teacher_a", "other_parent"] {
        let c = t.signed_in(f.login(who)).await;
        assert!(
            card(&page(&c, "/actualites").await, title).is_none(),
            "{who}"
        );
        assert!(!home_lists(&page(&c, "/").await, title), "{who}");
        assert_eq!(
            status_of(&c, &format!("/actualites/{id}")).await,
            404,
            "{who}"
        );
    }

    // Still there on the last day, gone after it.
    t.clock.advance(DAY + 3600);
    assert!(card(&page(&parent, "/actualites").await, title).is_some());
    t.clock.advance(DAY - 3600);
    let list = page(&parent, "/actualites").await;
    assert!(card(&list, title).is_none(), "expired: {list}");
    assert!(!home_lists(&page(&parent, "/").await, title));
    assert_eq!(status_of(&parent, &format!("/actualites/{id}")).await, 404);
    let managed = page(&staff, "/actualites").await;
    let c = card(&managed, title).expect("staff still see it");
    assert!(c.contains("expirée"), "{c}");
}

#[tokio::test]
async fn scheduled_news_appears_on_its_day() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let staff = t.signed_in(f.login("staff")).await;
    let title = "Photo de classe";
    let r = post_multipart(
        &staff,
        "/actualites",
        &[
            ("titre", title),
            ("texte", "Pensez à la tenue."),
            ("public", "parents"),
            ("debut", "2026-09-08"),
        ],
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let id = id_after(&r.location, "/actualites/");
    let parent = t.signed_in(f.login("parent_a")).await;
    assert!(card(&page(&parent, "/actualites").await, title).is_none());
    assert!(!home_lists(&page(&parent, "/").await, title));
    assert_eq!(status_of(&parent, &format!("/actualites/{id}")).await, 404);
    let managed = page(&staff, "/actualites").await;
    assert!(card(&managed, title)
        .expect("staff see it")
        .contains("programmée pour le 08/09/2026"));

    t.clock.advance(6 * DAY);
    assert!(card(&page(&parent, "/actualites").await, title).is_none());
    t.clock.advance(DAY);
    assert!(card(&page(&parent, "/actualites").await, title).is_some());
    assert!(home_lists(&page(&parent, "/").await, title));
    page(&parent, &format!("/actualites/{id}")).await;
}

/// A form's text fields.
type Fields<'a> = Vec<(&'a str, &'a str)>;

#[tokio::test]
async fn bad_news_forms_get_french_messages_and_create_nothing() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let staff = t.signed_in(f.login("staff")).await;
    let long = "é".repeat(151);
    let class_a = f.class_a.to_string();
    let cases: Vec<(&str, Fields, &str)> = vec![
        (
            "empty title",
            vec![
                ("titre", "   "),
                ("texte", "Bonjour."),
                ("public", "school"),
            ],
            "Indiquez le titre.",
        ),
        (
            "151 characters",
            vec![
                ("titre", &long),
                ("texte", "Bonjour."),
                ("public", "school"),
            ],
            "Le titre est trop long : 150 caractères au plus.",
        ),
        (
            "end before start",
            vec![
                ("titre", "Kermesse"),
                ("texte", "Bonjour."),
                ("public", "school"),
                ("debut", "2026-09-10"),
                ("fin", "2026-09-05"),
            ],
            "La date de fin de publication doit suivre la date de début.",
        ),
        (
            "classes without a class",
            vec![
                ("titre", "Kermesse"),
                ("texte", "Bonjour."),
                ("public", "classes"),
            ],
            "au moins une classe",
        ),
        (
            "empty text",
            vec![("titre", "Kermesse"), ("texte", ""), ("public", "school")],
            "Le message est vide.",
        ),
        (
            "a bad date",
            vec![
                ("titre", "Kermesse"),
                ("texte", "Bonjour."),
                ("public", "school"),
                ("debut", "2026-02-31"),
            ],
            "Date invalide",
        ),
    ];
    for (what, fields, says) in cases {
        let r = post_multipart(&staff, "/actualites", &fields, Vec::new()).await;
        assert_eq!(r.status, 400, "{what}: {}", r.location);
        assert!(r.body.contains(says), "{what}: {}", r.body);
        assert!(r.body.contains("class=\"error\""), "{what}");
    }
    let news = t
        .app
        .store
        .school_news(f.school_a, t.app.now(), true, 100)
        .await
        .unwrap();
    assert!(news.is_empty(), "{news:?}");
    assert!(page(&staff, "/actualites")
        .await
        .contains("Aucune actualité pour l"));

    // The same with a class chosen is accepted, for that class only.
    let r = post_multipart(
        &staff,
        "/actualites",
        &[
            ("titre", "Kermesse"),
            ("texte", "Bonjour."),
            ("public", "classes"),
            ("classe", &class_a),
        ],
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let a = t.signed_in(f.login("parent_a")).await;
    let b = t.signed_in(f.login("parent_b")).await;
    assert!(card(&page(&a, "/actualites").await, "Kermesse").is_some());
    assert!(card(&page(&b, "/actualites").await, "Kermesse").is_none());

    // Only staff publish.
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let r = post_multipart(
        &teacher,
        "/actualites",
        &[
            ("titre", "Moi aussi"),
            ("texte", "Bonjour."),
            ("public", "school"),
        ],
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
}

// ------------------------------------------------------------ liaison book

#[tokio::test]
async fn liaison_book_notes_are_signed_once_and_reminded() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let (_, second_login) = add_person(
        &t,
        &f,
        Role::Parent,
        "Fatou",
        "Alpha",
        None,
        Some(f.id("pupil_a")),
    )
    .await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let class_a = f.class_a.to_string();
    let title = "Autorisation de sortie";
    let r = post_multipart(
        &teacher,
        "/carnet",
        &[
            ("titre", title),
            ("texte", "Merci de signer avant jeudi."),
            ("classe", &class_a),
        ],
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let note = id_after(&r.location, "/carnet/");

    let parent = t.signed_in(f.login("parent_a")).await;
    let second = t.signed_in(&second_login).await;
    for c in [&parent, &second] {
        let home = page(c, "/").await;
        assert!(home.contains("<strong>1</strong> mot à signer"), "{home}");
        let list = page(c, "/carnet").await;
        let to_sign = list.split("<h2>À signer</h2>").nth(1).expect("to sign");
        assert!(to_sign.contains(title), "{list}");
        assert!(!to_sign.contains("rappel"));
    }
    let opened = page(&parent, &format!("/carnet/{note}")).await;
    assert!(opened.contains(&format!("action=\"/carnet/{note}/signer\"")));
    assert!(opened.contains("Concerne : Léa"), "{opened}");

    // parent_a signs; signing twice changes nothing.
    let r = post(&parent, &format!("/carnet/{note}/signer"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, format!("/carnet/{note}"));
    let signed = page(&parent, &format!("/carnet/{note}")).await;
    assert!(signed.contains("Vous avez signé ce mot le"), "{signed}");
    assert!(!signed.contains("/signer\""));
    t.clock.advance(3600);
    let r = post(&parent, &format!("/carnet/{note}/signer"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(page(&parent, &format!("/carnet/{note}")).await, signed);
    let log = t.app.store.audit_log(f.school_a, 100).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "note.signed").count(), 1);
    assert!(page(&parent, "/")
        .await
        .contains("Carnet de liaison : rien à signer"));

    // The teacher sees who signed and who has not.
    let status = page(&teacher, &format!("/carnet/{note}")).await;
    assert!(status.contains("Signatures : 1 sur 2"), "{status}");
    assert!(
        status.contains("Sophie Alpha : <span class=\"signed\">signé le 01/09/2026</span>"),
        "{status}"
    );
    assert!(
        status.contains("Fatou Alpha : <strong>pas encore signé</strong>"),
        "{status}"
    );
    let sent = page(&teacher, "/carnet").await;
    assert!(sent.contains("<td>1 / 2</td>"), "{sent}");

    // Reminding: the note comes back as a reminder for those who have not signed.
    assert!(status.contains(&format!("action=\"/carnet/{note}/relancer\"")));
    let r = post(&teacher, &format!("/carnet/{note}/relancer"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(page(&teacher, &format!("/carnet/{note}"))
        .await
        .contains("rappel du"));
    let home = page(&second, "/").await;
    assert!(home.contains("<span class=\"tag rappel\">rappel</span> Autorisation de sortie"));
    let list = page(&second, "/carnet").await;
    assert!(list.contains("<span class=\"tag rappel\">rappel</span> Autorisation de sortie"));
    let list = page(&parent, "/carnet").await;
    assert!(!list.contains("À signer</h2>"), "{list}");
    assert!(
        !list.contains("<span class=\"tag rappel\">rappel</span>"),
        "{list}"
    );
    let r = post(&second, &format!("/carnet/{note}/signer"), &[]).await;
    assert_eq!(r.status, 303);
    assert!(page(&teacher, &format!("/carnet/{note}"))
        .await
        .contains("Signatures : 2 sur 2"));

    // The pupil reads it, without a sign button.
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let theirs = page(&pupil, &format!("/carnet/{note}")).await;
    assert!(theirs.contains(title) && theirs.contains("Merci de signer avant jeudi."));
    assert!(!theirs.contains("/signer\""), "{theirs}");
    assert!(!theirs.contains("Signatures :"));
    assert!(page(&pupil, "/carnet").await.contains(title));
    assert_eq!(
        post(&pupil, &format!("/carnet/{note}/signer"), &[])
            .await
            .status,
        403,
        "the pupil may read the note, not sign it"
    );

    // Families of another class do not see it.
    let other = t.signed_in(f.login("parent_b")).await;
    assert_eq!(status_of(&other, &format!("/carnet/{note}")).await, 404);
    assert!(page(&other, "/")
        .await
        .contains("Carnet de liaison : rien à signer"));

    // A teacher of another class cannot write to class A's families.
    let teacher_b = t.signed_in(f.login("teacher_b")).await;
    let r = post_multipart(
        &teacher_b,
        "/carnet",
        &[
            ("titre", "Mot de B"),
            ("texte", "Bonjour."),
            ("classe", &class_a),
        ],
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = post_multipart(
        &teacher_b,
        "/carnet",
        &[
            ("titre", "Mot de B"),
            ("texte", "Bonjour."),
            ("eleve", &f.id("pupil_a").to_string()),
        ],
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(!page(&second, "/carnet").await.contains("Mot de B"));
    assert_eq!(
        status_of(&teacher_b, &format!("/carnet/{note}")).await,
        404,
        "nor read its status"
    );
}
