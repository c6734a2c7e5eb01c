#!/usr/bin/env python3
"""Petrel's monthly AWS bill at a workload, in month 1, 12 and 36, per service, with and without the
always-free tiers, in us-east-1 and eu-west-1. Inputs: per-unit operation counts and stored bytes
measured by running the workload scaled down against `petrel serve` (measured_workload.json,
written by measure.py); memory sizes, log retention, alarms, event source mappings and bucket
version retention read from template.yaml; stated estimates and retention settings
(workload.json); list prices and free tiers (prices.json). Needs PyYAML (infra/local/requirements.txt).

    python3 infra/cost/cost.py                          # the reference workload, both regions
    python3 infra/cost/cost.py --region eu-west-1       # the per-service table for eu-west-1
    python3 infra/cost/cost.py --scale 2                # twice the reference workload
    python3 infra/cost/cost.py --post-followers 50000 --distinct-inboxes 3000   # one post's cost
"""
import argparse
import json
import math
import re
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TEMPLATE = ROOT / "template.yaml"
SECONDS_A_MONTH = 30 * 86400
GB = 1024**3
SQS_REQUESTS = ("queue_send", "queue_send_batch", "queue_receive", "queue_delete", "queue_change_visibility")
# Function that serves each read kind (feeds and pages are the feed function's; the actor
# document is an ActivityPub GET served by web).
READ_FUNCTION = {"actor_document": "web"}

# Where each bill line's quantities come from.
BASIS = {
    "Lambda requests": "measured (HTTP requests; consumer invocations = receives that returned messages)",
    "Lambda compute (GB-s, arm64)": "estimated durations × measured invocations × template memory",
    "DynamoDB reads (RRU)": "measured",
    "DynamoDB writes (WRU)": "measured",
    "DynamoDB storage": "measured bytes per unit × months, retention applied",
    "DynamoDB point-in-time recovery": "table size (as above); template enables PITR",
    "S3 requests": "measured (feed reads × estimated cache-miss ratio)",
    "S3 storage": "estimated media size; measured renders and overwrites",
    "SQS requests": "measured + estimated idle polling",
    "HTTP entry (function URLs)": "price",
    "CloudFront": "workload × estimated response sizes",
    "CloudWatch logs": "estimated bytes per invocation; retention from template",
    "CloudWatch alarms": "alarms in template",
}


def load(name):
    return json.loads((HERE / name).read_text())


# ------------------------------------------------------------------ the template


class _TemplateLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !GetAtt, !If …) read as {tag: value}."""


def _tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {suffix: value}


_TemplateLoader.add_multi_constructor("!", _tag)


def function_name(logical_id):
    """WebFunction → web, OutboxFanoutFunction → outbox-fanout (the functions/ folder names)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", logical_id.removesuffix("Function")).lower()


def _created_by_default(t, resource):
    """Whether a resource's Condition holds for the parameters' defaults (Ref, Equals, Not, And,
    Or and Condition, the functions conditions here use)."""
    params = {k: str(v.get("Default", "")) for k, v in t.get("Parameters", {}).items()}

    def ev(node):
        if isinstance(node, dict) and len(node) == 1:
            (fn, arg), = node.items()
            fn = fn.removeprefix("Fn::")
            if fn == "Ref":
                return params.get(arg, arg)
            if fn == "Condition":
                return ev(t["Conditions"][arg])
            if fn == "Equals":
                return str(ev(arg[0])) == str(ev(arg[1]))
            if fn == "Not":
                return not ev(arg[0])
            if fn == "And":
                return all(ev(a) for a in arg)
            if fn == "Or":
                return any(ev(a) for a in arg)
            raise ValueError(f"condition function {fn} is not evaluated here")
        return node

    name = resource.get("Condition")
    return name is None or bool(ev(t["Conditions"][name]))


