//! The one place key formats live. See infra/table-design.md for the access patterns they serve.

use crate::store::Key;

/// A local account's profile item.
pub fn account(id: &str) -> Key {
    Key::new(format!("ACCT#{id}"), "PROFILE")
}

/// The claim on a username: makes usernames unique and maps one to its account id.
/// Usernames compare case-insensitively, as Mastodon's do.
pub fn username(name: &str) -> Key {
    Key::new(format!("USERNAME#{}", name.to_ascii_lowercase()), "CLAIM")
}

/// A registered OAuth app, by client id.
pub fn app(client_id: &str) -> Key {
    Key::new(format!("APP#{client_id}"), "APP")
}

/// An access token, by the SHA-256 of its value.
pub fn token(hash: &str) -> Key {
    Key::new(format!("TOKEN#{hash}"), "TOKEN")
}

/// An account's tokens, listed for the owner (sort key: the token's id, a snowflake, so oldest
/// first); each entry names the token's hash so it can be revoked. Written in the token's
/// transaction.
pub fn account_token(account_id: &str, token_id: &str) -> Key {
    Key::new(account_tokens(account_id), token_id)
}

pub fn account_tokens(account_id: &str) -> String {
    format!("TOKENS#{account_id}")
}

/// Failed sign-ins for a username (lower-cased, whether or not an account has it) in one window
/// of time (`window`: its start, epoch seconds); expires by TTL when the window ends.
pub fn login_failures_account(username: &str, window: i64) -> Key {
    Key::new(format!("LOGINFAIL#ACCT#{}", username.to_ascii_lowercase()), window.to_string())
}

/// Failed sign-ins from a client address (an IPv4 address, or an IPv6 /64) in one window.
pub fn login_failures_address(address: &str, window: i64) -> Key {
    Key::new(format!("LOGINFAIL#ADDR#{address}"), window.to_string())
}

/// An authorization code, by the SHA-256 of its value (expires by TTL).
pub fn auth_code(hash: &str) -> Key {
    Key::new(format!("CODE#{hash}"), "CODE")
}

/// A status by id.
pub fn status(id: &str) -> Key {
    Key::new(format!("STATUS#{id}"), "STATUS")
}

/// An account's own statuses, newest last in sort order (snowflake ids sort by time).
pub fn account_status(account_id: &str, status_id: &str) -> Key {
    Key::new(account_statuses(account_id), status_id)
}

pub fn account_statuses(account_id: &str) -> String {
    format!("POSTS#{account_id}")
}

/// A home timeline entry.
pub fn home_entry(account_id: &str, status_id: &str) -> Key {
    Key::new(home(account_id), status_id)
}

pub fn home(account_id: &str) -> String {
    format!("HOME#{account_id}")
}

/// The local public timeline.
pub fn public_entry(status_id: &str) -> Key {
    Key::new(PUBLIC_LOCAL, status_id)
}

pub const PUBLIC_LOCAL: &str = "PUBLIC#local";

/// An account's favourite of a status.
pub fn favourite(account_id: &str, status_id: &str) -> Key {
    Key::new(favourites(account_id), status_id)
}

pub fn favourites(account_id: &str) -> String {
    format!("FAV#{account_id}")
}

/// The status an idempotent create made for (account, Idempotency-Key).
pub fn idempotency(account_id: &str, key_hash: &str) -> Key {
    Key::new(format!("IDEMP#{account_id}"), key_hash)
}

/// Markers (home, notifications) of an account.
pub fn marker(account_id: &str, timeline: &str) -> Key {
    Key::new(format!("MARKER#{account_id}"), timeline)
}

/// The list of local accounts (sort key: account id, so the first is the oldest: the owner).
pub const LOCAL_ACCOUNTS: &str = "LOCAL_ACCOUNTS";

pub fn local_account(id: &str) -> Key {
    Key::new(LOCAL_ACCOUNTS, id)
}

/// A reply under its parent, for a thread's descendants.
pub fn reply(parent_id: &str, reply_id: &str) -> Key {
    Key::new(replies(parent_id), reply_id)
}

pub fn replies(parent_id: &str) -> String {
    format!("REPLIES#{parent_id}")
}

