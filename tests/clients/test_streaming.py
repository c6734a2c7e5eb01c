"""The streaming API on `petrel serve`, as Mastodon apps use it: a WebSocket at the URL the
instance document advertises, the token as the subprotocol (masto.js, Elk) or in the query,
subscribe messages, and Mastodon's framing ({"stream": [...], "event": ..., "payload": "<json>"}).
Each event must arrive within a second of the request that caused it. Also the server-sent
events endpoint, and that visibility, mutes and filters apply as on the REST timelines."""
import json
import secrets
import time

import pytest
import requests
from websockets.sync.client import connect

from conftest import login

WITHIN = 1.0


@pytest.fixture
def api(server):
    # An account of its own: the shared one gets notifications from other files' tests (a poll
    # of theirs ending) that would arrive here unasked.
    return login(server, server.create_account("w"), "streaming test")


def barrier(ws):
    """Returns once the server has handled every message sent before it: messages on one socket
    are handled in order, and an unknown stream is answered at once."""
    ws.send(json.dumps({"type": "subscribe", "stream": "nonsense"}))
    assert json.loads(ws.recv(timeout=10))["status"] == 400


@pytest.fixture
def friend(server):
    return login(server, server.create_account("s"), "streaming test")


def streaming_base(api):
    """Where the instance says the streaming API is (v2 `configuration.urls.streaming`, v1
    `urls.streaming_api`): both must name it."""
    v2 = requests.get(api.api_base_url + "/api/v2/instance").json()["configuration"]["urls"]["streaming"]
    v1 = requests.get(api.api_base_url + "/api/v1/instance").json()["urls"]["streaming_api"]
    assert v1 == v2
    return v2


def open_socket(api, query=""):
    # Elk's way: the token as the WebSocket subprotocol.
    return connect(f"{streaming_base(api)}/api/v1/streaming{query}", subprotocols=[api.access_token], open_timeout=5)


def next_event(ws, event, stream=None, within=WITHIN, skip=()):
    """The next message of type `event` (on `stream`), failing if none comes in time; messages
    of the types in `skip` are passed over, any other is a failure."""
    deadline = time.monotonic() + within
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            pytest.fail(f"no `{event}` within {within} s")
        try:
            raw = ws.recv(timeout=left)
        except TimeoutError:
            pytest.fail(f"no `{event}` within {within} s")
        msg = json.loads(raw)
        if msg.get("event") == event and (stream is None or msg["stream"] == stream):
            return msg
        assert msg.get("event") in skip, f"unexpected message while waiting for {event}: {msg}"


def nothing_within(ws, seconds=0.7):
    try:
        raw = ws.recv(timeout=seconds)
    except TimeoutError:
        return
    pytest.fail(f"unexpected message: {raw}")


def test_health(server):
    r = requests.get(server.base + "/api/v1/streaming/health")
    assert r.status_code == 200 and r.text == "OK"


def test_own_post_notification_edit_and_delete_arrive_within_a_second(api, friend):
    tag = "stream" + secrets.token_hex(3)
    with open_socket(api) as ws:
        ws.send(json.dumps({"type": "subscribe", "stream": "user"}))
        ws.send(json.dumps({"type": "subscribe", "stream": "hashtag", "tag": tag}))
        barrier(ws)  # the subscriptions are recorded before the post

        status = api.status_post(f"live #{tag}")
        got = {}
        for _ in range(2):
            msg = next_event(ws, "update")
            got[tuple(msg["stream"])] = msg
        assert set(got) == {("user",), ("hashtag", tag)}
        for msg in got.values():
            # The payload is the Status as a JSON string, as Mastodon sends it.
            assert isinstance(msg["payload"], str)
            payload = json.loads(msg["payload"])
            assert payload["id"] == status["id"] and tag in payload["content"]

        friend.status_reblog(status["id"])
        msg = next_event(ws, "notification", ["user"], skip=("update",))
        n = json.loads(msg["payload"])
        assert n["type"] == "reblog" and n["status"]["id"] == status["id"]
        assert n["account"]["id"] == friend.me()["id"]

        api.status_update(status["id"], f"live, edited #{tag}")
        msg = next_event(ws, "status.update", ["user"], skip=("update",))
        assert "edited" in json.loads(msg["payload"])["content"]

        api.status_delete(status["id"])
        msg = next_event(ws, "delete", skip=("update", "status.update"))
        # The bare id, not a JSON-encoded string.
        assert msg["payload"] == status["id"]


