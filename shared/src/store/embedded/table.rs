//! The Table port on SQLite. Items are stored as DynamoDB JSON; `(pk, sk)` is the primary key, so
//! queries walk the index in the same byte order DynamoDB uses for string sort keys.

use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};

use super::db::{sql, write_tx, Db};
use crate::store::error::{StoreError, StoreResult};
use crate::store::table::*;

pub struct EmbeddedTable {
    db: Db,
    writes: AtomicU64,
}

impl EmbeddedTable {
    pub fn new(db: Db) -> Self {
        EmbeddedTable { db, writes: AtomicU64::new(0) }
    }

    /// Every `SWEEP_EVERY` writes, deletes a batch of expired rows, as DynamoDB's TTL deletes
    /// expired items in the background: reads hide them either way, this only bounds the file.
    async fn after_write(&self) -> StoreResult<()> {
        if self.writes.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.db.run(|c| sweep_expired(c, now_secs())).await?;
        }
        Ok(())
    }
}

/// Writes between two sweeps of expired rows (and one sweep when the database is opened).
pub const SWEEP_EVERY: u64 = 256;

/// Deletes up to 1,000 rows whose `ttl` has passed (the `items_expires` index finds them);
/// returns how many.
pub fn sweep_expired(conn: &Connection, now: i64) -> StoreResult<usize> {
    conn.execute(
        "DELETE FROM items WHERE (pk, sk) IN \
         (SELECT pk, sk FROM items WHERE expires IS NOT NULL AND expires <= ?1 LIMIT 1000)",
        params![now],
    )
    .map_err(sql)
}

fn decode(json: &str) -> StoreResult<Item> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("stored item is not DynamoDB JSON: {e}")))
}

fn encode(item: &Item) -> StoreResult<String> {
    serde_json::to_string(item).map_err(|e| StoreError::InvalidInput(format!("item cannot be encoded: {e}")))
}

/// The live item under `key`; an expired one counts as absent.
fn load(conn: &Connection, key: &Key, now: i64) -> StoreResult<Option<Item>> {
    let row: Option<(String, Option<i64>)> = conn
        .query_row("SELECT item, expires FROM items WHERE pk = ?1 AND sk = ?2", params![key.pk, key.sk], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()
        .map_err(sql)?;
    match row {
        Some((_, Some(exp))) if exp <= now => Ok(None),
        Some((json, _)) => decode(&json).map(Some),
        None => Ok(None),
    }
}

fn store(conn: &Connection, item: &Item) -> StoreResult<()> {
    let key = Key::of(item)?;
    let expires = num_attr(item, TTL);
    conn.execute(
        "INSERT OR REPLACE INTO items (pk, sk, item, expires) VALUES (?1, ?2, ?3, ?4)",
        params![key.pk, key.sk, encode(item)?, expires],
    )
    .map_err(sql)?;
    Ok(())
}

fn remove(conn: &Connection, key: &Key) -> StoreResult<()> {
    conn.execute("DELETE FROM items WHERE pk = ?1 AND sk = ?2", params![key.pk, key.sk]).map_err(sql)?;
    Ok(())
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::N(n) => n.trim().parse().ok(),
        _ => None,
    }
}

