//! The Table port: the subset of DynamoDB that Petrel uses, over items of `serde_dynamo::Item`.
//!
//! Every item has a string partition key `pk` and sort key `sk`; an optional number attribute `ttl`
//! (epoch seconds) expires it. Both adapters hide expired items from reads, because DynamoDB only
//! deletes them eventually (within days), and the domain must not see a dead token or dedupe record.
//! Conditions treat an expired item as absent on both backends too (on DynamoDB through the
//! condition expression). One difference remains: an update of an expired item that DynamoDB has
//! not deleted yet merges into its stale attributes, where the embedded table starts afresh — so
//! an update of an item that carries `ttl` should set every attribute it relies on.

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::error::{StoreError, StoreResult};

pub type Item = serde_dynamo::Item;
pub type Value = serde_dynamo::AttributeValue;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const TTL: &str = "ttl";

/// DynamoDB's limits, enforced by both adapters before a request is made.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
pub const MAX_TRANSACT_ITEMS: usize = 100;
pub const MAX_BATCH_GET_KEYS: usize = 100;
pub const MAX_QUERY_PAGE_BYTES: usize = 1024 * 1024;
pub const MAX_PK_BYTES: usize = 2048;
pub const MAX_SK_BYTES: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key { pk: pk.into(), sk: sk.into() }
    }

    /// The key of a stored item; an item without string keys is invalid input.
    pub fn of(item: &Item) -> StoreResult<Key> {
        let pk = str_attr(item, PK).ok_or_else(|| invalid("item has no string `pk`"))?;
        let sk = str_attr(item, SK).ok_or_else(|| invalid("item has no string `sk`"))?;
        Ok(Key::new(pk, sk))
    }

    pub fn validate(&self) -> StoreResult<()> {
        if self.pk.is_empty() || self.sk.is_empty() {
            return Err(invalid("key attributes must be non-empty strings"));
        }
        if self.pk.len() > MAX_PK_BYTES {
            return Err(StoreError::LimitExceeded(format!(
                "partition key is {} bytes; the limit is {MAX_PK_BYTES}",
                self.pk.len()
            )));
        }
        if self.sk.len() > MAX_SK_BYTES {
            return Err(StoreError::LimitExceeded(format!(
                "sort key is {} bytes; the limit is {MAX_SK_BYTES}",
                self.sk.len()
            )));
        }
        Ok(())
    }

    /// The key as an item holding only `pk` and `sk`.
    pub fn to_item(&self) -> Item {
        let mut item = Item::default();
        item.insert(PK.into(), Value::S(self.pk.clone()));
        item.insert(SK.into(), Value::S(self.sk.clone()));
        item
    }
}

/// A condition on the current item, checked atomically with the write.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// The item exists (`attribute_exists(pk)`).
    ItemExists,
    /// No item with this key exists (`attribute_not_exists(pk)`).
    ItemNotExists,
    AttrExists(String),
    AttrNotExists(String),
    /// The attribute exists and equals the value.
    AttrEq(String, Value),
    And(Vec<Cond>),
}

/// An update: SET, atomic ADD on numbers, REMOVE. Like UpdateItem, it creates the item when it is
/// missing unless a condition says otherwise.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Update {
    pub set: Vec<(String, Value)>,
    pub add: Vec<(String, i64)>,
    pub remove: Vec<String>,
}

impl Update {
    pub fn set(mut self, name: impl Into<String>, value: Value) -> Self {
        self.set.push((name.into(), value));
        self
    }
    pub fn add(mut self, name: impl Into<String>, by: i64) -> Self {
        self.add.push((name.into(), by));
        self
    }
    pub fn remove(mut self, name: impl Into<String>) -> Self {
        self.remove.push(name.into());
        self
    }

    pub fn validate(&self) -> StoreResult<()> {
        let mut seen = std::collections::HashSet::new();
        let names = self.set.iter().map(|(n, _)| n).chain(self.add.iter().map(|(n, _)| n)).chain(self.remove.iter());
        for name in names {
            if name == PK || name == SK {
                return Err(invalid("an update cannot change the key attributes"));
            }
            if !seen.insert(name.as_str()) {
                return Err(invalid(&format!("attribute `{name}` appears twice in one update")));
            }
        }
        if seen.is_empty() {
            return Err(invalid("an update must change at least one attribute"));
        }
        for (_, v) in &self.set {
            validate_value(v)?;
        }
        Ok(())
    }
}

