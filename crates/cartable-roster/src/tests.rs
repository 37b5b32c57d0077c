//! Reading real-looking files, and whole imports of the fixture files.

use cartable_domain::roster::{
    ChildRef, LineOutcome, RosterKind, RosterOp, RosterRecord, RosterSnapshot,
};
use cartable_domain::Role;

use crate::testkit::apply;
use crate::{plan, read_roster, ParsedLine, ParsedRoster, RosterFileError, MAX_LINES};

fn read(bytes: &[u8]) -> ParsedRoster {
    read_roster(bytes, None).unwrap_or_else(|e| panic!("{e}"))
}

fn error(bytes: &[u8], kind: Option<RosterKind>) -> RosterFileError {
    read_roster(bytes, kind).expect_err("the file should be refused")
}

fn record(line: &ParsedLine) -> &RosterRecord {
    line.record
        .as_ref()
        .unwrap_or_else(|e| panic!("line {}: {e}", line.line))
}

fn reason(line: &ParsedLine) -> &str {
    line.record
        .as_ref()
        .expect_err("the line should be rejected")
}

fn pupil_summary(line: &ParsedLine) -> (String, String, String) {
    let RosterRecord::Pupil { person, class, .. } = record(line) else {
        panic!("not a pupil");
    };
    (
        person.last_name.to_string(),
        person.first_name.to_string(),
        class.as_ref().map(|c| c.to_string()).unwrap_or_default(),
    )
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

// ---- encodings and separators ----

#[test]
fn semicolon_comma_and_tab_read_alike() {
    let files: [&[u8]; 3] = [
        "Nom;Prénom;Classe\nMartin;Zoé;3e B\n".as_bytes(),
        "Nom,Prénom,Classe\nMartin,Zoé,3e B\n".as_bytes(),
        "Nom\tPrénom\tClasse\nMartin\tZoé\t3e B\n".as_bytes(),
    ];
    for bytes in files {
        let parsed = read(bytes);
        assert_eq!(parsed.kind, RosterKind::Pupils);
        assert_eq!(parsed.lines.len(), 1);
        assert_eq!(
            pupil_summary(&parsed.lines[0]),
            ("Martin".into(), "Zoé".into(), "3e B".into())
        );
        assert_eq!(parsed.lines[0].who, "Martin Zoé");
    }
}

#[test]
fn utf8_bom_is_ignored() {
    let mut bytes = b"\xef\xbb\xbf".to_vec();
    bytes.extend_from_slice("Nom;Prénom;Classe\r\nMartin;Zoé;3e B\r\n".as_bytes());
    let parsed = read(&bytes);
    assert_eq!(pupil_summary(&parsed.lines[0]).1, "Zoé");
}

#[test]
fn windows_1252_accents_are_read() {
    let parsed =
        read(b"Nom;Pr\xe9nom;Classe\r\nL\xe9vy;L\xe9a;6e A\r\nFran\xe7ois;Ma\xebl;6e B\r\n");
    assert_eq!(
        pupil_summary(&parsed.lines[0]),
        ("Lévy".into(), "Léa".into(), "6e A".into())
    );
    assert_eq!(pupil_summary(&parsed.lines[1]).0, "François");
    assert_eq!(parsed.lines[1].who, "François Maël");
}

#[test]
fn quoted_cells_spaces_and_ragged_rows() {
    let bytes = "Nom,Prénom,Classe,Adresse,,\n\"Martin, dit Bob\" ,  Zoé  ,3e B,\"1, rue A\",,\nDurand,Léo,3e A\nPetit,Noé,3e A,x,y,z,w\n";
    let parsed = read(bytes.as_bytes());
    assert_eq!(
        pupil_summary(&parsed.lines[0]),
        ("Martin, dit Bob".into(), "Zoé".into(), "3e B".into())
    );
    assert_eq!(pupil_summary(&parsed.lines[1]).1, "Léo");
    assert_eq!(pupil_summary(&parsed.lines[2]).1, "Noé");
}

#[test]
fn blank_lines_are_skipped_and_line_numbers_kept() {
    let parsed = read(
        "Nom;Prénom;Classe\r\n\r\nMartin;Zoé;3e B\r\n;;\r\n   \r\nDurand;Léo;3e A\r\n".as_bytes(),
    );
    let lines: Vec<usize> = parsed.lines.iter().map(|l| l.line).collect();
    assert_eq!(lines, vec![3, 6]);
}

// ---- whole-file problems ----

#[test]
fn binary_garbage_is_not_text() {
    let zip = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xeb\x7f\xd2\x1a";
    assert_eq!(error(zip, None).code(), "roster.not_text");
    let noise: Vec<u8> = (0..4000u32).map(|i| (i * 7919 % 251) as u8 + 1).collect();
    assert_eq!(error(&noise, None).code(), "roster.not_text");
}

#[test]
fn empty_file_and_no_header() {
    assert_eq!(error(b"", None).code(), "roster.empty");
    assert_eq!(error(b"\r\n\r\n", None).code(), "roster.empty");
    let e = error("Martin;Zoé;3e B\nDurand;Léo;3e A\n".as_bytes(), None);
    assert_eq!(e.code(), "roster.no_header");
    assert_eq!(
        e.to_string(),
        "la première ligne doit donner les noms des colonnes (Nom ; Prénom ; Classe…) : \
         aucune colonne reconnue dans « Martin ; Zoé ; 3e B »"
    );
}

#[test]
fn header_only_gives_no_lines_and_an_empty_plan() {
    let parsed = read("Nom;Prénom;Classe\r\n".as_bytes());
    assert!(parsed.lines.is_empty());
    let plan = plan(&parsed, &RosterSnapshot::default());
    assert!(plan.lines.is_empty());
    assert!(plan.is_noop());
}

#[test]
fn too_many_lines() {
    let mut text = String::from("Nom;Prénom;Classe\n");
    for i in 0..=MAX_LINES {
        text.push_str(&format!("Nom{i};Prénom;6e A\n"));
    }
    let e = error(text.as_bytes(), None);
    assert_eq!(e.code(), "roster.too_many_lines");
    assert_eq!(
        e.to_string(),
        "le fichier compte plus de 20000 lignes : découpez-le en plusieurs fichiers"
    );
    // Exactly MAX_LINES is fine.
    let at_limit: String = text
        .lines()
        .take(MAX_LINES + 1)
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(read(at_limit.as_bytes()).lines.len(), MAX_LINES);
}

#[test]
fn kind_is_guessed_from_the_columns() {
    let kind = |header: &str| read_roster(format!("{header}\n").as_bytes(), None).map(|p| p.kind);
    assert_eq!(kind("Nom;Prénom;Classe"), Ok(RosterKind::Pupils));
    assert_eq!(kind("Nom;Prénom;Né(e) le;Division"), Ok(RosterKind::Pupils));
    // A birth date says "pupils", and pupils need a class.
    let e = kind("Nom;Prénom;Né(e) le").unwrap_err();
    assert_eq!(
        e.to_string(),
        "colonne manquante pour un fichier « Élèves » : Classe"
    );
    assert_eq!(
        kind("Nom;Prénom;Discipline;Classe"),
        Ok(RosterKind::Teachers)
    );
    assert_eq!(
        kind("Nom;Prénom;Matière enseignée"),
        Ok(RosterKind::Teachers)
    );
    assert_eq!(kind("Nom;Prénom;Childexternalid"), Ok(RosterKind::Parents));
    assert_eq!(
        kind("Nom responsable;Prénom responsable;Nom enfant;Prénom enfant;Classe enfant"),
        Ok(RosterKind::Parents)
    );
    assert_eq!(kind("Nom;Prénom;Fonction"), Ok(RosterKind::Staff));
    let unknown = kind("Nom;Prénom;Téléphone").unwrap_err();
    assert_eq!(unknown.code(), "roster.kind_unknown");
    assert!(unknown.to_string().contains("choisissez"));
}

#[test]
fn a_chosen_kind_is_trusted_but_needs_its_columns() {
    let bytes = "Nom;Prénom;Téléphone\nMartin;Zoé;06\n".as_bytes();
    let parsed = read_roster(bytes, Some(RosterKind::Staff)).unwrap();
    assert_eq!(parsed.kind, RosterKind::Staff);
    let e = error(bytes, Some(RosterKind::Pupils));
    assert_eq!(e.code(), "roster.missing_column");
    assert_eq!(
        e.to_string(),
        "colonne manquante pour un fichier « Élèves » : Classe"
    );
    let e = error("Nom;Classe\nMartin;3e B\n".as_bytes(), None);
    assert_eq!(
        e.to_string(),
        "colonne manquante pour un fichier « Élèves » : Prénom"
    );
    let e = error(
        "Classe;Né le\n3e B;01/01/2012\n".as_bytes(),
        Some(RosterKind::Teachers),
    );
    assert_eq!(
        e.to_string(),
        "colonnes manquantes pour un fichier « Enseignants » : Nom, Prénom"
    );
}

// ---- lines ----

#[test]
fn bad_lines_say_why_in_french() {
    let bytes = "Nom;Prénom;Date de naissance;Classe;Email\n\
        Martin;Zoé;31/02/2012;3e B;\n\
        Martin;;01/02/2012;3e B;\n\
        Durand;Léo;01/02/2012;;\n\
        Petit;Noé;01/02/2012;3e A;noe.petit(at)exemple.fr\n\
        ;;xx;;\n\
        Roux;Léna;01/02/2012;3e A;lena@exemple.fr\n";
    let parsed = read(bytes.as_bytes());
    let reasons: Vec<&str> = parsed.lines[..5].iter().map(reason).collect();
    assert_eq!(
        reasons[0],
        "date de naissance : date invalide « 31/02/2012 » (attendu jj/mm/aaaa)"
    );
    assert_eq!(reasons[1], "prénom manquant");
    assert_eq!(reasons[2], "classe manquante");
    assert_eq!(reasons[3], "courriel invalide « noe.petit(at)exemple.fr »");
    assert_eq!(
        reasons[4],
        "nom manquant ; prénom manquant ; date de naissance : date invalide « xx » (attendu jj/mm/aaaa) ; classe manquante"
    );
    assert_eq!(parsed.lines[1].who, "Martin");
    assert_eq!(parsed.lines[4].who, "");
    assert!(parsed.lines[5].record.is_ok());
}

#[test]
fn too_long_names_and_classes_are_rejected() {
    let long = "x".repeat(81);
    let bytes = format!(
        "Nom;Prénom;Classe\n{long};Zoé;3e B\nMartin;Zoé;{}\n",
        "c".repeat(41)
    );
    let parsed = read(bytes.as_bytes());
    assert_eq!(
        reason(&parsed.lines[0]),
        "nom : le nom est trop long (81 caractères, 80 au plus)"
    );
    assert_eq!(
        reason(&parsed.lines[1]),
        "classe : le nom de classe est trop long (41 caractères, 40 au plus)"
    );
}

#[test]
fn siecle_like_pupil_header() {
    let bytes = "Nom de famille;Nom d'usage;Prénom;Né(e) le;Libellé classe;Regroupement(s);INE;Sexe;Niveau\n\
        MARTIN;;Zoé;03/09/2012;3E B;Latin, Grec|Théâtre;1234567890A;F;3EME\n";
    let parsed = read(bytes.as_bytes());
    let RosterRecord::Pupil {
        person,
        class,
        groups,
        guardians,
    } = record(&parsed.lines[0])
    else {
        panic!()
    };
    assert_eq!(person.last_name.as_str(), "MARTIN");
    assert_eq!(person.birth_date.unwrap().iso(), "2012-09-03");
    assert_eq!(person.external_id.as_ref().unwrap().as_str(), "1234567890A");
    assert_eq!(class.as_ref().unwrap().as_str(), "3E B");
    let groups: Vec<&str> = groups.iter().map(|g| g.as_str()).collect();
    assert_eq!(groups, ["Latin", "Grec", "Théâtre"]);
    assert!(guardians.is_empty());
}

#[test]
fn external_id_wins_over_ine() {
    let bytes =
        "Identifiant;INE;Nom élève;Prénom élève;Division\nE42;1234567890A;Martin;Zoé;3e B\n";
    let parsed = read(bytes.as_bytes());
    assert_eq!(
        record(&parsed.lines[0])
            .person()
            .external_id
            .as_ref()
            .unwrap()
            .as_str(),
        "E42"
    );
}

#[test]
fn guardians_on_pupil_rows() {
    let bytes = "Nom;Prénom;Classe;R1 nom;R1 prénom;R1 courriel;R2 nom;R2 prénom;R2 email\n\
        Martin;Zoé;3e B;Martin;Sophie;sophie@exemple.fr;Martin;Paul;\n\
        Durand;Léo;3e A;Durand;;;;;\n\
        Petit;Noé;3e A;Petit;Anne;anne.petit;;;\n";
    let parsed = read(bytes.as_bytes());
    let RosterRecord::Pupil { guardians, .. } = record(&parsed.lines[0]) else {
        panic!()
    };
    assert_eq!(guardians.len(), 2);
    assert_eq!(guardians[0].email.as_deref(), Some("sophie@exemple.fr"));
    assert_eq!(guardians[1].first_name.as_str(), "Paul");
    assert_eq!(reason(&parsed.lines[1]), "responsable 1 : prénom manquant");
    assert_eq!(
        reason(&parsed.lines[2]),
        "responsable 1 : courriel invalide « anne.petit »"
    );
}

#[test]
fn teacher_rows_collect_classes_and_head_teacher() {
    let bytes = "Nom;Prénom;Matière enseignée;Classe;Classe;Classe;Professeur principal\n\
        Bernard;Hélène;Mathématiques;6e A;5e A, 5e B;;oui\n\
        Leroy;Paul;Français;6e A;;;5e C\n\
        Roux;Anaïs;Anglais;6e A;;;non\n";
    let parsed = read(bytes.as_bytes());
    let classes = |l: &ParsedLine| match record(l) {
        RosterRecord::Teacher {
            classes,
            head_of,
            subject,
            ..
        } => (
            classes.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
            head_of.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
            subject.as_ref().map(|s| s.to_string()),
        ),
        _ => panic!(),
    };
    let (c, h, s) = classes(&parsed.lines[0]);
    assert_eq!(c, ["6e A", "5e A", "5e B"]);
    assert_eq!(h, c);
    assert_eq!(s.as_deref(), Some("Mathématiques"));
    let (c, h, _) = classes(&parsed.lines[1]);
    assert_eq!(c, ["6e A", "5e C"]);
    assert_eq!(h, ["5e C"]);
    assert!(classes(&parsed.lines[2]).1.is_empty());
}

#[test]
fn parent_rows_point_at_children_by_id_or_name() {
    let bytes = "Nom,Prénom,Courriel,Childexternalid,Childexternalid,Nom enfant,Prénom enfant,Classe enfant\n\
        Martin,Sophie,sophie@exemple.fr,E1,E2,,,\n\
        Durand,Paul,,,,Durand,Léo,3e A\n\
        Petit,Anne,,,,Petit,,\n";
    let parsed = read(bytes.as_bytes());
    assert_eq!(parsed.kind, RosterKind::Parents);
    let RosterRecord::Parent { children, .. } = record(&parsed.lines[0]) else {
        panic!()
    };
    let ids: Vec<String> = children
        .iter()
        .map(|c| match c {
            ChildRef::ExternalId(id) => id.to_string(),
            _ => panic!(),
        })
        .collect();
    assert_eq!(ids, ["E1", "E2"]);
    let RosterRecord::Parent { children, .. } = record(&parsed.lines[1]) else {
        panic!()
    };
    assert!(matches!(&children[0], ChildRef::Name { class: Some(c), .. } if c.as_str() == "3e A"));
    assert_eq!(reason(&parsed.lines[2]), "prénom de l'enfant manquant");
}

#[test]
fn staff_rows() {
    let parsed = read("Nom;Prénom;Fonction\nPerrin;Sandrine;CPE\nMorel;Karim;\n".as_bytes());
    assert_eq!(parsed.kind, RosterKind::Staff);
    let RosterRecord::Staff { function, .. } = record(&parsed.lines[0]) else {
        panic!()
    };
    assert_eq!(function.as_ref().unwrap().as_str(), "CPE");
    assert!(matches!(
        record(&parsed.lines[1]),
        RosterRecord::Staff { function: None, .. }
    ));
}

// ---- fixtures ----

fn outcomes(plan: &cartable_domain::roster::RosterPlan) -> Vec<(usize, LineOutcome)> {
    plan.lines
        .iter()
        .map(|l| (l.line, l.outcome.clone()))
        .collect()
}

#[test]
fn fixture_eleves() {
    let parsed = read(&fixture("eleves.csv"));
    assert_eq!(parsed.kind, RosterKind::Pupils);
    assert_eq!(parsed.lines.len(), 12);
    assert_eq!(parsed.lines[2].who, "LEFÈVRE Chloé");
    assert_eq!(parsed.lines[4].line, 7, "the blank line 6 is counted");
    assert_eq!(
        reason(&parsed.lines[6]),
        "date de naissance : date invalide « 31/02/2013 » (attendu jj/mm/aaaa)"
    );
    assert_eq!(parsed.lines[7].who, "DA SILVA Mathéo");

    let plan = plan(&parsed, &RosterSnapshot::default());
    let out = outcomes(&plan);
    assert_eq!(out[0], (2, LineOutcome::Create));
    assert_eq!(out[5], (8, LineOutcome::Duplicate { first_line: 7 }));
    assert!(matches!(out[6], (9, LineOutcome::Rejected(_))));
    assert_eq!(plan.count(|o| *o == LineOutcome::Create), 10);
    let classes: Vec<String> = plan
        .ops
        .iter()
        .filter_map(|op| match op {
            RosterOp::CreateClass { name } => Some(name.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(classes, ["6e A", "5e A", "6e B"]);
    let parents = plan
        .ops
        .iter()
        .filter(|op| {
            matches!(
                op,
                RosterOp::CreatePerson {
                    role: Role::Parent,
                    ..
                }
            )
        })
        .count();
    // Sophie and Marc Durand once each for the two siblings; Rosa Garcia's
    // line is rejected, so she is not created.
    assert_eq!(parents, 12);
}

#[test]
fn fixture_enseignants_is_windows_1252() {
    let parsed = read(&fixture("enseignants.csv"));
    assert_eq!(parsed.kind, RosterKind::Teachers);
    assert_eq!(parsed.lines.len(), 11);
    assert_eq!(parsed.lines[0].who, "BERNARD Hélène");
    assert_eq!(parsed.lines[5].who, "FRANÇOIS Jérôme");
}

#[test]
fn fixture_responsables_uses_commas() {
    let parsed = read(&fixture("responsables.csv"));
    assert_eq!(parsed.kind, RosterKind::Parents);
    assert_eq!(parsed.lines.len(), 13);
    let RosterRecord::Parent { children, .. } = record(&parsed.lines[0]) else {
        panic!()
    };
    assert_eq!(children.len(), 2);
}

#[test]
fn fixture_personnels_is_tab_separated_with_bom() {
    let parsed = read(&fixture("personnels.csv"));
    assert_eq!(parsed.kind, RosterKind::Staff);
    assert_eq!(parsed.lines.len(), 11);
    assert_eq!(parsed.lines[0].who, "GAUTHIER Isabelle");
    assert_eq!(parsed.lines[7].line, 10);
    assert_eq!(reason(&parsed.lines[7]), "prénom manquant");
}

/// The four fixtures imported one after the other into an empty school,
/// then each planned again: nothing left to do.
#[test]
fn fixtures_import_in_sequence_and_reimport_as_noop() {
    let files = [
        "eleves.csv",
        "enseignants.csv",
        "responsables.csv",
        "personnels.csv",
    ];
    let mut school = RosterSnapshot::default();
    let mut plans = Vec::new();
    for name in files {
        let parsed = read(&fixture(name));
        let plan = plan(&parsed, &school);
        school = apply(&school, &plan.ops);
        plans.push(plan);
    }

    let teachers = &plans[1];
    assert_eq!(
        teachers.lines[7].outcome,
        LineOutcome::Rejected("classe inconnue « 3e Z » : importez d'abord les élèves".into())
    );
    assert_eq!(
        teachers.lines[6].outcome,
        LineOutcome::Duplicate { first_line: 6 }
    );

    let parents = &plans[2];
    let by_line = |line: usize| {
        parents
            .lines
            .iter()
            .find(|l| l.line == line)
            .unwrap()
            .outcome
            .clone()
    };
    // Sophie Durand came with her children's rows: nothing new.
    assert_eq!(by_line(2), LineOutcome::Unchanged);
    assert_eq!(
        by_line(3),
        LineOutcome::Update(vec!["courriel : marc.durand@exemple.fr (ajouté)".into()])
    );
    assert_eq!(by_line(4), LineOutcome::Duplicate { first_line: 3 });
    assert_eq!(by_line(8), LineOutcome::Duplicate { first_line: 7 });
    assert_eq!(by_line(13), LineOutcome::Create);
    assert_eq!(
        by_line(14),
        LineOutcome::Rejected(
            "enfant introuvable : aucun élève n'a l'identifiant « 0709999999Z »".into()
        )
    );

    for name in files {
        let parsed = read(&fixture(name));
        let again = plan(&parsed, &school);
        assert!(again.ops.is_empty(), "{name}: {:?}", again.ops);
        for l in &again.lines {
            assert!(
                matches!(
                    l.outcome,
                    LineOutcome::Unchanged
                        | LineOutcome::Duplicate { .. }
                        | LineOutcome::Rejected(_)
                ),
                "{name} line {}: {:?}",
                l.line,
                l.outcome
            );
        }
    }
}