def template_constants(path=TEMPLATE):
    """What the bill needs from the template, read from it so it cannot drift."""
    t = yaml.load(Path(path).read_text(), Loader=_TemplateLoader)
    res = t["Resources"]
    default_memory = t["Globals"]["Function"]["MemorySize"]
    memory, mappings, max_concurrency, batch_size = {}, 0, {}, {}
    for rid, r in res.items():
        if r["Type"] != "AWS::Serverless::Function":
            continue
        name = function_name(rid)
        props = r.get("Properties", {})
        memory[name] = props.get("MemorySize", default_memory)
        for ev in props.get("Events", {}).values():
            if ev["Type"] == "SQS":
                mappings += 1
                batch_size[name] = ev["Properties"].get("BatchSize", 10)
                max_concurrency[name] = ev["Properties"].get("ScalingConfig", {}).get("MaximumConcurrency")
    log_groups = [r for r in res.values() if r["Type"] == "AWS::Logs::LogGroup"]
    retention = {str(g["Properties"]["RetentionInDays"]) for g in log_groups}
    if retention != {str({"Ref": "LogRetentionDays"})}:
        raise ValueError(f"log groups do not all keep LogRetentionDays: {retention}")
    # Alarms a deploy with the default parameters creates (FunctionAlarms adds more when "on");
    # a metric-math alarm is billed per metric it reads.
    alarms = [r for r in res.values() if r["Type"] == "AWS::CloudWatch::Alarm" and _created_by_default(t, r)]
    alarm_metrics = sum(max(1, sum("MetricStat" in m for m in r["Properties"].get("Metrics", []))) for r in alarms)
    table = next(r for r in res.values() if r["Type"] == "AWS::DynamoDB::Table")
    bucket = next(r for r in res.values() if r["Type"] == "AWS::S3::Bucket")
    noncurrent = next(
        rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
        for rule in bucket["Properties"]["LifecycleConfiguration"]["Rules"]
        if "NoncurrentVersionExpiration" in rule
    )
    if noncurrent == {"Ref": "NoncurrentVersionDays"}:
        noncurrent = t["Parameters"]["NoncurrentVersionDays"]["Default"]
    return {
        "memory_mb": memory,
        "log_retention_days": t["Parameters"]["LogRetentionDays"]["Default"],
        "alarm_metrics": alarm_metrics,
        "event_source_mappings": mappings,
        "batch_size": batch_size,
        "max_concurrency": max_concurrency,
        "pitr": bool(table["Properties"].get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled")),
        "noncurrent_version_days": noncurrent,
    }


# ------------------------------------------------------------------ monthly work


class Usage:
    """Billable quantities for one month, by kind, and the units of work done."""

    def __init__(self):
        self.q = {}
        self.lambda_gb_s = {}
        self.units = {}

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


def store_ops(u, n, m, unit=None):
    """`n` units of work that each made the measured operations `m`."""
    if unit:
        u.units[unit] = u.units.get(unit, 0.0) + n
    u.add("rru", n * m["rru"])
    u.add("wru", n * m["wru"])
    # Tagging (keep, is_temporary) is priced as a PUT-class request, deletes are free.
    u.add("s3_put", n * (m["blob_put"] + m["blob_tag"]))
    u.add("s3_get", n * m["blob_get"])
    u.add("sqs_work", n * sum(m[k] for k in SQS_REQUESTS))
    # Each receive that returned messages is one invocation of the queue's consumer.
    u.add("consumer_invocations", n * m["queue_receive"])
    u.add("deliveries", n * m["remote_posts"])


def usage(workload, measured, scale=1.0, tpl=None):
    """What the workload makes each service do in a month."""
    tpl = tpl or template_constants()
    ref = {k: v * scale for k, v in workload["reference"].items()}
    e = workload["estimates"]
    ms = e["lambda_ms"]
    mem = tpl["memory_mb"]
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
    store_ops(u, posts, m["post"], "post")
    u.invoke("web", posts, ms["api_request"] * over, mem["web"], log)
    u.add("edge_requests", posts)
    u.add("origin_requests_api", posts)
    u.add("consumer_ms", posts * ms["post_fanout_and_render"])
    store_ops(u, posts * ref["follower_inboxes"], m["delivery"], "delivery")

    uploads = posts * e["posts_with_an_image"]
    store_ops(u, uploads, m["media_upload"], "media_upload")
    u.invoke("media", uploads, ms["media_upload"] * over, mem["media"], log)
    u.add("edge_requests", uploads)
    u.add("origin_requests_api", uploads)

    # --- inbound federation: processed in the request, per kind as measured, mixed as estimated ---
    inbound = ref["inbound_activities"]
    for name, share in e["inbound_mix"].items():
        store_ops(u, inbound * share, m["inbound"][name], f"inbound.{name}")
    u.invoke("inbox", inbound, ms["inbox_activity"] * over, mem["inbox"], log)
    u.add("edge_requests", inbound)
    u.add("origin_requests_api", inbound)

    # --- the queue's consumer: invocations measured, work estimated per post and per delivery ---
    u.add("consumer_ms", u["deliveries"] * ms["delivery"])
    consumer_ms = u["consumer_ms"] / u["consumer_invocations"] if u["consumer_invocations"] else 0.0
    u.invoke("outbox-fanout", u["consumer_invocations"], consumer_ms * over, mem["outbox-fanout"], log)

    # --- idle long polling: every event source mapping, all month, messages or not ---
    mappings = tpl["event_source_mappings"]
    u.add("sqs_idle_polling", mappings * e["sqs_mapping_pollers"] * SECONDS_A_MONTH / e["sqs_long_poll_seconds"])
    u.add("event_source_mappings", mappings)
    u.add("alarm_metrics", tpl["alarm_metrics"])
    return u


# ------------------------------------------------------------------ what stays stored


def _class_of(workload, unit, kind):
    r = workload["retention"]
    if kind in r["kind_class"] and (kind == "HOME" or unit.startswith("inbound.")):
        return r["kind_class"][kind]
    return r["unit_class"].get(unit, "kept")


def monthly_growth(workload, measured, u):
    """Table items and bytes added a month, by retention class, and the bucket's bytes by kind."""
    stored = measured["stored_per_unit"]
    table, blobs = {}, {"media": 0.0, "site": 0.0, "overwritten": 0.0, "measured_upload_bytes": 0.0}
    for unit, n in u.units.items():
        s = stored.get(unit)
        if s is None:
            raise KeyError(f"measured_workload.json has no stored_per_unit for {unit}: re-run measure.py")
        for kind, row in s["table"].items():
            c = table.setdefault(_class_of(workload, unit, kind), {"items": 0.0, "bytes": 0.0})
            c["items"] += n * row["items"]
            c["bytes"] += n * row["bytes"]
            ttl = table.setdefault("ttl", {"items": 0.0, "bytes": 0.0})
            ttl["items"] += n * row["ttl_items"]
            ttl["bytes"] += n * row["ttl_bytes"]
        for prefix, row in s["blobs"].items():
            if prefix == "media" and unit == "media_upload":
                blobs["measured_upload_bytes"] += n * row["bytes"]
            elif prefix in ("site", "accounts", "media"):
                blobs["site" if prefix == "site" else "media"] += n * row["bytes"]
            blobs["overwritten"] += n * row["overwritten_bytes"]
    blobs["media"] += u.units.get("media_upload", 0.0) * workload["estimates"]["media_mb_stored"] * 1024**2
    return table, blobs


def stored(workload, measured, u, month, tpl=None, retention=True):
    """GB stored at the end of `month` (each month bills at most this much), by part."""
    tpl = tpl or template_constants()
    r, e = workload["retention"], workload["estimates"]
    table, blobs = monthly_growth(workload, measured, u)

    def months(days):
        return min(month, days / 30)

    out = {}
    for cls, g in table.items():
        b, items = g["bytes"], g["items"]
        if cls == "ttl":
            total = b * months(e["ttl_item_days"])
        elif not retention or cls == "kept":
            total = b * month
        elif cls == "remote_post":
            keep = r["remote_posts_interacted_share"]
            total = b * keep * month + b * (1 - keep) * months(r["remote_post_days"])
        elif cls == "home_timeline":
            cap = r["home_timeline_entries"] * r["local_accounts"]
            total = (b / items) * min(items * month, cap) if items > 0 else 0.0
        elif cls == "notification":
            total = b * months(r["notification_days"])
        elif cls == "remote_actor":
            total = b * months(r["unused_remote_actor_days"])
        else:
            raise ValueError(f"unknown retention class {cls}")
        out[f"table:{cls}"] = max(0.0, total) / GB
    out["table"] = e["at_start"]["table_gb"] + sum(v for k, v in out.items() if k.startswith("table:"))
    out["media"] = e["at_start"]["media_gb"] + (blobs["media"] + blobs["site"]) * month / GB
    # Overwritten renders stay as noncurrent versions for the bucket's NoncurrentVersionDays.
    out["noncurrent"] = blobs["overwritten"] * min(month, tpl["noncurrent_version_days"] / 30) / GB
    out["logs"] = u["log_bytes"] * min(month * 30, tpl["log_retention_days"]) / 30 / GB
    return out


# ------------------------------------------------------------------ the bill


def bill(u, st, prices, region="us-east-1", free=True, pitr=True):
    """Dollars per service line for one month with `st` stored; `free` applies the always-free tiers."""
    p, f = prices["regions"][region], prices["free_tier"]

    def over(n, allowance):
        return max(0.0, n - allowance) if free else n

    lam, ddb, s3, sqs, cf, cw = p["lambda"], p["dynamodb"], p["s3"], p["sqs"], p["cloudfront"], p["cloudwatch"]
    sqs_requests = u["sqs_idle_polling"] + u["sqs_work"]
    ingested = u["log_bytes"] / GB
    # The 5 GB of log data are ingestion and storage together: ingestion first.
    ingested_billed = over(ingested, f["cloudwatch_log_gb"])
    stored_allowance = max(0.0, f["cloudwatch_log_gb"] - ingested) if free else 0.0
    lines = {
        "Lambda requests": over(u["lambda_requests"], f["lambda_requests"]) / 1e6 * lam["per_million_requests"],
        "Lambda compute (GB-s, arm64)": over(u["lambda_gb_s"], f["lambda_gb_seconds"]) * lam["per_gb_second_arm64"],
        "DynamoDB reads (RRU)": u["rru"] / 1e6 * ddb["per_million_rru"],
        "DynamoDB writes (WRU)": u["wru"] / 1e6 * ddb["per_million_wru"],
        "DynamoDB storage": over(st["table"], f["dynamodb_gb"]) * ddb["per_gb_month"],
        "DynamoDB point-in-time recovery": st["table"] * ddb["pitr_per_gb_month"] if pitr else 0.0,
        "S3 requests": u["s3_put"] / 1e3 * s3["per_thousand_put"] + u["s3_get"] / 1e3 * s3["per_thousand_get"],
        "S3 storage": (st["media"] + st["noncurrent"]) * s3["per_gb_month"],
        "SQS requests": over(sqs_requests, f["sqs_requests"]) / 1e6 * sqs["per_million_requests"],
        "HTTP entry (function URLs)": 0.0,
        "CloudFront": over(u["edge_requests"], f["cloudfront_requests"]) / 1e4 * cf["per_10k_https_requests"]
        + over(u["edge_bytes"] / GB, f["cloudfront_gb_out"]) * cf["per_gb_out"],
        "CloudWatch logs": ingested_billed * cw["per_gb_logs_ingested"]
        + max(0.0, st["logs"] - stored_allowance) * cw["per_gb_month_logs_stored"],
        "CloudWatch alarms": over(u["alarm_metrics"], f["cloudwatch_alarm_metrics"]) * cw["per_alarm_metric"],
    }
    return lines, sqs_requests


def api_gateway_instead(u, prices, region="us-east-1"):
    """What an HTTP API would add for the same requests (no always-free tier after year one)."""
    requests = u["origin_requests_api"] + u["origin_requests_feed"]
    return requests, requests / 1e6 * prices["regions"][region]["api_gateway_http"]["per_million_requests"]


def month_bill(workload, measured, prices, month, region="us-east-1", free=True, scale=1.0, retention=True, tpl=None):
    tpl = tpl or template_constants()
    u = usage(workload, measured, scale, tpl)
    st = stored(workload, measured, u, month, tpl, retention)
    lines, _ = bill(u, st, prices, region, free, tpl["pitr"])
    return sum(lines.values())


# ------------------------------------------------------------------ one post to many followers


def post_cost(fanout, prices, tpl, followers, inboxes, dead=0, region="us-east-1"):
    """The cost of one post to `followers` followers on `inboxes` distinct inboxes (`dead` of them
    never answering), from measured_fanout.json's per-post, per-page and per-inbox counts, at list
    prices (a single post is never what exhausts a free tier). Returns (dollars by line, totals, seconds)."""
    p = prices["regions"][region]
    paged = followers if fanout["paged_over"] == "followers" else inboxes
    pages = max(1, math.ceil(paged / fanout["page_size"]))
    copies = fanout.get("delivery_copies_per_distinct_inbox", 1.0)
    # The first page's work is per_post's.
    n = {"per_post": 1, "per_page": pages - 1, "per_distinct_inbox": inboxes * copies, "per_dead_inbox": dead * copies}
    tot, live = {}, {}
    for part, count in n.items():
        for k, v in fanout[part].items():
            if isinstance(v, (int, float)):
                tot[k] = tot.get(k, 0.0) + count * v
                if part != "per_dead_inbox":
                    live[k] = live.get(k, 0.0) + count * v
    mem = tpl["memory_mb"]
    gb_s = sum(tot.get(f"lambda_ms_{f}", 0.0) / 1000 * mem[f] / 1024 for f in mem)
    sqs = sum(tot.get(k, 0.0) for k in ("sqs_send", "sqs_receive", "sqs_delete", "sqs_change_visibility"))
    lines = {
        "SQS requests": sqs / 1e6 * p["sqs"]["per_million_requests"],
        "Lambda requests": tot.get("lambda_invocations", 0.0) / 1e6 * p["lambda"]["per_million_requests"],
        "Lambda compute": gb_s * p["lambda"]["per_gb_second_arm64"],
        "DynamoDB reads": tot.get("rru", 0.0) / 1e6 * p["dynamodb"]["per_million_rru"],
        "DynamoDB writes": tot.get("wru", 0.0) / 1e6 * p["dynamodb"]["per_million_wru"],
        "S3 requests": tot.get("s3_put", 0.0) / 1e3 * p["s3"]["per_thousand_put"],
    }
    # Deliveries run at the mapping's maximum concurrency, one batch per invocation; a dead
    # inbox's retries spread over days and are left out of the time to reach the live ones.
    fn = fanout["consumer"]
    concurrency = tpl["max_concurrency"].get(fn) or 1
    seconds = live.get(f"lambda_ms_{fn}", 0.0) / 1000 / concurrency
    return lines, tot, seconds, pages


def post_report(args, prices, tpl, out):
    fanout = json.loads(Path(args.fanout).read_text())
    w = out.write
    w(f"== one post to {args.post_followers:,} followers on {args.distinct_inboxes:,} distinct inboxes "
      f"({args.dead_inboxes:,} never answering), {args.region}, list prices\n")
    w(f"counts: {fanout['source']} ({Path(args.fanout).name}, {fanout.get('design', '')})\n")
    lines, tot, seconds, pages = post_cost(
        fanout, prices, tpl, args.post_followers, args.distinct_inboxes, args.dead_inboxes, args.region
    )
    w(f"fan-out pages: {pages} of {fanout['page_size']} {fanout['paged_over'].replace('_', ' ')}\n")
    w("operations: " + ", ".join(f"{k} {v:,.1f}" for k, v in sorted(tot.items())) + "\n")
    for name, dollars in lines.items():
        w(f"  {name:<18} ${dollars:.5f}\n")
    total = sum(lines.values())
    w(f"  {'total':<18} ${total:.5f}\n")
    w(f"time to reach the live inboxes at the template's MaximumConcurrency "
      f"({tpl['max_concurrency'].get(fanout['consumer'])}) of {fanout['consumer']}: about {seconds:,.0f} s "
      f"(its busy time divided by the concurrency; remote answer times are in lambda_ms per inbox)\n")
    return total


# ------------------------------------------------------------------ the report


def per_unit_table(workload, measured, out):
    """The measured counts that drive the bill, per unit of work."""
    m = measured["per_unit"]
    rows = [("post (request, fan-out, feed render)", m["post"]), ("delivery (per follower inbox)", m["delivery"]),
            ("media upload (per image)", m["media_upload"])]
    rows += [(f"inbound {k} ({s:.0%} of inbound)", m["inbound"][k]) for k, s in workload["estimates"]["inbound_mix"].items()]
    rows += [(f"read {k}", m["reads"][k]) for k in workload["estimates"]["api_mix"]]
    rows += [(f"read {k} (cache miss)", m["reads"][k]) for k in workload["estimates"]["feed_mix"]]
    st = measured.get("stored_per_unit", {})
    unit_of = {"post (request, fan-out, feed render)": "post", "delivery (per follower inbox)": "delivery",
               "media upload (per image)": "media_upload"}
    out.write(f"{'measured per unit':<44} {'RRU':>7} {'WRU':>7} {'S3 put':>7} {'S3 get':>7} {'SQS':>6} {'out':>5} {'stored B':>9}\n")
    for name, r in rows:
        unit = unit_of.get(name) or (f"inbound.{name.split()[1]}" if name.startswith("inbound") else None)
        kept = sum(k["bytes"] for k in st.get(unit, {}).get("table", {}).values()) if unit else 0.0
        out.write(
            f"{name:<44} {r['rru']:>7.2f} {r['wru']:>7.2f} {r['blob_put'] + r['blob_tag']:>7.2f} {r['blob_get']:>7.2f} "
            f"{sum(r[k] for k in SQS_REQUESTS):>6.2f} {r['remote_posts']:>5.2f} {kept:>9.0f}\n"
        )
    out.write("(SQS = queue requests made by the work itself; out = deliveries Petrel POSTed to remote inboxes; "
              "stored B = table bytes the unit leaves, TTL items apart)\n\n")


def report(workload, measured, prices, scale=1.0, out=None, region="us-east-1", tpl=None):
    """The per-service bill for month 1, 12 and 36 in `region`, the summary for every region, and
    what is stored. Returns the headline: month 12 in `region` with the free tiers."""
    out = out or sys.stdout
    tpl = tpl or template_constants()
    w = out.write
    months = workload["months"]
    u = usage(workload, measured, scale, tpl)
    ref = workload["reference"]
    w(f"== design: {workload['design']}\n")
    w(
        f"workload ×{scale:g} each month: {ref['posts'] * scale:,.0f} posts, {ref['follower_inboxes']} follower inboxes, "
        f"{ref['inbound_activities'] * scale:,.0f} inbound activities, {ref['api_and_feed_reads'] * scale:,.0f} API and "
        f"feed reads\n"
    )
    _, sqs_requests = bill(u, stored(workload, measured, u, 1, tpl), prices, region)
    w(
        f"usage a month: {u['lambda_requests']:,.0f} Lambda invocations ({u['consumer_invocations']:,.0f} by the queue), "
        f"{u['lambda_gb_s']:,.0f} GB-s, {u['rru']:,.0f} RRU, {u['wru']:,.0f} WRU, {u['s3_put']:,.0f} S3 PUT, "
        f"{u['s3_get']:,.0f} S3 GET, {sqs_requests:,.0f} SQS requests ({u['sqs_idle_polling']:,.0f} of them idle polling by "
        f"{u['event_source_mappings']:.0f} event source mapping), {u['deliveries']:,.0f} deliveries, "
        f"{u['edge_requests']:,.0f} CloudFront requests, {u['log_bytes'] / GB:.2f} GB of logs\n"
    )
    w(
        f"from template.yaml: memory {', '.join(f'{k} {v} MB' for k, v in tpl['memory_mb'].items())}; "
        f"log retention {tpl['log_retention_days']} days; {tpl['alarm_metrics']} alarm; "
        f"{tpl['event_source_mappings']} event source mapping; noncurrent media versions kept "
        f"{tpl['noncurrent_version_days']} days; point-in-time recovery {'on' if tpl['pitr'] else 'off'}\n\n"
    )

    # Per service, month by month, in the chosen region.
    sts = {m: stored(workload, measured, u, m, tpl) for m in months}
    free = {m: bill(u, sts[m], prices, region, True, tpl["pitr"])[0] for m in months}
    listed = {m: bill(u, sts[m], prices, region, False, tpl["pitr"])[0] for m in months}
    head = "".join(f" {'month ' + str(m):>10}" for m in months)
    w(f"{region}, $ a month{' ' * (23 - len(region))}{head}  │{head.replace('month', 'no free')}  basis\n")
    for name in BASIS:
        a = "".join(f" {free[m][name]:>10.3f}" for m in months)
        b = "".join(f" {listed[m][name]:>10.3f}" for m in months)
        w(f"{name:<34}{a}  │{b}  {BASIS[name]}\n")
    a = "".join(f" {sum(free[m].values()):>10.3f}" for m in months)
    b = "".join(f" {sum(listed[m].values()):>10.3f}" for m in months)
    w(f"{'total':<34}{a}  │{b}\n\n")

    # What is stored, with and without retention.
    w("stored at the end of the month (GB)        " + "".join(f" {'month ' + str(m):>10}" for m in months)
      + "   (without retention)\n")
    bare = {m: stored(workload, measured, u, m, tpl, retention=False) for m in months}
    parts = sorted(k for k in sts[months[-1]] if k.startswith("table:")) + ["table", "media", "noncurrent", "logs"]
    for k in parts:
        w(f"  {k:<41}" + "".join(f" {sts[m].get(k, 0.0):>10.4f}" for m in months)
          + "   " + " ".join(f"{bare[m].get(k, 0.0):.4f}" for m in months) + "\n")
    r = workload["retention"]
    w(
        f"retention (workload.json, defaults of issue #14): remote posts nobody local interacted with "
        f"{r['remote_post_days']} days ({r['remote_posts_interacted_share']:.0%} interacted with, kept), home timeline "
        f"{r['home_timeline_entries']} entries × {r['local_accounts']} account, notifications {r['notification_days']} "
        f"days, unused remote actors {r['unused_remote_actor_days']} days; TTL items ≤ "
        f"{workload['estimates']['ttl_item_days']} days. Media at {workload['estimates']['media_mb_stored']} MB an "
        f"image (estimate); the table from measured bytes per unit. No on-demand backups in the template.\n\n"
    )

    # Every region, with and without the free tiers, and without retention.
    w(f"{'summary, $ a month':<34}" + "".join(f" {'month ' + str(m):>10}" for m in months) + "\n")
    for reg in workload["regions"]:
        for label, fr, ret in (("free tiers", True, True), ("no free tier", False, True),
                               ("free tiers, no retention", True, False)):
            row = [month_bill(workload, measured, prices, m, reg, fr, scale, ret, tpl) for m in months]
            w(f"{reg + ', ' + label:<34}" + "".join(f" {v:>10.3f}" for v in row) + "\n")
    headline = sum(free[12].values()) if 12 in free else sum(free[months[-1]].values())
    nofree = sum(listed[12].values()) if 12 in listed else sum(listed[months[-1]].values())
    w(
        f"\nThe headline figure depends on the always-free tiers (prices.json `free_tier`: Lambda 1M requests and "
        f"400,000 GB-s, DynamoDB 25 GB, SQS 1M requests, CloudWatch 5 GB of logs and 10 alarms, CloudFront 1 TB and "
        f"10M requests; S3 has none): month 12 in {region} costs ${headline:.2f} with them and ${nofree:.2f} "
        f"without. They are per account: other workloads in the same account use them up too.\n"
    )
    n, extra = api_gateway_instead(u, prices, region)
    w(f"API Gateway HTTP API instead of function URLs: +${extra:.3f} a month ({n:,.0f} requests)\n")
    idle_u = usage(workload, measured, 0.0, tpl)
    idle_lines, _ = bill(idle_u, stored(workload, measured, u, 12, tpl), prices, region, True, tpl["pitr"])
    w(
        f"idle month after a year (no traffic, month 12's data kept): ${sum(idle_lines.values()):.3f}, of which SQS "
        f"idle polling ${idle_lines['SQS requests']:.3f}; no hourly or per-resource charge\n"
    )
    target = workload["target_usd"]
    verdict = "meets" if headline <= target else "MISSES"
    w(f"target ≤ ${target:.2f} (month 12, {region}, free tiers): {verdict} (${headline:.2f})\n\n")
    return headline


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the reference workload")
    ap.add_argument("--measured", default=str(HERE / "measured_workload.json"), help="measure.py's output")
    ap.add_argument("--region", default="us-east-1", help="region of the per-service table (prices.json)")
    ap.add_argument("--quiet", action="store_true", help="leave out the per-unit table")
    ap.add_argument("--post-followers", type=int, help="cost one post to this many followers instead")
    ap.add_argument("--distinct-inboxes", type=int, help="with --post-followers: distinct inboxes they share")
    ap.add_argument("--dead-inboxes", type=int, default=0, help="with --post-followers: inboxes that never answer")
    ap.add_argument("--fanout", default=str(HERE / "measured_fanout.json"), help="per-inbox fan-out counts")
    args = ap.parse_args(argv)
    workload, prices, tpl = load("workload.json"), load("prices.json"), template_constants()
    if args.region not in prices["regions"]:
        ap.error(f"no prices for {args.region}: {', '.join(prices['regions'])}")
    if args.post_followers is not None:
        if args.distinct_inboxes is None:
            args.distinct_inboxes = args.post_followers
        if not 0 <= args.dead_inboxes <= args.distinct_inboxes <= args.post_followers:
            ap.error("need 0 ≤ --dead-inboxes ≤ --distinct-inboxes ≤ --post-followers")
        post_report(args, prices, tpl, sys.stdout)
        return
    measured = json.loads(Path(args.measured).read_text())
    s = measured["scale"]
    print(
        f"measured: store requests, DynamoDB capacity units and stored bytes per unit of work, by "
        f"{measured['measured_by']}\n  on {measured['date']}, backend {measured['backend']}, petrel "
        f"{measured['petrel_commit']}; scale: {s['posts']} posts ({s['posts_with_an_image']} with an image) to "
        f"{s['follower_inboxes']} follower inboxes, {s['inbound_activities_per_kind']} inbound activities of each "
        f"kind, {s['reads_per_kind']} reads of each kind"
    )
    print(
        "estimated (workload.json `estimates`): Lambda durations, the read and inbound mixes, the feed cache-hit "
        "ratio, response sizes, media bytes per image, log bytes per invocation, idle polling; retention settings "
        "in workload.json `retention`"
    )
    print(f"prices: {prices['note']} us-east-1: {prices['sources']['us-east-1']}. eu-west-1: "
          f"{prices['sources']['eu-west-1']}.\n")
    if not args.quiet:
        per_unit_table(workload, measured, sys.stdout)
    report(workload, measured, prices, args.scale, region=args.region, tpl=tpl)


if __name__ == "__main__":
    main()
