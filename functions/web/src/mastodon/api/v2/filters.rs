//! Filters: `/api/v2/filters/…` (filters, their keywords and filtered statuses) and the v1
//! endpoints over the same records, as Mastodon keeps v1 working: a v1 filter is one keyword of
//! a v2 filter (its id is the keyword's), with the filter's context, expiry and action
//! (`irreversible` is `hide`).

use axum::extract::{Path, State};
use axum::Json;
use petrel::clock::iso8601_ms;
use petrel::model::Account;
use petrel::repo::filters::{self, Filter, FilteredStatus, Keyword, Matched};
use petrel::Ctx;
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};

use petrel::api::auth::Auth;
use petrel::api::error::{ApiError, ApiResult};
use petrel::api::params::{lenient, Params};

fn keyword_entity(k: &Keyword) -> Value {
    json!({ "id": k.id, "keyword": k.keyword, "whole_word": k.whole_word })
}

fn status_entity(s: &FilteredStatus) -> Value {
    json!({ "id": s.id, "status_id": s.status_id })
}

/// The Filter entity (v2).
pub fn entity(f: &Filter) -> Value {
    json!({
        "id": f.id,
        "title": f.title,
        "context": f.context,
        "expires_at": f.expires_at.map(iso8601_ms),
        "filter_action": f.filter_action,
        "keywords": f.keywords.iter().map(keyword_entity).collect::<Vec<_>>(),
        "statuses": f.statuses.iter().map(status_entity).collect::<Vec<_>>(),
    })
}

/// A FilterResult, as a status's `filtered` lists them.
pub fn result(m: &Matched) -> Value {
    // Without keywords and statuses, as Mastodon's FilterResult carries its filter.
    let mut filter = entity(m.filter);
    if let Some(o) = filter.as_object_mut() {
        o.remove("keywords");
        o.remove("statuses");
    }
    json!({ "filter": filter, "keyword_matches": m.keyword_matches, "status_matches": m.status_matches })
}

/// The v1 Filter entity of one keyword.
fn v1_entity(f: &Filter, k: &Keyword) -> Value {
    json!({
        "id": k.id,
        "phrase": k.keyword,
        "context": f.context,
        "whole_word": k.whole_word,
        "expires_at": f.expires_at.map(iso8601_ms),
        "irreversible": f.filter_action == "hide",
    })
}

/// `expires_in`: absent (unchanged), empty or null (never), or seconds.
fn expiry<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Ok(Some(match Value::deserialize(d)? {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.parse().map_err(|_| serde::de::Error::custom(format!("`{s}` is not a number")))?),
        Value::Number(n) => Some(n.as_i64().ok_or_else(|| serde::de::Error::custom("expires_in is not a number"))?),
        other => return Err(serde::de::Error::custom(format!("{other} is not a number"))),
    }))
}

fn expires_at(expires_in: Option<i64>) -> ApiResult<Option<i64>> {
    match expires_in {
        Some(s) if s <= 0 => Err(ApiError::Unprocessable("expires_in must be positive".into())),
        Some(s) => Ok(Some(petrel::clock::now_ms().saturating_add(s.saturating_mul(1000)))),
        None => Ok(None),
    }
}

