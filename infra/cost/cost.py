#!/usr/bin/env python3
"""Petrel's monthly AWS bill for a workload, per service, from measured per-request operation
counts (measured.json, kept true by tests/tests/cost_data.rs), stated estimates (workload.json)
and us-east-1 list prices (prices.json). Standard library only.

    python3 infra/cost/cost.py                 # the reference workload, every design in workload.json
    python3 infra/cost/cost.py --scale 2       # twice the reference workload
    python3 infra/cost/cost.py --design lean
"""
import argparse
import json
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECONDS_A_MONTH = 30 * 86400
GB = 1024**3


def load(name):
    return json.loads((HERE / name).read_text())


class Usage:
    """Billable quantities for one month, by kind."""

    def __init__(self):
        self.q = {}
        self.lambda_gb_s = {}

    def add(self, kind, n):
        self.q[kind] = self.q.get(kind, 0.0) + n

    def invoke(self, function, count, ms, memory_mb, log_bytes):
        self.add("lambda_requests", count)
        gb_s = count * ms / 1000 * memory_mb / 1024
        self.lambda_gb_s[function] = self.lambda_gb_s.get(function, 0.0) + gb_s
        self.add("lambda_gb_s", gb_s)
        self.add("log_bytes", count * log_bytes)

    def __getitem__(self, kind):
        return self.q.get(kind, 0.0)


def usage(workload, measured, design, scale=1.0):
    """What the workload makes each service do in a month under `design`."""
    ref = {k: v * scale for k, v in workload["reference"].items()}
    e = workload["estimates"]
    mem = workload["memory_mb"]
    d = workload["designs"][design]
    u = Usage()
    over = 1 + e["init_overhead"]
    log = e["log_bytes_per_invocation"]

    # --- API reads: measured per request (measured.json), mixed as estimated ---
    api = ref["api_and_feed_reads"] * e["share_of_reads_that_are_api"]
    for name, share in e["api_mix"].items():
        m = measured[name]
        n = api * share
        u.add("rru", n * m["rru"])
        u.add("wru", n * m["wru"])
        u.add("s3_get", n * m["blob_get"])
        u.add("s3_put", n * m["blob_put"])
    u.invoke("web", api, e["api_ms"] * over, mem["web"], log)
    u.add("edge_requests", api)
    u.add("edge_bytes", api * e["bytes_per_api_response"])
    u.add("origin_requests_api", api)

    # --- feed and page reads: CloudFront answers most; a miss is one object read by feed ---
    feeds = ref["api_and_feed_reads"] - api
    misses = feeds * (1 - e["feed_cache_hit_ratio"])
    u.invoke("feed", misses, e["feed_serve"]["ms"] * over, mem["feed"], log)
    u.add("s3_get", misses * e["feed_serve"]["s3_get"])
    u.add("edge_requests", feeds)
    u.add("edge_bytes", feeds * e["bytes_per_feed_response"])
    u.add("origin_requests_feed", misses)

    # --- posting: measured request; fan-out, delivery, render and media estimated ---
    posts = ref["posts"]
    post = measured["post_status"]
    u.add("rru", posts * post["rru"])
    u.add("wru", posts * post["wru"])
    u.invoke("web", posts, e["api_ms"] * over, mem["web"], log)
    u.add("edge_requests", posts)
    u.add("origin_requests_api", posts)
    q = e["post_queue_messages"]
    # Each queue message: one send, one receive that returns it, one (batch) delete.
    u.add("sqs_outbox", posts * q["outbox"] * 3)

    f = e["fanout_per_post"]
    u.invoke("outbox-fanout", posts, f["ms"] * over, mem["outbox-fanout"], log)
    u.add("rru", posts * f["rru"])
    u.add("wru", posts * f["wru"])
    deliveries = posts * ref["follower_inboxes"]
    dv = e["delivery"]
    batches = deliveries / dv["per_batch"]
    u.add("sqs_outbox", batches * 3)  # SendMessageBatch, ReceiveMessage, DeleteMessageBatch
    u.invoke("outbox-fanout", batches, dv["ms_per_batch"] * over, mem["outbox-fanout"], log)
    u.add("rru", batches * dv["rru_per_batch"])
    u.add("wru", deliveries * dv["wru_each"])

    r = e["feed_render_per_post"]
    if d["feed_trigger"] == "queue":
        u.add("sqs_feed", posts * q["feed"] * 3)
    # A stream trigger's reads are not billed as requests.
    u.invoke("feed", posts, r["ms"] * over, mem["feed"], log)
    u.add("rru", posts * r["rru"])
    u.add("s3_put", posts * r["s3_put"])

    uploads = posts * e["posts_with_an_image"]
    mu = e["media_upload"]
    u.invoke("media", uploads, mu["ms"] * over, mem["media"], log)
    u.add("s3_put", uploads * mu["s3_put"])
    u.add("wru", uploads * mu["wru"])
    u.add("edge_requests", uploads)
    u.add("origin_requests_api", uploads)

    # --- inbound federation: all estimated ---
    inbound = ref["inbound_activities"]
    accepted = inbound * (1 - e["inbound_dropped_at_receive"])
    rc, pr = e["inbound_receive"], e["inbound_process"]
    u.add("edge_requests", inbound)
    u.add("origin_requests_api", inbound)
    u.add("rru", inbound * rc["rru"] + accepted * pr["rru"])
    u.add("wru", accepted * (rc["wru_if_accepted"] + pr["wru"]))
    if d["inbox_processing"] == "queue":
        u.invoke("inbox", inbound, rc["ms"] * over, mem["inbox"], log)
        inbox_batches = accepted / pr["messages_per_batch"]
        u.add("sqs_inbox", accepted + inbox_batches * 2)  # send each; receive and delete per batch
        u.invoke("inbox", inbox_batches, pr["ms_per_activity"] * pr["messages_per_batch"] * over, mem["inbox"], log)
    else:
        u.invoke("inbox", inbound - accepted, rc["ms"] * over, mem["inbox"], log)
        u.invoke("inbox", accepted, (rc["ms"] + pr["ms_per_activity"]) * over, mem["inbox"], log)

    # --- idle long polling: every event source mapping, all month, messages or not ---
    mappings = 1 + (d["inbox_processing"] == "queue") + (d["feed_trigger"] == "queue")
    polls = mappings * e["sqs_mapping_pollers"] * SECONDS_A_MONTH / e["sqs_long_poll_seconds"]
    u.add("sqs_idle_polling", polls)
    u.add("event_source_mappings", mappings)

    st = e["stored"]
    u.add("table_gb", st["table_gb"])
    u.add("media_gb", st["media_gb"] + posts * e["posts_with_an_image"] * mu["mb_stored"] / 1024)
    u.add("log_gb_stored", st["log_gb"])
    u.add("alarm_metrics", e["alarm_metrics"])
    return u


