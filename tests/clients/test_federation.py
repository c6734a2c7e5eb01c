"""Federation with a real Fedify 2.3.6 peer on loopback, on both backends: the peer follows the
owner and gets Accept; the owner follows the peer (found by URL through search) and the peer's
Accept is processed; the peer's post lands in the owner's home timeline; the owner's posts, edits
and deletes reach the peer with signatures Fedify verifies; and the inbox refuses what it must,
storing nothing."""
import time
import uuid

import requests

from mastodon_schema import check
from test_media import jpeg
from test_oauth_and_errors import password_token


def wait_for(what, check, timeout=20):
    deadline = time.time() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def received(peer, **params):
    r = requests.get(f"{peer}/_control/received", params={"wait": 15000, **params}, timeout=30)
    r.raise_for_status()
    return r.json()


def api(server):
    _, tok = password_token(server)
    s = requests.Session()
    s.headers["Authorization"] = "Bearer " + tok
    return s


def me(server, s):
    return s.get(f"{server.base}/api/v1/accounts/verify_credentials").json()


def test_peer_follows_owner_and_receives_posts_edits_deletes(server, peer):
    actor = f"{server.base}/users/{server.username}"
    r = requests.post(f"{peer}/_control/follow", json={"actor": actor}, timeout=30)
    assert r.status_code == 200, r.text
    follow_id = r.json()["id"]
    accepts = received(peer, type="Accept", actor=actor, count=1)
    assert any(a["objectId"] == follow_id for a in accepts), accepts

    s = api(server)
    account = me(server, s)
    assert account["followers_count"] >= 1
    follows = s.get(f"{server.base}/api/v1/notifications", params={"types[]": "follow"}).json()
    assert [n for n in follows if n["account"]["uri"] == f"{peer}/users/peer"], follows
    for n in follows:
        check(n, "Notification")
    followers = s.get(f"{server.base}/api/v1/accounts/{account['id']}/followers").json()
    assert f"{peer}/users/peer" in [f["url"] for f in followers] + [f.get("uri") for f in followers]

    marker = uuid.uuid4().hex[:8]
    media = s.post(f"{server.base}/api/v2/media", files={"file": ("p.jpg", jpeg(32, 24), "image/jpeg")},
                   data={"description": f"alt {marker}"}).json()
    posted = s.post(f"{server.base}/api/v1/statuses",
                    data={"status": f"federated {marker} #petreltest", "media_ids[]": media["id"]}).json()
    creates = received(peer, type="Create", actor=actor, count=1)
    note = next(c for c in creates if marker in c["json"]["object"]["content"])
    assert note["objectId"] == posted["uri"]
    # The delivery report counts the peer's inbox as reached, over the API and in the CLI.
    report = wait_for("the delivery report", lambda: [
        x for x in [s.get(f"{server.base}/api/v1/petrel/statuses/{posted['id']}/deliveries").json()] if x["delivered"] >= 1])[0]
    assert report["targeted"] >= 1 and report["failed"] == 0 and report["pending"] == report["targeted"] - report["delivered"]
    assert requests.get(f"{server.base}/api/v1/petrel/statuses/{posted['id']}/deliveries").status_code == 401
    if server.backend == "embedded":
        import subprocess
        from conftest import petrel_bin
        out = subprocess.run([petrel_bin(), "--data", server.data, "deliveries", posted["id"]],
                             capture_output=True, text=True, check=True).stdout
        assert f"delivered {report['delivered']}" in " ".join(out.split()), out
    assert any(t.get("name") == "#petreltest" for t in note["json"]["object"]["tag"])
    doc = note["json"]["object"]["attachment"]
    doc = doc[0] if isinstance(doc, list) else doc
    assert doc["type"] == "Document" and doc["mediaType"] == "image/jpeg" and doc["name"] == f"alt {marker}"
    assert doc["width"] == 32 and doc["height"] == 24 and doc["blurhash"] and doc["url"] == media["url"]

    s.put(f"{server.base}/api/v1/statuses/{posted['id']}", data={"status": f"edited {marker}"}).raise_for_status()
    updates = received(peer, type="Update", actor=actor, count=1)
    assert any(f"edited {marker}" in u["json"]["object"]["content"] for u in updates if u["objectId"] == posted["uri"])

    s.delete(f"{server.base}/api/v1/statuses/{posted['id']}").raise_for_status()
    deletes = received(peer, type="Delete", actor=actor, count=1)
    assert any(d["objectId"] == posted["uri"] for d in deletes), deletes
    # A profile change reaches followers as Update(Person).
    s.patch(f"{server.base}/api/v1/accounts/update_credentials", data={"display_name": f"Alice {marker}"}).raise_for_status()
    profile = received(peer, type="Update", actor=actor, objectType="Person", count=1)
    assert any(u["json"]["object"].get("name") == f"Alice {marker}" for u in profile), profile
    # Fedify verified each signature: nothing from Petrel was refused.
    rejected = requests.get(f"{peer}/_control/rejected", params={"actor": actor}).json()
    assert rejected == [], rejected


