use std::collections::HashMap;
use std::sync::Arc;

use crate::store::table::*;
use crate::store::StoreError;

fn s(v: &str) -> Value {
    Value::S(v.into())
}

fn n(v: i64) -> Value {
    Value::N(v.to_string())
}

fn item(pk: &str, sk: &str, attrs: &[(&str, Value)]) -> Item {
    let mut i = Key::new(pk, sk).to_item();
    for (k, v) in attrs {
        i.insert(k.to_string(), v.clone());
    }
    i
}

async fn all_pages(t: &dyn Table, q: Query) -> (Vec<Item>, usize) {
    let mut out = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = t.query(q.clone().cursor(cursor)).await.unwrap();
        pages += 1;
        let size: usize = page.items.iter().map(item_size).sum();
        assert!(size <= MAX_QUERY_PAGE_BYTES, "a page of {size} bytes exceeds 1 MB");
        out.extend(page.items);
        cursor = page.cursor;
        if cursor.is_none() {
            return (out, pages);
        }
        assert!(pages < 1000, "paging does not end");
    }
}

fn sks(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| str_attr(i, SK).unwrap().to_string()).collect()
}

/// Runs every table case under partition keys that start with `ns` (unique per run).
/// `atomic_under_concurrency` is false only for an emulator that applies concurrent updates
/// without isolation (moto server loses some of twenty simultaneous ADDs; DynamoDB does not):
/// there the adds run one after another, which still checks what ADD computes.
pub async fn run_all(t: Arc<dyn Table>, ns: &str, atomic_under_concurrency: bool) {
    round_trip(t.as_ref(), ns).await;
    conditional_writes(t.as_ref(), ns).await;
    updates(t.clone(), ns, atomic_under_concurrency).await;
    queries(t.as_ref(), ns).await;
    query_pages_stop_at_one_megabyte(t.as_ref(), ns).await;
    batch_get(t.as_ref(), ns).await;
    transactions(t.as_ref(), ns).await;
    ttl(t.as_ref(), ns).await;
    bad_input(t.as_ref(), ns).await;
}

pub async fn round_trip(t: &dyn Table, ns: &str) {
    let pk = format!("{ns}#rt");
    let mut m = HashMap::new();
    m.insert("inner".to_string(), s("x"));
    let it = item(
        &pk,
        "a",
        &[
            ("str", s("héllo ✓")),
            ("num", Value::N("-12.5".into())),
            ("bool", Value::Bool(true)),
            ("null", Value::Null(true)),
            ("bin", Value::B(vec![0, 1, 2, 255])),
            ("list", Value::L(vec![s("a"), n(1)])),
            ("map", Value::M(m)),
            ("ss", Value::Ss(vec!["x".into(), "y".into()])),
            ("empty", s("")),
        ],
    );
    t.put(it.clone(), None).await.unwrap();
    let got = t.get(&Key::new(&pk, "a")).await.unwrap().expect("item written is read back");
    assert_eq!(got.get("str"), it.get("str"));
    assert_eq!(got.get("bool"), it.get("bool"));
    assert_eq!(got.get("bin"), it.get("bin"));
    assert_eq!(got.get("list"), it.get("list"));
    assert_eq!(got.get("map"), it.get("map"));
    assert_eq!(got.get("empty"), it.get("empty"));
    assert_eq!(num_attr_f(&got, "num"), -12.5);
    match got.get("ss") {
        Some(Value::Ss(v)) => {
            let mut v = v.clone();
            v.sort();
            assert_eq!(v, vec!["x".to_string(), "y".to_string()]);
        }
        other => panic!("string set came back as {other:?}"),
    }
    assert_eq!(t.get(&Key::new(&pk, "missing")).await.unwrap(), None);
    t.delete(&Key::new(&pk, "a"), None).await.unwrap();
    assert_eq!(t.get(&Key::new(&pk, "a")).await.unwrap(), None);
    // Deleting what is not there succeeds, as in DynamoDB.
    t.delete(&Key::new(&pk, "a"), None).await.unwrap();
}

