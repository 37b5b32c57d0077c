//! Documents: a class's shared folders and each person's own space, with a quota.

use cartable_app::AppConfig;
use cartable_testkit::reqwest::multipart::{Form, Part};
use cartable_testkit::*;

fn pdf(len: usize, seed: u8) -> Vec<u8> {
    let mut b = b"%PDF-1.4\n".to_vec();
    b.extend((0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    b
}

async fn upload(c: &TestClient, folder: &str, name: &str, bytes: Vec<u8>) -> (u16, String) {
    let form = Form::new()
        .text("csrf", c.csrf().await)
        .part("fichier", Part::bytes(bytes).file_name(name.to_string()));
    let r = c
        .http
        .post(format!("{}/documents/dossiers/{folder}/fichiers", c.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Follows the redirect of a space to its top folder's id.
async fn folder_of(c: &TestClient, path: &str) -> String {
    let r = c.get(path).await;
    assert_eq!(r.status(), 303, "{path}");
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    loc.trim_start_matches("/documents/dossiers/").to_string()
}

fn first_file_link(page: &str) -> Option<String> {
    let start = page.find("href=\"/pieces-jointes/")? + "href=\"".len();
    let end = page[start..].find('"')? + start;
    Some(page[start..end].to_string())
}

#[tokio::test]
async fn a_class_shares_documents_its_teachers_add() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let folder = folder_of(&teacher, &format!("/documents/classes/{}", f.class_a)).await;
    let bytes = pdf(20_000, 7);
    let (status, _) = upload(&teacher, &folder, "Fiche de révision.pdf", bytes.clone()).await;
    assert_eq!(status, 303);

    for who in ["pupil_a", "parent_a", "teacher_b", "staff"] {
        let c = t.signed_in(f.login(who)).await;
        let (status, page) = c.get_text(&format!("/documents/dossiers/{folder}")).await;
        assert_eq!(status, 200, "{who}");
        assert!(page.contains("Fiche de révision.pdf"), "{who}");
        let link = first_file_link(&page).unwrap();
        let r = c.get(&link).await;
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(
            r.bytes().await.unwrap().to_vec(),
            bytes,
            "{who} downloads the same bytes"
        );
    }
    // Not their class, not their school.
    for who in ["pupil_b", "parent_b", "other_admin"] {
        let c = t.signed_in(f.login(who)).await;
        assert_eq!(
            c.get(&format!("/documents/dossiers/{folder}"))
                .await
                .status(),
            404,
            "{who}"
        );
    }
    // Readers do not write.
    for who in ["pupil_a", "teacher_b", "parent_a"] {
        let c = t.signed_in(f.login(who)).await;
        let (status, _) = upload(&c, &folder, "x.pdf", pdf(10, 1)).await;
        assert_eq!(status, 403, "{who}");
        let r = c
            .post_form(
                &format!("/documents/dossiers/{folder}/dossiers"),
                &[("nom", "Pirate")],
            )
            .await;
        assert_eq!(r.status(), 403, "{who}");
    }
    // Subfolders and deletion by the class's teacher.
    let r = teacher
        .post_form(
            &format!("/documents/dossiers/{folder}/dossiers"),
            &[("nom", "Chapitre 1")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, page) = teacher
        .get_text(&format!("/documents/dossiers/{folder}"))
        .await;
    assert!(page.contains("Chapitre 1"));
    let bad = teacher
        .post_form(
            &format!("/documents/dossiers/{folder}/dossiers"),
            &[("nom", "a/b")],
        )
        .await;
    assert_eq!(bad.status(), 400);
    let file_id = first_file_link(&page)
        .unwrap()
        .trim_start_matches("/pieces-jointes/")
        .to_string();
    let r = teacher
        .post_form(
            &format!("/documents/dossiers/{folder}/fichiers/{file_id}/supprimer"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let (_, page) = pupil
        .get_text(&format!("/documents/dossiers/{folder}"))
        .await;
    assert!(!page.contains("Fiche de révision.pdf"));
    assert_eq!(
        pupil
            .get(&format!("/pieces-jointes/{file_id}"))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn a_personal_space_is_private_and_has_a_quota() {
    let t = spawn_app_with(TestOptions {
        app: AppConfig {
            personal_quota_bytes: 150_000,
            ..AppConfig::default()
        },
        ..TestOptions::default()
    })
    .await;
    let f = seed_fixture(&t).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let folder = folder_of(&pupil, "/documents/personnel").await;
    assert_eq!(
        upload(&pupil, &folder, "brouillon.pdf", pdf(100_000, 3))
            .await
            .0,
        303
    );
    let (status, page) = upload(&pupil, &folder, "trop.pdf", pdf(100_000, 4)).await;
    assert_eq!(status, 400, "over the quota");
    assert!(page.contains("espace personnel est plein"), "{page}");
    let (_, page) = pupil
        .get_text(&format!("/documents/dossiers/{folder}"))
        .await;
    assert!(page.contains("brouillon.pdf") && !page.contains("trop.pdf"));
    assert!(page.contains("utilisés sur"));
    // Nobody else opens it, not even the school's admin.
    for who in ["parent_a", "teacher_a", "admin", "pupil_b"] {
        let c = t.signed_in(f.login(who)).await;
        assert_eq!(
            c.get(&format!("/documents/dossiers/{folder}"))
                .await
                .status(),
            404,
            "{who}"
        );
        let link = first_file_link(&page).unwrap();
        assert_eq!(c.get(&link).await.status(), 404, "{who} downloading");
    }
}
