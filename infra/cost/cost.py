#!/usr/bin/env python3
"""Petrel's monthly AWS bill for a workload, per service, from per-unit operation counts measured
by running the workload scaled down against `petrel serve` (measured_workload.json, written by
measure.py), stated estimates (workload.json) and us-east-1 list prices (prices.json). Standard
library only.

    python3 infra/cost/cost.py                 # the reference workload
    python3 infra/cost/cost.py --scale 2       # twice the reference workload
    python3 infra/cost/cost.py --measured other.json
"""
import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECONDS_A_MONTH = 30 * 86400
GB = 1024**3
SQS_REQUESTS = ("queue_send", "queue_send_batch", "queue_receive", "queue_delete", "queue_change_visibility")
# Function that serves each read kind (feeds and pages are the feed function's; the actor
# document is an ActivityPub GET served by web).
READ_FUNCTION = {"actor_document": "web"}

# Where each bill line's quantities come from.
BASIS = {
    "Lambda requests": "measured (HTTP requests; consumer invocations = receives that returned messages)",
    "Lambda compute (GB-s, arm64)": "estimated durations × measured invocations",
    "DynamoDB reads (RRU)": "measured",
    "DynamoDB writes (WRU)": "measured",
    "DynamoDB storage": "estimate",
    "DynamoDB point-in-time recovery": "estimate",
    "S3 requests": "measured (feed reads × estimated cache-miss ratio)",
    "S3 storage": "estimate",
    "SQS requests": "measured + estimated idle polling",
    "HTTP entry (function URLs)": "price",
    "CloudFront": "workload × estimated response sizes",
    "CloudWatch logs and alarm": "estimate",
}


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


def store_ops(u, n, m):
    """`n` units of work that each made the measured operations `m`."""
    u.add("rru", n * m["rru"])
    u.add("wru", n * m["wru"])
    # Tagging (keep, is_temporary) is priced as a PUT-class request, deletes are free.
    u.add("s3_put", n * (m["blob_put"] + m["blob_tag"]))
    u.add("s3_get", n * m["blob_get"])
    u.add("sqs_work", n * sum(m[k] for k in SQS_REQUESTS))
    # Each receive that returned messages is one invocation of the queue's consumer.
    u.add("consumer_invocations", n * m["queue_receive"])
    u.add("deliveries", n * m["remote_posts"])


def usage(workload, measured, scale=1.0):
    """What the workload makes each service do in a month."""
    ref = {k: v * scale for k, v in workload["reference"].items()}
    e = workload["estimates"]
    ms = e["lambda_ms"]
    mem = workload["memory_mb"]
    m = measured["per_unit"]
    u = Usage()
    over = 1 + e["init_overhead"]
    log = e["log_bytes_per_invocation"]

    # --- API reads: measured per request, mixed as estimated ---
    api = ref["api_and_feed_reads"] * e["share_of_reads_that_are_api"]
    for name, share in e["api_mix"].items():
        store_ops(u, api * share, m["reads"][name])
    u.invoke("web", api, ms["api_request"] * over, mem["web"], log)
    u.add("edge_requests", api)
    u.add("edge_bytes", api * e["bytes_per_api_response"])
    u.add("origin_requests_api", api)

    # --- feed and page reads: CloudFront answers most; a miss reaches the function ---
    feeds = ref["api_and_feed_reads"] - api
    misses = feeds * (1 - e["feed_cache_hit_ratio"])
    for name, share in e["feed_mix"].items():
        store_ops(u, misses * share, m["reads"][name])
        function = READ_FUNCTION.get(name, "feed")
        u.invoke(function, misses * share, ms["feed_origin_request"] * over, mem[function], log)
    u.add("edge_requests", feeds)
    u.add("edge_bytes", feeds * e["bytes_per_feed_response"])
    u.add("origin_requests_feed", misses)

    # --- posting: the request, fan-out and feed render per post; deliveries per inbox; uploads ---
    posts = ref["posts"]
    store_ops(u, posts, m["post"])
    u.invoke("web", posts, ms["api_request"] * over, mem["web"], log)
    u.add("edge_requests", posts)
    u.add("origin_requests_api", posts)
    u.add("consumer_ms", posts * ms["post_fanout_and_render"])
    store_ops(u, posts * ref["follower_inboxes"], m["delivery"])

    uploads = posts * e["posts_with_an_image"]
    store_ops(u, uploads, m["media_upload"])
    u.invoke("media", uploads, ms["media_upload"] * over, mem["media"], log)
    u.add("edge_requests", uploads)
    u.add("origin_requests_api", uploads)

    # --- inbound federation: processed in the request, per kind as measured, mixed as estimated ---
    inbound = ref["inbound_activities"]
    for name, share in e["inbound_mix"].items():
        store_ops(u, inbound * share, m["inbound"][name])
    u.invoke("inbox", inbound, ms["inbox_activity"] * over, mem["inbox"], log)
    u.add("edge_requests", inbound)
    u.add("origin_requests_api", inbound)

    # --- the queue's consumer: invocations measured, work estimated per post and per delivery ---
    u.add("consumer_ms", u["deliveries"] * ms["delivery"])
    consumer_ms = u["consumer_ms"] / u["consumer_invocations"] if u["consumer_invocations"] else 0.0
    u.invoke("outbox-fanout", u["consumer_invocations"], consumer_ms * over, mem["outbox-fanout"], log)

    # --- idle long polling: every event source mapping, all month, messages or not ---
    mappings = e["event_source_mappings"]
    u.add("sqs_idle_polling", mappings * e["sqs_mapping_pollers"] * SECONDS_A_MONTH / e["sqs_long_poll_seconds"])
    u.add("event_source_mappings", mappings)

    st = e["stored"]
    u.add("table_gb", st["table_gb"])
    u.add("media_gb", st["media_gb"] + uploads * e["media_mb_stored"] / 1024)
    u.add("log_gb_stored", st["log_gb"])
    u.add("alarm_metrics", e["alarm_metrics"])
    return u


