//! Plain text as people type it → the HTML a status carries: escaped, paragraphs and line breaks,
//! links for URLs, `#hashtags` and resolved `@mentions`.

/// A mention the caller could resolve: `@name` or `@name@domain` as typed, and where it links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedMention {
    pub typed: String,
    pub url: String,
    pub username: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rendered {
    pub html: String,
    /// Lowercased hashtags, in order of first use.
    pub tags: Vec<String>,
}

/// Mastodon counts every URL as 23 characters, whatever its length.
pub const URL_WEIGHT: usize = 23;

/// The length of a status as Mastodon limits it.
pub fn weighted_length(text: &str) -> usize {
    let mut len = text.chars().count();
    for link in linkify::LinkFinder::new().kinds(&[linkify::LinkKind::Url]).links(text) {
        len = len - link.as_str().chars().count() + URL_WEIGHT;
    }
    len
}

fn escape(s: &str) -> String {
    html_escape::encode_text(s).replace('"', "&quot;")
}

fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Hashtags and mentions in a run of text that holds no URL.
fn render_words(text: &str, base: &str, mentions: &[ResolvedMention], out: &mut String, tags: &mut Vec<String>) {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at_word_start = i == 0 || !(is_tag_char(chars[i - 1]) || chars[i - 1] == '@' || chars[i - 1] == '#');
        if c == '#' && at_word_start {
            let end = (i + 1..chars.len()).find(|&j| !is_tag_char(chars[j])).unwrap_or(chars.len());
            let tag: String = chars[i + 1..end].iter().collect();
            if !tag.is_empty() && !tag.chars().all(|c| c.is_ascii_digit()) {
                let lower = tag.to_lowercase();
                out.push_str(&format!(
                    "<a href=\"{base}/tags/{}\" class=\"mention hashtag\" rel=\"tag\">#<span>{}</span></a>",
                    escape(&lower),
                    escape(&tag)
                ));
                if !tags.contains(&lower) {
                    tags.push(lower);
                }
                i = end;
                continue;
            }
        }
        if c == '@' && at_word_start {
            // `@name`, `@name@domain`, and `@name@domain:port` (a port only after the domain).
            let mut end = i + 1;
            let mut in_domain = false;
            while end < chars.len() {
                let (ch, next) = (chars[end], chars.get(end + 1).copied());
                let joins = matches!(ch, '@' | '.' | '-') && next.is_some_and(is_tag_char);
                let port = ch == ':' && in_domain && next.is_some_and(|n| n.is_ascii_digit());
                if !(is_tag_char(ch) || joins || port) {
                    break;
                }
                in_domain |= ch == '@';
                end += 1;
            }
            let typed: String = chars[i..end].iter().collect();
            // A mention links only to an http(s) profile: the URL comes from another server.
            let found = mentions.iter().find(|m| m.typed.eq_ignore_ascii_case(&typed));
            if let Some(m) = found.filter(|m| crate::activitypub::vocab::http_url(&m.url).is_some()) {
                out.push_str(&format!(
                    "<span class=\"h-card\"><a href=\"{}\" class=\"u-url mention\">@<span>{}</span></a></span>",
                    escape(&m.url),
                    escape(&m.username)
                ));
                i = end;
                continue;
            }
        }
        out.push_str(&escape(&c.to_string()));
        i += 1;
    }
}

fn render_line(line: &str, base: &str, mentions: &[ResolvedMention], out: &mut String, tags: &mut Vec<String>) {
    let mut last = 0;
    for link in linkify::LinkFinder::new().kinds(&[linkify::LinkKind::Url]).links(line) {
        render_words(&line[last..link.start()], base, mentions, out, tags);
        let url = link.as_str();
        if url.starts_with("http://") || url.starts_with("https://") {
            let shown = url.split_once("://").map_or(url, |(_, rest)| rest);
            out.push_str(&format!(
                "<a href=\"{}\" target=\"_blank\" rel=\"nofollow noopener noreferrer\">{}</a>",
                escape(url),
                escape(shown)
            ));
        } else {
            out.push_str(&escape(url));
        }
        last = link.end();
    }
    render_words(&line[last..], base, mentions, out, tags);
}