def test_query_token_stream_parameter_and_unsubscribe(api):
    url = f"{streaming_base(api)}/api/v1/streaming?access_token={api.access_token}&stream=public:local"
    with connect(url, open_timeout=5) as ws:
        status = api.status_post("public, local")
        msg = next_event(ws, "update", ["public:local"])
        assert json.loads(msg["payload"])["id"] == status["id"]
        ws.send(json.dumps({"type": "unsubscribe", "stream": "public:local"}))
        barrier(ws)
        api.status_post("after unsubscribing")
        nothing_within(ws)
        # Mastodon's error for an unknown stream, on the same connection.
        ws.send(json.dumps({"type": "subscribe", "stream": "nonsense"}))
        err = json.loads(ws.recv(timeout=WITHIN))
        assert err["status"] == 400 and err["error"]


def test_a_bad_token_is_refused(server):
    base = server.base.replace("http://", "ws://")
    with pytest.raises(Exception) as refused:
        connect(f"{base}/api/v1/streaming?access_token=nope&stream=user", open_timeout=5)
    assert "401" in str(refused.value)


def test_visibility_mutes_and_filters_apply_as_on_timelines(api, friend):
    with open_socket(api, "?stream=public:local") as ws:
        # Followers-only: the public stream never shows it, nor does a non-follower's.
        friend.status_post("for my followers", visibility="private")
        nothing_within(ws)
        public = friend.status_post("for everyone")
        assert json.loads(next_event(ws, "update")["payload"])["id"] == public["id"]

        # A `hide` filter of the viewer in the public context.
        word = "zq" + secrets.token_hex(3)
        requests.post(api.api_base_url + "/api/v2/filters", headers={"Authorization": "Bearer " + api.access_token},
                      json={"title": "hide", "context": ["public"], "filter_action": "hide",
                            "keywords_attributes": [{"keyword": word}]}).raise_for_status()
        friend.status_post(f"mentions {word}")
        nothing_within(ws)

        # A muted account never streams.
        api.account_mute(friend.me()["id"])
        friend.status_post("muted now")
        nothing_within(ws)


def test_home_stream_holds_what_the_home_timeline_holds_and_filters_changed_is_sent(api, friend):
    # (Local accounts cannot follow each other yet: the non-follower case is the one here.)
    with open_socket(api, "?stream=user") as ws:
        friend.status_post("followers only, and not followed", visibility="private")
        nothing_within(ws)
        own = api.status_post("my own, followers only", visibility="private")
        msg = next_event(ws, "update", ["user"])
        assert json.loads(msg["payload"])["id"] == own["id"]
        assert own["id"] in [s["id"] for s in api.timeline_home()]
        requests.post(api.api_base_url + "/api/v2/filters", headers={"Authorization": "Bearer " + api.access_token},
                      json={"title": "f", "context": ["home"],
                            "keywords_attributes": [{"keyword": "x" + secrets.token_hex(3)}]}).raise_for_status()
        msg = next_event(ws, "filters_changed", ["user"])
        assert "payload" not in msg


def test_server_sent_events(api):
    r = requests.get(api.api_base_url + "/api/v1/streaming/user",
                     headers={"Authorization": "Bearer " + api.access_token}, stream=True, timeout=5)
    # The subscription is recorded before the response's headers are sent.
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    status = api.status_post("over SSE")
    lines = r.iter_lines(decode_unicode=True)
    deadline = time.monotonic() + WITHIN
    event = None
    for line in lines:
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event == "update":
            assert json.loads(line.split(":", 1)[1])["id"] == status["id"]
            break
        assert time.monotonic() < deadline, "no update within a second"
    r.close()