fn num_attr_f(i: &Item, name: &str) -> f64 {
    match i.get(name) {
        Some(Value::N(v)) => v.parse().unwrap(),
        other => panic!("{name} is {other:?}"),
    }
}

pub async fn conditional_writes(t: &dyn Table, ns: &str) {
    let pk = format!("{ns}#cond");
    let first = item(&pk, "k", &[("v", n(1))]);
    t.put(first.clone(), Some(Cond::ItemNotExists)).await.unwrap();
    let second = item(&pk, "k", &[("v", n(2))]);
    assert_eq!(
        t.put(second.clone(), Some(Cond::ItemNotExists)).await,
        Err(StoreError::ConditionFailed { index: None })
    );
    assert_eq!(
        num_attr(&t.get(&Key::new(&pk, "k")).await.unwrap().unwrap(), "v"),
        Some(1),
        "a failed put changed the item"
    );
    // Optimistic concurrency on an attribute.
    assert!(matches!(
        t.put(second.clone(), Some(Cond::AttrEq("v".into(), n(7)))).await,
        Err(StoreError::ConditionFailed { .. })
    ));
    t.put(second, Some(Cond::AttrEq("v".into(), n(1)))).await.unwrap();
    assert_eq!(num_attr(&t.get(&Key::new(&pk, "k")).await.unwrap().unwrap(), "v"), Some(2));
    assert!(matches!(
        t.delete(&Key::new(&pk, "k"), Some(Cond::AttrEq("v".into(), n(1)))).await,
        Err(StoreError::ConditionFailed { .. })
    ));
    assert!(t.get(&Key::new(&pk, "k")).await.unwrap().is_some(), "a failed delete removed the item");
    t.delete(&Key::new(&pk, "k"), Some(Cond::And(vec![Cond::ItemExists, Cond::AttrExists("v".into())]))).await.unwrap();
    assert!(matches!(
        t.delete(&Key::new(&pk, "k"), Some(Cond::ItemExists)).await,
        Err(StoreError::ConditionFailed { .. })
    ));
}