/// Which sort keys a query selects within its partition. Bounds compare as UTF-8 bytes, as
/// DynamoDB compares strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkRange {
    All,
    Prefix(String),
    /// Inclusive on both ends.
    Between(String, String),
    Gt(String),
    Ge(String),
    Lt(String),
    Le(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub pk: String,
    pub range: SkRange,
    /// Ascending sort key order when true.
    pub forward: bool,
    /// At most this many items are evaluated; a page may hold fewer (expired items are hidden).
    pub limit: u32,
    /// The opaque cursor of the previous page.
    pub cursor: Option<String>,
}

impl Query {
    pub fn new(pk: impl Into<String>) -> Self {
        Query { pk: pk.into(), range: SkRange::All, forward: true, limit: 100, cursor: None }
    }
    pub fn range(mut self, range: SkRange) -> Self {
        self.range = range;
        self
    }
    pub fn backward(mut self) -> Self {
        self.forward = false;
        self
    }
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }
    pub fn cursor(mut self, cursor: Option<String>) -> Self {
        self.cursor = cursor;
        self
    }

    pub fn validate(&self) -> StoreResult<()> {
        if self.pk.is_empty() {
            return Err(invalid("query partition key must be non-empty"));
        }
        if self.limit == 0 {
            return Err(invalid("query limit must be at least 1"));
        }
        if let SkRange::Between(a, b) = &self.range {
            if a > b {
                return Err(invalid("query range start is after its end"));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    pub items: Vec<Item>,
    /// Present when the query may have more items: pass it back for the next page.
    pub cursor: Option<String>,
}

/// One operation of a transactional write.
#[derive(Debug, Clone, PartialEq)]
pub enum TxOp {
    Put { item: Item, cond: Option<Cond> },
    Delete { key: Key, cond: Option<Cond> },
    Update { key: Key, update: Update, cond: Option<Cond> },
    Check { key: Key, cond: Cond },
}

impl TxOp {
    pub fn key(&self) -> StoreResult<Key> {
        match self {
            TxOp::Put { item, .. } => Key::of(item),
            TxOp::Delete { key, .. } | TxOp::Update { key, .. } | TxOp::Check { key, .. } => Ok(key.clone()),
        }
    }
}

#[async_trait]
pub trait Table: Send + Sync {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>>;
    async fn put(&self, item: Item, cond: Option<Cond>) -> StoreResult<()>;
    async fn delete(&self, key: &Key, cond: Option<Cond>) -> StoreResult<()>;
    /// Applies the update and returns the item as it is afterwards.
    async fn update(&self, key: &Key, update: Update, cond: Option<Cond>) -> StoreResult<Item>;
    async fn query(&self, query: Query) -> StoreResult<Page>;
    /// Items in the order of `keys`; `None` where an item is missing or expired.
    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Option<Item>>>;
    /// `get`, eventually consistent (see `batch_get_eventually`).
    async fn get_eventually(&self, key: &Key) -> StoreResult<Option<Item>> {
        self.get(key).await
    }
    /// The same, eventually consistent: half the read units, and a write of the last second may
    /// not show yet. For rendering pages of what is already listed (timelines), never for a
    /// read that decides a write. Adapters that are always consistent need not override it.
    async fn batch_get_eventually(&self, keys: &[Key]) -> StoreResult<Vec<Option<Item>>> {
        self.batch_get(keys).await
    }
    /// All or nothing. A failed condition is `ConditionFailed { index: Some(i) }`.
    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()>;
}

// ---- shared validation, so both adapters refuse the same things before any request ----

fn invalid(msg: &str) -> StoreError {
    StoreError::InvalidInput(msg.to_string())
}

pub fn str_attr<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    match item.get(name) {
        Some(Value::S(s)) => Some(s),
        _ => None,
    }
}

pub fn num_attr(item: &Item, name: &str) -> Option<i64> {
    match item.get(name) {
        Some(Value::N(n)) => n.parse().ok(),
        _ => None,
    }
}

/// Whether the item's `ttl` lies in the past.
pub fn is_expired(item: &Item, now_secs: i64) -> bool {
    matches!(num_attr(item, TTL), Some(t) if t <= now_secs)
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

pub fn validate_value(v: &Value) -> StoreResult<()> {
    match v {
        Value::N(n) if !n.trim().parse::<f64>().is_ok_and(f64::is_finite) => {
            return Err(invalid(&format!("`{n}` is not a number")));
        }
        Value::Ns(ns) => {
            if ns.is_empty() {
                return Err(invalid("sets must not be empty"));
            }
            for n in ns {
                validate_value(&Value::N(n.clone()))?;
            }
        }
        Value::Ss(s) if s.is_empty() => return Err(invalid("sets must not be empty")),
        Value::Bs(s) if s.is_empty() => return Err(invalid("sets must not be empty")),
        Value::L(l) => l.iter().try_for_each(validate_value)?,
        Value::M(m) => m.values().try_for_each(validate_value)?,
        _ => {}
    }
    Ok(())
}

/// Validates a whole item for a put: key present and in bounds, values well formed, size ≤ 400 KB.
pub fn validate_item(item: &Item) -> StoreResult<()> {
    Key::of(item)?.validate()?;
    for v in item.values() {
        validate_value(v)?;
    }
    let size = item_size(item);
    if size > MAX_ITEM_BYTES {
        return Err(StoreError::LimitExceeded(format!("item is {size} bytes; DynamoDB's limit is {MAX_ITEM_BYTES}")));
    }
    Ok(())
}

/// An item's size as DynamoDB counts it: attribute names plus values.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

fn number_size(n: &str) -> usize {
    let digits = n.chars().filter(|c| c.is_ascii_digit()).count();
    digits.div_ceil(2) + 1
}

fn value_size(v: &Value) -> usize {
    match v {
        Value::S(s) => s.len(),
        Value::N(n) => number_size(n),
        Value::B(b) => b.len(),
        Value::Bool(_) | Value::Null(_) => 1,
        Value::Ss(s) => s.iter().map(String::len).sum(),
        Value::Ns(s) => s.iter().map(|n| number_size(n)).sum(),
        Value::Bs(s) => s.iter().map(Vec::len).sum(),
        Value::L(l) => 3 + l.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        Value::M(m) => 3 + m.iter().map(|(k, v)| 1 + k.len() + value_size(v)).sum::<usize>(),
    }
}

/// Cursors are the last evaluated key, base64url JSON: the same format on both backends.
pub fn encode_cursor(key: &Key) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

pub fn decode_cursor(cursor: &str, pk: &str) -> StoreResult<Key> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid("malformed cursor"))?;
    let key: Key = serde_json::from_slice(&bytes).map_err(|_| invalid("malformed cursor"))?;
    if key.pk != pk {
        return Err(invalid("cursor belongs to another partition"));
    }
    Ok(key)
}

