//! HTML cleaned with Mastodon's strict set of tags and classes, so nothing a remote server (or a
//! stored record from before a fix) writes can script a client or a page: remote HTML on the way
//! in, and every post and bio again on the way out to clients, feeds and pages.

use std::collections::HashSet;
use std::sync::OnceLock;

fn builder() -> &'static ammonia::Builder<'static> {
    static B: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    B.get_or_init(|| {
        let mut b = ammonia::Builder::empty();
        b.add_tags([
            "p",
            "br",
            "span",
            "a",
            "del",
            "s",
            "pre",
            "code",
            "em",
            "strong",
            "b",
            "i",
            "u",
            "ul",
            "ol",
            "li",
            "blockquote",
            // Headings: Mastodon's strict set keeps them, and converted objects (a video's or
            // an article's title) are shown under one.
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
        ])
        .add_tag_attributes("a", ["href", "translate"])
        .add_tag_attributes("span", ["translate"])
        .add_tag_attributes("ol", ["start", "reversed"])
        .add_tag_attributes("li", ["value"])
        .url_schemes(HashSet::from([
            "http", "https", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "xmpp", "magnet", "gemini",
        ]))
        .link_rel(Some("nofollow noopener noreferrer"))
        // Relative and protocol-relative links (`//host/x`) are dropped: a post's links must say
        // where they go, wherever the HTML is shown.
        .url_relative(ammonia::UrlRelative::Deny)
        .allowed_classes(std::collections::HashMap::from([
            ("a", HashSet::from(["h-card", "u-url", "mention", "hashtag", "status-link"])),
            ("span", HashSet::from(["h-card", "invisible", "ellipsis", "ellipsis-", "mention", "hashtag"])),
            // The "RE: <link>" paragraph of a quote (Mastodon marks it so clients that show
            // quotes natively can hide it).
            ("p", HashSet::from(["quote-inline"])),
        ]))
        .strip_comments(true);
        b
    })
}

/// Remote HTML as it may be stored and shown.
pub fn clean(html: &str) -> String {
    builder().clean(html).to_string()
}

/// Plain text for a name or summary field: tags dropped, entities kept escaped by the caller.
pub fn text(html: &str) -> String {
    ammonia::Builder::empty().clean(html).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_styles_and_handlers_are_removed() {
        let dirty = r#"<p onclick="x()">Hi <script>alert(1)</script><a href="javascript:alert(1)">j</a> <a href="https://ok.example/" class="mention evil">ok</a><img src=x onerror=alert(1)><iframe></iframe></p>"#;
        let c = clean(dirty);
        assert!(!c.contains("script") && !c.contains("onclick") && !c.contains("img") && !c.contains("iframe"), "{c}");
        assert!(!c.contains("javascript"), "{c}");
        assert!(c.contains(r#"href="https://ok.example/""#), "{c}");
        assert!(c.contains(r#"class="mention""#) && !c.contains("evil"), "{c}");
        assert!(c.contains("nofollow"), "{c}");
    }

    #[test]
    fn only_absolute_http_links_survive() {
        for bad in ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "//evil.example/x", "/relative", "data:text/html,x"] {
            let c = clean(&format!(r#"<a href="{bad}">x</a>"#));
            assert!(!c.contains("href"), "{bad} → {c}");
        }
    }
}
