"""Checks of the cost model's arithmetic, its use of the measured data and of template.yaml."""
import copy
import io
import json

import pytest

import cost


def measured():
    return copy.deepcopy(cost.load("measured_workload.json"))


def workload():
    return copy.deepcopy(cost.load("workload.json"))


PRICES = cost.load("prices.json")
TPL = cost.template_constants()


def run(w=None, m=None, scale=1.0, region="us-east-1"):
    return cost.report(w or workload(), m or measured(), PRICES, scale, out=io.StringIO(), region=region, tpl=TPL)


def month(m, w=None, meas=None, **kw):
    return cost.month_bill(w or workload(), meas or measured(), PRICES, m, tpl=TPL, **kw)


def test_every_priced_unit_is_measured_and_every_mix_sums_to_one():
    per_unit = measured()["per_unit"]
    e = workload()["estimates"]
    assert {"post", "delivery", "media_upload"} <= set(per_unit)
    assert set(e["inbound_mix"]) == set(per_unit["inbound"])
    assert set(e["api_mix"]) | set(e["feed_mix"]) <= set(per_unit["reads"])
    for mix in ("api_mix", "feed_mix", "inbound_mix"):
        assert abs(sum(e[mix].values()) - 1) < 1e-9, mix
    stored = measured()["stored_per_unit"]
    assert {"post", "delivery", "media_upload"} | {f"inbound.{k}" for k in e["inbound_mix"]} <= set(stored)


def test_measured_reads_drive_the_bill():
    m = measured()
    base = month(1, meas=m)
    m["per_unit"]["reads"]["home_timeline_page_20"]["rru"] += 100
    e = workload()
    pages = e["reference"]["api_and_feed_reads"] * e["estimates"]["share_of_reads_that_are_api"] * 0.25
    expected = pages * 100 / 1e6 * PRICES["regions"]["us-east-1"]["dynamodb"]["per_million_rru"]
    assert abs(month(1, meas=m) - base - expected) < 1e-9


def test_deliveries_are_priced_per_post_and_follower_inbox():
    m = measured()
    base = month(1, meas=m)
    m["per_unit"]["delivery"]["wru"] += 1
    ref = workload()["reference"]
    expected = ref["posts"] * ref["follower_inboxes"] / 1e6 * PRICES["regions"]["us-east-1"]["dynamodb"]["per_million_wru"]
    assert abs(month(1, meas=m) - base - expected) < 1e-9


def test_inbound_kinds_are_weighted_by_the_mix():
    m = measured()
    base = month(1, meas=m)
    m["per_unit"]["inbound"]["like"]["wru"] += 10
    w = workload()
    n = w["reference"]["inbound_activities"] * w["estimates"]["inbound_mix"]["like"]
    price = PRICES["regions"]["us-east-1"]["dynamodb"]["per_million_wru"]
    assert abs(month(1, meas=m) - base - n * 10 / 1e6 * price) < 1e-9


def test_idle_polling_is_five_pollers_of_each_mapping_all_month():
    u = cost.usage(workload(), measured(), 0.0, TPL)
    assert u["sqs_idle_polling"] == TPL["event_source_mappings"] * 5 * 30 * 86400 / 20
    assert u["rru"] == u["wru"] == u["lambda_requests"] == 0


# ------------------------------------------------------------------ the template


def test_constants_are_read_from_the_template():
    # The numbers the template holds today; if the template changes, this says what moved.
    assert TPL["memory_mb"] == {"web": 256, "inbox": 256, "outbox-fanout": 512, "media": 1769, "feed": 512}
    assert TPL["log_retention_days"] == 14
    assert TPL["alarm_metrics"] == 1
    assert TPL["event_source_mappings"] == 1
    assert TPL["max_concurrency"] == {"outbox-fanout": 5}
    assert TPL["noncurrent_version_days"] == 30
    assert TPL["pitr"] is True
    # No copy of them is left in workload.json to drift.
    text = json.dumps(workload())
    assert "memory_mb" not in text and "alarm_metrics" not in text and "event_source_mappings" not in text