fn contexts(c: Vec<String>) -> ApiResult<Vec<String>> {
    if c.is_empty() {
        return Err(ApiError::Unprocessable("Context can't be blank".into()));
    }
    if let Some(bad) = c.iter().find(|x| !filters::CONTEXTS.contains(&x.as_str())) {
        return Err(ApiError::Unprocessable(format!("`{bad}` is not a filter context")));
    }
    let mut out: Vec<String> = Vec::new();
    for x in c {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    Ok(out)
}

fn action(a: &str) -> ApiResult<String> {
    if filters::ACTIONS.contains(&a) {
        Ok(a.to_string())
    } else {
        Err(ApiError::Unprocessable(format!("`{a}` is not a filter action")))
    }
}

fn keyword_text(k: &str) -> ApiResult<String> {
    let k = k.trim();
    if k.is_empty() {
        return Err(ApiError::Unprocessable("Keyword can't be blank".into()));
    }
    if k.chars().count() > 512 {
        return Err(ApiError::Unprocessable("Keyword is too long".into()));
    }
    Ok(k.to_string())
}

/// One entry of `keywords_attributes` (`id` and `_destroy` on update).
#[derive(Deserialize, Default)]
struct KeywordAttrs {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    keyword: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    whole_word: Option<bool>,
    #[serde(default, rename = "_destroy", deserialize_with = "lenient::opt_bool")]
    destroy: Option<bool>,
}

/// `keywords_attributes` as JSON sends it (an array of objects) and as forms do: indexed
/// (`keywords_attributes[0][keyword]`, an object of objects) or Rails' `[]` form
/// (`keywords_attributes[][keyword]=a&keywords_attributes[][keyword]=b`, which the form parser
/// gathers into one object of arrays, zipped back here).
fn keyword_attrs(v: Value) -> ApiResult<Vec<KeywordAttrs>> {
    let parse = |v: Value| petrel::api::params::from_value::<KeywordAttrs>(v);
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(a) => a.into_iter().map(parse).collect(),
        Value::Object(mut m) => {
            if let Some(Value::Object(zipped)) = m.remove("") {
                let n = zipped.values().map(|v| v.as_array().map_or(1, Vec::len)).max().unwrap_or(0);
                let mut out = Vec::new();
                for i in 0..n {
                    let one: serde_json::Map<String, Value> = zipped
                        .iter()
                        .filter_map(|(k, v)| {
                            let x = match v {
                                Value::Array(a) => a.get(i)?.clone(),
                                other if i == 0 => other.clone(),
                                _ => return None,
                            };
                            Some((k.clone(), x))
                        })
                        .collect();
                    out.push(parse(Value::Object(one))?);
                }
                return Ok(out);
            }
            let mut entries: Vec<(String, Value)> = m.into_iter().collect();
            entries.sort_by_key(|(k, _)| k.parse::<u64>().unwrap_or(u64::MAX));
            entries.into_iter().map(|(_, v)| parse(v)).collect()
        }
        _ => Err(ApiError::Unprocessable("keywords_attributes must be a list".into())),
    }
}

#[derive(Deserialize)]
pub struct FilterParams {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    title: Option<String>,
    #[serde(default, deserialize_with = "lenient::string_list")]
    context: Vec<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    filter_action: Option<String>,
    #[serde(default, deserialize_with = "expiry")]
    expires_in: Option<Option<i64>>,
    #[serde(default)]
    keywords_attributes: Value,
}

async fn owned(ctx: &Ctx, me: &Account, id: &str) -> ApiResult<Filter> {
    filters::get(ctx.stores.table.as_ref(), &me.id, id).await?.ok_or(ApiError::NotFound)
}

pub async fn index(State(ctx): State<Ctx>, auth: Auth) -> ApiResult<Json<Vec<Value>>> {
    let me = auth.user("read:filters")?;
    Ok(Json(filters::all(ctx.stores.table.as_ref(), &me.id).await?.iter().map(entity).collect()))
}

pub async fn show(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let me = auth.user("read:filters")?;
    Ok(Json(entity(&owned(&ctx, me, &id).await?)))
}

fn check_sizes(f: &Filter) -> ApiResult<()> {
    if f.keywords.len() > filters::MAX_KEYWORDS {
        return Err(ApiError::Unprocessable(format!("at most {} keywords", filters::MAX_KEYWORDS)));
    }
    if f.statuses.len() > filters::MAX_STATUSES {
        return Err(ApiError::Unprocessable(format!("at most {} statuses", filters::MAX_STATUSES)));
    }
    Ok(())
}

async fn create_filter(ctx: &Ctx, me: &Account, f: &Filter) -> ApiResult<()> {
    check_sizes(f)?;
    let table = ctx.stores.table.as_ref();
    if filters::all(table, &me.id).await?.len() >= filters::MAX_FILTERS {
        return Err(ApiError::Unprocessable(format!("at most {} filters", filters::MAX_FILTERS)));
    }
    Ok(filters::create(table, &me.id, f).await?)
}

