//! What a journey reads from a page: a form's hidden fields and a few links.
//! Plain string search: the pages are Cartable's own templates.

/// The value of `<input ... name="NAME" value="...">`.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html.find(&needle)? + needle.len();
    let end = html[start..].find('"')? + start;
    Some(unescape(&html[start..end]))
}

/// Undoes the HTML escaping of an attribute value.
fn unescape(s: &str) -> String {
    s.replace("&#x2F;", "/")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Every `href="PREFIX<digits>"`, in page order, without repeats:
/// `links(page, "/pieces-jointes/")` gives `["/pieces-jointes/12", ...]`.
pub fn links(html: &str, prefix: &str) -> Vec<String> {
    let needle = format!("href=\"{prefix}");
    let mut out: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&needle) {
        let after = &rest[i + needle.len()..];
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        let next = after.as_bytes().get(digits.len()).copied();
        if !digits.is_empty() && next == Some(b'"') {
            let link = format!("{prefix}{digits}");
            if !out.contains(&link) {
                out.push(link);
            }
        }
        rest = after;
    }
    out
}

/// The ids of the people the compose page offers with this role label
/// ("Enseignant"), in page order.
pub fn offered_people(html: &str, role_label: &str) -> Vec<String> {
    let mut out = Vec::new();
    for item in html.split("name=\"personne\" value=\"").skip(1) {
        let Some(end) = item.find('"') else { continue };
        let id = &item[..end];
        // The label of this line ends the list item.
        let line = item.split("</li>").next().unwrap_or("");
        if line.contains(role_label) && id.bytes().all(|b| b.is_ascii_digit()) {
            out.push(id.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_and_links() {
        let page = r#"<form><input type="hidden" name="csrf" value="a-b_c">
<input type="hidden" name="cle" value="k&amp;1"></form>
<a href="/pieces-jointes/12" download>x</a> <a href="/pieces-jointes/12">again</a>
<a href="/pieces-jointes/7">y</a> <a href="/pieces-jointes/">none</a> <a href="/rendus/3/tout.zip">zip</a> <a href="/rendus/4">r</a>"#;
        assert_eq!(hidden(page, "csrf").as_deref(), Some("a-b_c"));
        assert_eq!(hidden(page, "cle").as_deref(), Some("k&1"));
        assert_eq!(hidden(page, "nope"), None);
        assert_eq!(
            links(page, "/pieces-jointes/"),
            vec!["/pieces-jointes/12", "/pieces-jointes/7"]
        );
        assert_eq!(links(page, "/rendus/"), vec!["/rendus/4"]);
    }

    #[test]
    fn finds_teachers_on_the_compose_page() {
        let page = r#"<ul><li><input type="checkbox" id="p5" name="personne" value="5"> <label for="p5">Léa Martin <small class="inline">Élève, 6e A</small></label></li>
<li><input type="checkbox" id="p9" name="personne" value="9"> <label for="p9">Camille Delorme <small class="inline">Enseignant, Histoire</small></label></li></ul>"#;
        assert_eq!(offered_people(page, "Enseignant"), vec!["9"]);
        assert_eq!(offered_people(page, "Élève"), vec!["5"]);
    }
}