def follow_peer(server, s, peer):
    """The owner finds the peer by its URL and follows it; returns the peer's account once its
    Accept has been processed."""
    peer_actor = f"{peer}/users/peer"
    found = s.get(f"{server.base}/api/v2/search", params={"q": peer_actor, "resolve": "true", "type": "accounts"}).json()
    assert found["accounts"], found
    peer_account = found["accounts"][0]
    assert peer_account["acct"].startswith("peer@127.0.0.1:")

    rel = s.post(f"{server.base}/api/v1/accounts/{peer_account['id']}/follow").json()
    assert rel["following"] or rel["requested"], rel
    rel = wait_for(
        "the peer's Accept",
        lambda: [r for r in s.get(f"{server.base}/api/v1/accounts/relationships", params={"id[]": peer_account["id"]}).json() if r["following"]],
    )[0]
    assert rel["following"] and not rel["requested"]
    return peer_account


def test_owner_follows_peer_and_gets_its_posts(server, peer):
    s = api(server)
    peer_account = follow_peer(server, s, peer)

    marker = uuid.uuid4().hex[:8]
    picture = f"{peer}/files/{marker}.jpg"
    r = requests.post(f"{peer}/_control/post", json={
        "content": f"<p>hello from fedify {marker}</p>", "to": "public", "hashtag": "fedi",
        "attachment": {"url": picture, "mediaType": "image/jpeg", "name": f"a picture {marker}"}}, timeout=30)
    assert r.status_code == 200, r.text
    home = wait_for(
        "the peer's post in the home timeline",
        lambda: [x for x in s.get(f"{server.base}/api/v1/timelines/home").json() if marker in x["content"]],
    )
    assert home[0]["account"]["id"] == peer_account["id"]
    assert home[0]["uri"] == r.json()["note"]
    # The Document comes back as an attachment, linked where the peer keeps it, with its alt text.
    media = home[0]["media_attachments"]
    assert len(media) == 1 and media[0]["type"] == "image", media
    assert media[0]["url"] == picture and media[0]["remote_url"] == picture
    assert media[0]["description"] == f"a picture {marker}"
    check(home[0], "Status")
    assert [t["name"] for t in home[0]["tags"]] == ["fedi"]
    # Favouriting it sends the peer a Like.
    s.post(f"{server.base}/api/v1/statuses/{home[0]['id']}/favourite").raise_for_status()
    likes = received(peer, type="Like", objectId=r.json()["note"], count=1)
    assert likes and likes[0]["actor"] == f"{server.base}/users/{server.username}"


def post_inbox(server, body, headers=None):
    return requests.post(f"{server.base}/users/{server.username}/inbox", data=body, headers={"Content-Type": "application/activity+json", **(headers or {})})