pub async fn create(State(ctx): State<Ctx>, auth: Auth, Params(p): Params<FilterParams>) -> ApiResult<Json<Value>> {
    let me = auth.user("write:filters")?;
    let title = p.title.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    let title = title.ok_or_else(|| ApiError::Unprocessable("Title can't be blank".into()))?;
    let mut keywords = Vec::new();
    for k in keyword_attrs(p.keywords_attributes)? {
        if k.destroy == Some(true) {
            continue;
        }
        keywords.push(Keyword {
            id: petrel::ids::snowflake(),
            keyword: keyword_text(k.keyword.as_deref().unwrap_or_default())?,
            whole_word: k.whole_word.unwrap_or(true),
        });
    }
    let f = Filter {
        id: petrel::ids::snowflake(),
        title,
        context: contexts(p.context)?,
        filter_action: action(p.filter_action.as_deref().unwrap_or("warn"))?,
        expires_at: expires_at(p.expires_in.flatten())?,
        keywords,
        statuses: Vec::new(),
        version: 0,
    };
    create_filter(&ctx, me, &f).await?;
    Ok(Json(entity(&f)))
}

pub async fn update(
    State(ctx): State<Ctx>,
    auth: Auth,
    Path(id): Path<String>,
    Params(p): Params<FilterParams>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("write:filters")?;
    let mut f = owned(&ctx, me, &id).await?;
    if let Some(t) = p.title {
        let t = t.trim().to_string();
        if t.is_empty() {
            return Err(ApiError::Unprocessable("Title can't be blank".into()));
        }
        f.title = t;
    }
    if !p.context.is_empty() {
        f.context = contexts(p.context)?;
    }
    if let Some(a) = p.filter_action {
        f.filter_action = action(&a)?;
    }
    if let Some(e) = p.expires_in {
        f.expires_at = expires_at(e)?;
    }
    for k in keyword_attrs(p.keywords_attributes)? {
        match k.id {
            Some(kid) => {
                let pos = f.keywords.iter().position(|x| x.id == kid).ok_or(ApiError::NotFound)?;
                if k.destroy == Some(true) {
                    f.keywords.remove(pos);
                    continue;
                }
                if let Some(text) = k.keyword {
                    f.keywords[pos].keyword = keyword_text(&text)?;
                }
                if let Some(w) = k.whole_word {
                    f.keywords[pos].whole_word = w;
                }
            }
            None if k.destroy == Some(true) => {}
            None => f.keywords.push(Keyword {
                id: petrel::ids::snowflake(),
                keyword: keyword_text(k.keyword.as_deref().unwrap_or_default())?,
                whole_word: k.whole_word.unwrap_or(true),
            }),
        }
    }
    check_sizes(&f)?;
    let saved = filters::save(ctx.stores.table.as_ref(), &me.id, &f).await?;
    Ok(Json(entity(&saved)))
}

pub async fn delete(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let me = auth.user("write:filters")?;
    let f = owned(&ctx, me, &id).await?;
    filters::delete(ctx.stores.table.as_ref(), &me.id, &f.id).await?;
    Ok(Json(json!({})))
}

// ---- keywords ----