def bill(u, p, free=True):
    """Dollars per service line; `free` applies the always-free tiers."""

    def over(n, allowance):
        return max(0.0, n - allowance) if free else n

    lam, ddb, s3, sqs, cf, cw = p["lambda"], p["dynamodb"], p["s3"], p["sqs"], p["cloudfront"], p["cloudwatch"]
    sqs_requests = u["sqs_idle_polling"] + u["sqs_work"]
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


def per_unit_table(workload, measured, out):
    """The measured counts that drive the bill, per unit of work."""
    m = measured["per_unit"]
    rows = [("post (request, fan-out, feed render)", m["post"]), ("delivery (per follower inbox)", m["delivery"]),
            ("media upload (per image)", m["media_upload"])]
    rows += [(f"inbound {k} ({s:.0%} of inbound)", m["inbound"][k]) for k, s in workload["estimates"]["inbound_mix"].items()]
    rows += [(f"read {k}", m["reads"][k]) for k in workload["estimates"]["api_mix"]]
    rows += [(f"read {k} (cache miss)", m["reads"][k]) for k in workload["estimates"]["feed_mix"]]
    out.write(f"{'measured per unit':<44} {'RRU':>7} {'WRU':>7} {'S3 put':>7} {'S3 get':>7} {'SQS':>6} {'out':>5}\n")
    for name, r in rows:
        out.write(
            f"{name:<44} {r['rru']:>7.2f} {r['wru']:>7.2f} {r['blob_put'] + r['blob_tag']:>7.2f} {r['blob_get']:>7.2f} "
            f"{sum(r[k] for k in SQS_REQUESTS):>6.2f} {r['remote_posts']:>5.2f}\n"
        )
    out.write("(SQS = queue requests made by the work itself; out = deliveries Petrel POSTed to remote inboxes)\n\n")


def report(workload, measured, prices, scale, out=None):
    out = out or sys.stdout
    u = usage(workload, measured, scale)
    lines, sqs_requests = bill(u, prices)
    listed, _ = bill(u, prices, free=False)
    total, total_listed = sum(lines.values()), sum(listed.values())
    ref = workload["reference"]
    w = out.write
    w(f"== design: {workload['design']}\n")
    w(
        f"workload ×{scale:g}: {ref['posts'] * scale:,.0f} posts, {ref['follower_inboxes']} follower inboxes, "
        f"{ref['inbound_activities'] * scale:,.0f} inbound activities, {ref['api_and_feed_reads'] * scale:,.0f} API and feed reads\n"
    )
    w(
        f"usage: {u['lambda_requests']:,.0f} Lambda invocations ({u['consumer_invocations']:,.0f} by the queue), "
        f"{u['lambda_gb_s']:,.0f} GB-s, {u['rru']:,.0f} RRU, {u['wru']:,.0f} WRU, {u['s3_put']:,.0f} S3 PUT, "
        f"{u['s3_get']:,.0f} S3 GET, {sqs_requests:,.0f} SQS requests ({u['sqs_idle_polling']:,.0f} of them idle polling by "
        f"{u['event_source_mappings']:.0f} event source mapping), {u['deliveries']:,.0f} deliveries, "
        f"{u['edge_requests']:,.0f} CloudFront requests\n"
    )
    w(f"{'service':<34} {'$/month':>9} {'no free tier':>13}  basis\n")
    for name, dollars in lines.items():
        w(f"{name:<34} {dollars:>9.3f} {listed[name]:>13.3f}  {BASIS[name]}\n")
    w(f"{'total':<34} {total:>9.3f} {total_listed:>13.3f}\n")
    n, extra = api_gateway_instead(u, prices)
    w(f"API Gateway HTTP API instead of function URLs: +${extra:.3f} ({n:,.0f} requests at $1/million)\n")
    target = workload["target_usd"]
    verdict = "meets" if total <= target else "MISSES"
    idle_lines, _ = bill(usage(workload, measured, 0.0), prices)
    w(
        f"idle month (no traffic, data kept): ${sum(idle_lines.values()):.3f}, of which SQS idle polling "
        f"${idle_lines['SQS requests']:.3f}; no hourly or per-resource charge\n"
    )
    w(f"target ≤ ${target:.2f}: {verdict} (${total:.2f})\n\n")
    return total


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the reference workload")
    ap.add_argument("--measured", default=str(HERE / "measured_workload.json"), help="measure.py's output")
    ap.add_argument("--quiet", action="store_true", help="leave out the per-unit table")
    args = ap.parse_args(argv)
    workload, prices = load("workload.json"), load("prices.json")
    measured = json.loads(Path(args.measured).read_text())
    s = measured["scale"]
    print(
        f"measured: store requests and DynamoDB capacity units per unit of work, by {measured['measured_by']}\n"
        f"  on {measured['date']}, backend {measured['backend']}, petrel {measured['petrel_commit']}; scale: "
        f"{s['posts']} posts ({s['posts_with_an_image']} with an image) to {s['follower_inboxes']} follower inboxes, "
        f"{s['inbound_activities_per_kind']} inbound activities of each kind, {s['reads_per_kind']} reads of each kind"
    )
    print(
        "estimated (workload.json `estimates`): Lambda durations, the read and inbound mixes, the feed cache-hit "
        "ratio, response sizes, storage, and idle polling by one event source mapping"
    )
    print(f"prices: {prices['note']}\n")
    if not args.quiet:
        per_unit_table(workload, measured, sys.stdout)
    report(workload, measured, prices, args.scale)


if __name__ == "__main__":
    main()