/// Who favourited a status (the reverse of `favourite`).
pub fn favourited_by(status_id: &str, account_id: &str) -> Key {
    Key::new(favouriters(status_id), account_id)
}

pub fn favouriters(status_id: &str) -> String {
    format!("FAVBY#{status_id}")
}

/// A public status under a hashtag.
pub fn tag_entry(tag: &str, status_id: &str) -> Key {
    Key::new(tag_timeline(tag), status_id)
}

pub fn tag_timeline(tag: &str) -> String {
    format!("TAG#{tag}")
}

/// An account's bookmark of a status.
pub fn bookmark(account_id: &str, status_id: &str) -> Key {
    Key::new(bookmarks(account_id), status_id)
}

pub fn bookmarks(account_id: &str) -> String {
    format!("BOOKMARK#{account_id}")
}

/// A status pinned to its author's profile.
pub fn pin(account_id: &str, status_id: &str) -> Key {
    Key::new(pins(account_id), status_id)
}

pub fn pins(account_id: &str) -> String {
    format!("PIN#{account_id}")
}

/// An earlier version of an edited status, in the status's own partition.
pub fn status_version(status_id: &str, at_ms: i64) -> Key {
    Key::new(format!("STATUS#{status_id}"), format!("EDIT#{at_ms:015}"))
}

pub fn status_partition(status_id: &str) -> String {
    format!("STATUS#{status_id}")
}

/// An uploaded media file.
pub fn media(id: &str) -> Key {
    Key::new(format!("MEDIA#{id}"), "MEDIA")
}

/// A remote actor's id → the account id Petrel gave it.
pub fn actor_uri(uri: &str) -> Key {
    Key::new(format!("ACTORURI#{uri}"), "ACTOR")
}

/// A key id (`…#main-key`) → the account that owns it.
pub fn key_owner(key_id: &str) -> Key {
    Key::new(format!("KEYID#{key_id}"), "KEY")
}

/// A remote status's id → the status id Petrel gave it.
pub fn status_uri(uri: &str) -> Key {
    Key::new(format!("STATUSURI#{uri}"), "STATUS")
}

/// A follower of a local account (sort key: the follower's account id).
pub fn follower(local_id: &str, follower_id: &str) -> Key {
    Key::new(followers(local_id), follower_id)
}

pub fn followers(local_id: &str) -> String {
    format!("FOLLOWERS#{local_id}")
}

/// A distinct delivery inbox of a local account's followers (the shared inbox where a follower
/// has one), with how many followers it stands for: fan-out pages over these, so each inbox gets
/// an activity once however many followers share it. Sort key: the inbox URL's SHA-256 (a URL may
/// be longer than a sort key may be); the URL is the `inbox` attribute.
pub fn delivery_inbox(local_id: &str, inbox: &str) -> Key {
    Key::new(delivery_inboxes(local_id), crate::crypto::sha256_hex(inbox))
}

pub fn delivery_inboxes(local_id: &str) -> String {
    format!("INBOXES#{local_id}")
}

/// Marks an account's delivery inbox set as complete (built from its followers once, maintained
/// with every follower change since).
pub fn delivery_inboxes_built(local_id: &str) -> Key {
    Key::new(format!("INBOXSET#{local_id}"), "BUILT")
}

/// An account a local account follows (or asked to follow).
pub fn following(local_id: &str, target_id: &str) -> Key {
    Key::new(followings(local_id), target_id)
}

pub fn followings(local_id: &str) -> String {
    format!("FOLLOWING#{local_id}")
}

/// The reverse of `following`: local accounts that follow a remote one, for delivering its posts
/// into their home timelines.
pub fn followed_by_local(target_id: &str, local_id: &str) -> Key {
    Key::new(local_followers(target_id), local_id)
}

pub fn local_followers(target_id: &str) -> String {
    format!("LOCALFOLLOWERS#{target_id}")
}

/// A pending follow request to a locked local account.
pub fn follow_request(local_id: &str, requester_id: &str) -> Key {
    Key::new(follow_requests(local_id), requester_id)
}

pub fn follow_requests(local_id: &str) -> String {
    format!("FOLLOWREQ#{local_id}")
}