def test_a_changed_template_changes_the_bill(tmp_path):
    src = cost.TEMPLATE.read_text()
    changed = src.replace("      MemorySize: 512\n      Events:", "      MemorySize: 1024\n      Events:", 1)
    changed = changed.replace("    Default: 14\n    AllowedValues: [1, 3", "    Default: 90\n    AllowedValues: [1, 3", 1)
    assert changed.count("MemorySize: 1024") == 1 and "Default: 90\n    AllowedValues: [1, 3" in changed
    path = tmp_path / "template.yaml"
    path.write_text(changed)
    tpl = cost.template_constants(path)
    assert tpl["memory_mb"]["outbox-fanout"] == 1024 and tpl["log_retention_days"] == 90
    w, m = workload(), measured()
    u0, u1 = cost.usage(w, m, 1.0, TPL), cost.usage(w, m, 1.0, tpl)
    assert abs(u1.lambda_gb_s["outbox-fanout"] - 2 * u0.lambda_gb_s["outbox-fanout"]) < 1e-6
    assert cost.stored(w, m, u1, 12, tpl)["logs"] > cost.stored(w, m, u0, 12, TPL)["logs"]


def test_alarms_are_counted_from_the_template(tmp_path):
    src = cost.TEMPLATE.read_text()
    i = src.index("  DeadLetterAlarm:")
    j = src.index("  AlarmTopic:")
    alarm = src[i:j]
    path = tmp_path / "template.yaml"
    path.write_text(src[:j] + alarm.replace("DeadLetterAlarm:", "SecondAlarm:", 1) + src[j:])
    assert cost.template_constants(path)["alarm_metrics"] == 2


# ------------------------------------------------------------------ months, retention, free tiers, regions


def test_storage_grows_month_by_month_and_retention_bounds_it():
    w, m = workload(), measured()
    u = cost.usage(w, m, 1.0, TPL)
    tables = [cost.stored(w, m, u, t, TPL)["table"] for t in (1, 12, 36)]
    bare = [cost.stored(w, m, u, t, TPL, retention=False)["table"] for t in (1, 12, 36)]
    assert 0 < tables[0] < tables[1] < tables[2]
    assert bare[0] < bare[1] < bare[2]
    # Unbounded growth is linear; retention keeps month 36 well below it.
    assert tables[2] < bare[2] * 0.5
    assert abs((bare[2] - bare[1]) / 24 - (bare[1] - bare[0]) / 11) < 1e-9 * bare[2]
    # Each bounded class stops growing once its window has passed (the longest, unused actors,
    # is 395 days: month 14).
    windows = [w["retention"][k] for k in ("notification_days", "unused_remote_actor_days", "remote_post_days")]
    after = int(max(windows) / 30) + 2
    assert after < 36
    s_after, s36 = cost.stored(w, m, u, after, TPL), cost.stored(w, m, u, 36, TPL)
    for cls in ("table:home_timeline", "table:notification", "table:remote_actor"):
        assert abs(s36[cls] - s_after[cls]) < 1e-12, cls
    totals = [month(t) for t in (1, 12, 36)]
    assert totals[0] < totals[1] < totals[2]
    assert month(36) < month(36, retention=False)


def test_home_timeline_is_capped_at_its_entries():
    w, m = workload(), measured()
    u = cost.usage(w, m, 1.0, TPL)
    home = [cost.stored(w, m, u, t, TPL)["table:home_timeline"] for t in (12, 36)]
    w["retention"]["home_timeline_entries"] *= 2
    doubled = [cost.stored(w, m, u, t, TPL)["table:home_timeline"] for t in (12, 36)]
    assert home[0] == home[1] and abs(doubled[1] - 2 * home[1]) < 1e-12


def test_remote_post_retention_is_a_parameter():
    w, m = workload(), measured()
    u = cost.usage(w, m, 1.0, TPL)
    def at(days):
        w["retention"]["remote_post_days"] = days
        return cost.stored(w, m, u, 36, TPL)["table:remote_post"]

    kept = at(0)  # only the share a local account interacted with
    assert kept > 0
    # The expiring part is proportional to the period while it is shorter than the 36 months.
    assert abs((at(365) - kept) / (at(90) - kept) - 365 / 90) < 1e-9
    assert abs((at(2000) - kept) / (at(90) - kept) - 36 * 30 / 90) < 1e-9


def test_point_in_time_recovery_follows_the_table():
    w, m = workload(), measured()
    u = cost.usage(w, m, 1.0, TPL)
    for t in (1, 12, 36):
        st = cost.stored(w, m, u, t, TPL)
        lines, _ = cost.bill(u, st, PRICES)
        assert abs(lines["DynamoDB point-in-time recovery"] - st["table"] * 0.20) < 1e-12


