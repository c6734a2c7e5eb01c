"""Polls and scheduled statuses through Mastodon.py's own methods, every response checked against
the Mastodon OpenAPI schema."""
import datetime

import pytest
import requests
from mastodon import MastodonAPIError

from conftest import login
from mastodon_schema import check


def login_as(server, username):
    return login(server, username, "Mastodon.py polls", scopes=("read", "write"))


@pytest.fixture
def api(server):
    return login_as(server, server.username)


@pytest.fixture
def voter(server):
    """A second account on the same server: one does not vote in one's own polls."""
    return login_as(server, server.create_account("v"))


def raw(m, method, path, **kw):
    r = requests.request(method, m.api_base_url + path, headers={"Authorization": "Bearer " + m.access_token}, **kw)
    return r.status_code, r.json()


def test_poll_create_vote_and_read(api, voter):
    poll = api.make_poll(["tea", "coffee", "water"], expires_in=600)
    status = api.status_post("What to drink?", poll=poll)
    assert [o["title"] for o in status["poll"]["options"]] == ["tea", "coffee", "water"]
    code, raw_status = raw(api, "GET", f"/api/v1/statuses/{status['id']}")
    assert code == 200
    check(raw_status, "Status")
    check(raw_status["poll"], "Poll")

    voted = voter.poll_vote(status["poll"]["id"], [1])
    assert voted["voted"] is True and voted["own_votes"] == [1] and voted["votes_count"] == 1
    assert [o["votes_count"] for o in voted["options"]] == [0, 1, 0]
    code, raw_poll = raw(voter, "GET", f"/api/v1/polls/{status['poll']['id']}")
    check(raw_poll, "Poll")
    assert raw_poll["own_votes"] == [1]
    assert api.poll(status["poll"]["id"])["voted"] is False

    with pytest.raises(MastodonAPIError) as err:
        voter.poll_vote(status["poll"]["id"], [0])
    assert "already voted" in str(err.value)
    with pytest.raises(MastodonAPIError) as err:
        api.poll_vote(status["poll"]["id"], [0])
    assert "own polls" in str(err.value)
    with pytest.raises(MastodonAPIError) as err:
        api.status_post("bad", poll=api.make_poll(["only one"], expires_in=600))
    assert "more than one item" in str(err.value)

    multi = api.status_post("Which ones?", poll=api.make_poll(["a", "b"], expires_in=3600, multiple=True, hide_totals=True))
    after = voter.poll_vote(multi["poll"]["id"], [0, 1])
    assert after["own_votes"] == [0, 1] and after["voters_count"] == 1 and after["votes_count"] == 2
    assert [o["votes_count"] for o in after["options"]] == [None, None], "totals hidden until the end"
    check(raw(voter, "GET", f"/api/v1/polls/{multi['poll']['id']}")[1], "Poll")
    home = raw(voter, "GET", "/api/v1/timelines/public")[1]
    for s in home:
        check(s, "Status")


def test_poll_edit(api):
    status = api.status_post("Edit me", poll=api.make_poll(["x", "y"], expires_in=600))
    edited = api.status_update(status["id"], "Edited", poll=api.make_poll(["x", "z"], expires_in=900))
    assert [o["title"] for o in edited["poll"]["options"]] == ["x", "z"]
    check(raw(api, "GET", f"/api/v1/statuses/{status['id']}")[1], "Status")


def test_scheduled_statuses(api):
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=30)
    scheduled = api.status_post("Later, from Mastodon.py", scheduled_at=at, visibility="unlisted")
    assert scheduled["params"]["text"] == "Later, from Mastodon.py"
    code, raw_one = raw(api, "GET", f"/api/v1/scheduled_statuses/{scheduled['id']}")
    assert code == 200
    check(raw_one, "ScheduledStatus")
    assert scheduled["id"] in [s["id"] for s in api.scheduled_statuses()]
    for s in raw(api, "GET", "/api/v1/scheduled_statuses")[1]:
        check(s, "ScheduledStatus")
    later = at + datetime.timedelta(hours=2)
    moved = api.scheduled_status_update(scheduled["id"], later)
    assert moved["scheduled_at"].replace(microsecond=0) == later.replace(microsecond=0)
    check(raw(api, "GET", f"/api/v1/scheduled_statuses/{scheduled['id']}")[1], "ScheduledStatus")
    with pytest.raises(MastodonAPIError) as err:
        api.status_post("too soon", scheduled_at=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=2))
    assert "must be in the future" in str(err.value)
    with_poll = api.status_post("Poll later", scheduled_at=at, poll=api.make_poll(["p", "q"], expires_in=600))
    check(raw(api, "GET", f"/api/v1/scheduled_statuses/{with_poll['id']}")[1], "ScheduledStatus")
    api.scheduled_status_delete(scheduled["id"])
    api.scheduled_status_delete(with_poll["id"])
    assert scheduled["id"] not in [s["id"] for s in api.scheduled_statuses()]
    code, _ = raw(api, "GET", f"/api/v1/scheduled_statuses/{scheduled['id']}")
    assert code == 404