pub fn validate_transaction(ops: &[TxOp]) -> StoreResult<()> {
    if ops.is_empty() {
        return Err(invalid("a transaction needs at least one operation"));
    }
    if ops.len() > MAX_TRANSACT_ITEMS {
        return Err(StoreError::LimitExceeded(format!(
            "transaction has {} operations; the limit is {MAX_TRANSACT_ITEMS}",
            ops.len()
        )));
    }
    let mut keys = std::collections::HashSet::new();
    for op in ops {
        let key = op.key()?;
        key.validate()?;
        if !keys.insert(key.clone()) {
            return Err(invalid(&format!("two operations in one transaction touch {}/{}", key.pk, key.sk)));
        }
        match op {
            TxOp::Put { item, .. } => validate_item(item)?,
            TxOp::Update { update, .. } => update.validate()?,
            _ => {}
        }
    }
    Ok(())
}

pub fn validate_batch_keys(keys: &[Key]) -> StoreResult<()> {
    if keys.len() > MAX_BATCH_GET_KEYS {
        return Err(StoreError::LimitExceeded(format!(
            "batch get of {} keys; the limit is {MAX_BATCH_GET_KEYS}",
            keys.len()
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for k in keys {
        k.validate()?;
        if !seen.insert(k) {
            return Err(invalid("a batch get names the same key twice"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_size_counts_names_and_values() {
        let mut item = Key::new("ab", "c").to_item();
        item.insert("n".into(), Value::N("12345".into()));
        // pk(2)+ab(2) + sk(2)+c(1) + n(1)+ceil(5/2)+1=4
        assert_eq!(item_size(&item), 12);
    }

    #[test]
    fn cursor_round_trips_and_rejects_foreign_partition() {
        let k = Key::new("p", "s#1");
        let c = encode_cursor(&k);
        assert_eq!(decode_cursor(&c, "p"), Ok(k));
        assert!(matches!(decode_cursor(&c, "q"), Err(StoreError::InvalidInput(_))));
        assert!(matches!(decode_cursor("!!", "p"), Err(StoreError::InvalidInput(_))));
    }

    #[test]
    fn bad_numbers_and_empty_sets_are_invalid() {
        assert!(validate_value(&Value::N("abc".into())).is_err());
        assert!(validate_value(&Value::N("NaN".into())).is_err());
        assert!(validate_value(&Value::Ss(vec![])).is_err());
        assert!(validate_value(&Value::N("-1.5e3".into())).is_ok());
    }
}