fn values_equal(a: &Value, b: &Value) -> bool {
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn holds(cond: &Cond, item: Option<&Item>) -> bool {
    match cond {
        Cond::ItemExists => item.is_some(),
        Cond::ItemNotExists => item.is_none(),
        Cond::AttrExists(n) => item.is_some_and(|i| i.contains_key(n)),
        Cond::AttrNotExists(n) => !item.is_some_and(|i| i.contains_key(n)),
        Cond::AttrEq(n, v) => item.and_then(|i| i.get(n)).is_some_and(|cur| values_equal(cur, v)),
        Cond::And(all) => all.iter().all(|c| holds(c, item)),
    }
}

fn check(cond: &Option<Cond>, item: Option<&Item>, index: Option<usize>) -> StoreResult<()> {
    match cond {
        Some(c) if !holds(c, item) => Err(StoreError::ConditionFailed { index }),
        _ => Ok(()),
    }
}

/// The item after the update, validated as a whole (size, numbers).
fn apply(key: &Key, current: Option<Item>, update: &Update) -> StoreResult<Item> {
    let mut item = current.unwrap_or_else(|| key.to_item());
    for (name, value) in &update.set {
        item.insert(name.clone(), value.clone());
    }
    for (name, by) in &update.add {
        let base = match item.get(name) {
            None => 0i128,
            Some(Value::N(n)) => n
                .trim()
                .parse::<i128>()
                .map_err(|_| StoreError::InvalidInput(format!("ADD to `{name}`, which is not an integer")))?,
            Some(_) => return Err(StoreError::InvalidInput(format!("ADD to `{name}`, which is not a number"))),
        };
        item.insert(name.clone(), Value::N((base + *by as i128).to_string()));
    }
    for name in &update.remove {
        item.remove(name);
    }
    validate_item(&item)?;
    Ok(item)
}

/// The WHERE clause for a query; `?1` is the partition key, the returned values bind `?2`….
fn range_sql(range: &SkRange, forward: bool, after: Option<&Key>) -> (String, Vec<String>) {
    let mut clauses = vec!["pk = ?1".to_string()];
    let mut args: Vec<String> = Vec::new();
    let mut bind = |template: &str, v: &str| {
        args.push(v.to_string());
        clauses.push(template.replace('?', &format!("?{}", args.len() + 1)));
    };
    match range {
        SkRange::All => {}
        // The first clause lets SQLite seek in the index; the second bounds the prefix.
        SkRange::Prefix(p) => bind("sk >= ? AND substr(sk, 1, length(?)) = ?", p),
        SkRange::Between(a, b) => {
            bind("sk >= ?", a);
            bind("sk <= ?", b);
        }
        SkRange::Gt(v) => bind("sk > ?", v),
        SkRange::Ge(v) => bind("sk >= ?", v),
        SkRange::Lt(v) => bind("sk < ?", v),
        SkRange::Le(v) => bind("sk <= ?", v),
    }
    if let Some(k) = after {
        bind(if forward { "sk > ?" } else { "sk < ?" }, &k.sk);
    }
    (clauses.join(" AND "), args)
}

fn query_page(conn: &Connection, q: &Query, now: i64) -> StoreResult<Page> {
    let after = q.cursor.as_deref().map(|c| decode_cursor(c, &q.pk)).transpose()?;
    let (where_sql, args) = range_sql(&q.range, q.forward, after.as_ref());
    let order = if q.forward { "ASC" } else { "DESC" };
    let text =
        format!("SELECT sk, item, expires FROM items WHERE {where_sql} ORDER BY sk {order} LIMIT ?{}", args.len() + 2);
    let mut stmt = conn.prepare(&text).map_err(sql)?;
    let mut params: Vec<&dyn rusqlite::ToSql> = vec![&q.pk];
    for a in &args {
        params.push(a);
    }
    // One row beyond the limit tells whether another page exists.
    let fetch = i64::from(q.limit) + 1;
    params.push(&fetch);
    let rows = stmt
        .query_map(params.as_slice(), |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<i64>>(2)?))
        })
        .map_err(sql)?;

    let mut page = Page::default();
    let mut bytes = 0usize;
    let mut full = false;
    for (evaluated, row) in (0u32..).zip(rows) {
        let (sk, json, expires) = row.map_err(sql)?;
        // DynamoDB ends a page at `limit` items or before it would read past 1 MB.
        let size = json.len();
        if evaluated == q.limit || (evaluated > 0 && bytes + size > MAX_QUERY_PAGE_BYTES) {
            full = true;
            break;
        }
        bytes += size;
        page.cursor = Some(encode_cursor(&Key::new(q.pk.clone(), sk)));
        if matches!(expires, Some(e) if e <= now) {
            continue;
        }
        page.items.push(decode(&json)?);
    }
    // A cursor only when a row was left unread: the range ended otherwise.
    if !full {
        page.cursor = None;
    }
    Ok(page)
}