def bill(u, p, free=True):
    """Dollars per service line; `free` applies the always-free tiers."""

    def over(n, allowance):
        return max(0.0, n - allowance) if free else n

    lam, ddb, s3, sqs, cf, cw = p["lambda"], p["dynamodb"], p["s3"], p["sqs"], p["cloudfront"], p["cloudwatch"]
    sqs_requests = u["sqs_idle_polling"] + u["sqs_inbox"] + u["sqs_outbox"] + u["sqs_feed"]
    log_gb = u["log_bytes"] / GB
    lines = {
        "Lambda requests": over(u["lambda_requests"], lam["free_requests"]) / 1e6 * lam["per_million_requests"],
        "Lambda compute (GB-s, arm64)": over(u["lambda_gb_s"], lam["free_gb_seconds"]) * lam["per_gb_second_arm64"],
        "DynamoDB reads (RRU)": u["rru"] / 1e6 * ddb["per_million_rru"],
        "DynamoDB writes (WRU)": u["wru"] / 1e6 * ddb["per_million_wru"],
        "DynamoDB storage": over(u["table_gb"], ddb["free_gb"]) * ddb["per_gb_month"],
        "DynamoDB point-in-time recovery": u["table_gb"] * ddb["pitr_per_gb_month"],
        "S3 requests": u["s3_put"] / 1e3 * s3["per_thousand_put"] + u["s3_get"] / 1e3 * s3["per_thousand_get"],
        "S3 storage": u["media_gb"] * s3["per_gb_month"],
        "SQS requests": over(sqs_requests, sqs["free_requests"]) / 1e6 * sqs["per_million_requests"],
        "HTTP entry (function URLs)": 0.0,
        "CloudFront": over(u["edge_requests"], cf["free_requests"]) / 1e4 * cf["per_10k_https_requests"]
        + over(u["edge_bytes"] / GB, cf["free_gb_out"]) * cf["per_gb_out"],
        "CloudWatch logs and alarm": over(log_gb + u["log_gb_stored"], cw["free_log_gb"]) * cw["per_gb_logs_ingested"]
        + over(u["alarm_metrics"], cw["free_alarm_metrics"]) * cw["per_alarm_metric"],
    }
    return lines, sqs_requests


