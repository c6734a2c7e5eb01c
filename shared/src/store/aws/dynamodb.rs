//! The Table port on DynamoDB (table with string `pk`/`sk`, TTL on `ttl`).
//!
//! Reads by key are strongly consistent (a token or an OAuth code must be readable right after it
//! is written; the price difference is a fraction of a cent at Petrel's volume). Queries are
//! eventually consistent, as timelines and collections can be.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue as Av, ConditionCheck, Delete, KeysAndAttributes, Put, ReturnValue, TransactWriteItem,
    Update as SdkUpdate,
};
use aws_sdk_dynamodb::Client;

use super::map_sdk_error;
use crate::store::error::{StoreError, StoreResult};
use crate::store::table::*;

pub struct DynamoTable {
    client: Client,
    table: String,
}

impl DynamoTable {
    pub fn new(sdk: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        DynamoTable { client: Client::new(sdk), table: table.into() }
    }
}

fn to_sdk(item: Item) -> HashMap<String, Av> {
    item.into()
}

fn from_sdk(item: HashMap<String, Av>) -> Item {
    item.into()
}

fn key_map(key: &Key) -> HashMap<String, Av> {
    HashMap::from([(PK.to_string(), Av::S(key.pk.clone())), (SK.to_string(), Av::S(key.sk.clone()))])
}

fn live(item: Option<HashMap<String, Av>>, now: i64) -> Option<Item> {
    item.map(from_sdk).filter(|i| !is_expired(i, now))
}

/// Builds expression strings with `#n`/`:v` placeholders, so no attribute name can clash with a
/// reserved word and no value is spliced into the text.
#[derive(Default)]
struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, Av>,
}

impl Expr {
    fn name(&mut self, n: &str) -> String {
        if let Some((ph, _)) = self.names.iter().find(|(_, v)| v.as_str() == n) {
            return ph.clone();
        }
        let ph = format!("#n{}", self.names.len());
        self.names.insert(ph.clone(), n.to_string());
        ph
    }

    fn value(&mut self, v: Av) -> String {
        let ph = format!(":v{}", self.values.len());
        self.values.insert(ph.clone(), v);
        ph
    }

    /// Expired items count as absent, as the embedded adapter treats them.
    fn cond(&mut self, c: &Cond, now: i64) -> String {
        match c {
            Cond::ItemExists => {
                let (pk, ttl, now) = (self.name(PK), self.name(TTL), self.value(Av::N(now.to_string())));
                format!("(attribute_exists({pk}) AND (attribute_not_exists({ttl}) OR {ttl} > {now}))")
            }
            Cond::ItemNotExists => {
                let (pk, ttl, now) = (self.name(PK), self.name(TTL), self.value(Av::N(now.to_string())));
                format!("(attribute_not_exists({pk}) OR {ttl} <= {now})")
            }
            Cond::AttrExists(n) => format!("attribute_exists({})", self.name(n)),
            Cond::AttrNotExists(n) => format!("attribute_not_exists({})", self.name(n)),
            Cond::AttrEq(n, v) => {
                let n = self.name(n);
                let v = self.value(v.clone().into());
                format!("{n} = {v}")
            }
            // Each arm above can be joined with AND as it is; DynamoDB refuses `((…))` as
            // redundant parentheses, so a group gets exactly one pair.
            Cond::And(all) if all.is_empty() => {
                let pk = self.name(PK);
                format!("(attribute_exists({pk}) OR attribute_not_exists({pk}))")
            }
            Cond::And(all) => {
                let parts: Vec<String> = all.iter().map(|c| self.cond(c, now)).collect();
                format!("({})", parts.join(" AND "))
            }
        }
    }