/// Renders plain text. `base` is the instance's base URL (for hashtag links).
pub fn render(text: &str, base: &str, mentions: &[ResolvedMention]) -> Rendered {
    let mut html = String::new();
    let mut tags = Vec::new();
    let normalized = text.replace("\r\n", "\n");
    for para in normalized.split("\n\n").map(|p| p.trim_matches('\n')).filter(|p| !p.trim().is_empty()) {
        html.push_str("<p>");
        for (n, line) in para.split('\n').enumerate() {
            if n > 0 {
                html.push_str("<br />");
            }
            render_line(line, base, mentions, &mut html, &mut tags);
        }
        html.push_str("</p>");
    }
    Rendered { html, tags }
}

/// `@name` and `@name@domain` tokens in the text, as typed, for the caller to resolve.
pub fn mention_candidates(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || ",;!?()[]{}<>\"'".contains(c)) {
        let Some(rest) = word.strip_prefix('@') else { continue };
        // A colon ends the mention (`@alice: hi`) unless it starts the port of a domain
        // (`@bob@host:8080`).
        let rest = match rest.split_once(':') {
            Some((before, port))
                if before.contains('@') && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) =>
            {
                rest
            }
            Some((before, _)) => before,
            None => rest,
        };
        let rest = rest.trim_end_matches(['.', '-']);
        let mut parts = rest.splitn(2, '@');
        let name = parts.next().unwrap_or_default();
        if name.is_empty() || !name.chars().all(is_tag_char) {
            continue;
        }
        let typed = format!("@{rest}");
        if !out.contains(&typed) {
            out.push(typed);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_colon_ends_a_mention_unless_it_starts_a_port() {
        assert_eq!(
            mention_candidates("@alice: hi @bob@example.com:8080 and @carol@example.org:"),
            vec!["@alice".to_string(), "@bob@example.com:8080".to_string(), "@carol@example.org".to_string(),]
        );
    }

    #[test]
    fn escapes_links_and_tags() {
        let r = render("Hi <b>there</b> & see https://example.com/a?b=1 #Rust #rust\n\nbye", "https://s.example", &[]);
        assert_eq!(
            r.html,
            "<p>Hi &lt;b&gt;there&lt;/b&gt; &amp; see <a href=\"https://example.com/a?b=1\" target=\"_blank\" rel=\"nofollow noopener noreferrer\">example.com/a?b=1</a> <a href=\"https://s.example/tags/rust\" class=\"mention hashtag\" rel=\"tag\">#<span>Rust</span></a> <a href=\"https://s.example/tags/rust\" class=\"mention hashtag\" rel=\"tag\">#<span>rust</span></a></p><p>bye</p>"
        );
        assert_eq!(r.tags, vec!["rust"]);
    }

    #[test]
    fn mentions_link_only_when_resolved() {
        let m = ResolvedMention { typed: "@bob".into(), url: "https://s.example/@bob".into(), username: "bob".into() };
        let r = render("hey @bob and @carol, a@b", "https://s.example", &[m]);
        assert!(r.html.contains("<a href=\"https://s.example/@bob\" class=\"u-url mention\">@<span>bob</span></a>"));
        assert!(r.html.contains("@carol"));
        assert!(!r.html.contains("carol</span>"));
        assert_eq!(mention_candidates("hey @bob and @carol@x.org, a@b @bob."), vec!["@bob", "@carol@x.org"]);
    }

    #[test]
    fn urls_weigh_23() {
        let long = format!("see https://example.com/{}", "a".repeat(100));
        assert_eq!(weighted_length(&long), 4 + 23);
    }
}