def test_inbox_refusals_store_nothing(server, peer):
    s = api(server)
    before = s.get(f"{server.base}/api/v1/notifications").json()
    like = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{peer}/likes/{uuid.uuid4()}", "type": "Like",
            "actor": f"{peer}/users/peer", "object": f"{server.base}/users/{server.username}/statuses/1"}
    import json
    # Unsigned.
    r = post_inbox(server, json.dumps(like))
    assert r.status_code == 401 and "error" in r.json()
    # Malformed JSON.
    assert post_inbox(server, b"{not json").status_code == 400
    # Over 1 MB.
    assert post_inbox(server, b"{" + b" " * (2 * 1024 * 1024) + b"}").status_code == 413
    # Signed by the peer but naming another actor as the author.
    forged = {**like, "id": f"{peer}/likes/{uuid.uuid4()}", "actor": f"{peer}/users/someone-else"}
    r = requests.post(f"{peer}/_control/send-raw", json={"inbox": f"{server.base}/users/{server.username}/inbox", "activity": forged, "spec": "cavage"}, timeout=30)
    assert r.json()["status"] == 401, r.json()
    assert s.get(f"{server.base}/api/v1/notifications").json() == before


def test_the_same_like_three_times_counts_once(server, peer):
    s = api(server)
    posted = s.post(f"{server.base}/api/v1/statuses", data={"status": "like me"}).json()
    like = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{peer}/likes/{uuid.uuid4()}", "type": "Like",
            "actor": f"{peer}/users/peer", "object": posted["uri"]}
    for _ in range(3):
        r = requests.post(f"{peer}/_control/send-raw", json={"inbox": f"{server.base}/inbox", "activity": like}, timeout=30)
        assert r.json()["status"] == 202, r.json()
    got = wait_for("the favourite", lambda: [x for x in [s.get(f"{server.base}/api/v1/statuses/{posted['id']}").json()] if x["favourites_count"] > 0])
    time.sleep(1.5)  # the two repeats were queued too, if they were going to be
    assert s.get(f"{server.base}/api/v1/statuses/{posted['id']}").json()["favourites_count"] == 1, got
    favs = s.get(f"{server.base}/api/v1/notifications", params={"types[]": "favourite"}).json()
    assert len([n for n in favs if n["status"]["id"] == posted["id"]]) == 1, favs


def test_grouped_notifications_match_the_schema(server, peer):
    """API v2 notifications (what Phanpy and Ice Cubes ask for) after a real peer's like: every
    part of the answer is a valid Mastodon entity, and unread counts answer."""
    s = api(server)
    posted = s.post(f"{server.base}/api/v1/statuses", data={"status": "group me"}).json()
    like = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{peer}/likes/{uuid.uuid4()}", "type": "Like",
            "actor": f"{peer}/users/peer", "object": posted["uri"]}
    r = requests.post(f"{peer}/_control/send-raw", json={"inbox": f"{server.base}/inbox", "activity": like}, timeout=30)
    assert r.json()["status"] == 202, r.json()
    body = wait_for("the grouped favourite", lambda: (lambda b: b if any(
        g["type"] == "favourite" and g["status_id"] == posted["id"] for g in b["notification_groups"]) else None)(
        s.get(f"{server.base}/api/v2/notifications").json()))
    check(body, "GroupedNotificationsResults")
    for g in body["notification_groups"]:
        check(g, "NotificationGroup")
    for a in body["accounts"]:
        check(a, "Account")
    for st in body["statuses"]:
        check(st, "Status")
    group = next(g for g in body["notification_groups"] if g["status_id"] == posted["id"])
    one = s.get(f"{server.base}/api/v2/notifications/{group['group_key']}").json()
    check(one, "GroupedNotificationsResults")
    for path in ("/api/v1/notifications/unread_count", "/api/v2/notifications/unread_count"):
        count = s.get(f"{server.base}{path}").json()
        assert isinstance(count["count"], int) and count["count"] >= 1, count