#[async_trait]
impl Table for EmbeddedTable {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        key.validate()?;
        let key = key.clone();
        self.db.run(move |c| load(c, &key, now_secs())).await
    }

    async fn put(&self, item: Item, cond: Option<Cond>) -> StoreResult<()> {
        validate_item(&item)?;
        self.db
            .run(move |c| {
                let tx = write_tx(c)?;
                let key = Key::of(&item)?;
                check(&cond, load(&tx, &key, now_secs())?.as_ref(), None)?;
                store(&tx, &item)?;
                tx.commit().map_err(sql)
            })
            .await?;
        self.after_write().await
    }

    async fn delete(&self, key: &Key, cond: Option<Cond>) -> StoreResult<()> {
        key.validate()?;
        let key = key.clone();
        self.db
            .run(move |c| {
                let tx = write_tx(c)?;
                check(&cond, load(&tx, &key, now_secs())?.as_ref(), None)?;
                remove(&tx, &key)?;
                tx.commit().map_err(sql)
            })
            .await
    }

    async fn update(&self, key: &Key, update: Update, cond: Option<Cond>) -> StoreResult<Item> {
        key.validate()?;
        update.validate()?;
        let key = key.clone();
        let item = self
            .db
            .run(move |c| {
                let tx = write_tx(c)?;
                let current = load(&tx, &key, now_secs())?;
                check(&cond, current.as_ref(), None)?;
                let item = apply(&key, current, &update)?;
                store(&tx, &item)?;
                tx.commit().map_err(sql)?;
                Ok(item)
            })
            .await?;
        self.after_write().await?;
        Ok(item)
    }

    async fn query(&self, query: Query) -> StoreResult<Page> {
        query.validate()?;
        self.db.run(move |c| query_page(c, &query, now_secs())).await
    }

    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Option<Item>>> {
        validate_batch_keys(keys)?;
        let keys = keys.to_vec();
        self.db
            .run(move |c| {
                let now = now_secs();
                keys.iter().map(|k| load(c, k, now)).collect()
            })
            .await
    }

    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()> {
        validate_transaction(&ops)?;
        self.db
            .run(move |c| {
                let tx = write_tx(c)?;
                let now = now_secs();
                // Check every condition first, then write: all or nothing.
                let mut writes = Vec::with_capacity(ops.len());
                for (i, op) in ops.iter().enumerate() {
                    let key = op.key()?;
                    let current = load(&tx, &key, now)?;
                    match op {
                        TxOp::Put { item, cond } => {
                            check(cond, current.as_ref(), Some(i))?;
                            writes.push((key, Some(item.clone())));
                        }
                        TxOp::Delete { cond, .. } => {
                            check(cond, current.as_ref(), Some(i))?;
                            writes.push((key, None));
                        }
                        TxOp::Update { update, cond, .. } => {
                            check(cond, current.as_ref(), Some(i))?;
                            let item = apply(&key, current, update)?;
                            writes.push((key, Some(item)));
                        }
                        TxOp::Check { cond, .. } => check(&Some(cond.clone()), current.as_ref(), Some(i))?,
                    }
                }
                for (key, item) in writes {
                    match item {
                        Some(item) => store(&tx, &item)?,
                        None => remove(&tx, &key)?,
                    }
                }
                tx.commit().map_err(sql)
            })
            .await?;
        self.after_write().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn corrupt_rows_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        db.run(|c| {
            c.execute("INSERT INTO items (pk, sk, item) VALUES ('p', 'bad', 'not json')", []).map_err(sql)?;
            c.execute("INSERT INTO items (pk, sk, item) VALUES ('p', 'worse', '{\"x\":{\"Q\":1}}')", [])
                .map_err(sql)?;
            Ok(())
        })
        .await
        .unwrap();
        let t = EmbeddedTable::new(db);
        assert!(matches!(t.get(&Key::new("p", "bad")).await, Err(StoreError::Corrupt(_))));
        assert!(matches!(t.get(&Key::new("p", "worse")).await, Err(StoreError::Corrupt(_))));
        assert!(matches!(t.query(Query::new("p")).await, Err(StoreError::Corrupt(_))));
        // An update over a corrupt item fails rather than overwriting it blindly.
        let upd = t.update(&Key::new("p", "bad"), Update::default().add("n", 1), None).await;
        assert!(matches!(upd, Err(StoreError::Corrupt(_))));
    }

    #[tokio::test]
    async fn expired_rows_are_swept_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        let t = EmbeddedTable::new(db.clone());
        let past = (now_secs() - 10).to_string();
        for i in 0..10 {
            let mut item = Key::new("p", format!("old{i}")).to_item();
            item.insert(TTL.into(), Value::N(past.clone()));
            t.put(item, None).await.unwrap();
        }
        t.put(Key::new("p", "live").to_item(), None).await.unwrap();
        let rows = |db: Db| async move {
            db.run(|c| c.query_row("SELECT count(*) FROM items", [], |r| r.get::<_, i64>(0)).map_err(sql))
                .await
                .unwrap()
        };
        // Hidden at once, still in the file until a sweep.
        assert_eq!(t.query(Query::new("p")).await.unwrap().items.len(), 1);
        assert_eq!(rows(db.clone()).await, 11);
        for i in 0..SWEEP_EVERY {
            t.put(Key::new("q", format!("{i}")).to_item(), None).await.unwrap();
        }
        assert_eq!(rows(db.clone()).await, 1 + SWEEP_EVERY as i64);
        // Opening the database sweeps too.
        let mut item = Key::new("p", "old").to_item();
        item.insert(TTL.into(), Value::N(past));
        t.put(item, None).await.unwrap();
        drop(t);
        drop(db);
        let db = Db::open(dir.path()).unwrap();
        assert_eq!(rows(db).await, 1 + SWEEP_EVERY as i64);
    }
}
