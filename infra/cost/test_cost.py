"""Checks of the cost model's arithmetic and its use of the measured data."""
import copy
import io

import cost


def measured():
    return copy.deepcopy(cost.load("measured_workload.json"))


def run(workload=None, m=None, scale=1.0):
    workload = workload or cost.load("workload.json")
    m = m or measured()
    return cost.report(workload, m, cost.load("prices.json"), scale, out=io.StringIO())


def test_every_priced_unit_is_measured_and_every_mix_sums_to_one():
    per_unit = measured()["per_unit"]
    e = cost.load("workload.json")["estimates"]
    assert {"post", "delivery", "media_upload"} <= set(per_unit)
    assert set(e["inbound_mix"]) == set(per_unit["inbound"])
    assert set(e["api_mix"]) | set(e["feed_mix"]) <= set(per_unit["reads"])
    for mix in ("api_mix", "feed_mix", "inbound_mix"):
        assert abs(sum(e[mix].values()) - 1) < 1e-9, mix


def test_measured_reads_drive_the_bill():
    m = measured()
    base = run(m=m)
    m["per_unit"]["reads"]["home_timeline_page_20"]["rru"] += 100
    e = cost.load("workload.json")
    pages = e["reference"]["api_and_feed_reads"] * e["estimates"]["share_of_reads_that_are_api"] * 0.25
    expected = pages * 100 / 1e6 * cost.load("prices.json")["dynamodb"]["per_million_rru"]
    assert abs(run(m=m) - base - expected) < 1e-9


def test_deliveries_are_priced_per_post_and_follower_inbox():
    m = measured()
    base = run(m=m)
    m["per_unit"]["delivery"]["wru"] += 1
    ref = cost.load("workload.json")["reference"]
    expected = ref["posts"] * ref["follower_inboxes"] / 1e6 * cost.load("prices.json")["dynamodb"]["per_million_wru"]
    assert abs(run(m=m) - base - expected) < 1e-9


def test_inbound_kinds_are_weighted_by_the_mix():
    m = measured()
    base = run(m=m)
    m["per_unit"]["inbound"]["like"]["wru"] += 10
    w = cost.load("workload.json")
    n = w["reference"]["inbound_activities"] * w["estimates"]["inbound_mix"]["like"]
    assert abs(run(m=m) - base - n * 10 / 1e6 * cost.load("prices.json")["dynamodb"]["per_million_wru"]) < 1e-9


def test_idle_polling_is_five_pollers_of_one_mapping_all_month():
    u = cost.usage(cost.load("workload.json"), measured(), 0.0)
    assert u["sqs_idle_polling"] == 1 * 5 * 30 * 86400 / 20
    assert u["rru"] == u["wru"] == u["lambda_requests"] == 0


def test_free_tiers_only_lower_the_bill_and_idle_costs_little():
    prices = cost.load("prices.json")
    u = cost.usage(cost.load("workload.json"), measured())
    free, _ = cost.bill(u, prices)
    listed, _ = cost.bill(u, prices, free=False)
    assert all(free[k] <= listed[k] for k in free)
    assert run(scale=2) > run() > run(scale=0) >= 0


def test_api_gateway_costs_a_dollar_a_million():
    u = cost.usage(cost.load("workload.json"), measured())
    n, dollars = cost.api_gateway_instead(u, cost.load("prices.json"))
    assert n > 150000 and abs(dollars - n / 1e6) < 1e-12


def test_the_report_names_what_is_measured(capsys):
    cost.main([])
    out = capsys.readouterr().out
    assert "measured: store requests" in out and "estimated (workload.json" in out
    assert "DynamoDB reads (RRU)" in out and "  measured" in out
    assert "target ≤ $0.50" in out
