//! A week of cahier de textes per class, with one attachment, and one open
//! devoir à rendre: written through the store port, with the text rendered
//! by the app's Markdown renderer and the file stored by the real blob
//! store, so that pages and downloads behave as after a teacher's work.

use cartable_app::markdown;
use cartable_app::App;
use cartable_domain::calendar::Day;
use cartable_domain::names::fold_key;
use cartable_domain::{ClassId, SchoolId, Target, UserId};
use cartable_store::{LessonFields, NewAssignment, NewAttachment, NewLesson};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;

use super::names::topics;
use super::SeedError;

/// Entries of the cahier de textes per class.
pub const LESSONS_PER_CLASS: usize = 5;

/// One class and who teaches what in it.
pub struct ClassWork {
    pub school: SchoolId,
    pub class: ClassId,
    pub class_name: String,
    /// (subject, teacher).
    pub subjects: Vec<(String, UserId)>,
}

/// What one class received.
#[derive(Debug, Default, Clone, Copy)]
pub struct Written {
    pub lessons: usize,
    pub attachments: usize,
    pub assignments: usize,
}

pub async fn write_class_homework(
    app: &App,
    rng: &mut StdRng,
    today: Day,
    work: &ClassWork,
) -> Result<Written, SeedError> {
    let mut written = Written::default();
    if work.subjects.is_empty() {
        return Ok(written);
    }
    let now = app.now();
    let mut chosen: Vec<&(String, UserId)> = work.subjects.iter().collect();
    chosen.shuffle(rng);
    chosen.truncate(LESSONS_PER_CLASS);
    for (k, (subject, teacher)) in chosen.iter().enumerate() {
        let topic = pick(rng, topics(subject));
        let lesson_date = today.plus(-rng.gen_range(0..=3));
        let due = today.plus(rng.gen_range(0..=6));
        let is_test = k == LESSONS_PER_CLASS - 1;
        let content = format!("Nous avons étudié **{topic}**.");
        let homework = if is_test {
            format!("Réviser {topic} pour l'**évaluation**.\n\n- relire la leçon\n- refaire les exercices corrigés")
        } else {
            format!(
                "- Relire la leçon sur {topic}\n- Faire les exercices {} et {} p. {}",
                rng.gen_range(1..=10),
                rng.gen_range(11..=20),
                rng.gen_range(12..=180)
            )
        };
        let attachments = if k == 0 {
            written.attachments += 1;
            vec![store_sheet(app, subject, topic, &work.class_name).await?]
        } else {
            Vec::new()
        };
        app.store
            .create_lesson(&NewLesson {
                school_id: work.school,
                target: Target::Class(work.class),
                author_id: *teacher,
                fields: LessonFields {
                    subject: subject.clone(),
                    lesson_date: lesson_date.iso(),
                    content_html: markdown::render(&content),
                    content_md: content,
                    homework_html: markdown::render(&homework),
                    homework_md: homework,
                    due_date: Some(due.iso()),
                    workload_minutes: Some(rng.gen_range(2..=9) * 5),
                    is_test,
                    publish_at: now,
                },
                attachments,
                now,
            })
            .await?;
        written.lessons += 1;
    }

    let (subject, teacher) = chosen[0];
    let topic = pick(rng, topics(subject));
    let instructions = format!(
        "Rédigez une page sur **{topic}**.\n\n- un fichier PDF ou une photo de votre copie\n- n'oubliez pas votre nom"
    );
    app.store
        .create_assignment(&NewAssignment {
            school_id: work.school,
            target: Target::Class(work.class),
            author_id: *teacher,
            subject: subject.clone(),
            title: format!("Devoir maison : {topic}"),
            instructions_html: markdown::render(&instructions),
            instructions_md: instructions,
            due_at: today.plus(rng.gen_range(2..=5)).at_paris(18 * 3600),
            accepts_files: true,
            accepts_text: true,
            attachments: Vec::new(),
            now,
        })
        .await?;
    written.assignments += 1;
    Ok(written)
}

fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list[rng.gen_range(0..list.len())]
}

/// Writes an exercise sheet through the blob store, as an upload would.
async fn store_sheet(
    app: &App,
    subject: &str,
    topic: &str,
    class_name: &str,
) -> Result<NewAttachment, SeedError> {
    let bytes = sheet_pdf(subject, topic, class_name);
    let mut writer = app.blobs.create(app.config.max_file_bytes).await?;
    writer.write(&bytes).await?;
    let meta = writer.finish().await?;
    Ok(NewAttachment {
        blob_key: meta.key,
        file_name: format!("fiche-{}.pdf", fold_key(subject)),
        content_type: meta.content_type,
        size: i64::try_from(meta.size).unwrap_or(i64::MAX),
        sha256: meta.sha256,
    })
}

/// A one-page PDF of a few kilobytes that readers open: a title and a list
/// of exercises, in Helvetica.
pub fn sheet_pdf(subject: &str, topic: &str, class_name: &str) -> Vec<u8> {
    let mut text = String::from("BT /F1 16 Tf 56 780 Td 20 TL ");
    text.push_str(&format!(
        "({}) Tj T* /F1 11 Tf 15 TL ",
        pdf_text(&format!("{subject} — {class_name} : fiche d'exercices"))
    ));
    text.push_str(&format!(
        "({}) Tj T* T* ",
        pdf_text(&format!("Thème : {topic}"))
    ));
    for n in 1..=40 {
        let line = format!(
            "Exercice {n} : lisez l'énoncé, répondez en faisant des phrases complètes, puis vérifiez."
        );
        text.push_str(&format!("({}) Tj T* ", pdf_text(&line)));
    }
    text.push_str("ET");

    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] \
         /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
            .to_string(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_string(),
    ];
    let mut pdf = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        pdf.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

/// A PDF string literal's content in WinAnsi: Latin-1 letters as octal
/// escapes (so the stream stays ASCII), the dash as 0x97, anything else `?`.
fn pdf_text(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '(' | ')' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            '—' => out.push_str("\\227"),
            '’' => out.push_str("\\222"),
            c if (c as u32) >= 0xA0 && (c as u32) <= 0xFF => {
                out.push_str(&format!("\\{:03o}", c as u32));
            }
            _ => out.push('?'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sheet_is_a_small_pdf_with_a_correct_xref() {
        let pdf = sheet_pdf("Mathématiques", "les fractions", "6e A");
        assert!(pdf.starts_with(b"%PDF-1.4"));
        assert!((2_000..10_000).contains(&pdf.len()), "{}", pdf.len());
        let text = String::from_utf8_lossy(&pdf);
        let start: usize = text
            .rsplit("startxref\n")
            .next()
            .and_then(|t| t.lines().next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!(pdf[start..].starts_with(b"xref"));
        assert!(text.contains("Math\\351matiques"));
    }
}
