//! Roster import through the browser forms: preview, apply, idempotence,
//! rejected lines, bad files, and who may import.

use cartable_domain::Role;
use cartable_testkit::reqwest::multipart::{Form, Part};
use cartable_testkit::*;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../cartable-roster/tests/fixtures"
);

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).expect("fixture file")
}

/// Uploads a file to the preview step, CSRF token first as the page does.
async fn upload(c: &TestClient, kind: &str, name: &str, bytes: Vec<u8>) -> (u16, String) {
    let token = c.csrf().await;
    let form = Form::new()
        .text("csrf", token)
        .text("kind", kind.to_string())
        .part("file", Part::bytes(bytes).file_name(name.to_string()));
    let r = c
        .http
        .post(format!("{}/admin/import", c.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn draft_id(preview: &str) -> String {
    let start = preview.find("/admin/import/").expect("an apply form") + "/admin/import/".len();
    preview[start..].split('/').next().unwrap().to_string()
}

async fn apply(c: &TestClient, preview: &str) -> (u16, String) {
    let r = c
        .post_form(
            &format!("/admin/import/{}/appliquer", draft_id(preview)),
            &[],
        )
        .await;
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn pupils(t: &TestApp, f: &Fixture) -> usize {
    t.app
        .store
        .people(f.school_a, Some(Role::Pupil))
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn preview_writes_nothing_then_apply_writes_once() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let admin = t.signed_in(f.login("admin")).await;
    let before = pupils(&t, &f).await;

    let (status, preview) = upload(&admin, "eleves", "eleves.csv", fixture("eleves.csv")).await;
    assert_eq!(status, 200, "{preview}");
    assert!(preview.contains("Aperçu de l'import"));
    assert!(preview.contains("Création"));
    assert!(
        preview.contains("Rejetée"),
        "the fixture's bad date is reported"
    );
    assert!(
        preview.contains("31/02/2013"),
        "and the reason names the value"
    );
    assert_eq!(pupils(&t, &f).await, before, "a preview writes nothing");

    let (status, done) = apply(&admin, &preview).await;
    assert_eq!(status, 200, "{done}");
    assert!(done.contains("Import terminé"));
    let after = pupils(&t, &f).await;
    assert!(after > before + 5, "pupils created: {before} -> {after}");

    // The same draft cannot be applied twice.
    let (status, again) = apply(&admin, &preview).await;
    assert_eq!(status, 400);
    assert!(again.contains("existe plus"), "{again}");

    // The same file again: nothing to do.
    let (status, second) = upload(&admin, "eleves", "eleves.csv", fixture("eleves.csv")).await;
    assert_eq!(status, 200);
    assert!(second.contains("ne change rien"), "{second}");
    assert!(!second.contains("/appliquer"));
    assert_eq!(pupils(&t, &f).await, after);

    // Parents and teachers after pupils; then everything again is a no-op.
    for (kind, file) in [
        ("responsables", "responsables.csv"),
        ("enseignants", "enseignants.csv"),
        ("personnels", "personnels.csv"),
    ] {
        let (status, preview) = upload(&admin, kind, file, fixture(file)).await;
        assert_eq!(status, 200, "{kind}: {preview}");
        let (status, _) = apply(&admin, &preview).await;
        assert_eq!(status, 200, "{kind}");
    }
    for (kind, file) in [
        ("eleves", "eleves.csv"),
        ("responsables", "responsables.csv"),
        ("enseignants", "enseignants.csv"),
        ("personnels", "personnels.csv"),
    ] {
        let (_, preview) = upload(&admin, kind, file, fixture(file)).await;
        assert!(
            preview.contains("ne change rien"),
            "re-import of {kind} is a no-op: {preview}"
        );
    }
    // The teacher file names a class that does not exist: that line is rejected, with the reason.
    let (_, preview) = upload(
        &admin,
        "enseignants",
        "enseignants.csv",
        fixture("enseignants.csv"),
    )
    .await;
    assert!(preview.contains("3e Z"), "{preview}");
}

#[tokio::test]
async fn a_teachers_file_gives_teachers_their_groups() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let admin = t.signed_in(f.login("admin")).await;
    // The pupils' file makes the groups…
    let pupils_file = "Nom;Prénom;Date de naissance;Classe;Regroupements\n\
        Alpha;Léa;01/02/2013;6e A;Latin\n\
        Bravo;Hugo;01/02/2013;6e B;Latin|Espagnol LV2\n";
    let (_, preview) = upload(&admin, "", "eleves.csv", pupils_file.as_bytes().to_vec()).await;
    let (status, _) = apply(&admin, &preview).await;
    assert_eq!(status, 200);
    // …the teachers' file names one in a "Classe ou regroupement" column,
    // another in its own column.
    let teachers_file =
        "Nom;Prénom;Discipline;Classe ou regroupement;Classe ou regroupement;Groupes\n\
        Tango;Camille;Mathématiques;6e A;latin;\n\
        Uniform;Paul;Espagnol;6e B;;Espagnol LV2\n";
    let (status, preview) =
        upload(&admin, "", "profs.csv", teachers_file.as_bytes().to_vec()).await;
    assert_eq!(status, 200, "{preview}");
    assert!(
        preview.contains("nouveau groupe enseigné : Latin"),
        "{preview}"
    );
    assert!(
        preview.contains("nouveau groupe enseigné : Espagnol LV2"),
        "{preview}"
    );
    assert!(!preview.contains("inconnue"), "{preview}");
    let (status, _) = apply(&admin, &preview).await;
    assert_eq!(status, 200);
    // Importing the same file again changes nothing.
    let (_, again) = upload(&admin, "", "profs.csv", teachers_file.as_bytes().to_vec()).await;
    assert!(!again.contains("nouveau groupe enseigné"), "{again}");

    let teacher = t.signed_in(f.login("teacher_a")).await;
    let (_, cahier) = teacher.get_text("/cahier").await;
    assert!(
        cahier.contains("Mes groupes") && cahier.contains(">Latin</a>"),
        "{cahier}"
    );
    assert!(
        !cahier.contains("Espagnol LV2</a> <small"),
        "not Paul's group"
    );
    let actor = t.app.store.actor(f.id("teacher_b")).await.unwrap().unwrap();
    assert_eq!(actor.groups.len(), 1, "Paul teaches Espagnol LV2");
}

#[tokio::test]
async fn moved_pupil_is_moved_not_duplicated() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let admin = t.signed_in(f.login("admin")).await;
    let first = "Nom;Prénom;Date de naissance;Classe\nNeuf;Élise;01/02/2013;6e A\n";
    let (_, preview) = upload(&admin, "", "a.csv", first.as_bytes().to_vec()).await;
    apply(&admin, &preview).await;
    let count = pupils(&t, &f).await;
    let moved = "Nom;Prénom;Date de naissance;Classe\nNeuf;Élise;01/02/2013;6e B\n";
    let (_, preview) = upload(&admin, "", "b.csv", moved.as_bytes().to_vec()).await;
    assert!(preview.contains("Mise à jour"), "{preview}");
    assert!(preview.contains("6e B"));
    apply(&admin, &preview).await;
    assert_eq!(pupils(&t, &f).await, count, "no duplicate account");
    let class_b = t
        .app
        .store
        .class_pupils(f.school_a, f.class_b)
        .await
        .unwrap();
    assert!(class_b.iter().any(|p| p.first_name == "Élise"));
}

#[tokio::test]
async fn bad_files_get_a_french_message_and_write_nothing() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let admin = t.signed_in(f.login("admin")).await;
    let before = t.app.store.roster_snapshot(f.school_a).await.unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "binary",
            vec![0u8, 159, 146, 150, 0, 1, 2, 3, 255, 254, 0, 0],
        ),
        ("empty", Vec::new()),
        ("no header", b"foo;bar\n1;2\n".to_vec()),
        (
            "header only, undetectable",
            b"Nom;Pr\xc3\xa9nom\nA;B\n".to_vec(),
        ),
    ];
    for (what, bytes) in cases {
        let (status, page) = upload(&admin, "", "x.csv", bytes).await;
        assert_eq!(status, 400, "{what}: {page}");
        assert!(
            page.contains("class=\"error\""),
            "{what}: a French error is shown"
        );
        assert!(
            page.contains("Importer des comptes"),
            "{what}: the form is shown again"
        );
    }
    assert_eq!(
        t.app.store.roster_snapshot(f.school_a).await.unwrap(),
        before
    );
}

#[tokio::test]
async fn only_admins_of_the_school_import() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    for who in ["staff", "teacher_a", "pupil_a", "parent_a"] {
        let c = t.signed_in(f.login(who)).await;
        assert_eq!(c.get("/admin/import").await.status(), 403, "{who}");
        let (status, _) = upload(&c, "eleves", "eleves.csv", fixture("eleves.csv")).await;
        assert_eq!(status, 403, "{who}");
    }
    // A draft made in school A cannot be applied from school B.
    let admin = t.signed_in(f.login("admin")).await;
    let (_, preview) = upload(&admin, "eleves", "eleves.csv", fixture("eleves.csv")).await;
    let other = t.signed_in(f.login("other_admin")).await;
    let (status, page) = apply(&other, &preview).await;
    assert_eq!(status, 400, "{page}");
    assert!(
        t.app
            .store
            .roster_snapshot(f.school_b)
            .await
            .unwrap()
            .people
            .len()
            < 10
    );
}