/// A notification of a local account (sort key: a snowflake, so newest last).
pub fn notification(local_id: &str, id: &str) -> Key {
    Key::new(notifications(local_id), id)
}

pub fn notifications(local_id: &str) -> String {
    format!("NOTIF#{local_id}")
}

/// A remote account's reaction (Like) to a status, so an Undo finds it and repeats count once.
pub fn reaction(status_id: &str, kind: &str, account_id: &str) -> Key {
    Key::new(reactions(status_id), format!("{kind}#{account_id}"))
}

pub fn reactions(status_id: &str) -> String {
    format!("REACT#{status_id}")
}

/// The delivery report of a status: counters of targeted, delivered and failed inboxes.
pub fn delivery_report(status_id: &str) -> Key {
    Key::new(format!("DELIVERY#{status_id}"), "REPORT")
}

/// A page of an activity's fan-out that was queued, so a redelivered fan-out message does not
/// queue it again (`page`: the follower cursor it started at, `first` for the first).
pub fn fanned_out(activity_id: &str, page: &str) -> Key {
    Key::new(format!("FANOUT#{activity_id}"), page)
}

/// A day on which deliveries to a domain failed (sort key: `YYYY-MM-DD`; expires after a month).
pub fn domain_failure(host: &str, day: &str) -> Key {
    Key::new(domain_failures(host), day)
}

pub fn domain_failures(host: &str) -> String {
    format!("DOMAINFAIL#{host}")
}

/// A domain skipped by fan-out after failures on seven distinct days.
pub fn domain_unavailable(host: &str) -> Key {
    Key::new(format!("UNAVAILABLE#{host}"), "MARK")
}

/// An account a local account blocks or mutes (`kind` is `BLOCKS` or `MUTES`).
pub fn relation(kind: &str, local_id: &str, target_id: &str) -> Key {
    Key::new(relations(kind, local_id), target_id)
}

pub fn relations(kind: &str, local_id: &str) -> String {
    format!("{kind}#{local_id}")
}

/// The deployment's own settings (the domain it serves), written by `petrel account create`.
pub fn site() -> Key {
    Key::new("SITE", "SETTINGS")
}

/// The site's VAPID key pair for Web Push, created on first need.
pub fn vapid() -> Key {
    Key::new("SITE", "VAPID")
}

/// A Web Push subscription, one per access token (sort key: the token's SHA-256), in its
/// account's partition, so a notification finds every subscription of its account in one query.
pub fn push_subscription(account_id: &str, token_hash: &str) -> Key {
    Key::new(push_subscriptions(account_id), token_hash)
}

pub fn push_subscriptions(account_id: &str) -> String {
    format!("PUSH#{account_id}")
}

// Conversations, thread mutes, boost marks and account notes (issue #16, items 5 and 7).

/// A local account's conversation (direct messages), by its thread root's status id: which
/// status is the last, whether it is unread, and the other participants.
pub fn conversation(account_id: &str, root_id: &str) -> Key {
    Key::new(format!("CONV#{account_id}"), root_id)
}

/// A local account's conversations by their last status (sort key: that status's id, so the
/// newest last); each entry names its conversation. Moved when a new status arrives.
pub fn conversation_entry(account_id: &str, last_status_id: &str) -> Key {
    Key::new(conversation_entries(account_id), last_status_id)
}

pub fn conversation_entries(account_id: &str) -> String {
    format!("CONVS#{account_id}")
}

/// A thread (by its root status id) a local account muted: no notifications from it.
pub fn thread_mute(account_id: &str, root_id: &str) -> Key {
    Key::new(thread_mutes(account_id), root_id)
}

pub fn thread_mutes(account_id: &str) -> String {
    format!("THREADMUTE#{account_id}")
}

/// A status a local account boosted (sort key: the boosted status's id), so a page learns its
/// `reblogged` flags in one query. Written with the boost.
pub fn boosted(account_id: &str, status_id: &str) -> Key {
    Key::new(boosts(account_id), status_id)
}

pub fn boosts(account_id: &str) -> String {
    format!("BOOSTED#{account_id}")
}

/// A local account's private note on another account.
pub fn account_note(account_id: &str, target_id: &str) -> Key {
    Key::new(format!("NOTE#{account_id}"), target_id)
}