def test_inline_object_from_another_host_is_not_trusted(server, peer):
    s = api(server)
    # Followed, so that a trusted post would land in the home timeline: its absence then means
    # the inline copy was refused, not that the post was unsolicited.
    follow_peer(server, s, peer)
    marker = uuid.uuid4().hex[:8]
    create = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{peer}/creates/{uuid.uuid4()}", "type": "Create",
              "actor": f"{peer}/users/peer", "to": ["https://www.w3.org/ns/activitystreams#Public"],
              "object": {"id": f"http://10.255.255.1/notes/{marker}", "type": "Note", "attributedTo": f"{peer}/users/peer",
                         "content": f"forged {marker}", "to": ["https://www.w3.org/ns/activitystreams#Public"]}}
    r = requests.post(f"{peer}/_control/send-raw", json={"inbox": f"{server.base}/inbox", "activity": create}, timeout=30)
    assert r.json()["status"] == 202, r.json()
    time.sleep(2)
    assert not [x for x in s.get(f"{server.base}/api/v1/timelines/home").json() if marker in x["content"]]


def relationship(server, s, account_id):
    return s.get(f"{server.base}/api/v1/accounts/relationships", params={"id[]": account_id}).json()[0]


def peer_post(peer, text, **extra):
    r = requests.post(f"{peer}/_control/post", json={"content": f"<p>{text}</p>", "to": "public", **extra}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def in_home(server, s, marker):
    return [x for x in s.get(f"{server.base}/api/v1/timelines/home").json() if marker in x["content"]]


def test_mute_hides_and_block_cuts_off(server, peer):
    s = api(server)
    peer_account = follow_peer(server, s, peer)
    pid = peer_account["id"]

    rel = s.post(f"{server.base}/api/v1/accounts/{pid}/mute").json()
    assert rel["muting"] and rel["following"]
    assert pid in [a["id"] for a in s.get(f"{server.base}/api/v1/mutes").json()]
    hidden = uuid.uuid4().hex[:8]
    peer_post(peer, f"muted {hidden}")
    time.sleep(2)
    assert not in_home(server, s, hidden), "a muted account's post reached the home timeline"
    assert not s.post(f"{server.base}/api/v1/accounts/{pid}/unmute").json()["muting"]
    shown = uuid.uuid4().hex[:8]
    peer_post(peer, f"unmuted {shown}")
    wait_for("the post after unmuting", lambda: in_home(server, s, shown))

    actor = f"{server.base}/users/{server.username}"
    rel = s.post(f"{server.base}/api/v1/accounts/{pid}/block").json()
    assert rel["blocking"] and not rel["following"] and not rel["followed_by"], rel
    assert pid in [a["id"] for a in s.get(f"{server.base}/api/v1/blocks").json()]
    assert received(peer, type="Block", actor=actor, count=1)
    # The blocked account follows again: it is refused, not accepted.
    r = requests.post(f"{peer}/_control/follow", json={"actor": actor}, timeout=30)
    assert r.status_code == 200, r.text
    rejects = received(peer, type="Reject", actor=actor, count=1)
    assert any(x["objectId"] == r.json()["id"] for x in rejects), rejects
    assert not relationship(server, s, pid)["followed_by"]

    rel = s.post(f"{server.base}/api/v1/accounts/{pid}/unblock").json()
    assert not rel["blocking"]
    undos = received(peer, type="Undo", actor=actor, objectType="Block", count=1)
    assert undos, "the peer was not told of the unblock"


def test_locked_account_decides_follow_requests(server, peer):
    s = api(server)
    actor = f"{server.base}/users/{server.username}"
    s.patch(f"{server.base}/api/v1/accounts/update_credentials", data={"locked": "true"}).raise_for_status()
    try:
        # Start from "not followed": a previous test may have left the peer following.
        account = me(server, s)
        peer_account = follow_peer(server, s, peer)
        if relationship(server, s, peer_account["id"])["followed_by"]:
            s.post(f"{server.base}/api/v1/accounts/{peer_account['id']}/block").raise_for_status()
            s.post(f"{server.base}/api/v1/accounts/{peer_account['id']}/unblock").raise_for_status()
        requests.post(f"{peer}/_control/reset", timeout=30)
        r = requests.post(f"{peer}/_control/follow", json={"actor": actor}, timeout=30)
        assert r.status_code == 200, r.text
        follow_id = r.json()["id"]
        requests_list = wait_for("the follow request", lambda: s.get(f"{server.base}/api/v1/follow_requests").json())
        assert peer_account["id"] in [a["id"] for a in requests_list]
        assert relationship(server, s, peer_account["id"])["requested_by"]
        time.sleep(1)
        assert not requests.get(f"{peer}/_control/received", params={"type": "Accept", "actor": actor}).json(), \
            "a locked account accepted by itself"
        notes = s.get(f"{server.base}/api/v1/notifications", params={"types[]": "follow_request"}).json()
        assert notes and notes[0]["account"]["id"] == peer_account["id"]

        rel = s.post(f"{server.base}/api/v1/follow_requests/{peer_account['id']}/authorize").json()
        assert rel["followed_by"] and not rel["requested_by"], rel
        accepts = received(peer, type="Accept", actor=actor, count=1)
        assert any(a["objectId"] == follow_id for a in accepts), accepts
        assert me(server, s)["followers_count"] == account["followers_count"] + 1
    finally:
        s.patch(f"{server.base}/api/v1/accounts/update_credentials", data={"locked": "false"}).raise_for_status()


def test_boosts_both_ways(server, peer):
    s = api(server)
    actor = f"{server.base}/users/{server.username}"
    peer_account = follow_peer(server, s, peer)
    # The owner boosts the peer's post: the peer gets Announce, the boost shows in home.
    marker = uuid.uuid4().hex[:8]
    note = peer_post(peer, f"boost me {marker}")["note"]
    original = wait_for("the peer's post", lambda: in_home(server, s, marker))[0]
    boost = s.post(f"{server.base}/api/v1/statuses/{original['id']}/reblog").json()
    assert boost["reblog"]["id"] == original["id"] and boost["reblog"]["reblogged"], boost
    check(boost, "Status")
    again = s.post(f"{server.base}/api/v1/statuses/{original['id']}/reblog").json()
    assert again["id"] == boost["id"], "boosting twice made two boosts"
    announces = received(peer, type="Announce", actor=actor, objectId=note, count=1)
    assert len(announces) == 1, announces
    home = s.get(f"{server.base}/api/v1/timelines/home").json()
    assert any(x["id"] == boost["id"] and x["reblog"]["id"] == original["id"] for x in home)
    by = s.get(f"{server.base}/api/v1/statuses/{original['id']}/reblogged_by").json()
    assert [a["id"] for a in by] == [me(server, s)["id"]]
    assert s.get(f"{server.base}/api/v1/statuses/{original['id']}").json()["reblogs_count"] == 1
    unboosted = s.post(f"{server.base}/api/v1/statuses/{original['id']}/unreblog").json()
    assert unboosted["reblogs_count"] == 0
    undos = received(peer, type="Undo", actor=actor, objectType="Announce", count=1)
    assert any(u["json"]["object"]["object"] == note for u in undos), undos
    assert not [x for x in s.get(f"{server.base}/api/v1/timelines/home").json() if x["id"] == boost["id"]]

    # The peer boosts the owner's post: counted once, notified, listed.
    mine = s.post(f"{server.base}/api/v1/statuses", data={"status": f"boost this {marker}"}).json()
    r = requests.post(f"{peer}/_control/announce", json={"object": mine["uri"]}, timeout=30)
    assert r.status_code == 200, r.text
    wait_for("the peer's boost", lambda: s.get(f"{server.base}/api/v1/statuses/{mine['id']}").json()["reblogs_count"] == 1)
    by = s.get(f"{server.base}/api/v1/statuses/{mine['id']}/reblogged_by").json()
    assert [a["id"] for a in by] == [peer_account["id"]]
    notes = s.get(f"{server.base}/api/v1/notifications", params={"types[]": "reblog"}).json()
    assert any(n["status"]["id"] == mine["id"] for n in notes), notes


def test_a_followed_accounts_boost_of_another_post_reaches_home(server, peer):
    """The peer boosts a post of a third server (here: a second Fedify peer); the owner, who
    follows the peer, sees the boost with the post fetched from its origin inside; the Undo
    takes it away."""
    import subprocess
    from conftest import PEER_DIR
    s = api(server)
    peer_account = follow_peer(server, s, peer)
    other = subprocess.Popen(["node", "peer.mjs", "--port", "0", "--name", "other"], cwd=PEER_DIR,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        other_base = other.stdout.readline().split()[1]
        marker = uuid.uuid4().hex[:8]
        note = peer_post(other_base, f"third party {marker}")["note"]
        r = requests.post(f"{peer}/_control/announce", json={"object": note}, timeout=30)
        assert r.status_code == 200, r.text
        boosted = wait_for("the boost in home", lambda: [
            x for x in s.get(f"{server.base}/api/v1/timelines/home").json()
            if x["reblog"] and marker in x["reblog"]["content"]])
        assert boosted[0]["account"]["id"] == peer_account["id"]
        assert boosted[0]["reblog"]["uri"] == note
        assert boosted[0]["reblog"]["account"]["acct"].startswith("other@")
        requests.post(f"{peer}/_control/undo", json={"activity": r.json()["id"]}, timeout=30).raise_for_status()
        wait_for("the boost to go", lambda: not [
            x for x in s.get(f"{server.base}/api/v1/timelines/home").json() if x["id"] == boosted[0]["id"]])
        # A post nobody here follows, found by its URL: fetched from its server and shown.
        lone = uuid.uuid4().hex[:8]
        lone_note = peer_post(other_base, f"found by url {lone}")["note"]
        found = s.get(f"{server.base}/api/v2/search", params={"q": lone_note, "resolve": "true", "type": "statuses"}).json()
        assert [x["uri"] for x in found["statuses"]] == [lone_note], found
        assert lone in found["statuses"][0]["content"]
        unresolved = s.get(f"{server.base}/api/v2/search", params={"q": f"{other_base}/users/other/notes/nope", "resolve": "true"}).json()
        assert unresolved["statuses"] == []
    finally:
        other.terminate()
        other.wait(10)


def test_mentioning_a_remote_account_reaches_it(server, peer):
    """`@peer@host:port` is found through WebFinger (plain http only because the test server
    allows private networks), linked, and the direct message reaches the peer; its Delete too."""
    s = api(server)
    actor = f"{server.base}/users/{server.username}"
    handle = "peer@" + peer.split("://", 1)[1]
    marker = uuid.uuid4().hex[:8]
    posted = s.post(f"{server.base}/api/v1/statuses", data={"status": f"@{handle} psst {marker}", "visibility": "direct"}).json()
    assert [m["acct"] for m in posted["mentions"]] == [handle], posted["mentions"]
    assert f'href="{peer}/users/peer"' in posted["content"], posted["content"]
    creates = received(peer, type="Create", actor=actor, objectId=posted["uri"], count=1)
    note = creates[0]["json"]["object"]
    assert f"{peer}/users/peer" in (note["to"] if isinstance(note["to"], list) else [note["to"]])
    assert "https://www.w3.org/ns/activitystreams#Public" not in str(note.get("cc", "")) + str(note["to"])
    s.delete(f"{server.base}/api/v1/statuses/{posted['id']}").raise_for_status()
    assert received(peer, type="Delete", actor=actor, objectId=posted["uri"], count=1)
    # The public timeline shows what came from other servers too, and only that with remote=true.
    remote = s.get(f"{server.base}/api/v1/timelines/public", params={"remote": "true"}).json()
    assert remote and all(x["account"]["acct"].count("@") == 1 for x in remote), remote
    local = s.get(f"{server.base}/api/v1/timelines/public", params={"local": "true"}).json()
    assert all("@" not in x["account"]["acct"] for x in local)