    fn update(&mut self, u: &Update) -> String {
        let mut parts = Vec::new();
        if !u.set.is_empty() {
            let sets: Vec<String> =
                u.set.iter().map(|(n, v)| format!("{} = {}", self.name(n), self.value(v.clone().into()))).collect();
            parts.push(format!("SET {}", sets.join(", ")));
        }
        if !u.add.is_empty() {
            let adds: Vec<String> =
                u.add.iter().map(|(n, by)| format!("{} {}", self.name(n), self.value(Av::N(by.to_string())))).collect();
            parts.push(format!("ADD {}", adds.join(", ")));
        }
        if !u.remove.is_empty() {
            let rms: Vec<String> = u.remove.iter().map(|n| self.name(n)).collect();
            parts.push(format!("REMOVE {}", rms.join(", ")));
        }
        parts.join(" ")
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<HashMap<String, Av>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

fn key_condition(q: &Query, e: &mut Expr) -> String {
    let pk = e.name(PK);
    let pkv = e.value(Av::S(q.pk.clone()));
    let val = |v: &String, e: &mut Expr| e.value(Av::S(v.clone()));
    // The sort key's name is registered only when used: DynamoDB refuses unused names.
    let range = match &q.range {
        SkRange::All => return format!("{pk} = {pkv}"),
        SkRange::Prefix(p) => format!("begins_with({}, {})", e.name(SK), val(p, e)),
        SkRange::Between(a, b) => format!("{} BETWEEN {} AND {}", e.name(SK), val(a, e), val(b, e)),
        SkRange::Gt(v) => format!("{} > {}", e.name(SK), val(v, e)),
        SkRange::Ge(v) => format!("{} >= {}", e.name(SK), val(v, e)),
        SkRange::Lt(v) => format!("{} < {}", e.name(SK), val(v, e)),
        SkRange::Le(v) => format!("{} <= {}", e.name(SK), val(v, e)),
    };
    format!("{pk} = {pkv} AND {range}")
}

/// Which operation of a cancelled transaction failed its condition.
fn cancelled_index(
    err: &aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
) -> Option<StoreError> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError as E;
    let E::TransactionCanceledException(tc) = err else {
        return None;
    };
    let reasons = tc.cancellation_reasons();
    if let Some(i) = reasons.iter().position(|r| r.code() == Some("ConditionalCheckFailed")) {
        return Some(StoreError::ConditionFailed { index: Some(i) });
    }
    if reasons
        .iter()
        .any(|r| matches!(r.code(), Some("TransactionConflict" | "ThrottlingError" | "ProvisionedThroughputExceeded")))
    {
        return Some(StoreError::Transient(format!("transaction cancelled: {reasons:?}")));
    }
    if reasons.iter().any(|r| r.code() == Some("ValidationError")) {
        return Some(StoreError::InvalidInput(format!("transaction cancelled: {reasons:?}")));
    }
    None
}

#[async_trait]
impl Table for DynamoTable {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        self.get_with(key, true).await
    }

    async fn get_eventually(&self, key: &Key) -> StoreResult<Option<Item>> {
        self.get_with(key, false).await
    }

