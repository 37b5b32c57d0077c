//! What people write (messages, news, homework instructions) is Markdown,
//! rendered to HTML and then sanitized: the HTML that reaches a page comes out
//! of [`render`] only.
//!
//! Two locks, each enough on its own for the common attacks:
//! 1. raw HTML in the source is never passed through: pulldown-cmark's HTML
//!    events become text, shown escaped; images become links (a message must
//!    not load a remote image: tracking pixels);
//! 2. ammonia keeps a short list of tags, one attribute on links (`href`, with
//!    `http`, `https` or `mailto` only) and adds `rel="noopener noreferrer
//!    nofollow"`.
//!
//! [`XSS_CORPUS`] and [`looks_dangerous`] are public so that HTTP tests can post
//! every payload into every text field and check the pages they land on.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// Longest Markdown text accepted in one field, in characters.
pub const MAX_MARKDOWN_CHARS: usize = 20_000;

/// Link relation added to every link.
pub const LINK_REL: &str = "noopener noreferrer nofollow";

/// Markdown to safe HTML.
///
/// Supported: paragraphs, emphasis, strikethrough (`~~x~~`), code, code
/// blocks, quotes, lists, tables, rules, links (`http`, `https`, `mailto`)
/// and headings, shifted down two levels (`#` is `<h3>`: the page has its own
/// `<h1>` and `<h2>`). Raw HTML is shown as text; `![alt](url)` is a link
/// whose text is `alt` (or the URL); task lists are plain text.
pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = tame(Parser::new_ext(markdown, options));
    let mut html = String::with_capacity(markdown.len() * 3 / 2 + 16);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    SANITIZER.clean(&html).to_string()
}

/// Checks the length of a Markdown field. `field` names it with its article,
/// as in a sentence: "le message", "la consigne".
pub fn check_length(text: &str, field: &'static str) -> Result<(), String> {
    let count = text.chars().count();
    if count <= MAX_MARKDOWN_CHARS {
        return Ok(());
    }
    let lower = field.to_lowercase();
    let subject = if lower.starts_with("le ") || lower.starts_with("la ") || lower.starts_with("l'")
    {
        capitalize(field)
    } else {
        format!("Le texte « {field} »")
    };
    let long = if lower.starts_with("la ") {
        "longue"
    } else {
        "long"
    };
    Err(format!(
        "{subject} est trop {long} ({} caractères) : {} caractères au plus.",
        thousands(count),
        thousands(MAX_MARKDOWN_CHARS)
    ))
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// 20512 -> "20 512".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let tags: HashSet<&str> = [
        "p",
        "br",
        "strong",
        "em",
        "del",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "hr",
    ]
    .into_iter()
    .collect();
    let tag_attributes: HashMap<&str, HashSet<&str>> = [
        ("a", ["href"].into_iter().collect()),
        ("ol", ["start"].into_iter().collect()),
    ]
    .into_iter()
    .collect();
    let mut builder = ammonia::Builder::default();
    builder
        .tags(tags)
        .clean_content_tags(["script", "style"].into_iter().collect())
        .generic_attributes(HashSet::new())
        .tag_attributes(tag_attributes)
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some(LINK_REL))
        .strip_comments(true);
    builder
});

