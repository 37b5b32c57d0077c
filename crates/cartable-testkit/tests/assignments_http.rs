//! Devoirs à rendre through the real server, as its users use them (issue 3):
//! a teacher asks for work by a deadline; a pupil hands in files and/or text
//! and gets a receipt (time, file names, sizes in octets, SHA-256); a retried
//! form returns the first receipt; the work can be replaced until the
//! deadline, after which a first hand-in is still accepted but marked late;
//! the teacher sees who handed in, who has not and who was late, downloads
//! one file or everything (a zip), and returns feedback with an optional mark
//! that the pupil and their parents see. Refused uploads (empty, too large,
//! wrong type, interrupted) get a French message and leave no file and no row.
//!
//! The access matrix follows `access_matrix.rs` and `lessons_http.rs`: the
//! expectations are data written out by hand from the rules, never computed by
//! calling the code under test, and every mismatch is reported at once.
//!
//! Outcomes:
//! - `A` allowed: 200 for pages and downloads, a 200 with a receipt
//!   (`X-Cartable-Receipt`) for a hand-in, a 303 to the assignment for a
//!   created assignment or returned feedback;
//! - `F` forbidden: 403 with `X-Cartable-Error: forbidden` (the person may
//!   know the assignment exists, but may not do this);
//! - `N` not found: 404 with `X-Cartable-Error: not_found` (an assignment of a
//!   class one may not read, a file that is not one's business, anything of
//!   another school: existence does not leak);
//! - `L` login: a 303 to `/connexion…` (anonymous browser).
//!
//! Rules the tables come from (issue 3, `cartable_domain::policy`,
//! `cartable_app::assignments`):
//! - seeing an assignment: the readers of its class's cahier (`ViewLessons`):
//!   the class's pupils and their parents, every teacher of the school, staff,
//!   the school admin;
//! - handing in: the pupils of the class, nobody else;
//! - seeing the class's hand-ins, returning feedback, the zip: the teachers of
//!   the class, staff, the school admin;
//! - creating an assignment: the teachers of the class (`WriteLessons`);
//! - a hand-in's file: the pupil, their parents, the teachers of the class,
//!   staff, the school admin;
//! - another school: 404, always; anonymous: the login page.
//!
//! SHA-256, CRC-32 and the zip reader are written here (the testkit depends on
//! neither `sha2` nor `zip`, and a test that asks the code under test for the
//! expected checksum cannot fail).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cartable_app::markdown::{looks_dangerous, XSS_CORPUS};
use cartable_domain::{ClassId, Role, SchoolId, UserId};
use cartable_testkit::matrix::*;
use cartable_testkit::reqwest::cookie::{CookieStore, Jar};
use cartable_testkit::reqwest::header::HeaderMap;
use cartable_testkit::reqwest::multipart::{Form, Part};
use cartable_testkit::reqwest::{self, Response, StatusCode};
use cartable_testkit::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DAY: i64 = 86_400;
/// The testkit's clock starts on 1 September 2026, 00:00 UTC (02:00 in Paris).
const START: i64 = 1_788_220_800;
/// 3 September 2026, 18:00 in Paris (UTC+2 in summer).
const DUE: i64 = START + 2 * DAY + 16 * 3600;
/// 2 September 2026, 17:30 in Paris.
const WEDNESDAY_1730: i64 = START + DAY + 15 * 3600 + 30 * 60;

// ---------------------------------------------------------------------------
// Checksums and zips, written here

/// SHA-256 (FIPS 180-4), small and slow: enough for a few hundred kilobytes.
fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (wi, word) in w.iter_mut().zip(block.chunks_exact(4)) {
            *wi = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for (k, wi) in K.iter().zip(w.iter()) {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(*k)
                .wrapping_add(*wi);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 32];
    for (o, x) in out.chunks_exact_mut(4).zip(h) {
        o.copy_from_slice(&x.to_be_bytes());
    }
    out
}

fn sha256_hex(data: &[u8]) -> String {
    sha256(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// CRC-32 (IEEE, as in zip files), bit by bit.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

#[derive(Debug)]
struct ZipEntry {
    name: String,
    data: Vec<u8>,
}

fn le16(b: &[u8], at: usize) -> Result<u64, String> {
    b.get(at..at + 2)
        .map(|s| u64::from(u16::from_le_bytes([s[0], s[1]])))
        .ok_or_else(|| format!("zip cut at {at}"))
}

fn le32(b: &[u8], at: usize) -> Result<u64, String> {
    b.get(at..at + 4)
        .map(|s| u64::from(u32::from_le_bytes([s[0], s[1], s[2], s[3]])))
        .ok_or_else(|| format!("zip cut at {at}"))
}

fn le64(b: &[u8], at: usize) -> Result<u64, String> {
    b.get(at..at + 8)
        .map(|s| u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]))
        .ok_or_else(|| format!("zip cut at {at}"))
}

fn at(v: u64) -> usize {
    usize::try_from(v).expect("offset fits")
}

/// Reads a zip of stored (uncompressed) entries through its central
/// directory (zip64 fields understood), checks each local header's name and
/// each entry's CRC-32, and returns the entries in order.
fn unzip(bytes: &[u8]) -> Result<Vec<ZipEntry>, String> {
    const EOCD: u64 = 0x0605_4b50;
    const EOCD64: u64 = 0x0606_4b50;
    const LOCATOR64: u64 = 0x0706_4b50;
    const CENTRAL: u64 = 0x0201_4b50;
    const LOCAL: u64 = 0x0403_4b50;
    const MAX32: u64 = 0xFFFF_FFFF;
    if bytes.len() < 22 {
        return Err(format!("{} bytes: not a zip", bytes.len()));
    }
    let lowest = bytes.len().saturating_sub(22 + 65_535);
    let eocd = (lowest..=bytes.len() - 22)
        .rev()
        .find(|&i| le32(bytes, i) == Ok(EOCD))
        .ok_or("no end of central directory")?;
    let mut count = le16(bytes, eocd + 10)?;
    let mut offset = le32(bytes, eocd + 16)?;
    if (offset == MAX32 || count == 0xFFFF) && eocd >= 20 {
        if le32(bytes, eocd - 20)? != LOCATOR64 {
            return Err("zip64 fields but no zip64 locator".into());
        }
        let z = at(le64(bytes, eocd - 20 + 8)?);
        if le32(bytes, z)? != EOCD64 {
            return Err("no zip64 end of central directory".into());
        }
        count = le64(bytes, z + 32)?;
        offset = le64(bytes, z + 48)?;
    }
    let mut entries = Vec::new();
    let mut p = at(offset);
    for _ in 0..count {
        if le32(bytes, p)? != CENTRAL {
            return Err(format!("no central directory entry at {p}"));
        }
        let method = le16(bytes, p + 10)?;
        let crc = le32(bytes, p + 16)?;
        let mut comp = le32(bytes, p + 20)?;
        let mut uncomp = le32(bytes, p + 24)?;
        let n = at(le16(bytes, p + 28)?);
        let m = at(le16(bytes, p + 30)?);
        let k = at(le16(bytes, p + 32)?);
        let mut local = le32(bytes, p + 42)?;
        let name_bytes = bytes
            .get(p + 46..p + 46 + n)
            .ok_or("central name cut")?
            .to_vec();
        let name = String::from_utf8(name_bytes).map_err(|_| "a name is not UTF-8")?;
        // The zip64 extra field holds, in this order, the values whose
        // 32-bit field is 0xFFFFFFFF.
        let mut e = p + 46 + n;
        while e + 4 <= p + 46 + n + m {
            let id = le16(bytes, e)?;
            let size = at(le16(bytes, e + 2)?);
            if id == 1 {
                let mut q = e + 4;
                if uncomp == MAX32 {
                    uncomp = le64(bytes, q)?;
                    q += 8;
                }
                if comp == MAX32 {
                    comp = le64(bytes, q)?;
                    q += 8;
                }
                if local == MAX32 {
                    local = le64(bytes, q)?;
                }
            }
            e += 4 + size;
        }
        if method != 0 {
            return Err(format!("{name}: compression method {method}, not stored"));
        }
        if comp != uncomp {
            return Err(format!("{name}: stored but {comp} != {uncomp} bytes"));
        }
        let l = at(local);
        if le32(bytes, l)? != LOCAL {
            return Err(format!("{name}: no local header at {l}"));
        }
        let ln = at(le16(bytes, l + 26)?);
        let lm = at(le16(bytes, l + 28)?);
        if bytes.get(l + 30..l + 30 + ln) != Some(name.as_bytes()) {
            return Err(format!("{name}: the local header names another file"));
        }
        let start = l + 30 + ln + lm;
        let data = bytes
            .get(start..start + at(comp))
            .ok_or_else(|| format!("{name}: data cut"))?
            .to_vec();
        if u64::from(crc32(&data)) != crc {
            return Err(format!("{name}: CRC-32 does not match"));
        }
        entries.push(ZipEntry { name, data });
        p += 46 + n + m + k;
    }
    Ok(entries)
}