pub async fn keywords(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Vec<Value>>> {
    let me = auth.user("read:filters")?;
    Ok(Json(owned(&ctx, me, &id).await?.keywords.iter().map(keyword_entity).collect()))
}

#[derive(Deserialize)]
pub struct KeywordParams {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    keyword: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    whole_word: Option<bool>,
}

pub async fn add_keyword(
    State(ctx): State<Ctx>,
    auth: Auth,
    Path(id): Path<String>,
    Params(p): Params<KeywordParams>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("write:filters")?;
    let mut f = owned(&ctx, me, &id).await?;
    let k = Keyword {
        id: petrel::ids::snowflake(),
        keyword: keyword_text(p.keyword.as_deref().unwrap_or_default())?,
        whole_word: p.whole_word.unwrap_or(true),
    };
    f.keywords.push(k.clone());
    check_sizes(&f)?;
    filters::save(ctx.stores.table.as_ref(), &me.id, &f).await?;
    Ok(Json(keyword_entity(&k)))
}

/// The filter holding keyword `kid` (the account's filters are one query).
async fn with_keyword(ctx: &Ctx, me: &Account, kid: &str) -> ApiResult<(Filter, usize)> {
    filters::all(ctx.stores.table.as_ref(), &me.id)
        .await?
        .into_iter()
        .find_map(|f| {
            let pos = f.keywords.iter().position(|k| k.id == kid)?;
            Some((f, pos))
        })
        .ok_or(ApiError::NotFound)
}

pub async fn keyword(State(ctx): State<Ctx>, auth: Auth, Path(kid): Path<String>) -> ApiResult<Json<Value>> {
    let me = auth.user("read:filters")?;
    let (f, pos) = with_keyword(&ctx, me, &kid).await?;
    Ok(Json(keyword_entity(&f.keywords[pos])))
}

pub async fn update_keyword(
    State(ctx): State<Ctx>,
    auth: Auth,
    Path(kid): Path<String>,
    Params(p): Params<KeywordParams>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("write:filters")?;
    let (mut f, pos) = with_keyword(&ctx, me, &kid).await?;
    if let Some(text) = p.keyword {
        f.keywords[pos].keyword = keyword_text(&text)?;
    }
    if let Some(w) = p.whole_word {
        f.keywords[pos].whole_word = w;
    }
    let saved = filters::save(ctx.stores.table.as_ref(), &me.id, &f).await?;
    Ok(Json(keyword_entity(&saved.keywords[pos])))
}

pub async fn delete_keyword(State(ctx): State<Ctx>, auth: Auth, Path(kid): Path<String>) -> ApiResult<Json<Value>> {
    let me = auth.user("write:filters")?;
    let (mut f, pos) = with_keyword(&ctx, me, &kid).await?;
    f.keywords.remove(pos);
    filters::save(ctx.stores.table.as_ref(), &me.id, &f).await?;
    Ok(Json(json!({})))
}

// ---- filtered statuses ----

pub async fn statuses(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Vec<Value>>> {
    let me = auth.user("read:filters")?;
    Ok(Json(owned(&ctx, me, &id).await?.statuses.iter().map(status_entity).collect()))
}

#[derive(Deserialize)]
pub struct StatusParams {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    status_id: Option<String>,
}

/// Adds a status the caller may see (the one visibility rule); a status already in the filter
/// is a 422, as Mastodon answers.
pub async fn add_status(
    State(ctx): State<Ctx>,
    auth: Auth,
    Path(id): Path<String>,
    Params(p): Params<StatusParams>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("write:filters")?;
    let mut f = owned(&ctx, me, &id).await?;
    let sid = p.status_id.ok_or_else(|| ApiError::Unprocessable("Status can't be blank".into()))?;
    let status = crate::mastodon::api::v1::statuses::get_visible(&ctx, &sid, Some(me)).await?;
    if f.statuses.iter().any(|s| s.status_id == status.id) {
        return Err(ApiError::Unprocessable("Status has already been taken".into()));
    }
    let s = FilteredStatus { id: petrel::ids::snowflake(), status_id: status.id };
    f.statuses.push(s.clone());
    check_sizes(&f)?;
    filters::save(ctx.stores.table.as_ref(), &me.id, &f).await?;
    Ok(Json(status_entity(&s)))
}

async fn with_status(ctx: &Ctx, me: &Account, sid: &str) -> ApiResult<(Filter, usize)> {
    filters::all(ctx.stores.table.as_ref(), &me.id)
        .await?
        .into_iter()
        .find_map(|f| {
            let pos = f.statuses.iter().position(|s| s.id == sid)?;
            Some((f, pos))
        })
        .ok_or(ApiError::NotFound)
}

pub async fn status(State(ctx): State<Ctx>, auth: Auth, Path(sid): Path<String>) -> ApiResult<Json<Value>> {
    let me = auth.user("read:filters")?;
    let (f, pos) = with_status(&ctx, me, &sid).await?;
    Ok(Json(status_entity(&f.statuses[pos])))
}

pub async fn delete_status(State(ctx): State<Ctx>, auth: Auth, Path(sid): Path<String>) -> ApiResult<Json<Value>> {
    let me = auth.user("write:filters")?;
    let (mut f, pos) = with_status(&ctx, me, &sid).await?;
    f.statuses.remove(pos);
    filters::save(ctx.stores.table.as_ref(), &me.id, &f).await?;
    Ok(Json(json!({})))
}

// ---- v1 ----

pub async fn v1_index(State(ctx): State<Ctx>, auth: Auth) -> ApiResult<Json<Vec<Value>>> {
    let me = auth.user("read:filters")?;
    let all = filters::all(ctx.stores.table.as_ref(), &me.id).await?;
    Ok(Json(all.iter().flat_map(|f| f.keywords.iter().map(move |k| v1_entity(f, k))).collect()))
}

pub async fn v1_show(State(ctx): State<Ctx>, auth: Auth, Path(kid): Path<String>) -> ApiResult<Json<Value>> {
    let me = auth.user("read:filters")?;
    let (f, pos) = with_keyword(&ctx, me, &kid).await?;
    Ok(Json(v1_entity(&f, &f.keywords[pos])))
}

#[derive(Deserialize)]
pub struct V1Params {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    phrase: Option<String>,
    #[serde(default, deserialize_with = "lenient::string_list")]
    context: Vec<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    irreversible: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    whole_word: Option<bool>,
    #[serde(default, deserialize_with = "expiry")]
    expires_in: Option<Option<i64>>,
}

/// A v1 filter is a v2 filter titled by its phrase, with that one keyword.
pub async fn v1_create(State(ctx): State<Ctx>, auth: Auth, Params(p): Params<V1Params>) -> ApiResult<Json<Value>> {
    let me = auth.user("write:filters")?;
    let phrase = keyword_text(p.phrase.as_deref().unwrap_or_default())?;
    let k = Keyword { id: petrel::ids::snowflake(), keyword: phrase.clone(), whole_word: p.whole_word.unwrap_or(true) };
    let f = Filter {
        id: petrel::ids::snowflake(),
        title: phrase,
        context: contexts(p.context)?,
        filter_action: if p.irreversible == Some(true) { "hide" } else { "warn" }.into(),
        expires_at: expires_at(p.expires_in.flatten())?,
        keywords: vec![k.clone()],
        statuses: Vec::new(),
        version: 0,
    };
    create_filter(&ctx, me, &f).await?;
    Ok(Json(v1_entity(&f, &k)))
}

/// Changes the keyword, and the filter's context, action and expiry — refused, as Mastodon
/// refuses it, when those would change a filter that has other keywords too.
pub async fn v1_update(
    State(ctx): State<Ctx>,
    auth: Auth,
    Path(kid): Path<String>,
    Params(p): Params<V1Params>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("write:filters")?;
    let (mut f, pos) = with_keyword(&ctx, me, &kid).await?;
    let before = (f.context.clone(), f.filter_action.clone(), f.expires_at);
    if let Some(text) = p.phrase {
        f.keywords[pos].keyword = keyword_text(&text)?;
    }
    if let Some(w) = p.whole_word {
        f.keywords[pos].whole_word = w;
    }
    if !p.context.is_empty() {
        f.context = contexts(p.context)?;
    }
    if let Some(i) = p.irreversible {
        f.filter_action = if i { "hide" } else { "warn" }.into();
    }
    if let Some(e) = p.expires_in {
        f.expires_at = expires_at(e)?;
    }
    if f.keywords.len() > 1 && before != (f.context.clone(), f.filter_action.clone(), f.expires_at) {
        return Err(ApiError::Unprocessable(
            "this filter has several keywords: change its context, action or expiry through the v2 API".into(),
        ));
    }
    let saved = filters::save(ctx.stores.table.as_ref(), &me.id, &f).await?;
    Ok(Json(v1_entity(&saved, &saved.keywords[pos])))
}

/// Removes the keyword (the v2 filter stays, as in Mastodon).
pub async fn v1_delete(state: State<Ctx>, auth: Auth, kid: Path<String>) -> ApiResult<Json<Value>> {
    delete_keyword(state, auth, kid).await
}