/// The Markdown events, with what must not reach the page changed into
/// something harmless.
fn tame<'a>(parser: Parser<'a>) -> Vec<Event<'a>> {
    let events: Vec<Event<'a>> = parser.collect();
    let mut out = Vec::with_capacity(events.len());
    // How many links we are in (an image inside a link is only its alt text).
    let mut link_depth = 0usize;
    // For each open image: whether it became a link.
    let mut images: Vec<bool> = Vec::new();
    let mut i = 0;
    while i < events.len() {
        let event = events[i].clone();
        i += 1;
        match event {
            // Raw HTML is shown, never interpreted.
            Event::Html(text) | Event::InlineHtml(text) => out.push(Event::Text(text)),
            Event::Start(Tag::HtmlBlock) => out.push(Event::Start(Tag::Paragraph)),
            Event::End(TagEnd::HtmlBlock) => out.push(Event::End(TagEnd::Paragraph)),
            Event::Start(Tag::Heading { level, .. }) => out.push(Event::Start(Tag::Heading {
                level: shift(level),
                id: None,
                classes: Vec::new(),
                attrs: Vec::new(),
            })),
            Event::End(TagEnd::Heading(level)) => {
                out.push(Event::End(TagEnd::Heading(shift(level))))
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                link_depth += 1;
                out.push(Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }));
            }
            Event::End(TagEnd::Link) => {
                link_depth = link_depth.saturating_sub(1);
                out.push(Event::End(TagEnd::Link));
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let as_link = link_depth == 0;
                images.push(as_link);
                let empty_alt = matches!(events.get(i), Some(Event::End(TagEnd::Image)));
                if as_link {
                    link_depth += 1;
                    out.push(Event::Start(Tag::Link {
                        link_type,
                        dest_url: dest_url.clone(),
                        title,
                        id,
                    }));
                }
                if empty_alt {
                    out.push(Event::Text(if as_link {
                        dest_url
                    } else {
                        CowStr::Borrowed("image")
                    }));
                }
            }
            Event::End(TagEnd::Image) => {
                if images.pop().unwrap_or(false) {
                    link_depth = link_depth.saturating_sub(1);
                    out.push(Event::End(TagEnd::Link));
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// `#` is `<h3>`, `##` is `<h4>`, deeper ones `<h5>` and `<h6>`.
fn shift(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H3,
        HeadingLevel::H2 => HeadingLevel::H4,
        HeadingLevel::H3 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

/// Payloads that try to get script, remote content or event handlers into a
/// page through a Markdown field. Post each into every text field; the page
/// must pass [`looks_dangerous`].
pub const XSS_CORPUS: &[&str] = &[
    // Raw HTML
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://xss.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<iframe srcdoc=\"&lt;script&gt;alert(1)&lt;/script&gt;\"></iframe>",
    "<style>body{background:url(\"javascript:alert(1)\")}</style>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<p onclick=\"alert(1)\">clic</p>",
    "<details open ontoggle=alert(1)>",
    "<a href=\"javascript:alert(1)\">clic</a>",
    "<a\nhref=\"javascript:alert(1)\">clic</a>",
    "<a href=\"jav&#x09;ascript:alert(1)\">clic</a>",
    "<a href=\"&#x6A;avascript:alert(1)\">clic</a>",
    "<a href=\"data:text/html,<script>alert(1)</script>\">clic</a>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=javascript:alert(1)>",
    "<form action=javascript:alert(1)><input type=submit></form>",
    "<base href=\"javascript:alert(1)//\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<!-- <script>alert(1)</script> -->",
    "**<img src=x onerror=alert(1)>**",
    "> <iframe src=//xss.example></iframe>",
    // Markdown links
    "[clic](javascript:alert(1))",
    "[clic](JaVaScRiPt:alert(1))",
    "[clic](javascript&#58;alert(1))",
    "[clic](javas&#99;ript:alert(1))",
    "[clic](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1))",
    "[clic](<javascript:alert(1)>)",
    "[clic](  javascript:alert(1)  )",
    "[clic](vbscript:msgbox(1))",
    "[clic](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[clic](https://example.org\" onmouseover=\"alert(1))",
    "[clic](https://example.org/\"><script>alert(1)</script>)",
    "[clic](https://example.org \"titre\" onmouseover=alert(1))",
    "[clic][1]\n\n[1]: javascript:alert(1)",
    "[clic]\n\n[clic]: JAVASCRIPT:alert(1) \"titre\"",
    "[[x](javascript:alert(1))](https://example.org)",
    "[x](https://example.org)[y](javascript:alert(1))",
    "[clic](java\u{0}script:alert(1))",
    "[clic](\u{FEFF}javascript:alert(1))",
    "\u{202E}[clic](javascript:alert(1))",
    "[clic](javascript\u{FF1A}alert(1))",
    // Images
    "![x](javascript:alert(1))",
    "![x\" onerror=\"alert(1)](https://example.org/a.png)",
    "![](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "[![x](https://example.org/a.png)](javascript:alert(1))",
    // Autolinks
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<https://example.org/\" onmouseover=\"alert(1)>",
    // Code keeps it as text
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "    <img src=x onerror=alert(1)>",
    // Tables
    "| a | b |\n|---|---|\n| <script>alert(1)</script> | [x](javascript:alert(1)) |",
];

/// Why a piece of HTML could run script or load remote content, if it could:
/// script, iframe, img, svg, style, object, embed, base or frame elements,
/// `on*` attributes, `style` attributes, `javascript:` or `vbscript:` in any
/// attribute (after decoding entities and removing blanks), `data:` in a URL
/// attribute. Text content is not looked at: `&lt;script&gt;` is fine.
pub fn looks_dangerous(html: &str) -> Option<&'static str> {
    let lower = html.to_ascii_lowercase();
    const ELEMENTS: &[(&str, &str)] = &[
        ("<script", "script element"),
        ("<iframe", "iframe element"),
        ("<frame", "frame element"),
        ("<img", "img element"),
        ("<svg", "svg element"),
        ("<style", "style element"),
        ("<object", "object element"),
        ("<embed", "embed element"),
        ("<applet", "applet element"),
        ("<base", "base element"),
    ];
    for (needle, why) in ELEMENTS {
        if lower.contains(needle) {
            return Some(why);
        }
    }
    for (name, value) in attributes(html) {
        let name = name.to_ascii_lowercase();
        if name.len() > 2 && name.starts_with("on") {
            return Some("event handler attribute");
        }
        if name == "style" {
            return Some("style attribute");
        }
        let value: String = decode_entities(&value)
            .chars()
            .filter(|c| !c.is_whitespace() && !c.is_control())
            .flat_map(char::to_lowercase)
            .collect();
        if value.contains("javascript:") {
            return Some("javascript: URL");
        }
        if value.contains("vbscript:") {
            return Some("vbscript: URL");
        }
        let url_attr = matches!(
            name.as_str(),
            "href" | "src" | "action" | "formaction" | "data" | "poster" | "xlink:href" | "srcset"
        );
        if url_attr && value.starts_with("data:") {
            return Some("data: URL");
        }
    }
    None
}

/// Every attribute of every tag, value still encoded.
fn attributes(html: &str) -> Vec<(String, String)> {
    let b = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'<' || !b.get(i + 1).is_some_and(u8::is_ascii_alphabetic) {
            i += 1;
            continue;
        }
        // Tag name.
        i += 1;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' && b[i] != b'/' {
            i += 1;
        }
        // Attributes up to '>'.
        loop {
            while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
                i += 1;
            }
            if i >= b.len() || b[i] == b'>' {
                break;
            }
            let start = i;
            while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/')
            {
                i += 1;
            }
            let name = String::from_utf8_lossy(&b[start..i]).into_owned();
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            let mut value = String::new();
            if i < b.len() && b[i] == b'=' {
                i += 1;
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                    let quote = b[i];
                    i += 1;
                    let vstart = i;
                    while i < b.len() && b[i] != quote {
                        i += 1;
                    }
                    value = String::from_utf8_lossy(&b[vstart..i]).into_owned();
                    i += 1;
                } else {
                    let vstart = i;
                    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                        i += 1;
                    }
                    value = String::from_utf8_lossy(&b[vstart..i]).into_owned();
                }
            }
            if !name.is_empty() {
                out.push((name, value));
            } else {
                i += 1;
            }
        }
    }
    out
}