def test_free_tiers_only_lower_the_bill_and_each_is_used():
    w, m = workload(), measured()
    u = cost.usage(w, m, 1.0, TPL)
    st = cost.stored(w, m, u, 12, TPL)
    free, _ = cost.bill(u, st, PRICES)
    listed, _ = cost.bill(u, st, PRICES, free=False)
    assert all(free[k] <= listed[k] for k in free)
    for line in ("Lambda requests", "Lambda compute (GB-s, arm64)", "SQS requests", "CloudFront",
                 "CloudWatch logs", "CloudWatch alarms", "DynamoDB storage"):
        assert free[line] < listed[line], line
    # S3 has no always-free tier; reads and writes of DynamoDB none on demand.
    for line in ("S3 storage", "S3 requests", "DynamoDB reads (RRU)", "DynamoDB writes (WRU)"):
        assert free[line] == listed[line], line
    for t in (1, 12, 36):
        assert month(t, free=False) > 2 * month(t)


def test_both_regions_are_priced_and_differ():
    assert set(PRICES["regions"]) == {"us-east-1", "eu-west-1"}
    assert set(PRICES["regions"]["us-east-1"]) == set(PRICES["regions"]["eu-west-1"])
    for region in ("us-east-1", "eu-west-1"):
        assert region in PRICES["sources"]
    for t in (1, 12, 36):
        assert month(t, region="eu-west-1") > month(t, region="us-east-1")
    assert run(region="eu-west-1") > run()


def test_scale_and_idle():
    assert run(scale=2) > run() > run(scale=0) >= 0


def test_api_gateway_costs_its_regional_price():
    u = cost.usage(workload(), measured(), 1.0, TPL)
    n, dollars = cost.api_gateway_instead(u, PRICES)
    assert n > 150000 and abs(dollars - n / 1e6) < 1e-12
    _, eu = cost.api_gateway_instead(u, PRICES, "eu-west-1")
    assert abs(eu - n / 1e6 * 1.11) < 1e-12


def test_the_report_names_what_is_measured_and_the_free_tier_dependence(capsys):
    cost.main([])
    out = capsys.readouterr().out
    assert "measured: store requests" in out and "estimated (workload.json" in out
    assert "DynamoDB reads (RRU)" in out and "  measured" in out
    assert "depends on the always-free tiers" in out
    for label in ("us-east-1, free tiers", "us-east-1, no free tier", "eu-west-1, free tiers", "eu-west-1, no free tier"):
        assert label in out
    assert "month 36" in out and "target ≤ $0.50" in out


# ------------------------------------------------------------------ one post to many followers


def fanout():
    return copy.deepcopy(json.loads((cost.HERE / "measured_fanout.json").read_text()))


def test_fanout_file_has_the_defined_format():
    f = fanout()
    assert f["source"] and f["paged_over"] in ("followers", "distinct_inboxes") and f["page_size"] == 500
    keys = {"sqs_send", "sqs_receive", "sqs_delete", "sqs_change_visibility", "lambda_invocations", "rru", "wru"}
    for part in ("per_post", "per_page", "per_distinct_inbox", "per_dead_inbox"):
        assert keys <= set(f[part]), part
    assert f["per_distinct_inbox"]["posts"] == 1


def test_a_post_costs_per_distinct_inbox_and_page():
    f = fanout()
    f["paged_over"] = "followers"
    lines, tot, _, pages = cost.post_cost(f, PRICES, TPL, 50000, 3000)
    assert pages == 100  # paged over followers
    assert abs(tot["posts"] - 3000) < 1e-9
    more, tot2, _, _ = cost.post_cost(f, PRICES, TPL, 50000, 6000)
    assert abs(tot2["sqs_send"] - tot["sqs_send"] - 3000 * f["per_distinct_inbox"]["sqs_send"]) < 1e-9
    assert sum(more.values()) > sum(lines.values())
    f["paged_over"] = "distinct_inboxes"
    _, _, _, pages = cost.post_cost(f, PRICES, TPL, 50000, 3000)
    assert pages == 6
    lines, _, _, _ = cost.post_cost(fanout(), PRICES, TPL, 50000, 3000)
    dead, _, secs_dead, _ = cost.post_cost(fanout(), PRICES, TPL, 50000, 3000, dead=300)
    _, _, secs, _ = cost.post_cost(fanout(), PRICES, TPL, 50000, 3000)
    assert sum(dead.values()) > sum(lines.values()) and secs_dead == secs > 0


def test_post_cost_cli(capsys):
    cost.main(["--post-followers", "50000", "--distinct-inboxes", "3000"])
    out = capsys.readouterr().out
    assert "one post to 50,000 followers on 3,000 distinct inboxes" in out
    assert fanout()["source"] in out  # where the counts come from is said
    with pytest.raises(SystemExit):
        cost.main(["--post-followers", "10", "--distinct-inboxes", "20"])
