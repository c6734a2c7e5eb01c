//! OAuth scopes as Mastodon defines them: `read`, `write`, `follow`, `push`, `profile` and the
//! granular `read:statuses`, `write:media`… A top-level scope grants all of its granular ones.

const GRANULAR: &[&str] = &[
    "read:accounts",
    "read:blocks",
    "read:bookmarks",
    "read:favourites",
    "read:filters",
    "read:follows",
    "read:lists",
    "read:mutes",
    "read:notifications",
    "read:search",
    "read:statuses",
    "write:accounts",
    "write:blocks",
    "write:bookmarks",
    "write:conversations",
    "write:favourites",
    "write:filters",
    "write:follows",
    "write:lists",
    "write:media",
    "write:mutes",
    "write:notifications",
    "write:reports",
    "write:statuses",
];
const TOP: &[&str] = &["read", "write", "follow", "push", "profile"];

/// The scopes Petrel knows, for the server metadata document.
pub fn supported() -> Vec<&'static str> {
    TOP.iter().chain(GRANULAR).copied().collect()
}

/// Splits a scope string (space- or plus-separated); `read` when empty, as Mastodon defaults.
pub fn parse(s: &str) -> Result<Vec<String>, String> {
    let scopes: Vec<String> = s.split([' ', '+', ',']).filter(|p| !p.is_empty()).map(str::to_string).collect();
    if scopes.is_empty() {
        return Ok(vec!["read".into()]);
    }
    for scope in &scopes {
        if !TOP.contains(&scope.as_str()) && !GRANULAR.contains(&scope.as_str()) {
            return Err(format!("unknown scope `{scope}`"));
        }
    }
    Ok(scopes)
}

/// Whether the granted scopes allow `required` (a granular scope, or `push`/`profile`).
pub fn allows(granted: &[String], required: &str) -> bool {
    let top = required.split(':').next().unwrap_or(required);
    granted.iter().any(|g| {
        g == required
            || g == top
            // The legacy `follow` scope covers relationship reads and writes.
            || (g == "follow"
                && matches!(required, "read:blocks" | "read:follows" | "read:mutes" | "write:blocks" | "write:follows" | "write:mutes"))
            // `profile` is a narrower form of `read:accounts` for verify_credentials only.
            || (g == "read" && required == "profile")
    })
}

/// Whether every requested scope lies within what the app registered.
pub fn within(requested: &[String], registered: &[String]) -> bool {
    requested.iter().all(|r| registered.contains(r) || allows(registered, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_scopes_grant_granular_ones() {
        let g = parse("read write:statuses").unwrap();
        assert!(allows(&g, "read:statuses"));
        assert!(allows(&g, "write:statuses"));
        assert!(!allows(&g, "write:media"));
        assert!(allows(&parse("follow").unwrap(), "write:follows"));
        assert!(parse("read nonsense").is_err());
        assert_eq!(parse("").unwrap(), vec!["read"]);
        assert!(within(&parse("read:statuses").unwrap(), &parse("read write").unwrap()));
        assert!(!within(&parse("write").unwrap(), &parse("read").unwrap()));
    }
}
