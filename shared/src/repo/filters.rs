//! Filters (Mastodon's v2 filters; the v1 endpoints read and write the same records): one item per
//! filter in the account's `FILTERS#` partition, its keywords and filtered statuses inside, so a
//! viewer's filters are one query — made only when the account's `filters_count` says it has some.

use serde::{Deserialize, Serialize};

use crate::model::Status;
use crate::repo::{from_item, keys, to_item, RepoError};
use crate::store::{Cond, Query, StoreError, Table, TxOp, Update, Value};

pub const CONTEXTS: [&str; 5] = ["home", "notifications", "public", "thread", "account"];
pub const ACTIONS: [&str; 3] = ["warn", "hide", "blur"];
/// Bounds that keep a filter item far below the item size limit.
pub const MAX_FILTERS: usize = 100;
pub const MAX_KEYWORDS: usize = 100;
pub const MAX_STATUSES: usize = 200;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Keyword {
    pub id: String,
    pub keyword: String,
    pub whole_word: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilteredStatus {
    pub id: String,
    pub status_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    pub id: String,
    pub title: String,
    pub context: Vec<String>,
    pub filter_action: String,
    /// Milliseconds since the epoch; none: never expires.
    #[serde(default)]
    pub expires_at: Option<i64>,
    #[serde(default)]
    pub keywords: Vec<Keyword>,
    #[serde(default)]
    pub statuses: Vec<FilteredStatus>,
    /// Bumped by every write, which is conditional on it: concurrent edits cannot lose each other.
    #[serde(default)]
    pub version: i64,
}

impl Filter {
    pub fn active(&self, now_ms: i64) -> bool {
        self.expires_at.is_none_or(|at| at > now_ms)
    }

    pub fn applies_in(&self, context: &str) -> bool {
        self.context.iter().any(|c| c == context)
    }
}

/// The account's filters, oldest first (one query).
pub async fn all(table: &dyn Table, account_id: &str) -> Result<Vec<Filter>, RepoError> {
    let items = crate::repo::query_all(table, Query::new(keys::filters(account_id))).await?;
    items.into_iter().map(from_item).collect()
}

pub async fn get(table: &dyn Table, account_id: &str, id: &str) -> Result<Option<Filter>, RepoError> {
    if !crate::repo::statuses::valid_id(id) {
        return Ok(None);
    }
    table.get(&keys::filter(account_id, id)).await?.map(from_item).transpose()
}

/// Writes a new filter and counts it on the account, in one transaction.
pub async fn create(table: &dyn Table, account_id: &str, filter: &Filter) -> Result<(), RepoError> {
    let ops = vec![
        TxOp::Put { item: to_item(&keys::filter(account_id, &filter.id), filter)?, cond: Some(Cond::ItemNotExists) },
        TxOp::Update {
            key: keys::account(account_id),
            update: Update::default().add("filters_count", 1),
            cond: Some(Cond::ItemExists),
        },
    ];
    match table.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { .. }) => Err(RepoError::Conflict("the filter could not be created".into())),
        Err(e) => Err(e.into()),
    }
}

