"""Runs measure.py at a small scale against a real `petrel serve` — on the embedded backend and
on the AWS adapters against moto (started by infra/test.sh) — and checks that its output is
complete and consistent and that cost.py prices it."""
import io
import json
import os

import pytest

import cost
import measure

SMALL = ["--posts", "4", "--followers", "3", "--following", "2", "--per-kind", "3", "--reads", "3", "--history", "3"]


@pytest.fixture(scope="module", params=["embedded", "aws"])
def measured(request, tmp_path_factory):
    args = list(SMALL)
    if request.param == "aws":
        if os.environ.get("PETREL_SKIP_AWS") == "1":
            pytest.skip("PETREL_SKIP_AWS=1: the moto half is SKIPPED")
        if not os.environ.get("AWS_ENDPOINT_URL"):
            pytest.fail("AWS_ENDPOINT_URL is not set: run `bash infra/test.sh`, which starts moto")
        args += ["--aws"]
    out = tmp_path_factory.mktemp(request.param) / "measured.json"
    assert measure.main(args + ["--out", str(out)]) == 0
    return json.loads(out.read_text())


def table_requests(m):
    return sum(m[k] for k in ("table_get", "table_query", "table_batch_get", "table_put", "table_update",
                              "table_delete", "table_transact"))


def test_every_post_reached_every_follower_inbox_signed(measured):
    c = measured["checks"]
    assert c["post_deliveries_expected"] == 2 * 1 + 2 * 3
    assert c["post_deliveries_received"] == c["post_deliveries_expected"]
    assert c["post_deliveries_unsigned"] == 0
    if measured["backend"] == "embedded":
        # (moto's TransactWriteItems is not thread-safe and now and then fails a message.)
        assert c["consumer_failures"] == 0
    # The fit: every delivered inbox is exactly one POST to it, the post itself none.
    per = measured["per_unit"]
    assert abs(per["delivery"]["remote_posts"] - 1) < 1e-9
    assert abs(per["post"]["remote_posts"]) < 1e-9
    for run in measured["per_unit"]["post_runs"]:
        assert table_requests(run["per_post"]) > 0 and run["per_post"]["wru"] > 0
    # Each delivery is a queue message received and deleted; its report write is shared by the
    # consumer's batch (deliveries::Tally), so its marginal write units may round to nothing.
    assert per["delivery"]["queue_delete"] > 0 and per["delivery"]["wru"] >= 0, per["delivery"]
    assert per["post"]["wru"] > 0 and per["post"]["queue_send"] + per["post"]["queue_send_batch"] >= 1


def test_every_unit_cost_model_prices_is_measured(measured):
    w = cost.load("workload.json")["estimates"]
    per = measured["per_unit"]
    assert set(per["inbound"]) == set(w["inbound_mix"])
    assert set(w["api_mix"]) | set(w["feed_mix"]) <= set(per["reads"])
    assert per["media_upload"]["blob_put"] >= 1 and per["media_upload"]["wru"] > 0
    for kind, m in per["inbound"].items():
        assert table_requests(m) > 0, kind


def test_inbound_kinds_do_what_they_say(measured):
    per, c = measured["per_unit"]["inbound"], measured["checks"]
    assert c["home_has_remote_notes"] > 0 and c["favourites_on_owner_posts"] == c["likes_sent_distinct"]
    # A repeat is refused at its first-sight mark: it writes less than the Like it repeats.
    assert per["repeat"]["wru"] < per["like"]["wru"]
    # An unknown actor's Delete costs a key fetch and nothing stored.
    assert per["delete_unknown_actor"]["remote_fetches"] >= 1
    # A Follow is answered with an Accept.
    assert per["follow"]["remote_posts"] == 1


def test_a_feed_poll_is_one_object_read(measured):
    rss = measured["per_unit"]["reads"]["feed_rss"]
    assert (rss["blob_get"], table_requests(rss)) == (1, 0), rss


def test_cost_model_prices_the_measurement(measured):
    out = io.StringIO()
    total = cost.report(cost.load("workload.json"), measured, cost.load("prices.json"), 1.0, out=out)
    assert total > 0 and "target" in out.getvalue()


def test_what_each_unit_leaves_stored(measured):
    st = measured["stored_per_unit"]
    note = st["inbound.create_note"]["table"]

    # Items with and without an expiry: a received post nobody here touched expires (retention).
    def items(row):
        return row["items"] + row["ttl_items"]

    # A received post is stored (its item, its uri index) and put on the home timeline, each
    # with the post's expiry.
    assert items(note["STATUS"]) == 1 and note["STATUS"]["bytes"] + note["STATUS"]["ttl_bytes"] > 300
    assert note["STATUS"]["ttl_items"] == 1, "an untouched received post expires"
    assert items(note["HOME"]) == 1 and items(note["STATUSURI"]) == 1
    # Deleting it removes what was stored; an unknown actor's Delete stores nothing.
    assert items(st["inbound.delete_note"]["table"]["STATUS"]) == -1
    assert not any(r["items"] or r["bytes"] for r in st["inbound.delete_unknown_actor"]["table"].values())
    # A local post: its status item, and a feed render in the bucket.
    assert abs(st["post"]["table"]["STATUS"]["items"] - 1) < 1e-9
    assert st["post"]["blobs"]["site"]["bytes"] + st["post"]["blobs"]["site"]["overwritten_bytes"] > 0
    # An upload: the original and the thumbnail, and a media record that expires unless posted.
    assert st["media_upload"]["blobs"]["media"]["objects"] == 2
    assert st["media_upload"]["table"]["MEDIA"]["ttl_items"] == 1