pub async fn updates(t: Arc<dyn Table>, ns: &str, concurrently: bool) {
    let pk = format!("{ns}#upd");
    let key = Key::new(&pk, "counter");
    // Atomic add: 20 increments, at once where the backend isolates them, all count.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (t, key) = (t.clone(), key.clone());
        let task = async move { t.update(&key, Update::default().add("n", 1), None).await.unwrap() };
        if concurrently {
            tasks.push(tokio::spawn(task));
        } else {
            task.await;
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    let after = t.update(&key, Update::default().add("n", -5).set("label", s("x")), None).await.unwrap();
    assert_eq!(num_attr(&after, "n"), Some(15), "concurrent atomic adds lost updates");
    assert_eq!(str_attr(&after, "label"), Some("x"));
    let after = t.update(&key, Update::default().remove("label"), Some(Cond::ItemExists)).await.unwrap();
    assert!(after.get("label").is_none());
    assert!(matches!(
        t.update(&Key::new(&pk, "nothing"), Update::default().add("n", 1), Some(Cond::ItemExists)).await,
        Err(StoreError::ConditionFailed { .. })
    ));
    assert_eq!(t.get(&Key::new(&pk, "nothing")).await.unwrap(), None, "a failed conditional update created an item");
    t.update(&key, Update::default().set("text", s("abc")), None).await.unwrap();
    assert!(matches!(t.update(&key, Update::default().add("text", 1), None).await, Err(StoreError::InvalidInput(_))));
    assert!(matches!(
        t.update(&key, Update::default().set("pk", s("other")), None).await,
        Err(StoreError::InvalidInput(_))
    ));
}

pub async fn queries(t: &dyn Table, ns: &str) {
    let pk = format!("{ns}#q");
    for i in 0..25 {
        t.put(item(&pk, &format!("s#{i:02}"), &[("i", n(i))]), None).await.unwrap();
    }
    t.put(item(&pk, "t#00", &[]), None).await.unwrap();
    t.put(item(&pk, "r#00", &[]), None).await.unwrap();
    t.put(item(&format!("{pk}x"), "s#00", &[]), None).await.unwrap();

    let (fwd, pages) = all_pages(t, Query::new(&pk).range(SkRange::Prefix("s#".into())).limit(10)).await;
    assert_eq!(sks(&fwd), (0..25).map(|i| format!("s#{i:02}")).collect::<Vec<_>>(), "forward prefix query");
    assert!(pages >= 3, "25 items with limit 10 came in {pages} pages");

    let (back, _) = all_pages(t, Query::new(&pk).range(SkRange::Prefix("s#".into())).limit(7).backward()).await;
    assert_eq!(sks(&back), (0..25).rev().map(|i| format!("s#{i:02}")).collect::<Vec<_>>(), "backward prefix query");

    let first = t.query(Query::new(&pk).range(SkRange::Prefix("s#".into())).limit(3)).await.unwrap();
    assert_eq!(sks(&first.items), vec!["s#00", "s#01", "s#02"]);
    assert!(first.cursor.is_some(), "a full page must carry a cursor");

    let (between, _) = all_pages(t, Query::new(&pk).range(SkRange::Between("s#05".into(), "s#08".into()))).await;
    assert_eq!(sks(&between), vec!["s#05", "s#06", "s#07", "s#08"]);
    let (gt, _) = all_pages(t, Query::new(&pk).range(SkRange::Gt("s#22".into()))).await;
    assert_eq!(sks(&gt), vec!["s#23", "s#24", "t#00"]);
    let (lt, _) = all_pages(t, Query::new(&pk).range(SkRange::Lt("s#02".into())).backward().limit(2)).await;
    assert_eq!(sks(&lt), vec!["s#01", "s#00", "r#00"]);
    let (ge, _) = all_pages(t, Query::new(&pk).range(SkRange::Ge("s#24".into()))).await;
    assert_eq!(sks(&ge), vec!["s#24", "t#00"]);
    let (le, _) = all_pages(t, Query::new(&pk).range(SkRange::Le("r#00".into()))).await;
    assert_eq!(sks(&le), vec!["r#00"]);

    let (none, _) = all_pages(t, Query::new(format!("{ns}#empty"))).await;
    assert!(none.is_empty());

    assert!(matches!(t.query(Query::new(&pk).cursor(Some("garbage!".into()))).await, Err(StoreError::InvalidInput(_))));
    let foreign = t.query(Query::new(format!("{pk}x")).limit(1)).await.unwrap().cursor;
    if let Some(c) = foreign {
        assert!(matches!(t.query(Query::new(&pk).cursor(Some(c))).await, Err(StoreError::InvalidInput(_))));
    }
    assert!(matches!(t.query(Query::new(&pk).limit(0)).await, Err(StoreError::InvalidInput(_))));
}

pub async fn query_pages_stop_at_one_megabyte(t: &dyn Table, ns: &str) {
    let pk = format!("{ns}#big");
    let blob = "x".repeat(200 * 1024);
    for i in 0..7 {
        t.put(item(&pk, &format!("{i}"), &[("blob", s(&blob))]), None).await.unwrap();
    }
    let first = t.query(Query::new(&pk).limit(100)).await.unwrap();
    assert!(first.items.len() < 7, "a 1.4 MB result came back in one page");
    assert!(first.cursor.is_some());
    let (all, pages) = all_pages(t, Query::new(&pk).limit(100)).await;
    assert_eq!(all.len(), 7);
    assert!(pages >= 2);
}

pub async fn batch_get(t: &dyn Table, ns: &str) {
    let pk = format!("{ns}#bg");
    for i in 0..3 {
        t.put(item(&pk, &i.to_string(), &[("i", n(i))]), None).await.unwrap();
    }
    let keys = vec![Key::new(&pk, "2"), Key::new(&pk, "missing"), Key::new(&pk, "0"), Key::new(&pk, "1")];
    let got = t.batch_get(&keys).await.unwrap();
    let order: Vec<Option<i64>> = got.iter().map(|o| o.as_ref().and_then(|i| num_attr(i, "i"))).collect();
    assert_eq!(order, vec![Some(2), None, Some(0), Some(1)], "batch get keeps the order of its keys");
    assert!(t.batch_get(&[]).await.unwrap().is_empty());
    let many: Vec<Key> = (0..101).map(|i| Key::new(&pk, i.to_string())).collect();
    assert!(matches!(t.batch_get(&many).await, Err(StoreError::LimitExceeded(_))));
    let hundred: Vec<Key> = (0..100).map(|i| Key::new(&pk, i.to_string())).collect();
    assert_eq!(t.batch_get(&hundred).await.unwrap().iter().filter(|o| o.is_some()).count(), 3);
    let dup = vec![Key::new(&pk, "0"), Key::new(&pk, "0")];
    assert!(matches!(t.batch_get(&dup).await, Err(StoreError::InvalidInput(_))));
    // The eventually consistent variant keeps the same contract (moto, like SQLite, is always
    // consistent, so this checks the request, not the staleness).
    assert_eq!(num_attr(&t.get_eventually(&Key::new(&pk, "1")).await.unwrap().unwrap(), "i"), Some(1));
    assert_eq!(t.get_eventually(&Key::new(&pk, "missing")).await.unwrap(), None);
    let got = t.batch_get_eventually(&keys).await.unwrap();
    let order: Vec<Option<i64>> = got.iter().map(|o| o.as_ref().and_then(|i| num_attr(i, "i"))).collect();
    assert_eq!(order, vec![Some(2), None, Some(0), Some(1)], "eventual batch get keeps the order too");
    assert!(matches!(t.batch_get_eventually(&many).await, Err(StoreError::LimitExceeded(_))));
}

pub async fn transactions(t: &dyn Table, ns: &str) {
    let pk = format!("{ns}#tx");
    t.transact(vec![
        TxOp::Put { item: item(&pk, "a", &[("v", n(1))]), cond: Some(Cond::ItemNotExists) },
        TxOp::Put { item: item(&pk, "b", &[("v", n(1))]), cond: Some(Cond::ItemNotExists) },
        TxOp::Update { key: Key::new(&pk, "count"), update: Update::default().add("n", 2), cond: None },
    ])
    .await
    .unwrap();
    // The second operation's condition fails: nothing of the transaction may stay.
    let result = t
        .transact(vec![
            TxOp::Put { item: item(&pk, "c", &[]), cond: Some(Cond::ItemNotExists) },
            TxOp::Put { item: item(&pk, "a", &[("v", n(9))]), cond: Some(Cond::ItemNotExists) },
            TxOp::Update { key: Key::new(&pk, "count"), update: Update::default().add("n", 1), cond: None },
            TxOp::Delete { key: Key::new(&pk, "b"), cond: None },
        ])
        .await;
    assert_eq!(result, Err(StoreError::ConditionFailed { index: Some(1) }));
    assert_eq!(t.get(&Key::new(&pk, "c")).await.unwrap(), None, "rolled-back put is visible");
    assert_eq!(num_attr(&t.get(&Key::new(&pk, "a")).await.unwrap().unwrap(), "v"), Some(1));
    assert_eq!(num_attr(&t.get(&Key::new(&pk, "count")).await.unwrap().unwrap(), "n"), Some(2));
    assert!(t.get(&Key::new(&pk, "b")).await.unwrap().is_some(), "rolled-back delete removed an item");
    // A condition check alone can veto.
    let result = t
        .transact(vec![
            TxOp::Check { key: Key::new(&pk, "nope"), cond: Cond::ItemExists },
            TxOp::Delete { key: Key::new(&pk, "b"), cond: None },
        ])
        .await;
    assert_eq!(result, Err(StoreError::ConditionFailed { index: Some(0) }));
    assert!(t.get(&Key::new(&pk, "b")).await.unwrap().is_some());
    let too_many: Vec<TxOp> =
        (0..101).map(|i| TxOp::Put { item: item(&pk, &format!("m{i}"), &[]), cond: None }).collect();
    assert!(matches!(t.transact(too_many).await, Err(StoreError::LimitExceeded(_))));
    let same_key =
        vec![TxOp::Put { item: item(&pk, "z", &[]), cond: None }, TxOp::Delete { key: Key::new(&pk, "z"), cond: None }];
    assert!(matches!(t.transact(same_key).await, Err(StoreError::InvalidInput(_))));
    assert!(matches!(t.transact(vec![]).await, Err(StoreError::InvalidInput(_))));
}

pub async fn ttl(t: &dyn Table, ns: &str) {
    let pk = format!("{ns}#ttl");
    let now = now_secs();
    t.put(item(&pk, "old", &[(TTL, n(now - 10))]), None).await.unwrap();
    t.put(item(&pk, "live", &[(TTL, n(now + 3600))]), None).await.unwrap();
    assert_eq!(t.get(&Key::new(&pk, "old")).await.unwrap(), None, "an expired item is readable");
    assert!(t.get(&Key::new(&pk, "live")).await.unwrap().is_some());
    let (items, _) = all_pages(t, Query::new(&pk)).await;
    assert_eq!(sks(&items), vec!["live"], "a query returned an expired item");
    let got = t.batch_get(&[Key::new(&pk, "old"), Key::new(&pk, "live")]).await.unwrap();
    assert!(got[0].is_none() && got[1].is_some());
    // An expired item counts as absent for conditions, so a dedupe record can be claimed again.
    t.put(item(&pk, "old", &[(TTL, n(now + 3600))]), Some(Cond::ItemNotExists)).await.unwrap();
    assert!(t.get(&Key::new(&pk, "old")).await.unwrap().is_some());
}

pub async fn bad_input(t: &dyn Table, ns: &str) {
    let pk = format!("{ns}#bad");
    let huge = item(&pk, "huge", &[("blob", s(&"x".repeat(MAX_ITEM_BYTES)))]);
    assert!(matches!(t.put(huge, None).await, Err(StoreError::LimitExceeded(_))));
    assert_eq!(t.get(&Key::new(&pk, "huge")).await.unwrap(), None);
    let mut no_sk = Key::new(&pk, "x").to_item();
    no_sk.remove(SK);
    assert!(matches!(t.put(no_sk, None).await, Err(StoreError::InvalidInput(_))));
    let mut wrong_type = Key::new(&pk, "x").to_item();
    wrong_type.insert(SK.into(), n(5));
    assert!(matches!(t.put(wrong_type, None).await, Err(StoreError::InvalidInput(_))));
    assert!(matches!(
        t.put(item(&pk, "x", &[("n", Value::N("twelve".into()))]), None).await,
        Err(StoreError::InvalidInput(_))
    ));
    assert!(matches!(
        t.put(item(&pk, "x", &[("set", Value::Ss(vec![]))]), None).await,
        Err(StoreError::InvalidInput(_))
    ));
    assert!(matches!(t.get(&Key::new("", "x")).await, Err(StoreError::InvalidInput(_))));
    assert!(matches!(t.get(&Key::new(&pk, "k".repeat(MAX_SK_BYTES + 1))).await, Err(StoreError::LimitExceeded(_))));
    // Growing an item past 400 KB by update is refused too, and leaves it as it was.
    t.put(item(&pk, "grow", &[("a", s(&"x".repeat(300 * 1024)))]), None).await.unwrap();
    let grow = t.update(&Key::new(&pk, "grow"), Update::default().set("b", s(&"y".repeat(200 * 1024))), None).await;
    assert!(matches!(grow, Err(StoreError::LimitExceeded(_)) | Err(StoreError::InvalidInput(_))), "{grow:?}");
    assert!(t.get(&Key::new(&pk, "grow")).await.unwrap().unwrap().get("b").is_none());
}
