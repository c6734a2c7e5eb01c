"""Checks of the cost model's arithmetic and its use of the measured data."""
import copy
import io

import cost


def run(workload=None, measured=None, design="as_built", scale=1.0):
    workload = workload or cost.load("workload.json")
    measured = measured or cost.load("measured.json")["requests"]
    return cost.report(workload, measured, cost.load("prices.json"), design, scale, out=io.StringIO())


def test_every_priced_request_is_measured():
    measured = cost.load("measured.json")["requests"]
    mix = cost.load("workload.json")["estimates"]["api_mix"]
    assert set(mix) <= set(measured) and "post_status" in measured
    assert abs(sum(mix.values()) - 1) < 1e-9


def test_measured_reads_drive_the_bill():
    measured = copy.deepcopy(cost.load("measured.json")["requests"])
    base = run(measured=measured)
    measured["home_timeline_page_20"]["rru"] += 100
    workload = cost.load("workload.json")
    pages = workload["reference"]["api_and_feed_reads"] * workload["estimates"]["share_of_reads_that_are_api"] * 0.25
    expected = pages * 100 / 1e6 * cost.load("prices.json")["dynamodb"]["per_million_rru"]
    assert abs(run(measured=measured) - base - expected) < 1e-9


def test_idle_polling_is_five_pollers_per_mapping_all_month():
    u = cost.usage(cost.load("workload.json"), cost.load("measured.json")["requests"], "as_built", 0.0)
    assert u["sqs_idle_polling"] == 3 * 5 * 30 * 86400 / 20
    lean = cost.usage(cost.load("workload.json"), cost.load("measured.json")["requests"], "lean", 0.0)
    assert lean["sqs_idle_polling"] == u["sqs_idle_polling"] / 3


def test_free_tiers_only_lower_the_bill_and_idle_costs_little():
    prices = cost.load("prices.json")
    u = cost.usage(cost.load("workload.json"), cost.load("measured.json")["requests"], "as_built")
    free, _ = cost.bill(u, prices)
    listed, _ = cost.bill(u, prices, free=False)
    assert all(free[k] <= listed[k] for k in free)
    assert run(scale=2) > run() > run(scale=0) > 0


def test_api_gateway_costs_a_dollar_a_million():
    u = cost.usage(cost.load("workload.json"), cost.load("measured.json")["requests"], "as_built")
    n, dollars = cost.api_gateway_instead(u, cost.load("prices.json"))
    assert n > 150000 and abs(dollars - n / 1e6) < 1e-12