#[test]
fn the_tests_own_checksums_and_zip_reader_are_right() {
    assert_eq!(
        sha256_hex(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        sha256_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    );
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    // A zip written by hand: one stored entry "a.txt" = "hi".
    let mut z = Vec::new();
    let crc = crc32(b"hi").to_le_bytes();
    z.extend_from_slice(&[0x50, 0x4b, 3, 4, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    z.extend_from_slice(&crc);
    z.extend_from_slice(&[2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0]);
    z.extend_from_slice(b"a.txthi");
    let cd = z.len() as u8;
    z.extend_from_slice(&[0x50, 0x4b, 1, 2, 20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    z.extend_from_slice(&crc);
    z.extend_from_slice(&[2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    z.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
    z.extend_from_slice(b"a.txt");
    let cd_size = z.len() as u8 - cd;
    z.extend_from_slice(&[0x50, 0x4b, 5, 6, 0, 0, 0, 0, 1, 0, 1, 0]);
    z.extend_from_slice(&[cd_size, 0, 0, 0, cd, 0, 0, 0, 0, 0]);
    let entries = unzip(&z).expect("hand-made zip");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].name, "a.txt");
    assert_eq!(entries[0].data, b"hi");
    z[cd as usize - 1] ^= 1;
    assert!(unzip(&z).unwrap_err().contains("CRC"));
}

// ---------------------------------------------------------------------------
// Outcomes and reporting

/// What a browser gets back.
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    async fn of(r: Response) -> Answer {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        Answer {
            status,
            headers,
            body: r.text().await.unwrap_or_default(),
        }
    }

    fn h(&self, name: &str) -> String {
        header(&self.headers, name)
    }

    fn describe(&self) -> String {
        format!(
            "{} (x-cartable-error: {:?}, location: {:?}): {}",
            self.status,
            self.h("x-cartable-error"),
            self.h("location"),
            error_text(&self.body)
        )
    }

    /// One of the outcomes, or a description when it is none of them.
    /// `allowed` says which answers mean "done".
    fn classify(&self, allowed: &dyn Fn(&Answer) -> bool) -> Result<Outcome, String> {
        let location = self.h("location");
        let code = self.h("x-cartable-error");
        match self.status {
            303 if location.starts_with("/connexion") => Ok(Outcome::Login),
            403 if code == "forbidden" => Ok(Outcome::Forbidden),
            404 if code == "not_found" => Ok(Outcome::NotFound),
            _ if allowed(self) => Ok(Outcome::Allowed),
            _ => Err(self.describe()),
        }
    }
}

// ---------------------------------------------------------------------------
// Helpers

/// A PDF of about `len` bytes (sniffed as `application/pdf`), its body varied
/// by `seed` so that two of them differ.
fn pdf_bytes(len: usize, seed: u32) -> Vec<u8> {
    let mut v = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    let mut x: u32 = seed.wrapping_mul(2_654_435_761).wrapping_add(7);
    while v.len() + 6 < len {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        v.push((x >> 16) as u8);
    }
    v.extend_from_slice(b"%%EOF\n");
    v
}

/// A small PDF for forms that only need some valid file.
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// Posts a multipart form as the pages do: the CSRF token first (unless
/// `csrf` is false), then the text fields, then the files (field `fichier`).
/// File names are sent as they are (UTF-8, not percent-encoded).
async fn post_multipart(
    c: &TestClient,
    path: &str,
    texts: &[(&str, &str)],
    files: &[(&str, &[u8])],
) -> Answer {
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
    let r = c
        .http
        .post(format!("{}{}", c.base, path))
        .multipart(form)
        .send()
        .await
        .expect("POST multipart");
    Answer::of(r).await
}

/// The error paragraph of a page, or its start.
fn error_text(html: &str) -> String {
    let at = html
        .find("class=\"error\"")
        .or_else(|| html.find("<main"))
        .unwrap_or(0);
    html[at..].chars().take(400).collect()
}

async fn page(c: &TestClient, path: &str) -> String {
    let (status, body) = c.get_text(path).await;
    assert_eq!(status, 200, "GET {path}: {}", error_text(&body));
    body
}

async fn status_of(c: &TestClient, path: &str) -> u16 {
    c.get(path).await.status().as_u16()
}

/// The assignment form's fields, named as the page names them.
#[derive(Clone, Copy)]
struct AssignmentForm<'a> {
    titre: &'a str,
    matiere: &'a str,
    consigne: &'a str,
    date: &'a str,
    heure: &'a str,
    fichiers: bool,
    texte: bool,
}

impl Default for AssignmentForm<'_> {
    fn default() -> Self {
        AssignmentForm {
            titre: "Exposé sur les volcans",
            matiere: "Sciences",
            consigne: "Rendez votre exposé en **PDF**, avec un court résumé.",
            date: "2026-09-03",
            heure: "18:00",
            fichiers: true,
            texte: true,
        }
    }
}

impl<'a> AssignmentForm<'a> {
    fn fields(&self) -> Vec<(&'a str, &'a str)> {
        let mut v = vec![
            ("titre", self.titre),
            ("matiere", self.matiere),
            ("consigne", self.consigne),
            ("date", self.date),
            ("heure", self.heure),
        ];
        if self.fichiers {
            v.push(("fichiers", "1"));
        }
        if self.texte {
            v.push(("texte", "1"));
        }
        v
    }
}

async fn create_assignment(
    c: &TestClient,
    class: ClassId,
    form: AssignmentForm<'_>,
    files: &[(&str, &[u8])],
) -> Answer {
    post_multipart(
        c,
        &format!("/cahier/classes/{}/devoirs-a-rendre", class.0),
        &form.fields(),
        files,
    )
    .await
}

/// Creates an assignment through the form; returns its id.
async fn create_ok(
    c: &TestClient,
    class: ClassId,
    form: AssignmentForm<'_>,
    files: &[(&str, &[u8])],
) -> i64 {
    let r = create_assignment(c, class, form, files).await;
    let loc = r.h("location");
    assert!(
        r.status == 303 && loc.starts_with("/rendus/"),
        "creating an assignment: {}",
        r.describe()
    );
    loc.trim_start_matches("/rendus/")
        .parse()
        .unwrap_or_else(|_| panic!("no id in {loc:?}"))
}

/// Hands in through `POST /rendus/{id}/rendre`; `cle` and `texte` are left
/// out of the form when `None`.
async fn hand_in(
    c: &TestClient,
    id: i64,
    cle: Option<&str>,
    texte: Option<&str>,
    files: &[(&str, &[u8])],
) -> Answer {
    let mut texts = Vec::new();
    if let Some(k) = cle {
        texts.push(("cle", k));
    }
    if let Some(t) = texte {
        texts.push(("texte", t));
    }
    post_multipart(c, &format!("/rendus/{id}/rendre"), &texts, files).await
}

/// The idempotency key of the hand-in form of `/rendus/{id}`.
async fn form_key(c: &TestClient, id: i64) -> String {
    let html = page(c, &format!("/rendus/{id}")).await;
    let marker = "name=\"cle\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no hand-in form on /rendus/{id}: {}", error_text(&html)))
        + marker.len();
    let end = html[start..].find('"').expect("end of the key") + start;
    html[start..end].to_string()
}

/// A receipt (`<dl class="receipt">`) as a person reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ReceiptView {
    id: i64,
    when: String,
    late: bool,
    /// (attachment id, file name as shown, size in octets, SHA-256)
    files: Vec<(i64, String, u64, String)>,
    /// (characters, start of the checksum)
    text: Option<(u64, String)>,
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = s.find(start)? + start.len();
    let to = s[from..].find(end)? + from;
    Some(&s[from..to])
}

/// Every receipt of a page, in order.
fn receipts(html: &str) -> Vec<ReceiptView> {
    html.split("<dl class=\"receipt\">")
        .skip(1)
        .map(|rest| {
            let dl = &rest[..rest.find("</dl>").expect("end of the receipt")];
            let when_dd = between(dl, "<dt>Rendu le</dt><dd>", "</dd>").expect("Rendu le");
            let id = between(dl, "<dt>Numéro de reçu</dt><dd class=\"mono\">", "</dd>")
                .expect("Numéro de reçu")
                .trim()
                .parse()
                .expect("a receipt number");
            let files = dl
                .split("<dt>Fichier</dt><dd><a href=\"/pieces-jointes/")
                .skip(1)
                .map(|f| {
                    let id = f[..f.find('"').unwrap()].parse().expect("file id");
                    let name = between(f, " download>", "</a>").expect("file name");
                    let size = between(f, "</a> · ", " octets")
                        .expect("size")
                        .parse()
                        .expect("size in octets");
                    let sha = between(f, "class=\"mono checksum\">", "</span>").expect("checksum");
                    (id, name.to_string(), size, sha.to_string())
                })
                .collect();
            let text = between(dl, "<dt>Texte</dt><dd>", "</dd>").map(|t| {
                let chars = t[..t.find(' ').unwrap()].parse().expect("characters");
                let sha = between(t, "<span class=\"mono\">", "</span>").expect("text checksum");
                (chars, sha.to_string())
            });
            ReceiptView {
                id,
                when: when_dd
                    .split(" <span")
                    .next()
                    .unwrap_or_default()
                    .to_string(),
                late: when_dd.contains("en retard"),
                files,
                text,
            }
        })
        .collect()
}

/// The teacher's card of one pupil (`<section … id="p{id}"`).
fn pupil_card(html: &str, pupil: UserId) -> Option<&str> {
    let start = html.find(&format!("id=\"p{}\"", pupil.0))?;
    let rest = &html[start..];
    let end = rest.find("</section>").unwrap_or(rest.len());
    Some(&rest[..end])
}

/// The three counts of the teacher's table: (on time, late, not handed in).
fn counts(html: &str) -> (u32, u32, u32) {
    let num = |label: &str| -> u32 {
        let end = html
            .find(&format!("</strong> {label}</li>"))
            .unwrap_or_else(|| panic!("no count {label:?}"));
        let start = html[..end].rfind("<strong>").unwrap() + "<strong>".len();
        html[start..end].parse().expect("a count")
    };
    (num("à temps"), num("en retard"), num("sans rendu"))
}

/// The line of an assignment in a `/devoirs-a-rendre` list.
fn list_item(html: &str, id: i64) -> Option<&str> {
    let start = html.find(&format!("<a href=\"/rendus/{id}\">"))?;
    let rest = &html[start..];
    let end = rest.find("</li>").unwrap_or(rest.len());
    Some(&rest[..end])
}