def api_gateway_instead(u, p):
    """What an HTTP API would add for the same requests (no always-free tier after year one)."""
    requests = u["origin_requests_api"] + u["origin_requests_feed"]
    return requests, requests / 1e6 * p["api_gateway_http"]["per_million_requests"]


def report(workload, measured, prices, design, scale, out=sys.stdout):
    u = usage(workload, measured, design, scale)
    lines, sqs_requests = bill(u, prices)
    listed, _ = bill(u, prices, free=False)
    total, total_listed = sum(lines.values()), sum(listed.values())
    ref = workload["reference"]
    d = workload["designs"][design]
    w = out.write
    w(f"== design `{design}`: {d['description']}\n")
    w(
        f"workload ×{scale:g}: {ref['posts'] * scale:,.0f} posts, {ref['follower_inboxes']} follower inboxes, "
        f"{ref['inbound_activities'] * scale:,.0f} inbound activities, {ref['api_and_feed_reads'] * scale:,.0f} API and feed reads\n"
    )
    w(
        f"usage: {u['lambda_requests']:,.0f} Lambda invocations, {u['lambda_gb_s']:,.0f} GB-s, "
        f"{u['rru']:,.0f} RRU, {u['wru']:,.0f} WRU, {u['s3_put']:,.0f} S3 PUT, {u['s3_get']:,.0f} S3 GET, "
        f"{sqs_requests:,.0f} SQS requests ({u['sqs_idle_polling']:,.0f} of them idle polling by "
        f"{u['event_source_mappings']:.0f} event source mappings), {u['edge_requests']:,.0f} CloudFront requests\n"
    )
    w(f"{'service':<34} {'$/month':>9} {'no free tier':>13}\n")
    for name, dollars in lines.items():
        w(f"{name:<34} {dollars:>9.3f} {listed[name]:>13.3f}\n")
    w(f"{'total':<34} {total:>9.3f} {total_listed:>13.3f}\n")
    n, extra = api_gateway_instead(u, prices)
    w(f"API Gateway HTTP API instead of function URLs: +${extra:.3f} ({n:,.0f} requests at $1/million)\n")
    target = workload["target_usd"]
    verdict = "meets" if total <= target else "MISSES"
    idle_lines, _ = bill(usage(workload, measured, design, 0.0), prices)
    w(
        f"idle month (no traffic, data kept): ${sum(idle_lines.values()):.3f}, of which SQS idle polling "
        f"${idle_lines['SQS requests']:.3f}; no hourly or per-resource charge\n"
    )
    w(f"target ≤ ${target:.2f}: {verdict} (${total:.2f})\n\n")
    return total


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the reference workload")
    ap.add_argument("--design", action="append", help="a design from workload.json (default: all)")
    args = ap.parse_args(argv)
    workload, prices = load("workload.json"), load("prices.json")
    measured_doc = load("measured.json")
    print(f"per-request counts: infra/cost/measured.json, measured by {measured_doc['measured_by']}")
    print("federation, feed, media counts and the read mix: estimates (infra/cost/workload.json `estimates`)")
    print(f"prices: {prices['note']}\n")
    for design in args.design or list(workload["designs"]):
        report(workload, measured_doc["requests"], prices, design, args.scale)


if __name__ == "__main__":
    main()