/// A local account that blocks a whole domain, in the domain's partition, so the inbox finds
/// who blocks an activity's domain in one query (`repo::domain_blocks`).
pub fn domain_blocker(domain: &str, local_id: &str) -> Key {
    Key::new(domain_blockers(domain), local_id)
}

pub fn domain_blockers(domain: &str) -> String {
    format!("DOMAINBLOCKERS#{domain}")
}

/// A vote on a poll, in the status's partition: `VOTE#L#` for a local voter (read to show the
/// viewer's own votes; listed for the expiry notification), `VOTE#R#` for a remote one.
pub fn poll_vote(status_id: &str, local: bool, account_id: &str) -> Key {
    Key::new(status_partition(status_id), format!("{}{account_id}", poll_voters_prefix(local)))
}

/// The sort-key prefix of a poll's local or remote votes.
pub fn poll_voters_prefix(local: bool) -> &'static str {
    if local {
        "VOTE#L#"
    } else {
        "VOTE#R#"
    }
}

/// A status scheduled by a local account (sort key: its id).
pub fn scheduled_status(account_id: &str, id: &str) -> Key {
    Key::new(scheduled_statuses(account_id), id)
}

pub fn scheduled_statuses(account_id: &str) -> String {
    format!("SCHEDULED#{account_id}")
}

// Lists, filters and hashtags (issue #16).

/// A list of a local account (sort key: the list's id); the item holds its title and policies.
pub fn list(owner_id: &str, list_id: &str) -> Key {
    Key::new(lists(owner_id), list_id)
}

pub fn lists(owner_id: &str) -> String {
    format!("LISTS#{owner_id}")
}

/// A member of a list (sort key: the member's account id).
pub fn list_member(list_id: &str, account_id: &str) -> Key {
    Key::new(list_members(list_id), account_id)
}

pub fn list_members(list_id: &str) -> String {
    format!("LISTMEMBERS#{list_id}")
}

/// A list timeline entry.
pub fn list_entry(list_id: &str, status_id: &str) -> Key {
    Key::new(list_timeline(list_id), status_id)
}

pub fn list_timeline(list_id: &str) -> String {
    format!("LISTTL#{list_id}")
}

/// A filter (v2) of a local account, keywords and filtered statuses inside (sort key: its id).
pub fn filter(account_id: &str, filter_id: &str) -> Key {
    Key::new(filters(account_id), filter_id)
}

pub fn filters(account_id: &str) -> String {
    format!("FILTERS#{account_id}")
}

/// A hashtag a local account follows (sort key: the tag, lower-cased).
pub fn followed_tag(account_id: &str, tag: &str) -> Key {
    Key::new(followed_tags(account_id), tag)
}

pub fn followed_tags(account_id: &str) -> String {
    format!("FOLLOWEDTAGS#{account_id}")
}

/// The local accounts that follow a hashtag: one item per tag, an attribute `f{account_id}` per
/// follower, so a post's tags find their followers in one batch get.
pub fn tag_followers(tag: &str) -> Key {
    Key::new(format!("TAGFOLLOWERS#{tag}"), "LOCAL")
}

/// A hashtag featured on a local account's profile (sort key: the tag, lower-cased).
pub fn featured_tag(account_id: &str, tag: &str) -> Key {
    Key::new(featured_tags(account_id), tag)
}

pub fn featured_tags(account_id: &str) -> String {
    format!("FEATURED#{account_id}")
}

/// Every open streaming connection, in one partition: an event reads who is connected, and to
/// what, with one query (none connected: one query that finds nothing). Sort key: the
/// connection id. Expires by TTL shortly after API Gateway's two-hour limit.
pub const STREAMING: &str = "STREAMING";

pub fn streaming_connection(connection_id: &str) -> Key {
    Key::new(STREAMING, connection_id)
}

/// The preview card of one URL (or the note that it has none), shared by every status linking it
/// (by the URL's SHA-256: a URL may be longer than a key may be).
pub fn card(url: &str) -> Key {
    Key::new(format!("CARD#{}", crate::crypto::sha256_hex(url)), "CARD")
}