async fn versions(t: &TestApp, school: SchoolId, assignment: i64, pupil: UserId) -> i64 {
    t.app
        .store
        .current_submission(school, assignment, pupil)
        .await
        .unwrap()
        .1
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

/// The blob directory, found through the first attachment of an assignment.
async fn blob_root(t: &TestApp, school: SchoolId, assignment: i64) -> PathBuf {
    let a = t
        .app
        .store
        .assignment(school, assignment)
        .await
        .unwrap()
        .expect("assignment");
    blob_root_holding(&a.attachments.first().expect("an attachment").blob_key)
}

/// Sets the manual clock (forward only) to `unix`.
fn clock_to(t: &TestApp, unix: i64) {
    let now = t.app.now();
    assert!(unix >= now, "the clock only goes forward");
    t.clock.advance(unix - now);
}

/// Adds a pupil to `class` of school A who can sign in with [`PASSWORD`].
async fn add_pupil(
    t: &TestApp,
    f: &Fixture,
    first: &str,
    last: &str,
    class: ClassId,
) -> (UserId, String) {
    add_person(t, f, Role::Pupil, first, last, Some(class), None).await
}

// ---------------------------------------------------------------------------
// The full flow

#[tokio::test]
async fn a_pupil_hands_in_a_pdf_and_a_text_and_gets_an_exact_receipt() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;

    let id = create_ok(
        &teacher,
        f.class_a,
        AssignmentForm::default(),
        &[("consignes exposé.pdf", PDF)],
    )
    .await;
    let stored = t
        .app
        .store
        .assignment(f.school_a, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.due_at, DUE,
        "18:00 in Paris is 16:00 UTC in September"
    );
    let html = page(&pupil, &format!("/rendus/{id}")).await;
    assert!(
        html.contains("Sciences : Exposé sur les volcans"),
        "{}",
        error_text(&html)
    );
    assert!(
        html.contains("à rendre le <strong>jeudi 3 septembre à 18:00</strong>"),
        "the deadline in Paris time"
    );
    assert!(
        html.contains("<strong>PDF</strong>"),
        "the instructions are rendered"
    );
    assert!(
        html.contains("consignes exposé.pdf"),
        "the teacher's file is listed"
    );
    assert!(html.contains("Rendre mon travail"), "the hand-in form");
    let list = page(&pupil, "/devoirs-a-rendre").await;
    let item = list_item(&list, id).expect("the assignment is in the pupil's list");
    assert!(item.contains("pas encore rendu"), "{item}");

    clock_to(&t, WEDNESDAY_1730);
    let pdf = pdf_bytes(100_000, 1);
    let text = "Mon résumé : les volcans **effusifs** et explosifs.";
    let key = form_key(&pupil, id).await;
    let r = hand_in(
        &pupil,
        id,
        Some(&key),
        Some(text),
        &[("exposé volcans.pdf", &pdf)],
    )
    .await;
    assert_eq!(r.status, 200, "hand-in: {}", r.describe());
    let number: i64 = r.h("x-cartable-receipt").parse().unwrap_or_else(|_| {
        panic!(
            "x-cartable-receipt is a number: {:?}",
            r.h("x-cartable-receipt")
        )
    });
    assert!(
        r.body.contains("Travail rendu : voici votre reçu"),
        "{}",
        error_text(&r.body)
    );
    let shown = receipts(&r.body);
    assert!(!shown.is_empty(), "a receipt on the page");
    let receipt = &shown[0];
    assert_eq!(
        receipt.id, number,
        "the page and the header give the same number"
    );
    assert_eq!(
        receipt.when, "mercredi 2 septembre à 17:30",
        "the time, in Paris"
    );
    assert!(!receipt.late);
    assert_eq!(receipt.files.len(), 1, "{receipt:?}");
    let (file_id, name, size, checksum) = &receipt.files[0];
    assert_eq!(name, "exposé volcans.pdf");
    assert_eq!(*size, pdf.len() as u64, "the exact size in octets");
    assert_eq!(*checksum, sha256_hex(&pdf), "the SHA-256 of the bytes sent");
    let (chars, text_sum) = receipt.text.clone().expect("the text is in the receipt");
    assert_eq!(chars, text.chars().count() as u64);
    assert!(
        sha256_hex(text.as_bytes()).starts_with(&text_sum) && text_sum.len() >= 16,
        "text checksum {text_sum}"
    );
    assert!(
        r.body.contains("<strong>effusifs</strong>"),
        "the text is shown, rendered"
    );

    // The stored row says the same as the receipt.
    let (current, n) = t
        .app
        .store
        .current_submission(f.school_a, id, f.id("pupil_a"))
        .await
        .unwrap();
    let current = current.expect("a stored hand-in");
    assert_eq!((current.id, n), (number, 1));
    assert_eq!(current.submitted_at, WEDNESDAY_1730);
    assert_eq!(current.files[0].size, pdf.len() as i64);

    // The file comes back byte for byte, as an attachment, never sniffed.
    for (who, c) in [("pupil_a", &pupil), ("teacher_a", &teacher)] {
        let resp = c.get(&format!("/pieces-jointes/{file_id}")).await;
        assert_eq!(resp.status(), 200, "{who} downloads the hand-in");
        let h = resp.headers().clone();
        assert_eq!(header(&h, "content-type"), "application/pdf", "{who}");
        assert_eq!(header(&h, "x-content-type-options"), "nosniff", "{who}");
        let disposition = header(&h, "content-disposition");
        assert!(
            disposition.starts_with("attachment;"),
            "{who}: {disposition}"
        );
        assert!(
            disposition.contains("filename*=UTF-8''expos%C3%A9%20volcans.pdf"),
            "{who}: {disposition}"
        );
        let body = resp.bytes().await.unwrap();
        assert_eq!(body.len(), pdf.len(), "{who}");
        assert!(body[..] == pdf[..], "{who}: byte for byte");
        assert_eq!(sha256_hex(&body), *checksum);
    }

    // The pupil's own page and list say it is handed in.
    let mine = page(&pupil, &format!("/rendus/{id}")).await;
    assert!(mine.contains("Mon travail"));
    assert!(
        mine.contains("Remplacer mon travail"),
        "replaceable before the deadline"
    );
    assert_eq!(receipts(&mine).first().map(|r| r.id), Some(number));
    let list = page(&pupil, "/devoirs-a-rendre").await;
    let item = list_item(&list, id).unwrap();
    assert!(item.contains("<span class=\"tag\">rendu</span>"), "{item}");

    // The teacher's table.
    let table = page(&teacher, &format!("/rendus/{id}")).await;
    assert_eq!(counts(&table), (1, 0, 0));
    let card = pupil_card(&table, f.id("pupil_a")).expect("pupil_a's card");
    assert!(card.contains("<span class=\"tag\">rendu</span>"), "{card}");
    assert!(card.contains(&sha256_hex(&pdf)), "{card}");
}

#[tokio::test]
async fn a_retried_hand_in_returns_the_first_receipt_and_stores_nothing_more() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let id = create_ok(
        &teacher,
        f.class_a,
        AssignmentForm::default(),
        &[("c.pdf", PDF)],
    )
    .await;
    let root = blob_root(&t, f.school_a, id).await;
    let pdf = pdf_bytes(60_000, 2);
    let key = form_key(&pupil, id).await;

    let first = hand_in(
        &pupil,
        id,
        Some(&key),
        Some("Version unique."),
        &[("devoir.pdf", &pdf)],
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.describe());
    let number = first.h("x-cartable-receipt");
    let files_after_first = count_files(&root);

    // The answer was lost; the browser sends the same form again.
    let again = hand_in(
        &pupil,
        id,
        Some(&key),
        Some("Version unique."),
        &[("devoir.pdf", &pdf)],
    )
    .await;
    assert_eq!(again.status, 200, "{}", again.describe());
    assert_eq!(
        again.h("x-cartable-receipt"),
        number,
        "the first receipt again"
    );
    assert!(
        again
            .body
            .contains("Ce travail était déjà enregistré : voici son reçu"),
        "{}",
        error_text(&again.body)
    );
    assert_eq!(
        receipts(&again.body)[0],
        receipts(&first.body)[0],
        "same receipt"
    );
    assert_eq!(versions(&t, f.school_a, id, f.id("pupil_a")).await, 1);
    assert_eq!(
        count_files(&root),
        files_after_first,
        "the copy's file was removed"
    );

    // Two copies at once (a double click): one hand-in, one extra file at most
    // while it runs, none after.
    let key2 = form_key(&pupil, id).await;
    let pdf2 = pdf_bytes(60_000, 3);
    let files: &[(&str, &[u8])] = &[("v2.pdf", &pdf2)];
    let (a, b) = tokio::join!(
        hand_in(&pupil, id, Some(&key2), None, files),
        hand_in(&pupil, id, Some(&key2), None, files),
    );
    assert_eq!(
        (a.status, b.status),
        (200, 200),
        "{} / {}",
        a.describe(),
        b.describe()
    );
    assert_eq!(a.h("x-cartable-receipt"), b.h("x-cartable-receipt"));
    assert_ne!(a.h("x-cartable-receipt"), number);
    assert_eq!(versions(&t, f.school_a, id, f.id("pupil_a")).await, 2);
    assert_eq!(
        count_files(&root),
        files_after_first + 1,
        "one new file for one new hand-in"
    );
}