/// Decodes numeric character references and the named ones that matter for
/// URLs (`&colon;`, `&Tab;`, `&NewLine;`, ...), as a browser would.
fn decode_entities(s: &str) -> String {
    const NAMED: &[(&str, char)] = &[
        ("amp", '&'),
        ("lt", '<'),
        ("gt", '>'),
        ("quot", '"'),
        ("apos", '\''),
        ("colon", ':'),
        ("tab", '\t'),
        ("newline", '\n'),
        ("nbsp", '\u{a0}'),
        ("lpar", '('),
        ("rpar", ')'),
        ("sol", '/'),
        ("semi", ';'),
        ("equals", '='),
    ];
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos + 1..];
        if let Some(num) = rest.strip_prefix('#') {
            let (hex, digits_from) = match num.strip_prefix(['x', 'X']) {
                Some(h) => (true, h),
                None => (false, num),
            };
            let len = digits_from
                .bytes()
                .take_while(|c| {
                    if hex {
                        c.is_ascii_hexdigit()
                    } else {
                        c.is_ascii_digit()
                    }
                })
                .count();
            if len > 0 {
                let digits = &digits_from[..len];
                let code = u32::from_str_radix(digits, if hex { 16 } else { 10 }).ok();
                out.push(code.and_then(char::from_u32).unwrap_or('\u{FFFD}'));
                let after = &digits_from[len..];
                rest = after.strip_prefix(';').unwrap_or(after);
                continue;
            }
        } else {
            let len = rest.bytes().take_while(u8::is_ascii_alphanumeric).count();
            let name = rest[..len].to_ascii_lowercase();
            if let Some((_, c)) = NAMED.iter().find(|(n, _)| *n == name) {
                out.push(*c);
                let after = &rest[len..];
                rest = after.strip_prefix(';').unwrap_or(after);
                continue;
            }
        }
        out.push('&');
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `href` of the output, decoded.
    fn hrefs(html: &str) -> Vec<String> {
        attributes(html)
            .into_iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("href"))
            .map(|(_, v)| decode_entities(&v))
            .collect()
    }

    #[test]
    fn corpus_is_big_enough() {
        assert!(XSS_CORPUS.len() >= 25, "{}", XSS_CORPUS.len());
    }

    #[test]
    fn no_payload_survives() {
        for payload in XSS_CORPUS {
            let html = render(payload);
            assert_eq!(
                looks_dangerous(&html),
                None,
                "payload {payload:?} gave {html:?}"
            );
            for href in hrefs(&html) {
                assert!(
                    href.starts_with("http://")
                        || href.starts_with("https://")
                        || href.starts_with("mailto:"),
                    "payload {payload:?} gave href {href:?}"
                );
            }
            // Every link carries the rel.
            let links = html.matches("<a ").count() + html.matches("<a>").count();
            assert_eq!(
                links,
                html.matches(&format!("rel=\"{LINK_REL}\"")).count(),
                "payload {payload:?} gave {html:?}"
            );
        }
    }

    #[test]
    fn payloads_in_a_longer_message_do_not_survive_either() {
        let all = XSS_CORPUS.join("\n\nBonjour *à tous*\n\n");
        let html = render(&all);
        assert_eq!(looks_dangerous(&html), None, "{html}");
        // And the same text inline, in one paragraph.
        let inline = XSS_CORPUS.join(" ");
        assert_eq!(looks_dangerous(&render(&inline)), None);
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        let html = render("Voici <b>du gras</b> et <script>alert(1)</script>");
        assert!(html.contains("&lt;b&gt;du gras&lt;/b&gt;"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        let block = render("<div>\nbloc\n</div>");
        assert!(block.contains("&lt;div&gt;"), "{block}");
    }

    #[test]
    fn checker_catches_what_it_should() {
        let bad = [
            ("<script>x</script>", "script element"),
            ("<a href=\"javascript:alert(1)\">x</a>", "javascript: URL"),
            (
                "<a href=\"JaVa&#x53;cript&colon;alert(1)\">x</a>",
                "javascript: URL",
            ),
            (
                "<a href=\"java&#9;script:alert(1)\">x</a>",
                "javascript: URL",
            ),
            (
                "<a href=\"&#106avascript:alert(1)\">x</a>",
                "javascript: URL",
            ),
            ("<p onclick=\"x()\">x</p>", "event handler attribute"),
            ("<p\nONMOUSEOVER=x>x</p>", "event handler attribute"),
            ("<a href=\"data:text/html,x\">x</a>", "data: URL"),
            ("<IMG src=x>", "img element"),
            ("<svg/onload=x>", "svg element"),
            ("<p style=\"color:red\">x</p>", "style attribute"),
        ];
        for (html, why) in bad {
            assert_eq!(looks_dangerous(html), Some(why), "{html}");
        }
        let fine = [
            "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>",
            "<p>javascript:alert(1) onclick=x</p>",
            "<a href=\"https://example.org/?q=javascript\" rel=\"noopener\">x</a>",
            "<form method=\"post\" action=\"/messages\"><input name=\"csrf\"></form>",
        ];
        for html in fine {
            assert_eq!(looks_dangerous(html), None, "{html}");
        }
    }

    #[test]
    fn normal_markdown_renders() {
        let html = render("**gras** et *italique* et ~~barré~~");
        assert_eq!(
            html,
            "<p><strong>gras</strong> et <em>italique</em> et <del>barré</del></p>\n"
        );

        let html = render("- un\n- deux\n\n3. trois\n4. quatre");
        assert!(
            html.contains("<ul>\n<li>un</li>\n<li>deux</li>\n</ul>"),
            "{html}"
        );
        assert!(html.contains("<ol start=\"3\">"), "{html}");

        let html = render("Voir [le site](https://example.org/a?b=1&c=2).");
        assert_eq!(
            html,
            "<p>Voir <a href=\"https://example.org/a?b=1&amp;c=2\" rel=\"noopener noreferrer nofollow\">le site</a>.</p>\n"
        );

        let html = render("<https://example.org> et <prof@example.org>");
        assert!(html.contains("href=\"https://example.org\""), "{html}");
        assert!(html.contains("href=\"mailto:prof@example.org\""), "{html}");

        let html = render("```\nif a < b && c > d { <b>x</b> }\n```");
        assert_eq!(
            html,
            "<pre><code>if a &lt; b &amp;&amp; c &gt; d { &lt;b&gt;x&lt;/b&gt; }\n</code></pre>\n"
        );
        let html = render("Tapez `<br>` pour aller à la ligne");
        assert!(html.contains("<code>&lt;br&gt;</code>"), "{html}");

        let html = render("> cité\n\n---");
        assert!(
            html.contains("<blockquote>\n<p>cité</p>\n</blockquote>"),
            "{html}"
        );
        assert!(html.contains("<hr>"), "{html}");

        let html = render("| a | b |\n|:-|-:|\n| 1 | 2 |");
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("<th>a</th>"), "{html}");
        assert!(html.contains("<td>2</td>"), "{html}");

        let html = render("ligne 1  \nligne 2");
        assert!(html.contains("ligne 1<br>"), "{html}");
    }

    #[test]
    fn headings_go_down_two_levels() {
        let html = render("# Un\n## Deux\n### Trois\n#### Quatre\n###### Six");
        assert_eq!(
            html,
            "<h3>Un</h3>\n<h4>Deux</h4>\n<h5>Trois</h5>\n<h6>Quatre</h6>\n<h6>Six</h6>\n"
        );
    }

    #[test]
    fn images_become_links() {
        let html = render("![un chat](https://example.org/chat.png)");
        assert_eq!(
            html,
            "<p><a href=\"https://example.org/chat.png\" rel=\"noopener noreferrer nofollow\">un chat</a></p>\n"
        );
        let html = render("![](https://example.org/chat.png)");
        assert!(html.contains(">https://example.org/chat.png</a>"), "{html}");
        let html = render("[![logo](https://example.org/l.png)](https://example.org)");
        assert_eq!(
            html,
            "<p><a href=\"https://example.org\" rel=\"noopener noreferrer nofollow\">logo</a></p>\n"
        );
        assert!(!render("![x](https://example.org/a.png)").contains("<img"));
    }

    #[test]
    fn links_other_than_web_and_mail_lose_their_target() {
        for md in [
            "[x](/classes/3)",
            "[x](ftp://example.org)",
            "[x](file:///etc/passwd)",
            "[x](tel:0102030405)",
        ] {
            let html = render(md);
            assert!(!html.contains("href"), "{md}: {html}");
            assert!(html.contains(">x</a>"), "{md}: {html}");
        }
    }

    #[test]
    fn task_lists_are_text() {
        let html = render("- [ ] lire\n- [x] écrire");
        assert!(!html.contains("<input"), "{html}");
        assert!(html.contains("[ ] lire"), "{html}");
    }

    #[test]
    fn deep_nesting_does_not_crash() {
        let quotes = "> ".repeat(5_000) + "fond";
        assert_eq!(looks_dangerous(&render(&quotes)), None);
        let lists = "- ".repeat(5_000) + "x";
        assert_eq!(looks_dangerous(&render(&lists)), None);
        let brackets = "[".repeat(10_000) + "x" + &"](javascript:alert(1))".repeat(1_000);
        assert_eq!(looks_dangerous(&render(&brackets)), None);
        let stars = "*a ".repeat(7_000);
        assert_eq!(looks_dangerous(&render(&stars)), None);
    }

    #[test]
    fn length_limit() {
        assert_eq!(
            check_length(&"é".repeat(MAX_MARKDOWN_CHARS), "le message"),
            Ok(())
        );
        assert_eq!(
            check_length(&"a".repeat(20_512), "le message"),
            Err("Le message est trop long (20 512 caractères) : 20 000 caractères au plus.".into())
        );
        assert_eq!(
            check_length(&"a".repeat(20_001), "la consigne"),
            Err(
                "La consigne est trop longue (20 001 caractères) : 20 000 caractères au plus."
                    .into()
            )
        );
        assert!(check_length(&"a".repeat(20_001), "objet")
            .unwrap_err()
            .starts_with("Le texte « objet » est trop long"));
        assert_eq!(thousands(5), "5");
        assert_eq!(thousands(1_234_567), "1 234 567");
    }
}
