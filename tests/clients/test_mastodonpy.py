"""Mastodon.py (PyPI mastodon-py): the calls its users make, with every warning an error so a
version complaint fails the test."""
import warnings

import pytest
import requests
from mastodon import MastodonAPIError

from conftest import login
from mastodon_schema import check


@pytest.fixture
def api(server):
    return login(server, server.username, "Mastodon.py test")


def test_version_is_read_without_warnings(api):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert api.retrieve_mastodon_version().startswith("4.3")
    # Mastodon.py turns JSON into Python types; the schema is checked on the raw JSON.
    check(requests.get(api.api_base_url + "/api/v2/instance").json(), "Instance")


def test_post_read_favourite_search(api, server):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        status = api.status_post("Posted by Mastodon.py, form-encoded", visibility="unlisted", spoiler_text="cw")
        assert status["visibility"] == "unlisted" and status["spoiler_text"] == "cw" and status["sensitive"]
        home = api.timeline_home()
        assert status["id"] in [s["id"] for s in home]
        fav = api.status_favourite(status["id"])
        assert fav["favourited"] is True and fav["favourites_count"] == 1
        again = api.status_favourite(status["id"])
        assert again["favourites_count"] == 1, "favouriting twice counts once"
        assert status["id"] in [s["id"] for s in api.favourites()]
        found = api.account_search(server.username[:-1])
        assert server.username in [a["acct"] for a in found]
        me = api.me()
        assert me["acct"] == server.username and me["statuses_count"] >= 1
        auth = {"Authorization": "Bearer " + api.access_token}
        check(requests.get(server.base + "/api/v1/accounts/verify_credentials", headers=auth).json(), "Account")
        raw_home = requests.get(server.base + "/api/v1/timelines/home", headers=auth).json()
        assert raw_home
        for s in raw_home:
            check(s, "Status")
        unfav = api.status_unfavourite(status["id"])
        assert unfav["favourited"] is False and unfav["favourites_count"] == 0


def test_unknown_media_ids_are_refused(api):
    # Mastodon.py sends media_ids[] form-encoded.
    with pytest.raises(MastodonAPIError) as err:
        api.status_post("with media", media_ids=["123456"])
    assert err.value.args[1] == 422


def test_media_post_with_alt_text(api, server, tmp_path):
    from PIL import Image
    path = tmp_path / "sunset.png"
    Image.new("RGB", (1200, 800), (250, 120, 30)).save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Given an open file: with a path, Mastodon.py itself leaks the file handle (a
        # ResourceWarning, which this test turns into an error).
        with open(path, "rb") as f:
            media = api.media_post(f, mime_type="image/png", description="An orange sunset")
        assert media["type"] == "image" and media["description"] == "An orange sunset" and media["blurhash"]
        assert media["meta"]["small"]["width"] == 640
        status = api.status_post("sunset", media_ids=[media["id"]])
        assert status["media_attachments"][0]["description"] == "An orange sunset"
    assert server.fetch(media["preview_url"]).status_code == 200