#[tokio::test]
async fn replacing_until_the_deadline_then_late_hand_ins_are_marked() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    // Two more pupils in 6e A: one hands in late, one never does.
    let (zoe, zoe_login) = add_pupil(&t, &f, "Zoé", "Charlie", f.class_a).await;
    let (noe, noe_login) = add_pupil(&t, &f, "Noé", "Delta", f.class_a).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let late_pupil = t.signed_in(&zoe_login).await;
    let absent = t.signed_in(&noe_login).await;
    let id = create_ok(
        &teacher,
        f.class_a,
        AssignmentForm::default(),
        &[("c.pdf", PDF)],
    )
    .await;
    let root = blob_root(&t, f.school_a, id).await;
    let pupil_a = f.id("pupil_a");

    let v1 = pdf_bytes(30_000, 10);
    let v2 = pdf_bytes(45_000, 11);
    let key1 = form_key(&pupil, id).await;
    let r1 = hand_in(&pupil, id, Some(&key1), None, &[("brouillon.pdf", &v1)]).await;
    assert_eq!(r1.status, 200, "{}", r1.describe());
    let first_number = r1.h("x-cartable-receipt");

    clock_to(&t, DUE - 3600);
    let key2 = form_key(&pupil, id).await;
    assert_ne!(key1, key2, "each form has its own key");
    let r2 = hand_in(&pupil, id, Some(&key2), None, &[("final.pdf", &v2)]).await;
    assert_eq!(r2.status, 200, "{}", r2.describe());
    assert_ne!(r2.h("x-cartable-receipt"), first_number);
    assert_eq!(versions(&t, f.school_a, id, pupil_a).await, 2);
    let mine = page(&pupil, &format!("/rendus/{id}")).await;
    assert!(mine.contains("Version 2"), "{}", error_text(&mine));
    let shown = &receipts(&mine)[0];
    assert_eq!(shown.files.len(), 1);
    assert_eq!(shown.files[0].1, "final.pdf");

    // The teacher sees the latest file only, and gets its bytes.
    let table = page(&teacher, &format!("/rendus/{id}")).await;
    let card = pupil_card(&table, pupil_a).unwrap();
    assert!(
        card.contains("final.pdf") && !card.contains("brouillon.pdf"),
        "{card}"
    );
    let latest = &receipts(card)[0].files[0];
    assert_eq!(latest.3, sha256_hex(&v2));
    let got = teacher.get(&format!("/pieces-jointes/{}", latest.0)).await;
    assert_eq!(got.status(), 200);
    assert!(got.bytes().await.unwrap()[..] == v2[..], "the latest bytes");

    // Past the deadline: no more replacing, nothing written.
    clock_to(&t, DUE + 60);
    let closed = page(&pupil, &format!("/rendus/{id}")).await;
    assert!(closed.contains("(date passée)"));
    assert!(
        !closed.contains("Remplacer mon travail"),
        "no replacement form after the deadline"
    );
    let files_before = count_files(&root);
    let r3 = hand_in(
        &pupil,
        id,
        Some("cle-apres-la-date-limite"),
        Some("Oubli !"),
        &[("encore.pdf", &pdf_bytes(20_000, 12))],
    )
    .await;
    assert_eq!(r3.status, 400, "{}", r3.describe());
    assert_eq!(r3.h("x-cartable-error"), "handin.closed");
    assert!(
        r3.body.contains("La date limite est passée"),
        "{}",
        error_text(&r3.body)
    );
    assert_eq!(versions(&t, f.school_a, id, pupil_a).await, 2);
    assert_eq!(
        count_files(&root),
        files_before,
        "the refused file was removed"
    );
    // A replay of a form accepted in time still gets its receipt.
    let replay = hand_in(&pupil, id, Some(&key1), None, &[("brouillon.pdf", &v1)]).await;
    assert_eq!(replay.status, 200, "{}", replay.describe());
    assert_eq!(replay.h("x-cartable-receipt"), first_number);
    assert_eq!(versions(&t, f.school_a, id, pupil_a).await, 2);
    assert_eq!(count_files(&root), files_before);

    // A pupil who had handed nothing can still hand in: marked late.
    let late_page = page(&late_pupil, &format!("/rendus/{id}")).await;
    assert!(
        late_page.contains("votre travail sera marqué en retard"),
        "{}",
        error_text(&late_page)
    );
    let key_late = form_key(&late_pupil, id).await;
    let late = hand_in(
        &late_pupil,
        id,
        Some(&key_late),
        Some("Désolée pour le retard."),
        &[("volcans zoé.pdf", &pdf_bytes(25_000, 13))],
    )
    .await;
    assert_eq!(late.status, 200, "{}", late.describe());
    let late_receipt = &receipts(&late.body)[0];
    assert!(late_receipt.late, "the receipt says late: {late_receipt:?}");
    assert!(late
        .body
        .contains("<span class=\"tag rappel\">en retard</span>"));
    assert_eq!(versions(&t, f.school_a, id, zoe).await, 1);
    // …and only once: her replacement is refused like anyone's.
    let again = hand_in(&late_pupil, id, Some("une-autre-cle"), Some("Encore."), &[]).await;
    assert_eq!(again.status, 400, "{}", again.describe());
    assert!(again.body.contains("La date limite est passée"));
    assert_eq!(versions(&t, f.school_a, id, zoe).await, 1);

    // The teacher's table: who on time, who late, who not at all.
    let table = page(&teacher, &format!("/rendus/{id}")).await;
    assert_eq!(
        counts(&table),
        (1, 1, 1),
        "à temps / en retard / pas rendus"
    );
    let on_time = pupil_card(&table, pupil_a).unwrap();
    assert!(
        on_time.contains("<span class=\"tag\">rendu</span>"),
        "{on_time}"
    );
    let late_card = pupil_card(&table, zoe).unwrap();
    assert!(
        late_card.contains("<span class=\"tag\">rendu en retard</span>"),
        "{late_card}"
    );
    assert!(late_card.contains("en retard</span>"), "{late_card}");
    let missing = pupil_card(&table, noe).unwrap();
    assert!(
        missing.contains("<span class=\"tag\">pas rendu</span>"),
        "{missing}"
    );
    assert!(!missing.contains("class=\"receipt\""));

    // And each pupil's list says so.
    let item = page(&late_pupil, "/devoirs-a-rendre").await;
    assert!(list_item(&item, id).unwrap().contains("rendu en retard"));
    let item = page(&absent, "/devoirs-a-rendre").await;
    assert!(
        list_item(&item, id)
            .unwrap()
            .contains("<span class=\"tag rappel\">pas rendu</span>"),
        "{}",
        list_item(&item, id).unwrap()
    );
}

// ---------------------------------------------------------------------------
// Refusals

#[tokio::test]
async fn refused_hand_ins_get_french_messages_and_leave_nothing() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let both = create_ok(
        &teacher,
        f.class_a,
        AssignmentForm::default(),
        &[("c.pdf", PDF)],
    )
    .await;
    let files_only = create_ok(
        &teacher,
        f.class_a,
        AssignmentForm {
            titre: "Fichiers seulement",
            texte: false,
            ..AssignmentForm::default()
        },
        &[],
    )
    .await;
    let text_only = create_ok(
        &teacher,
        f.class_a,
        AssignmentForm {
            titre: "Texte seulement",
            fichiers: false,
            ..AssignmentForm::default()
        },
        &[],
    )
    .await;
    let root = blob_root(&t, f.school_a, both).await;
    let files_before = count_files(&root);
    let pupil_a = f.id("pupil_a");

    let good = pdf_bytes(40_000, 20);
    let html_file =
        b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
            .to_vec();
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xFF\xFF\x00\x00".to_vec();
    exe.extend(std::iter::repeat_n(0u8, 2000));
    let big = pdf_bytes(10 * 1024 * 1024 + 1, 21);
    let long_key = "k".repeat(65);
    let nine_mb = pdf_bytes(9 * 1024 * 1024, 22);

    struct Case<'a> {
        what: &'a str,
        assignment: i64,
        cle: Option<&'a str>,
        texte: Option<&'a str>,
        files: Vec<(&'a str, &'a [u8])>,
        code: &'a str,
        says: &'a str,
    }
    let cases = vec![
        Case {
            what: "an empty hand-in (no file, no text)",
            assignment: both,
            cle: Some("cle-vide-1"),
            texte: Some("   "),
            files: vec![],
            code: "handin.empty",
            says: "Votre rendu est vide : ajoutez un fichier ou un texte.",
        },
        Case {
            what: "a text for an assignment of files only",
            assignment: files_only,
            cle: Some("cle-texte-1"),
            texte: Some("Voici mon texte."),
            files: vec![("bon.pdf", &good)],
            code: "handin.no_text",
            says: "Ce devoir se rend sous forme de fichiers seulement.",
        },
        Case {
            what: "a file for an assignment of text only",
            assignment: text_only,
            cle: Some("cle-fichier-1"),
            texte: Some("Voici mon texte."),
            files: vec![("bon.pdf", &good)],
            code: "handin.no_files",
            says: "Ce devoir se rend sous forme de texte seulement.",
        },
        Case {
            what: "a web page",
            assignment: both,
            cle: Some("cle-html-1"),
            texte: None,
            files: vec![("bon.pdf", &good), ("devoir.html", &html_file)],
            code: "upload.type",
            says: "page web",
        },
        Case {
            what: "a web page named .pdf",
            assignment: both,
            cle: Some("cle-html-2"),
            texte: None,
            files: vec![("devoir.pdf", &html_file)],
            code: "upload.type",
            says: "page web",
        },
        Case {
            what: "an executable",
            assignment: both,
            cle: Some("cle-exe-1"),
            texte: None,
            files: vec![("bon.pdf", &good), ("jeu.exe", &exe)],
            code: "upload.type",
            says: "programme",
        },
        Case {
            what: "a file over 10 MB",
            assignment: both,
            cle: Some("cle-gros-1"),
            texte: Some("Avec un gros fichier."),
            files: vec![("bon.pdf", &good), ("gros.pdf", &big)],
            code: "upload.too_large",
            says: "Le fichier dépasse 10 Mo.",
        },
        Case {
            what: "three files of 9 MB (27 MB in all)",
            assignment: both,
            cle: Some("cle-total-1"),
            texte: None,
            files: vec![
                ("un.pdf", &nine_mb),
                ("deux.pdf", &nine_mb),
                ("trois.pdf", &nine_mb),
            ],
            code: "upload.too_large",
            says: "ensemble des fichiers dépasse 25 Mo",
        },
        Case {
            what: "six files",
            assignment: both,
            cle: Some("cle-six-1"),
            texte: None,
            files: vec![
                ("1.pdf", PDF),
                ("2.pdf", PDF),
                ("3.pdf", PDF),
                ("4.pdf", PDF),
                ("5.pdf", PDF),
                ("6.pdf", PDF),
            ],
            code: "upload.too_many",
            says: "Trop de fichiers : 5 au plus par envoi.",
        },
        Case {
            what: "an empty file",
            assignment: both,
            cle: Some("cle-vide-2"),
            texte: Some("Avec un fichier vide."),
            files: vec![("bon.pdf", &good), ("vide.pdf", b"")],
            code: "upload.empty",
            says: "Le fichier est vide.",
        },
        Case {
            what: "a missing key",
            assignment: both,
            cle: None,
            texte: Some("Sans clé."),
            files: vec![("bon.pdf", &good)],
            code: "handin.key",
            says: "Formulaire incomplet : rechargez la page et recommencez.",
        },
        Case {
            what: "a key with bad characters",
            assignment: both,
            cle: Some("../../etc/passwd<script>"),
            texte: Some("Clé bizarre."),
            files: vec![("bon.pdf", &good)],
            code: "handin.key",
            says: "Formulaire incomplet : rechargez la page et recommencez.",
        },
        Case {
            what: "a key of 65 characters",
            assignment: both,
            cle: Some(&long_key),
            texte: Some("Clé trop longue."),
            files: vec![("bon.pdf", &good)],
            code: "handin.key",
            says: "Formulaire incomplet : rechargez la page et recommencez.",
        },
    ];
    let mut problems = Vec::new();
    for case in &cases {
        let r = hand_in(&pupil, case.assignment, case.cle, case.texte, &case.files).await;
        if r.status != 400 {
            problems.push(format!("{}: {} instead of 400", case.what, r.describe()));
        }
        if r.h("x-cartable-error") != case.code {
            problems.push(format!(
                "{}: code {:?}, expected {:?}",
                case.what,
                r.h("x-cartable-error"),
                case.code
            ));
        }
        if !r.body.contains(case.says) {
            problems.push(format!(
                "{}: the page does not say {:?}: {}",
                case.what,
                case.says,
                error_text(&r.body)
            ));
        }
        if !r.body.contains("role=\"alert\"") {
            problems.push(format!("{}: no alert on the page", case.what));
        }
        for a in [both, files_only, text_only] {
            let n = versions(&t, f.school_a, a, pupil_a).await;
            if n != 0 {
                problems.push(format!("{}: {n} hand-in(s) stored on {a}", case.what));
            }
        }
        let files_now = count_files(&root);
        if files_now != files_before {
            problems.push(format!(
                "{}: {} file(s) on disk instead of {files_before}",
                case.what, files_now
            ));
        }
    }
    // The same pupil can then hand in properly (nothing was half done).
    let ok = hand_in(
        &pupil,
        both,
        Some("cle-valable-1"),
        Some("Enfin."),
        &[("bon.pdf", &good)],
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.describe());
    // A file input left empty by the browser is not a file.
    let ok = hand_in(
        &pupil,
        text_only,
        Some("cle-valable-2"),
        Some("Mon texte."),
        &[("", b"")],
    )
    .await;
    assert_eq!(ok.status, 200, "an empty file input: {}", ok.describe());
    assert!(receipts(&ok.body)[0].files.is_empty());
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// A browser whose cookies the test can read, signed in as `login`, and the
/// `Cookie` header it sends.
async fn browser_with_cookies(t: &TestApp, login: &str) -> (TestClient, String) {
    let jar = Arc::new(Jar::default());
    let c = TestClient {
        base: format!("http://{}", t.addr),
        http: reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client"),
    };
    let r = c.login(login, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "login of {login}");
    let _ = c.csrf().await;
    let url: reqwest::Url = t.url("/").parse().unwrap();
    let cookies = jar
        .cookies(&url)
        .expect("cookies")
        .to_str()
        .unwrap()
        .to_string();
    (c, cookies)
}