/// Saves a changed filter if nobody changed it since it was read (`filter.version` is what was
/// read; the stored one gets the next).
pub async fn save(table: &dyn Table, account_id: &str, filter: &Filter) -> Result<Filter, RepoError> {
    let mut next = filter.clone();
    next.version += 1;
    let cond = Cond::AttrEq("version".into(), Value::N(filter.version.to_string()));
    match table.put(to_item(&keys::filter(account_id, &filter.id), &next)?, Some(cond)).await {
        Ok(()) => Ok(next),
        Err(StoreError::ConditionFailed { .. }) => {
            Err(RepoError::Conflict("the filter was changed by another request; try again".into()))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(table: &dyn Table, account_id: &str, id: &str) -> Result<bool, RepoError> {
    let ops = vec![
        TxOp::Delete { key: keys::filter(account_id, id), cond: Some(Cond::ItemExists) },
        TxOp::Update {
            key: keys::account(account_id),
            update: Update::default().add("filters_count", -1),
            cond: Some(Cond::ItemExists),
        },
    ];
    match table.transact(ops).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// A filter that matched a status: Mastodon's FilterResult.
#[derive(Debug, Clone, PartialEq)]
pub struct Matched<'a> {
    pub filter: &'a Filter,
    pub keyword_matches: Option<Vec<String>>,
    pub status_matches: Option<Vec<String>>,
}

/// The text keywords are matched against, as Mastodon builds it (`Status#searchable_text`): the
/// content warning, the text of the content, the poll's options and the media descriptions.
pub fn searchable_text(status: &Status) -> String {
    let mut parts = vec![status.spoiler_text.clone(), crate::mastodon::convert::html_to_text(&status.content)];
    parts.extend(status.poll.iter().map(|p| p.options.join("\n\n")));
    parts.extend(status.media.iter().filter_map(|m| m.description.clone()));
    parts.retain(|p| !p.is_empty());
    parts.join("\n\n")
}

fn word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Case-folds one character to one character, so positions in the folded text are positions in
/// the original (Ruby's `/i` folds the same way for all but a few special letters).
fn fold(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

/// The first match of `keyword` in `text` (as chars, folded), as Mastodon's keyword regexp finds
/// it: case-insensitive; with `whole_word`, a keyword that begins (ends) with a word character
/// must begin (end) at a word boundary. Returns (start, length) in chars.
fn find(text: &[char], folded: &[char], keyword: &str, whole_word: bool) -> Option<(usize, usize)> {
    let kw: Vec<char> = keyword.chars().map(fold).collect();
    if kw.is_empty() || kw.len() > folded.len() {
        return None;
    }
    let (need_start, need_end) = (whole_word && word_char(kw[0]), whole_word && word_char(kw[kw.len() - 1]));
    (0..=folded.len() - kw.len()).find_map(|i| {
        if folded[i..i + kw.len()] != kw[..] {
            return None;
        }
        if need_start && i > 0 && word_char(text[i - 1]) {
            return None;
        }
        let end = i + kw.len();
        if need_end && end < text.len() && word_char(text[end]) {
            return None;
        }
        Some((i, kw.len()))
    })
}

/// The active filters that match a status (and the status it boosts, if any): for each, the
/// first keyword match in the status's text (Mastodon reports the matched text) and the filtered
/// status ids among the status and the boosted one.
pub fn matches<'a>(filters: &'a [Filter], status: &Status, boosted: Option<&Status>, now_ms: i64) -> Vec<Matched<'a>> {
    let proper = boosted.unwrap_or(status);
    let text: Vec<char> = if filters.iter().any(|f| !f.keywords.is_empty()) {
        searchable_text(proper).chars().collect()
    } else {
        Vec::new()
    };
    let folded: Vec<char> = text.iter().map(|c| fold(*c)).collect();
    let ids: Vec<&str> = std::iter::once(status.id.as_str()).chain(boosted.map(|b| b.id.as_str())).collect();
    filters
        .iter()
        .filter(|f| f.active(now_ms))
        .filter_map(|f| {
            let first = f
                .keywords
                .iter()
                .filter_map(|k| find(&text, &folded, &k.keyword, k.whole_word))
                .min_by_key(|(start, len)| (*start, std::cmp::Reverse(*len)));
            let keyword_matches = first.map(|(start, len)| vec![text[start..start + len].iter().collect::<String>()]);
            let status_matches: Vec<String> = f
                .statuses
                .iter()
                .filter(|s| ids.contains(&s.status_id.as_str()))
                .map(|s| s.status_id.clone())
                .collect();
            let status_matches = (!status_matches.is_empty()).then_some(status_matches);
            (keyword_matches.is_some() || status_matches.is_some()).then_some(Matched {
                filter: f,
                keyword_matches,
                status_matches,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(text: &str, kw: &str, whole: bool) -> Option<String> {
        let t: Vec<char> = text.chars().collect();
        let f: Vec<char> = t.iter().map(|c| fold(*c)).collect();
        find(&t, &f, kw, whole).map(|(s, l)| t[s..s + l].iter().collect())
    }

    #[test]
    fn whole_words_need_boundaries_where_the_keyword_has_word_characters() {
        assert_eq!(hit("I love Rust!", "rust", true).as_deref(), Some("Rust"));
        assert_eq!(hit("Rusty nails", "rust", true), None);
        assert_eq!(hit("Rusty nails", "rust", false).as_deref(), Some("Rust"));
        assert_eq!(hit("trust me", "rust", true), None);
        // No boundary is needed beside a keyword's non-word ends (Mastodon's `\b` only where the
        // keyword has word characters).
        assert_eq!(hit("so #rustlang", "#rust", true), None);
        assert_eq!(hit("so#rust here", "#rust", true).as_deref(), Some("#rust"));
        assert_eq!(hit("ÉTÉ chaud", "été", true).as_deref(), Some("ÉTÉ"));
        assert_eq!(hit("snake_case", "snake", true), None);
    }

    #[test]
    fn poll_options_are_searched_with_the_content_warning_text_and_descriptions() {
        let mut s = Status::boost("1".into(), "author".into(), "0".into(), 0);
        s.reblog_of = None;
        s.spoiler_text = "cw".into();
        s.content = "<p>Which <b>one</b>?</p>".into();
        s.poll = Some(crate::model::Poll {
            options: vec!["Tabs".into(), "Spaces".into()],
            multiple: false,
            hide_totals: false,
            expires_at: None,
            remote_counts: Vec::new(),
            remote_voters: None,
            closed: false,
        });
        let text = searchable_text(&s);
        assert!(text.starts_with("cw\n\nWhich one?"), "{text}");
        assert!(text.ends_with("Tabs\n\nSpaces"), "{text}");
    }
}
