"""Polls with the Fedify 2.3.6 peer, on both backends: a local poll reaches the peer as a Question
that Fedify's vocabulary reads (options, counts, end, voters); the peer's vote (a Note named after
the option, in reply to the Question) is counted; a Question from the peer shows with its poll, and
the owner's vote reaches the peer as Mastodon sends one, signed so that Fedify verifies it."""
import datetime
import uuid

import requests

from mastodon_schema import check
from test_federation import api, received, wait_for

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = AS + "#Public"


def test_polls_cross_with_the_peer(server, peer):
    actor = f"{server.base}/users/{server.username}"
    peer_actor = f"{peer}/users/peer"
    r = requests.post(f"{peer}/_control/follow", json={"actor": actor}, timeout=30)
    assert r.status_code == 200, r.text
    received(peer, type="Accept", actor=actor, count=1)
    s = api(server)

    marker = uuid.uuid4().hex[:8]
    posted = s.post(f"{server.base}/api/v1/statuses", data={
        "status": f"poll {marker}", "poll[options][]": ["red", "blue"], "poll[expires_in]": "600"}).json()
    assert posted["poll"], posted
    creates = received(peer, type="Create", objectId=posted["uri"], count=1)
    got = creates[0]
    assert got["objectType"] == "Question", got
    assert got.get("question"), got.get("questionError")
    q = got["question"]
    assert q["oneOf"] == [{"name": "red", "totalItems": 0}, {"name": "blue", "totalItems": 0}], q
    assert q["anyOf"] == [] and q["voters"] == 0 and q["endTime"], q

    # The peer votes as Mastodon does.
    vote_id = f"{peer}/votes/{uuid.uuid4()}"
    vote = {"@context": AS, "id": vote_id + "/activity", "type": "Create", "actor": peer_actor, "to": [actor],
            "object": {"id": vote_id, "type": "Note", "name": "blue", "attributedTo": peer_actor, "to": [actor],
                       "inReplyTo": posted["uri"]}}
    r = requests.post(f"{peer}/_control/send-raw", json={"inbox": f"{actor}/inbox", "activity": vote}, timeout=30)
    assert r.json()["status"] == 202, r.json()
    poll = s.get(f"{server.base}/api/v1/polls/{posted['id']}").json()
    assert [o["votes_count"] for o in poll["options"]] == [0, 1], poll
    check(poll, "Poll")

    # A Question from the peer, mentioning the owner.
    question_id = f"{peer}/questions/{uuid.uuid4()}"
    now = datetime.datetime.now(datetime.timezone.utc)
    question = {
        "@context": AS, "id": question_id + "/activity", "type": "Create", "actor": peer_actor, "to": [PUBLIC], "cc": [actor],
        "object": {
            "id": question_id, "type": "Question", "attributedTo": peer_actor, "content": f"<p>which {marker}?</p>",
            "published": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "endTime": (now + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "votersCount": 2, "to": [PUBLIC], "cc": [actor], "tag": [{"type": "Mention", "href": actor}],
            "oneOf": [{"type": "Note", "name": "yes", "replies": {"type": "Collection", "totalItems": 2}},
                      {"type": "Note", "name": "no", "replies": {"type": "Collection", "totalItems": 0}}],
        },
    }
    r = requests.post(f"{peer}/_control/send-raw", json={"inbox": f"{actor}/inbox", "activity": question}, timeout=30)
    assert r.json()["status"] == 202, r.json()
    shown = wait_for("the peer's poll", lambda: [x for x in s.get(f"{server.base}/api/v1/timelines/home").json()
                                                 if x["uri"] == question_id])[0]
    check(shown, "Status")
    assert [o["votes_count"] for o in shown["poll"]["options"]] == [2, 0]
    assert shown["poll"]["voters_count"] == 2 and shown["poll"]["voted"] is False

    voted = s.post(f"{server.base}/api/v1/polls/{shown['id']}/votes", data={"choices[]": "1"}).json()
    assert voted["own_votes"] == [1], voted
    votes = wait_for("the owner's vote at the peer", lambda: [
        x for x in received(peer, type="Create", actor=actor, objectType="Note")
        if (x.get("object") or {}).get("inReplyTo") == question_id])
    note = votes[0]["object"]
    assert note["name"] == "no" and note["to"] == [peer_actor] and "content" not in note, note