    async fn put(&self, item: Item, cond: Option<Cond>) -> StoreResult<()> {
        validate_item(&item)?;
        let mut e = Expr::default();
        let cond_expr = cond.as_ref().map(|c| e.cond(c, now_secs()));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_sdk(item)))
            .set_condition_expression(cond_expr)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .send()
            .await
            .map_err(|e| map_sdk_error(e, &format!("PutItem on {}", self.table)))?;
        Ok(())
    }

    async fn delete(&self, key: &Key, cond: Option<Cond>) -> StoreResult<()> {
        key.validate()?;
        let mut e = Expr::default();
        let cond_expr = cond.as_ref().map(|c| e.cond(c, now_secs()));
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .set_condition_expression(cond_expr)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .send()
            .await
            .map_err(|e| map_sdk_error(e, &format!("DeleteItem on {}", self.table)))?;
        Ok(())
    }

    async fn update(&self, key: &Key, update: Update, cond: Option<Cond>) -> StoreResult<Item> {
        key.validate()?;
        update.validate()?;
        let mut e = Expr::default();
        let update_expr = e.update(&update);
        let cond_expr = cond.as_ref().map(|c| e.cond(c, now_secs()));
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .update_expression(update_expr)
            .set_condition_expression(cond_expr)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| map_sdk_error(e, &format!("UpdateItem on {}", self.table)))?;
        Ok(out.attributes.map(from_sdk).unwrap_or_else(|| key.to_item()))
    }

    async fn query(&self, query: Query) -> StoreResult<Page> {
        query.validate()?;
        let start = query.cursor.as_deref().map(|c| decode_cursor(c, &query.pk)).transpose()?;
        let mut e = Expr::default();
        let kce = key_condition(&query, &mut e);
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(kce)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .scan_index_forward(query.forward)
            .limit(i32::try_from(query.limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start.as_ref().map(key_map))
            .send()
            .await
            .map_err(|e| map_sdk_error(e, &format!("Query on {}", self.table)))?;
        let now = now_secs();
        let items = out.items.unwrap_or_default().into_iter().map(from_sdk).filter(|i| !is_expired(i, now)).collect();
        let cursor = match out.last_evaluated_key {
            Some(k) => Some(encode_cursor(&Key::of(&from_sdk(k))?)),
            None => None,
        };
        Ok(Page { items, cursor })
    }

    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Option<Item>>> {
        self.batch_get_with(keys, true).await
    }

    async fn batch_get_eventually(&self, keys: &[Key]) -> StoreResult<Vec<Option<Item>>> {
        self.batch_get_with(keys, false).await
    }

    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()> {
        validate_transaction(&ops)?;
        let now = now_secs();
        let mut items = Vec::with_capacity(ops.len());
        for op in &ops {
            let mut e = Expr::default();
            let build_err = |err: aws_sdk_dynamodb::error::BuildError| StoreError::InvalidInput(err.to_string());
            let item = match op {
                TxOp::Put { item, cond } => {
                    let c = cond.as_ref().map(|c| e.cond(c, now));
                    TransactWriteItem::builder()
                        .put(
                            Put::builder()
                                .table_name(&self.table)
                                .set_item(Some(to_sdk(item.clone())))
                                .set_condition_expression(c)
                                .set_expression_attribute_names(e.names())
                                .set_expression_attribute_values(e.values())
                                .build()
                                .map_err(build_err)?,
                        )
                        .build()
                }
                TxOp::Delete { key, cond } => {
                    let c = cond.as_ref().map(|c| e.cond(c, now));
                    TransactWriteItem::builder()
                        .delete(
                            Delete::builder()
                                .table_name(&self.table)
                                .set_key(Some(key_map(key)))
                                .set_condition_expression(c)
                                .set_expression_attribute_names(e.names())
                                .set_expression_attribute_values(e.values())
                                .build()
                                .map_err(build_err)?,
                        )
                        .build()
                }
                TxOp::Update { key, update, cond } => {
                    let u = e.update(update);
                    let c = cond.as_ref().map(|c| e.cond(c, now));
                    TransactWriteItem::builder()
                        .update(
                            SdkUpdate::builder()
                                .table_name(&self.table)
                                .set_key(Some(key_map(key)))
                                .update_expression(u)
                                .set_condition_expression(c)
                                .set_expression_attribute_names(e.names())
                                .set_expression_attribute_values(e.values())
                                .build()
                                .map_err(build_err)?,
                        )
                        .build()
                }
                TxOp::Check { key, cond } => {
                    let c = e.cond(cond, now);
                    TransactWriteItem::builder()
                        .condition_check(
                            ConditionCheck::builder()
                                .table_name(&self.table)
                                .set_key(Some(key_map(key)))
                                .condition_expression(c)
                                .set_expression_attribute_names(e.names())
                                .set_expression_attribute_values(e.values())
                                .build()
                                .map_err(build_err)?,
                        )
                        .build()
                }
            };
            items.push(item);
        }
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(()),
            Err(err) => {
                if let Some(mapped) = err.as_service_error().and_then(cancelled_index) {
                    return Err(mapped);
                }
                Err(map_sdk_error(err, &format!("TransactWriteItems on {}", self.table)))
            }
        }
    }
}

impl DynamoTable {
    /// GetItem, strongly or eventually consistent.
    async fn get_with(&self, key: &Key, consistent: bool) -> StoreResult<Option<Item>> {
        key.validate()?;
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(|e| map_sdk_error(e, &format!("GetItem on {}", self.table)))?;
        Ok(live(out.item, now_secs()))
    }

    /// BatchGetItem, strongly or eventually consistent.
    async fn batch_get_with(&self, keys: &[Key], consistent: bool) -> StoreResult<Vec<Option<Item>>> {
        validate_batch_keys(keys)?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut found: HashMap<Key, Item> = HashMap::new();
        let mut pending: Vec<HashMap<String, Av>> = keys.iter().map(key_map).collect();
        // DynamoDB may leave keys unprocessed under load: retry those with a short backoff.
        for attempt in 0..8u32 {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(pending.clone()))
                .consistent_read(consistent)
                .build()
                .map_err(|e| StoreError::InvalidInput(e.to_string()))?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| map_sdk_error(e, &format!("BatchGetItem on {}", self.table)))?;
            for item in out.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default() {
                let item = from_sdk(item);
                found.insert(Key::of(&item)?, item);
            }
            pending = out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).map(|k| k.keys).unwrap_or_default();
            if pending.is_empty() {
                let now = now_secs();
                return Ok(keys.iter().map(|k| found.remove(k).filter(|i| !is_expired(i, now))).collect());
            }
            tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
        }
        Err(StoreError::Transient(format!("BatchGetItem on {}: keys still unprocessed after retries", self.table)))
    }
}
