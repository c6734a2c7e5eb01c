"""Lists, filters and hashtags (issue #16) through Mastodon.py's own methods, with a real Fedify
peer as the followed account whose posts fill the timelines, on both backends; every new
response is checked against the Mastodon OpenAPI schema (on the raw JSON)."""
import uuid
import warnings

import pytest
import requests
from mastodon import MastodonAPIError, MastodonNotFoundError

from conftest import login
from mastodon_schema import check
from test_federation import follow_peer, peer_post, wait_for, api as session

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@pytest.fixture
def mp(server):
    return login(server, server.username, "Mastodon.py lists")


def raw(server, m, method, path, **kw):
    r = requests.request(method, server.base + path, headers={"Authorization": "Bearer " + m.access_token}, **kw)
    assert r.status_code == 200, (path, r.status_code, r.text)
    return r.json()


def test_lists(server, peer, mp):
    s = session(server)
    peer_account = follow_peer(server, s, peer)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        made = mp.list_create("Fedify friends", replies_policy="followed")
        assert made["title"] == "Fedify friends" and made["replies_policy"] == "followed" and made["exclusive"] is False
        mp.list_accounts_add(made["id"], [peer_account["id"]])
        assert [a["id"] for a in mp.list_accounts(made["id"])] == [peer_account["id"]]
        assert made["id"] in [l["id"] for l in mp.account_lists(peer_account["id"])]
        marker = uuid.uuid4().hex[:8]
        peer_post(peer, f"for the list {marker}")
        listed = wait_for("the peer's post in the list", lambda: [x for x in mp.timeline_list(made["id"]) if marker in x["content"]])
        assert listed[0]["account"]["id"] == peer_account["id"]
        updated = mp.list_update(made["id"], "Renamed", replies_policy="list", exclusive=True)
        assert updated["title"] == "Renamed" and updated["exclusive"] is True
        # Exclusive: the next post reaches the list, not home.
        marker2 = uuid.uuid4().hex[:8]
        peer_post(peer, f"exclusive {marker2}")
        wait_for("the exclusive post in the list", lambda: [x for x in mp.timeline_list(made["id"]) if marker2 in x["content"]])
        assert not [x for x in mp.timeline_home() if marker2 in x["content"]]
    # Schemas, on the raw JSON.
    check(raw(server, mp, "GET", f"/api/v1/lists/{made['id']}"), "List")
    for l in raw(server, mp, "GET", "/api/v1/lists"):
        check(l, "List")
    for l in raw(server, mp, "GET", f"/api/v1/accounts/{peer_account['id']}/lists"):
        check(l, "List")
    for a in raw(server, mp, "GET", f"/api/v1/lists/{made['id']}/accounts"):
        check(a, "Account")
    page = raw(server, mp, "GET", f"/api/v1/timelines/list/{made['id']}")
    assert page
    for st in page:
        check(st, "Status")
    # A list only takes followed accounts: the owner itself is not one (404, as Mastodon).
    me = mp.me()
    with pytest.raises(MastodonNotFoundError):
        mp.list_accounts_add(made["id"], [me["id"]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mp.list_accounts_delete(made["id"], [peer_account["id"]])
        assert mp.list_accounts(made["id"]) == []
        mp.list_delete(made["id"])
        assert made["id"] not in [l["id"] for l in mp.lists()]


def test_filters_v2_and_v1(server, peer, mp):
    s = session(server)
    follow_peer(server, s, peer)
    marker = uuid.uuid4().hex[:8]
    word = "zq" + marker
    peer_post(peer, f"a post about {word} things")
    post = wait_for("the peer's post", lambda: [x for x in mp.timeline_home() if word in x["content"]])[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = mp.create_filter_v2("words", ["home", "public"], filter_action="warn",
                                keywords_attributes=[{"keyword": word, "whole_word": True}])
        assert f["filter_action"] == "warn" and f["keywords"][0]["keyword"] == word
        got = mp.status(post["id"])
        assert got["filtered"][0]["keyword_matches"] == [word]
        assert got["filtered"][0]["filter"]["id"] == f["id"]
        kw = mp.add_filter_keyword_v2(f["id"], "other" + marker, whole_word=False)
        assert len(mp.filter_keywords_v2(f["id"])) == 2
        mp.delete_filter_keyword_v2(kw["id"])
        fs = mp.add_filter_status_v2(f["id"], post["id"])
        assert mp.filter_status_v2(fs["id"])["status_id"] == post["id"]
        assert [x["id"] for x in mp.filter_statuses_v2(f["id"])] == [fs["id"]]
        got = mp.status(post["id"])
        assert got["filtered"][0]["status_matches"] == [post["id"]]
        mp.delete_filter_status_v2(fs["id"])
        hidden = mp.update_filter_v2(f["id"], filter_action="hide")
        assert hidden["filter_action"] == "hide"
        assert not [x for x in mp.timeline_home() if word in x["content"]], "hide drops it from home"
        assert f["id"] in [x["id"] for x in mp.filters_v2()]
        assert mp.filter_v2(f["id"])["title"] == "words"
    # Schemas.
    check(raw(server, mp, "GET", f"/api/v2/filters/{f['id']}"), "Filter")
    for x in raw(server, mp, "GET", "/api/v2/filters"):
        check(x, "Filter")
    for k in raw(server, mp, "GET", f"/api/v2/filters/{f['id']}/keywords"):
        check(k, "FilterKeyword")
    fs = raw(server, mp, "POST", f"/api/v2/filters/{f['id']}/statuses", data={"status_id": post["id"]})
    check(fs, "FilterStatus")
    check(raw(server, mp, "GET", f"/api/v2/filters/statuses/{fs['id']}"), "FilterStatus")
    status = raw(server, mp, "GET", f"/api/v1/statuses/{post['id']}")
    check(status, "Status")
    assert status["filtered"]
    for r in status["filtered"]:
        check(r, "FilterResult")
    # v1 over the same filters.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v1 = mp.filter_create("v1" + marker, ["home"], irreversible=False, whole_word=True)
        assert v1["phrase"] == "v1" + marker
        assert v1["id"] in [x["id"] for x in mp.filters()]
        assert word in [x["phrase"] for x in mp.filters()]
        changed = mp.filter_update(v1["id"], irreversible=True)
        assert changed["irreversible"] is True
        assert "v1" + marker in [x["title"] for x in mp.filters_v2()]
    for x in raw(server, mp, "GET", "/api/v1/filters"):
        check(x, "V1Filter")
    check(raw(server, mp, "GET", f"/api/v1/filters/{v1['id']}"), "V1Filter")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mp.filter_delete(v1["id"])
        assert v1["id"] not in [x["id"] for x in mp.filters()]
        for x in mp.filters_v2():
            mp.delete_filter_v2(x["id"])
        assert mp.filters_v2() == []
        assert [x for x in mp.timeline_home() if word in x["content"]]
    with pytest.raises(MastodonAPIError) as err:
        mp.create_filter_v2("bad", ["everywhere"], "warn")
    assert err.value.args[1] == 422


def test_hashtags_and_featured_tags(server, peer, mp):
    tag = "t" + uuid.uuid4().hex[:8]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = mp.tag(tag)
        assert t["name"] == tag and t["following"] is False and len(t["history"]) == 7
        assert mp.tag_follow(tag)["following"] is True
        assert tag in [x["name"] for x in mp.followed_tags()]
    check(raw(server, mp, "GET", f"/api/v1/tags/{tag}"), "Tag")
    for x in raw(server, mp, "GET", "/api/v1/followed_tags"):
        check(x, "Tag")
    # A public post with the tag from the peer, sent to the inbox without anyone here being
    # addressed: the tag follow brings it into home.
    marker = uuid.uuid4().hex[:8]
    note = {"id": f"{peer}/notes/{marker}", "type": "Note", "attributedTo": f"{peer}/users/peer",
            "content": f"<p>tagged {marker} #{tag}</p>", "to": [PUBLIC], "published": "2026-01-01T00:00:00Z",
            "tag": [{"type": "Hashtag", "name": f"#{tag}", "href": f"{peer}/tags/{tag}"}]}
    create = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{peer}/creates/{uuid.uuid4()}",
              "type": "Create", "actor": f"{peer}/users/peer", "to": [PUBLIC], "object": note}
    r = requests.post(f"{peer}/_control/send-raw", json={"inbox": f"{server.base}/inbox", "activity": create}, timeout=30)
    assert r.json()["status"] == 202, r.json()
    wait_for("the tagged post in home", lambda: [x for x in mp.timeline_home() if marker in x["content"]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert int(mp.tag(tag)["history"][0]["uses"]) >= 1
        assert mp.tag_unfollow(tag)["following"] is False
        mp.status_post(f"mine #{tag}")
        ft = mp.featured_tag_create(tag)
        assert ft["name"] == tag
        assert tag in [x["name"] for x in mp.featured_tags()]
        me = mp.me()
        assert tag in [x["name"] for x in mp.account_featured_tags(me["id"])]
        mp.status_post(f"#{tag}x")
        assert f"{tag}x" in [x["name"] for x in mp.featured_tag_suggestions()]
    featured = raw(server, mp, "GET", "/api/v1/featured_tags")
    for x in featured:
        check(x, "FeaturedTag")
    assert [x for x in featured if x["name"] == tag][0]["statuses_count"] == "1"
    for x in raw(server, mp, "GET", f"/api/v1/accounts/{me['id']}/featured_tags"):
        check(x, "FeaturedTag")
    for x in raw(server, mp, "GET", "/api/v1/featured_tags/suggestions"):
        check(x, "Tag")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mp.featured_tag_delete(ft["id"])
        assert tag not in [x["name"] for x in mp.featured_tags()]
