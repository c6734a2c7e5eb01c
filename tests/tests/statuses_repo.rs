//! Status writes at the repository level, on the embedded table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use petrel::model::{Status, Visibility};
use petrel::repo::{accounts, statuses};
use petrel::store::embedded::{Db, EmbeddedTable};

fn status(id: &str, account_id: &str) -> Status {
    Status {
        id: id.into(),
        account_id: account_id.into(),
        text: "hi".into(),
        content: "<p>hi</p>".into(),
        spoiler_text: String::new(),
        visibility: Visibility::Public,
        sensitive: false,
        language: None,
        in_reply_to_id: None,
        in_reply_to_account_id: None,
        in_reply_to_uri: None,
        created_at: 1,
        edited_at: None,
        tags: vec![],
        mentions: vec![],
        media: vec![],
        favourites_count: 0,
        reblogs_count: 0,
        replies_count: 0,
        application: None,
        application_website: None,
        remote_uri: None,
        remote_url: None,
        reblog_of: None,
        conversation: None,
        poll: None,
        poll_tally: Default::default(),
        emojis: Vec::new(),
        card: None,
        ttl: None,
    }
}

#[tokio::test]
async fn a_clashing_id_is_replaced_not_reported_as_a_missing_account() {
    let dir = tempfile::tempdir().unwrap();
    let table = EmbeddedTable::new(Db::open(dir.path()).unwrap());
    let owner = accounts::create(&table, "owner", "correct horse battery").await.unwrap();
    let first = statuses::create(&table, status("100000000000000001", &owner.id), None).await.unwrap();
    assert!(matches!(first, statuses::Created::New(ref s) if s.id == "100000000000000001"));
    // Another writer took the same id: the second post gets a fresh one.
    match statuses::create(&table, status("100000000000000001", &owner.id), None).await.unwrap() {
        statuses::Created::New(s) => assert_ne!(s.id, "100000000000000001"),
        other => panic!("{other:?}"),
    }
    assert_eq!(accounts::by_id(&table, &owner.id).await.unwrap().unwrap().statuses_count, 2);
    // An account that does not exist is still reported as such.
    let err = statuses::create(&table, status("100000000000000009", "404"), None).await.unwrap_err();
    assert!(matches!(err, petrel::repo::RepoError::NotFound(_)), "{err:?}");
}

async fn home(table: &EmbeddedTable) -> Vec<String> {
    let p = petrel::repo::timelines::PageParams::default();
    petrel::repo::timelines::page_ids(table, &petrel::repo::keys::home("local-1"), &p).await.unwrap()
}

/// A remote post is stored without a transaction: pointer first, status item last. A store
/// interrupted after the pointer is completed by the retry under the id the pointer claimed, and
/// nothing shows in a timeline until the status item is there.
#[tokio::test]
async fn an_interrupted_remote_store_is_completed_by_the_retry() {
    use petrel::repo::keys;
    use petrel::store::{Table, Value};
    let dir = tempfile::tempdir().unwrap();
    let table = EmbeddedTable::new(Db::open(dir.path()).unwrap());
    let uri = "https://remote.example/notes/1";
    let mut post = status("200000000000000001", "remote-author");
    post.remote_uri = Some(uri.into());
    let to = statuses::Delivery { home_of: vec!["local-1".into()], ..Default::default() };

    // The first attempt claimed the URI for id …9 and stopped; only the pointer was written.
    let mut pointer = keys::status_uri(uri).to_item();
    pointer.insert("status_id".into(), Value::S("200000000000000009".into()));
    table.put(pointer, None).await.unwrap();
    assert!(statuses::by_uri(&table, uri).await.unwrap().is_none());

    // The retry (with a fresh id, as the inbox makes one per attempt) completes it under …9.
    assert!(statuses::store_remote(&table, &post, &to).await.unwrap().is_some());
    let stored = statuses::by_uri(&table, uri).await.unwrap().unwrap();
    assert_eq!(stored.id, "200000000000000009");
    assert_eq!(home(&table).await, vec!["200000000000000009".to_string()]);
    assert!(statuses::get(&table, "200000000000000001").await.unwrap().is_none());

    // Once complete, a redelivery is a repeat.
    assert!(statuses::store_remote(&table, &post, &to).await.unwrap().is_none());
}

/// A viewer's marks come from a range query per kind; a range holding more marks than one query
/// returns falls back to reading each id. Both give the same flags.
#[tokio::test]
async fn marks_are_found_by_range_query_and_by_the_fallback() {
    use petrel::repo::keys;
    use petrel::store::Table;
    let dir = tempfile::tempdir().unwrap();
    let table = EmbeddedTable::new(Db::open(dir.path()).unwrap());
    let ids: Vec<String> = (0..120).map(|i| format!("3000000000000{i:05}")).collect();
    for id in &ids {
        let mut s = status(id, "author");
        s.remote_uri = Some(format!("https://remote.example/notes/{id}"));
        statuses::store_remote(&table, &s, &Default::default()).await.unwrap().unwrap();
    }
    // 110 favourites (more than one query returns: the fallback), 2 bookmarks, 1 pin.
    for id in &ids[..110] {
        table.put(keys::favourite("viewer", id).to_item(), None).await.unwrap();
    }
    for id in [&ids[3], &ids[117]] {
        table.put(keys::bookmark("viewer", id).to_item(), None).await.unwrap();
    }
    table.put(keys::pin("viewer", &ids[50]).to_item(), None).await.unwrap();
    // A mark outside the asked range is not reported.
    table.put(keys::bookmark("viewer", "299999999999999999").to_item(), None).await.unwrap();

    let got = statuses::get_many_for(&table, Some("viewer"), &ids, petrel::repo::Freshness::Strong).await.unwrap();
    assert_eq!(got.len(), 120);
    for (i, (s, m)) in got.iter().enumerate() {
        assert_eq!(s.id, ids[i], "order kept");
        assert_eq!(m.favourited, i < 110, "{i}");
        assert_eq!(m.bookmarked, i == 3 || i == 117, "{i}");
        assert_eq!(m.pinned, i == 50, "{i}");
    }
    let nobody = statuses::get_many_for(&table, Some("someone-else"), &ids[..5], petrel::repo::Freshness::Eventual)
        .await
        .unwrap();
    assert!(nobody.iter().all(|(_, m)| !m.favourited && !m.bookmarked && !m.pinned));
}