/// A hand-in whose body stops half-way through its second file: the request
/// says `Content-Length` bytes, fewer come, then the client half-closes (or
/// drops) the connection. Returns whatever the server answered.
async fn cut_hand_in(
    t: &TestApp,
    cookies: &str,
    token: &str,
    id: i64,
    first: &[u8],
    second: &[u8],
    wait_for_answer: bool,
) -> String {
    let boundary = "----cartable-coupure-7d1f";
    let mut body = Vec::new();
    for (name, value) in [
        ("csrf", token),
        ("cle", "cle-coupee-1"),
        ("texte", "Envoi coupé."),
    ] {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, bytes) in [("premier.pdf", first), ("second.pdf", second)] {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"{name}\"\r\nContent-Type: application/pdf\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let head = format!(
        "POST /rendus/{id}/rendre HTTP/1.1\r\nHost: {}\r\nCookie: {cookies}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        t.addr,
        body.len()
    );
    // Everything up to the middle of the second file.
    let cut = body.len() - second.len() / 2;
    let mut s = tokio::net::TcpStream::connect(t.addr)
        .await
        .expect("connect");
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&body[..cut]).await.unwrap();
    s.flush().await.unwrap();
    if !wait_for_answer {
        tokio::time::sleep(Duration::from_millis(200)).await;
        drop(s);
        return String::new();
    }
    s.shutdown().await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn an_interrupted_upload_says_so_and_leaves_nothing() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let id = create_ok(
        &teacher,
        f.class_a,
        AssignmentForm::default(),
        &[("c.pdf", PDF)],
    )
    .await;
    let root = blob_root(&t, f.school_a, id).await;
    let files_before = count_files(&root);
    let (pupil, cookies) = browser_with_cookies(&t, f.login("pupil_a")).await;
    let token = pupil.csrf().await;
    let first = pdf_bytes(200_000, 30);
    let second = pdf_bytes(400_000, 31);

    // The client stops sending and waits for the answer.
    let answer = cut_hand_in(&t, &cookies, &token, id, &first, &second, true).await;
    let status_line = answer.lines().next().unwrap_or("").to_string();
    let mut problems = Vec::new();
    if !status_line.contains(" 400 ") {
        problems.push(format!("half-closed: status line {status_line:?}"));
    }
    if !answer.contains("envoi a été interrompu") {
        problems.push(format!(
            "half-closed: no clear message: {}",
            error_text(&answer)
        ));
    }
    // The client goes away altogether (its answer will never be read).
    let _ = cut_hand_in(&t, &cookies, &token, id, &first, &second, false).await;

    // No row, and (after the background cleanup) no file.
    let mut left = count_files(&root);
    for _ in 0..100 {
        if left == files_before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        left = count_files(&root);
    }
    if left != files_before {
        problems.push(format!("{left} file(s) on disk instead of {files_before}"));
    }
    let n = versions(&t, f.school_a, id, f.id("pupil_a")).await;
    if n != 0 {
        problems.push(format!("{n} hand-in(s) stored"));
    }
    // The pupil can hand in afterwards.
    let ok = hand_in(
        &pupil,
        id,
        Some("cle-apres-coupure"),
        Some("Entier."),
        &[("premier.pdf", &first)],
    )
    .await;
    if ok.status != 200 {
        problems.push(format!("the next hand-in: {}", ok.describe()));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------
// Feedback

#[tokio::test]
async fn feedback_and_mark_reach_the_pupil_and_their_parents_only() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let parent = t.signed_in(f.login("parent_a")).await;
    let other_parent = t.signed_in(f.login("parent_b")).await;
    let id = create_ok(
        &teacher,
        f.class_a,
        AssignmentForm::default(),
        &[("c.pdf", PDF)],
    )
    .await;
    let key = form_key(&pupil, id).await;
    let r = hand_in(
        &pupil,
        id,
        Some(&key),
        Some("Mon exposé."),
        &[("exposé.pdf", PDF)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.describe());
    let r_body = r.body;

    // Before: the parent sees the work, no feedback yet.
    let before = page(&parent, &format!("/rendus/{id}")).await;
    assert!(
        before.contains("Travail de Léa Alpha"),
        "{}",
        error_text(&before)
    );
    assert!(!before.contains("Retour de l"));
    assert!(
        !before.contains("Rendre mon travail"),
        "a parent cannot hand in"
    );

    let pupil_a = f.id("pupil_a");
    let path = format!("/rendus/{id}/retour/{}", pupil_a.0);
    let r = Answer::of(
        teacher
            .post_form(&path, &[("commentaire", "Bon travail"), ("note", "15/20")])
            .await,
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.describe());
    assert_eq!(r.h("location"), format!("/rendus/{id}#p{}", pupil_a.0));

    for (who, c, heading) in [
        ("pupil_a", &pupil, "Mon travail"),
        ("parent_a", &parent, "Travail de Léa Alpha"),
    ] {
        let html = page(c, &format!("/rendus/{id}")).await;
        assert!(html.contains(heading), "{who}");
        assert!(html.contains("Retour de l"), "{who}: {}", error_text(&html));
        assert!(html.contains("<p>Bon travail</p>"), "{who}: the feedback");
        assert!(
            html.contains("note : <strong>15/20</strong>"),
            "{who}: the mark"
        );
        let list = page(c, "/devoirs-a-rendre").await;
        let item = list_item(&list, id).unwrap_or_else(|| panic!("{who}: listed"));
        assert!(
            item.contains("<span class=\"tag\">corrigé</span>"),
            "{who}: {item}"
        );
    }
    // The teacher's form shows what was returned, to update it.
    let table = page(&teacher, &format!("/rendus/{id}")).await;
    let card = pupil_card(&table, pupil_a).unwrap();
    assert!(card.contains(">Bon travail</textarea>"), "{card}");
    assert!(card.contains("value=\"15/20\""), "{card}");
    assert!(card.contains("Mettre à jour le retour"));

    // Another family does not see the assignment at all.
    assert_eq!(
        status_of(&other_parent, &format!("/rendus/{id}")).await,
        404
    );
    let list = page(&other_parent, "/devoirs-a-rendre").await;
    assert!(list_item(&list, id).is_none(), "parent_b's list");
    assert!(!list.contains("Bon travail"));

    // A classmate sees the assignment, not Léa's work, mark or feedback;
    // neither does a teacher of another class (who may see the assignment).
    let (_, classmate_login) = add_pupil(&t, &f, "Zoé", "Charlie", f.class_a).await;
    let classmate = t.signed_in(&classmate_login).await;
    let colleague = t.signed_in(f.login("teacher_b")).await;
    let file_id = receipts(&r_body)[0].files[0].0;
    for (who, c) in [("a classmate", &classmate), ("teacher_b", &colleague)] {
        let html = page(c, &format!("/rendus/{id}")).await;
        for secret in [
            "Bon travail",
            "15/20",
            "exposé.pdf",
            "Mon exposé.",
            "class=\"receipt\"",
        ] {
            assert!(!html.contains(secret), "{who} sees {secret:?} of pupil_a");
        }
        assert_eq!(
            status_of(c, &format!("/pieces-jointes/{file_id}")).await,
            404,
            "{who} downloads pupil_a's file"
        );
        assert_eq!(
            status_of(c, &format!("/rendus/{id}/tout.zip")).await,
            403,
            "{who} gets the zip"
        );
    }
    let html = page(&classmate, &format!("/rendus/{id}")).await;
    assert!(
        html.contains("Pas encore rendu."),
        "the classmate's own empty work"
    );
    // …and a parent sees only their own child's work.
    let r = hand_in(
        &classmate,
        id,
        Some("cle-zoe-1"),
        Some("Le travail de Zoé."),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.describe());
    let html = page(&parent, &format!("/rendus/{id}")).await;
    assert!(
        !html.contains("Le travail de Zoé."),
        "parent_a sees Zoé's work"
    );
    assert!(!html.contains("Zoé"), "parent_a sees Zoé's name");

    // A mark over 20 characters is refused and changes nothing.
    let long_mark = "quinze sur vingt, bravo";
    assert!(long_mark.chars().count() > 20);
    let r = Answer::of(
        teacher
            .post_form(
                &path,
                &[("commentaire", "Autre chose"), ("note", long_mark)],
            )
            .await,
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.describe());
    assert_eq!(r.h("x-cartable-error"), "feedback.mark");
    assert!(
        r.body.contains("La note fait 20 caractères au plus"),
        "{}",
        error_text(&r.body)
    );
    let stored = t
        .app
        .store
        .feedback(f.school_a, id, pupil_a)
        .await
        .unwrap()
        .expect("feedback");
    assert_eq!(stored.feedback_md, "Bon travail");
    assert_eq!(stored.mark.as_deref(), Some("15/20"));
    // Twenty characters, accents counted as one, are fine.
    let twenty = "très très bien 18/20";
    assert!(twenty.chars().count() <= 20 && twenty.len() > 20);
    let r = Answer::of(
        teacher
            .post_form(&path, &[("commentaire", "Bon travail"), ("note", twenty)])
            .await,
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.describe());
    // Neither comment nor mark: refused.
    let r = Answer::of(
        teacher
            .post_form(&path, &[("commentaire", " "), ("note", "")])
            .await,
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.describe());
    assert!(r.body.contains("Écrivez un commentaire ou une note."));
}

// ---------------------------------------------------------------------------
// Zip

#[tokio::test]
async fn the_teacher_downloads_every_hand_in_as_a_zip() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let (_, zoe_login) = add_pupil(&t, &f, "Zoé", "Charlie", f.class_a).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let zoe_c = t.signed_in(&zoe_login).await;
    let id = create_ok(
        &teacher,
        f.class_a,
        AssignmentForm::default(),
        &[("c.pdf", PDF)],
    )
    .await;

    let old = pdf_bytes(50_000, 40);
    let pdf = pdf_bytes(100_000, 41);
    let notes = pdf_bytes(12_000, 42);
    let r = hand_in(&pupil, id, Some("zip-cle-1"), None, &[("ancien.pdf", &old)]).await;
    assert_eq!(r.status, 200, "{}", r.describe());
    let r = hand_in(
        &pupil,
        id,
        Some("zip-cle-2"),
        Some("Le résumé de *Léa*."),
        &[("exposé.pdf", &pdf), ("notes.pdf", &notes)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.describe());
    let zoe_pdf = pdf_bytes(30_000, 43);
    let r = hand_in(
        &zoe_c,
        id,
        Some("zip-cle-3"),
        None,
        &[("exposé.pdf", &zoe_pdf)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.describe());

    let resp = teacher.get(&format!("/rendus/{id}/tout.zip")).await;
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert_eq!(header(&h, "content-type"), "application/zip");
    assert_eq!(header(&h, "x-content-type-options"), "nosniff");
    let disposition = header(&h, "content-disposition");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains(".zip"), "{disposition}");
    let bytes = resp.bytes().await.unwrap();
    let entries = unzip(&bytes).unwrap_or_else(|e| panic!("the zip does not read: {e}"));
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    let find = |suffix: &str, folder: &str| {
        entries
            .iter()
            .find(|e| e.name.ends_with(suffix) && e.name.contains(folder))
            .unwrap_or_else(|| panic!("no {folder}…{suffix} in {names:?}"))
    };
    // A folder per pupil, the current files only, the text as a page.
    let lea = find("expose.pdf", "alpha");
    assert!(lea.data == pdf, "Léa's PDF byte for byte");
    assert_eq!(sha256_hex(&lea.data), sha256_hex(&pdf));
    assert!(find("notes.pdf", "alpha").data == notes);
    let text = find("texte.html", "alpha");
    assert!(
        String::from_utf8_lossy(&text.data).contains("<em>Léa</em>"),
        "{}",
        String::from_utf8_lossy(&text.data)
    );
    assert!(find("expose.pdf", "charlie").data == zoe_pdf, "Zoé's PDF");
    assert!(
        !names.iter().any(|n| n.contains("ancien")),
        "a replaced version is not in the zip: {names:?}"
    );
    assert_eq!(entries.len(), 4, "{names:?}");
    for n in &names {
        assert!(
            !n.starts_with('/') && !n.contains("..") && !n.contains('\\'),
            "a safe name: {n}"
        );
    }

    // Pupils and parents do not get it.
    for (who, expected) in [
        ("pupil_a", 403),
        ("parent_a", 403),
        ("pupil_b", 404),
        ("parent_b", 404),
        ("teacher_b", 403),
    ] {
        let c = t.signed_in(f.login(who)).await;
        let r = c.get(&format!("/rendus/{id}/tout.zip")).await;
        assert_eq!(r.status().as_u16(), expected, "{who}");
        assert_ne!(
            header(r.headers(), "content-type"),
            "application/zip",
            "{who}"
        );
    }
}

// ---------------------------------------------------------------------------
// Deadlines, tokens, ids

#[tokio::test]
async fn deadlines_are_paris_wall_clock_times_even_on_the_days_clocks_change() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    // (date, time, the instant in UTC, what the page must say)
    let cases = [
        (
            "2026-11-03",
            "18:00",
            START + 63 * DAY + 17 * 3600,
            "mardi 3 novembre à 18:00",
        ),
        // Sunday 25 October 2026: 03:00 summer time becomes 02:00 winter time.
        (
            "2026-10-25",
            "18:00",
            START + 54 * DAY + 17 * 3600,
            "dimanche 25 octobre à 18:00",
        ),
        // Sunday 28 March 2027: 02:00 winter time becomes 03:00 summer time.
        (
            "2027-03-28",
            "18:00",
            START + 208 * DAY + 16 * 3600,
            "dimanche 28 mars à 18:00",
        ),
        // No time given: 23:59 that day, not 00:59 the next.
        (
            "2027-03-28",
            "",
            START + 208 * DAY + 21 * 3600 + 59 * 60,
            "dimanche 28 mars à 23:59",
        ),
    ];
    let mut problems = Vec::new();
    for (date, heure, expected, says) in cases {
        let id = create_ok(
            &teacher,
            f.class_a,
            AssignmentForm {
                date,
                heure,
                ..AssignmentForm::default()
            },
            &[],
        )
        .await;
        let due = t
            .app
            .store
            .assignment(f.school_a, id)
            .await
            .unwrap()
            .unwrap()
            .due_at;
        if due != expected {
            problems.push(format!(
                "{date} {heure:?}: due_at {due}, expected {expected} ({:+} s)",
                due - expected
            ));
        }
        let html = page(&teacher, &format!("/rendus/{id}")).await;
        if !html.contains(&format!("à rendre le <strong>{says}</strong>")) {
            let shown = between(&html, "à rendre le <strong>", "</strong>").unwrap_or("?");
            problems.push(format!(
                "{date} {heure:?}: the page says {shown:?}, not {says:?}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn a_hand_in_without_its_token_first_is_refused_before_any_file_is_stored() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let id = create_ok(
        &teacher,
        f.class_a,
        AssignmentForm::default(),
        &[("c.pdf", PDF)],
    )
    .await;
    let root = blob_root(&t, f.school_a, id).await;
    let files_before = count_files(&root);
    let token = pupil.csrf().await;
    // The file before the token: a forged or broken form.
    let form = Form::new()
        .part(
            "fichier",
            Part::bytes(pdf_bytes(50_000, 50)).file_name("devoir.pdf"),
        )
        .text("csrf", token.clone())
        .text("cle", "cle-sans-jeton")
        .text("texte", "Texte.");
    let r = Answer::of(
        pupil
            .http
            .post(t.url(&format!("/rendus/{id}/rendre")))
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.describe());
    assert_eq!(r.h("x-cartable-error"), "csrf");
    // A wrong token.
    let r = Answer::of(
        pupil
            .http
            .post(t.url(&format!("/rendus/{id}/rendre")))
            .multipart(
                Form::new()
                    .text("csrf", "0".repeat(token.len()))
                    .text("cle", "cle-faux-jeton")
                    .part("fichier", Part::bytes(PDF.to_vec()).file_name("d.pdf")),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.describe());
    assert_eq!(versions(&t, f.school_a, id, f.id("pupil_a")).await, 0);
    assert_eq!(count_files(&root), files_before, "no file stored");
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_not_found() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let id = create_ok(&teacher, f.class_a, AssignmentForm::default(), &[]).await;
    let mut wrong = Vec::new();
    for path in [
        "/rendus/abc".to_string(),
        "/rendus/999999".to_string(),
        "/rendus/1x/tout.zip".to_string(),
        "/rendus/999999/tout.zip".to_string(),
        "/rendus/99999999999999999999".to_string(),
        "/cahier/classes/abc/devoir-a-rendre".to_string(),
        "/cahier/classes/999999/devoir-a-rendre".to_string(),
    ] {
        let r = Answer::of(teacher.get(&path).await).await;
        if r.classify(&|_| false) != Ok(Outcome::NotFound) {
            wrong.push(format!("GET {path}: {}", r.describe()));
        }
    }
    for path in [
        format!("/rendus/{id}/retour/abc"),
        format!("/rendus/{id}/retour/999999"),
        "/rendus/abc/retour/1".to_string(),
    ] {
        let r = Answer::of(
            teacher
                .post_form(&path, &[("commentaire", "x"), ("note", "1")])
                .await,
        )
        .await;
        if r.classify(&|_| false) != Ok(Outcome::NotFound) {
            wrong.push(format!("POST {path}: {}", r.describe()));
        }
    }
    for path in ["/rendus/abc/rendre", "/rendus/999999/rendre"] {
        let r = post_multipart(&pupil, path, &[("cle", "cle-1"), ("texte", "x")], &[]).await;
        if r.classify(&|_| false) != Ok(Outcome::NotFound) {
            wrong.push(format!("POST {path}: {}", r.describe()));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// ---------------------------------------------------------------------------
// The access matrix

#[derive(Debug, Clone, Copy)]
enum Req {
    /// GET a path; placeholders: `{class_a}`, `{assignment}` (6e A, by
    /// teacher_a, with a file `{brief}`; pupil_a handed in `{file}`),
    /// `{assignment_b}` (6e B, by teacher_b), `{other_assignment}` (the other
    /// school's).
    Get(&'static str),
    /// `POST /rendus/{…}/rendre` (multipart) with a fresh key, a PDF and a text.
    HandIn(&'static str),
    /// `POST /rendus/{assignment}/retour/{pupil}`.
    Feedback(&'static str),
    /// `POST /cahier/classes/{class_a}/devoirs-a-rendre` (multipart).
    Create,
}

impl Req {
    fn label(&self) -> String {
        match self {
            Req::Get(p) => format!("GET {p}"),
            Req::HandIn(a) => format!("POST /rendus/{{{a}}}/rendre"),
            Req::Feedback(p) => format!("POST /rendus/{{assignment}}/retour/{{{p}}}"),
            Req::Create => "POST /cahier/classes/{class_a}/devoirs-a-rendre".into(),
        }
    }
}

#[rustfmt::skip]
const MATRIX: &[(Req, [Outcome; 10])] = &[
    //                                                     anon pupil_a pupil_b parent_a parent_b teacher_a teacher_b staff admin other_admin
    (Req::Get("/devoirs-a-rendre"),                         [L,   A,      A,      A,       A,       A,        A,        A,    A,    A]),
    (Req::Get("/rendus/{assignment}"),                      [L,   A,      N,      A,       N,       A,        A,        A,    A,    N]),
    (Req::Get("/rendus/{assignment_b}"),                    [L,   N,      A,      N,       A,       A,        A,        A,    A,    N]),
    (Req::Get("/rendus/{other_assignment}"),                [L,   N,      N,      N,       N,       N,        N,        N,    N,    A]),
    (Req::HandIn("assignment"),                             [L,   A,      N,      F,       N,       F,        F,        F,    F,    N]),
    (Req::HandIn("assignment_b"),                           [L,   N,      A,      N,       F,       F,        F,        F,    F,    N]),
    (Req::HandIn("other_assignment"),                       [L,   N,      N,      N,       N,       N,        N,        N,    N,    F]),
    (Req::Feedback("pupil_a"),                              [L,   F,      N,      F,       N,       A,        F,        A,    A,    N]),
    // pupil_b is not in 6e A: nobody can return work to them on its assignment.
    (Req::Feedback("pupil_b"),                              [L,   F,      N,      F,       N,       N,        F,        N,    N,    N]),
    (Req::Get("/rendus/{assignment}/tout.zip"),             [L,   F,      N,      F,       N,       A,        F,        A,    A,    N]),
    (Req::Get("/cahier/classes/{class_a}/devoir-a-rendre"), [L,   F,      F,      F,       F,       A,        F,        F,    F,    N]),
    (Req::Create,                                           [L,   F,      F,      F,       F,       A,        F,        F,    F,    N]),
    (Req::Get("/pieces-jointes/{file}"),                    [L,   A,      N,      A,       N,       A,        N,        A,    A,    N]),
    (Req::Get("/pieces-jointes/{brief}"),                   [L,   A,      N,      A,       N,       A,        A,        A,    A,    N]),
];

struct Fixed {
    assignment: i64,
    brief: i64,
    file: i64,
    assignment_b: i64,
    other_assignment: i64,
    root: PathBuf,
}

fn assignment_of(x: &Fixed, key: &str) -> (i64, bool) {
    match key {
        "assignment" => (x.assignment, false),
        "assignment_b" => (x.assignment_b, false),
        "other_assignment" => (x.other_assignment, true),
        other => panic!("unknown assignment {other}"),
    }
}

fn resolve(template: &str, f: &Fixture, x: &Fixed) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').expect("closing brace") + start;
        out.push_str(&rest[..start]);
        let id = match &rest[start + 1..end] {
            "class_a" => f.class_a.0,
            "assignment" => x.assignment,
            "assignment_b" => x.assignment_b,
            "other_assignment" => x.other_assignment,
            "file" => x.file,
            "brief" => x.brief,
            other => panic!("unknown placeholder {other}"),
        };
        out.push_str(&id.to_string());
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Every hand-in (all versions) of the three pupils on an assignment.
async fn all_versions(t: &TestApp, f: &Fixture, assignment: i64, other_school: bool) -> i64 {
    let mut n = 0;
    for pupil in ["pupil_a", "pupil_b", "other_pupil"] {
        let school = if pupil.starts_with("other_") {
            f.school_b
        } else {
            f.school_a
        };
        if (school == f.school_b) == other_school {
            n += versions(t, school, assignment, f.id(pupil)).await;
        }
    }
    n
}

async fn class_a_assignments(t: &TestApp, f: &Fixture) -> usize {
    t.app
        .store
        .cohort_assignments(
            f.school_a,
            &cartable_store::Cohorts {
                classes: vec![f.class_a],
                groups: Vec::new(),
            },
            0,
        )
        .await
        .unwrap()
        .len()
}

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
            let r = Answer::of(client.get(&path).await).await;
            (r.classify(&|r| r.status == 200), None)
        }
        Req::HandIn(key) => {
            let (id, other_school) = assignment_of(x, key);
            let before = all_versions(t, f, id, other_school).await;
            let files_before = count_files(&x.root);
            let cle = format!(
                "matrice-{}-{}",
                who.replace('_', "-"),
                key.replace('_', "-")
            );
            let r = hand_in(
                client,
                id,
                Some(&cle),
                Some(&format!("Rendu par {who}")),
                &[("matrice.pdf", PDF)],
            )
            .await;
            let got = r
                .classify(&|r| r.status == 200 && r.h("x-cartable-receipt").parse::<i64>().is_ok());
            let after = all_versions(t, f, id, other_school).await;
            let files_after = count_files(&x.root);
            let mut wrong = Vec::new();
            if after != before + i64::from(should) {
                wrong.push(format!("{before} hand-in(s) before, {after} after"));
            }
            if !other_school && files_after != files_before + usize::from(should) {
                wrong.push(format!(
                    "{files_before} file(s) before, {files_after} after"
                ));
            }
            (got, (!wrong.is_empty()).then(|| wrong.join(", ")))
        }
        Req::Feedback(pupil_key) => {
            let pupil = f.id(pupil_key);
            let marker = format!("Retour écrit par {who}");
            let before = t
                .app
                .store
                .feedback(f.school_a, x.assignment, pupil)
                .await
                .unwrap()
                .map(|fb| fb.feedback_md);
            let r = Answer::of(
                client
                    .post_form(
                        &format!("/rendus/{}/retour/{}", x.assignment, pupil.0),
                        &[("commentaire", &marker), ("note", "12/20")],
                    )
                    .await,
            )
            .await;
            let target = format!("/rendus/{}#p{}", x.assignment, pupil.0);
            let got = r.classify(&|r| r.status == 303 && r.h("location") == target);
            let after = t
                .app
                .store
                .feedback(f.school_a, x.assignment, pupil)
                .await
                .unwrap()
                .map(|fb| fb.feedback_md);
            let effect = if should {
                (after.as_deref() != Some(marker.as_str()))
                    .then(|| format!("feedback is {after:?}"))
            } else {
                (after != before).then(|| format!("feedback changed to {after:?}"))
            };
            (got, effect)
        }
        Req::Create => {
            let before = class_a_assignments(t, f).await;
            let title = format!("Devoir créé par {who}");
            let r = create_assignment(
                client,
                f.class_a,
                AssignmentForm {
                    titre: &title,
                    ..AssignmentForm::default()
                },
                &[],
            )
            .await;
            let got = r.classify(&|r| r.status == 303 && r.h("location").starts_with("/rendus/"));
            let after = class_a_assignments(t, f).await;
            let effect = (after != before + usize::from(should))
                .then(|| format!("{before} assignment(s) before, {after} after"));
            (got, effect)
        }
    }
}

#[tokio::test]
async fn access_matrix_of_assignments() {
    let started = Instant::now();
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let mut clients = Vec::new();
    for a in ACTORS {
        let client = match a {
            None => t.client(),
            Some(key) => t.signed_in(f.login(key)).await,
        };
        clients.push((actor_label(a), client));
    }
    let client_of = |key: &str| &clients.iter().find(|(k, _)| *k == key).unwrap().1;
    let assignment = create_ok(
        client_of("teacher_a"),
        f.class_a,
        AssignmentForm::default(),
        &[("consignes.pdf", PDF)],
    )
    .await;
    let assignment_b = create_ok(
        client_of("teacher_b"),
        f.class_b,
        AssignmentForm::default(),
        &[],
    )
    .await;
    let other_teacher = t.signed_in(f.login("other_teacher")).await;
    let other_assignment = create_ok(
        &other_teacher,
        f.other_class,
        AssignmentForm::default(),
        &[],
    )
    .await;
    let r = hand_in(
        client_of("pupil_a"),
        assignment,
        Some("matrice-premier-rendu"),
        Some("Premier rendu."),
        &[("rendu.pdf", PDF)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.describe());
    let file = receipts(&r.body)[0].files[0].0;
    let brief = t
        .app
        .store
        .assignment(f.school_a, assignment)
        .await
        .unwrap()
        .unwrap()
        .attachments[0]
        .id;
    let x = Fixed {
        assignment,
        brief,
        file,
        assignment_b,
        other_assignment,
        root: blob_root(&t, f.school_a, assignment).await,
    };

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
        report("devoirs à rendre", &mismatches),
        render_observed(&ACTORS, &observed)
    );
}

// ---------------------------------------------------------------------------
// XSS

/// A page with the `value` of its inputs emptied. The value of a text input
/// is never a URL the browser follows nor script it runs (askama escapes its
/// quotes, so it cannot close the attribute): `looks_dangerous` would flag a
/// mark typed as `[x](javascript:…)` in it all the same.
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
async fn xss_corpus_in_every_assignment_field_stays_inert_on_every_page() {
    let started = Instant::now();
    // One pupil hands in the whole corpus in seconds: far past the hand-in
    // rate limit, which is not what this test is about.
    let t = spawn_app_with(TestOptions {
        no_rate_limits: true,
        ..TestOptions::default()
    })
    .await;
    let f = seed_fixture(&t).await;
    let teacher = t.signed_in(f.login("teacher_a")).await;
    let pupil = t.signed_in(f.login("pupil_a")).await;
    let parent = t.signed_in(f.login("parent_a")).await;
    let staff = t.signed_in(f.login("staff")).await;
    let colleague = t.signed_in(f.login("teacher_b")).await;
    let pupil_a = f.id("pupil_a");

    let mut problems = Vec::new();
    let mut accepted = 0;
    let mut refused = Vec::new();
    let mut names_shown = 0;
    let mut pages_checked = 0;
    for (i, payload) in XSS_CORPUS.iter().enumerate() {
        let folded = payload.split_whitespace().collect::<Vec<_>>().join(" ");
        let fallback_title = format!("Devoir {i}");
        let titre = if !folded.is_empty() && folded.chars().count() <= 150 {
            *payload
        } else {
            fallback_title.as_str()
        };
        let matiere = if !folded.is_empty() && folded.chars().count() <= 80 {
            *payload
        } else {
            "Sciences"
        };
        let r = create_assignment(
            &teacher,
            f.class_a,
            AssignmentForm {
                titre,
                matiere,
                consigne: payload,
                ..AssignmentForm::default()
            },
            &[],
        )
        .await;
        let id: i64 = match r.status {
            303 => r
                .h("location")
                .trim_start_matches("/rendus/")
                .parse()
                .expect("assignment id"),
            400 => {
                check_page(
                    &format!("refused assignment form {i} (input values emptied)"),
                    &without_input_values(&r.body),
                    &mut problems,
                );
                pages_checked += 1;
                refused.push((i, error_text(&r.body)));
                continue;
            }
            _ => panic!("payload {i} {payload:?}: {}", r.describe()),
        };
        accepted += 1;

        // The pupil hands in a file named with the payload and the payload as text.
        let file_name: String = payload
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let r = hand_in(
            &pupil,
            id,
            Some(&format!("xss-{i}")),
            Some(payload),
            &[(&file_name, PDF)],
        )
        .await;
        assert_eq!(r.status, 200, "hand-in of payload {i}: {}", r.describe());
        if receipts(&r.body)
            .first()
            .is_some_and(|rc| rc.files.len() == 1 && !rc.files[0].1.is_empty())
        {
            names_shown += 1;
        }
        check_page(&format!("receipt {i}"), &r.body, &mut problems);
        pages_checked += 1;

        // The teacher returns it with the payload as comment and (cut) as mark.
        let mark: String = payload.chars().take(20).collect();
        let r = Answer::of(
            teacher
                .post_form(
                    &format!("/rendus/{id}/retour/{}", pupil_a.0),
                    &[("commentaire", payload), ("note", &mark)],
                )
                .await,
        )
        .await;
        assert_eq!(r.status, 303, "feedback of payload {i}: {}", r.describe());

        let path = format!("/rendus/{id}");
        for (who, c, marks) in [
            ("pupil_a", &pupil, false),
            ("parent_a", &parent, false),
            ("teacher_b", &colleague, false),
            ("teacher_a", &teacher, true),
            ("staff", &staff, true),
        ] {
            let html = page(c, &path).await;
            if !html.contains("<h1>") {
                problems.push(format!("{who} /rendus/{id}: no heading"));
            }
            let html = if marks {
                without_input_values(&html)
            } else {
                html
            };
            check_page(
                &format!("payload {i}: {who} /rendus/{id}"),
                &html,
                &mut problems,
            );
            pages_checked += 1;
        }
        // The text in the zip is a web page too.
        let zip = teacher.get(&format!("/rendus/{id}/tout.zip")).await;
        assert_eq!(zip.status(), 200);
        match unzip(&zip.bytes().await.unwrap()) {
            Ok(entries) => {
                for e in entries.iter().filter(|e| e.name.ends_with(".html")) {
                    check_page(
                        &format!("payload {i}: zip {}", e.name),
                        &String::from_utf8_lossy(&e.data),
                        &mut problems,
                    );
                }
            }
            Err(e) => problems.push(format!("payload {i}: zip: {e}")),
        }
    }
    // One more with the whole corpus in each text.
    let all = XSS_CORPUS.join("\n\n");
    let id = create_ok(
        &teacher,
        f.class_a,
        AssignmentForm {
            titre: "Tout le corpus",
            consigne: &all,
            ..AssignmentForm::default()
        },
        &[],
    )
    .await;
    let r = hand_in(
        &pupil,
        id,
        Some("xss-tout"),
        Some(&all),
        &[("tout.pdf", PDF)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.describe());
    check_page("receipt (whole corpus)", &r.body, &mut problems);
    let r = Answer::of(
        teacher
            .post_form(
                &format!("/rendus/{id}/retour/{}", pupil_a.0),
                &[("commentaire", &all), ("note", "<b>20</b>")],
            )
            .await,
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.describe());
    // And refused forms that show the corpus back.
    let r = create_assignment(
        &teacher,
        f.class_a,
        AssignmentForm {
            titre: "<script>alert(1)</script>",
            matiere: "[x](javascript:alert(1))\" onfocus=\"alert(1)\" autofocus x=\"",
            consigne: &all,
            date: "2026-08-01",
            ..AssignmentForm::default()
        },
        &[],
    )
    .await;
    assert_eq!(r.status, 400, "a deadline in the past: {}", r.describe());
    check_page(
        "refused assignment form (input values emptied)",
        &without_input_values(&r.body),
        &mut problems,
    );
    let r = hand_in(&pupil, id, None, Some(&all), &[]).await;
    assert_eq!(r.status, 400);
    check_page("refused hand-in with the corpus", &r.body, &mut problems);
    let r = Answer::of(
        teacher
            .post_form(
                &format!("/rendus/{id}/retour/{}", pupil_a.0),
                &[("commentaire", &all), ("note", &"<script>".repeat(5))],
            )
            .await,
    )
    .await;
    assert_eq!(r.status, 400);
    check_page(
        "refused feedback with the corpus (input values emptied)",
        &without_input_values(&r.body),
        &mut problems,
    );
    pages_checked += 4;

    let mut lists = Vec::new();
    for (who, c) in [
        ("pupil_a", &pupil),
        ("parent_a", &parent),
        ("teacher_a", &teacher),
        ("staff", &staff),
    ] {
        let html = page(c, "/devoirs-a-rendre").await;
        check_page(&format!("{who} /devoirs-a-rendre"), &html, &mut problems);
        lists.push(html);
        for path in [format!("/rendus/{id}"), "/".to_string()] {
            let html = page(c, &path).await;
            let html = if who == "teacher_a" || who == "staff" {
                without_input_values(&html)
            } else {
                html
            };
            check_page(&format!("{who} {path}"), &html, &mut problems);
        }
    }
    pages_checked += 12;

    // The payloads did reach the pages (else this test proves nothing).
    let shown = lists[0]
        .replace("&#60;", "<")
        .replace("&lt;", "<")
        .replace("&#62;", ">")
        .replace("&gt;", ">");
    assert!(
        shown.contains("<script>alert(1)</script>") && !lists[0].contains("<script"),
        "titles are escaped, not dropped"
    );
    assert_eq!(
        lists[0].matches("<a href=\"/rendus/").count(),
        accepted + 1,
        "every accepted assignment is in the pupil's list"
    );
    assert!(names_shown >= accepted, "{names_shown} file names shown");
    println!(
        "xss: {} payloads, {accepted} assignments accepted, {} refused, {names_shown} file names shown, {pages_checked} pages checked in {:.1} s",
        XSS_CORPUS.len(),
        refused.len(),
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
