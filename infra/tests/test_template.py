"""Checks of template.yaml that cfn-lint and `sam validate --lint` do not make: least privilege,
data safety, queue settings and CloudFront routing. The template is expanded by the SAM
translator first (offline), so what is checked is what CloudFormation would deploy.

    .venv/bin/python -m pytest infra/tests -q
"""
import copy
import fnmatch
import json
import os
import re
from pathlib import Path

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]


class _NoManagedPolicies:
    def load(self):
        return {}


def expand(template):
    """The template after the SAM transform (CodeUri must look like S3 to the translator)."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    t = copy.deepcopy(template)
    t["Globals"]["Function"]["CodeUri"] = "s3://bucket/code.zip"
    return transform(t, {}, _NoManagedPolicies())["Resources"]


@pytest.fixture(scope="module")
def source():
    return yaml_parse((ROOT / "template.yaml").read_text())


@pytest.fixture(scope="module")
def resources(source):
    return expand(source)


def of_type(resources, kind):
    return {k: v for k, v in resources.items() if v["Type"] == kind}


def as_list(x):
    return x if isinstance(x, list) else [x]


def allow_statements(resources):
    """(owner, statement) for every Allow statement of every role and resource policy."""
    out = []
    for rid, role in of_type(resources, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            out += [(rid, s) for s in policy["PolicyDocument"]["Statement"]]
    for rid, bp in of_type(resources, "AWS::S3::BucketPolicy").items():
        out += [(rid, s) for s in bp["Properties"]["PolicyDocument"]["Statement"]]
    return [(rid, s) for rid, s in out if s["Effect"] == "Allow"]


def wildcard_problems(resources):
    problems = []
    for rid, s in allow_statements(resources):
        for action in as_list(s["Action"]):
            if "*" in action:
                problems.append(f"{rid}: wildcard action {action}")
        for resource in as_list(s.get("Resource", [])):
            # A literal string resource must name something; intrinsic functions name this
            # stack's own resources (ARN suffixes such as /media/* are key prefixes of one bucket).
            if isinstance(resource, str) and (resource == "*" or resource.endswith(":*") or ":::*" in resource):
                problems.append(f"{rid}: wildcard resource {resource}")
        if "NotAction" in s or "NotResource" in s:
            problems.append(f"{rid}: NotAction/NotResource in an Allow")
    return problems


def test_no_wildcard_actions_or_resources(resources):
    assert allow_statements(resources), "no IAM statements found: the check would prove nothing"
    assert wildcard_problems(resources) == []


def test_the_wildcard_check_catches_a_wide_grant(source):
    wide = copy.deepcopy(source)
    wide["Resources"]["WebRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}
    )
    assert len(wildcard_problems(expand(wide))) == 2
    # Without its own role, SAM generates one with the basic execution policy (logs on `*`).
    generated = copy.deepcopy(source)
    del generated["Resources"]["WebFunction"]["Properties"]["Role"]
    with pytest.raises(AssertionError):
        test_every_function_has_its_own_role_and_log_group(expand(generated))


def test_every_function_has_its_own_role_and_log_group(resources):
    functions = of_type(resources, "AWS::Lambda::Function")
    # Five functions and the origin secret's custom resource (infra/tests/test_origin_secret.py).
    assert len(functions) == 6
    roles = set()
    for fid, f in functions.items():
        role = f["Properties"]["Role"]
        # A role SAM generates (Ref to {Function}Role) would carry the basic execution policy,
        # whose log actions are granted on every resource.
        assert role == {"Fn::GetAtt": [role["Fn::GetAtt"][0], "Arn"]} and role["Fn::GetAtt"][0] != f"{fid}Role", fid
        roles.add(role["Fn::GetAtt"][0])
        group = f["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert resources[group]["Properties"]["RetentionInDays"], fid
    assert len(roles) == 6, "one role per function"
    assert not [p for r in of_type(resources, "AWS::IAM::Role").values() for p in r["Properties"].get("ManagedPolicyArns", [])]


def test_roles_grant_only_what_each_function_uses(resources):
    def actions(role):
        got = set()
        for p in resources[role]["Properties"]["Policies"]:
            for s in p["PolicyDocument"]["Statement"]:
                got |= set(as_list(s["Action"]))
        return got

    # Only the queue's consumer may receive; only outbox-fanout, which renders, writes rendered
    # pages; the feed function only reads.
    for role in of_type(resources, "AWS::IAM::Role"):
        assert ("sqs:ReceiveMessage" in actions(role)) == (role == "OutboxFanoutRole"), role
    assert not {a for a in actions("FeedRole") if not a.startswith("logs:")} - {
        "dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "s3:GetObject", "s3:ListBucket"
    }

    def resources_for(role, action):
        got = []
        for p in resources[role]["Properties"]["Policies"]:
            for s in p["PolicyDocument"]["Statement"]:
                if action in as_list(s["Action"]):
                    got += as_list(s["Resource"])
        return got

    # The stack's bucket, or the one ExistingBucketName names (test_deploy.py resolves both).
    bucket = {"Fn::If": ["BucketCreated", {"Ref": "MediaBucket"}, {"Ref": "ExistingBucketName"}]}
    # Renders under site/, link preview thumbnails under media/cards/; nothing else.
    assert resources_for("OutboxFanoutRole", "s3:PutObject") == [
        {"Fn::Sub": ["arn:${AWS::Partition}:s3:::${B}/site/*", {"B": bucket}]},
        {"Fn::Sub": ["arn:${AWS::Partition}:s3:::${B}/media/cards/*", {"B": bucket}]},
    ]
    # Renders under site/; attachments' files (kept and deleted for the web function), never a
    # card image or an avatar.
    attachments = [
        {"Fn::Sub": ["arn:${AWS::Partition}:s3:::${B}/media/*/original.*", {"B": bucket}]},
        {"Fn::Sub": ["arn:${AWS::Partition}:s3:::${B}/media/*/small.*", {"B": bucket}]},
    ]
    assert resources_for("OutboxFanoutRole", "s3:DeleteObject") == [
        {"Fn::Sub": ["arn:${AWS::Partition}:s3:::${B}/site/*", {"B": bucket}]}, *attachments
    ]
    assert resources_for("OutboxFanoutRole", "s3:DeleteObjectTagging") == attachments
    # The web function has no S3 client and no S3 permission.
    assert not {a for a in actions("WebRole") if a.startswith("s3:")}


def test_unattached_uploads_expire_by_tag(resources):
    rules = resources["MediaBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    tagged = [r for r in rules if r.get("TagFilters") == [{"Key": "petrel-temporary", "Value": "true"}]]
    assert len(tagged) == 1 and tagged[0]["ExpirationInDays"] == 1 and tagged[0]["Status"] == "Enabled"


def test_state_is_kept_and_private(resources):
    table = resources["Table"]
    bucket = resources["MediaBucket"]
    for r in (table, bucket):
        assert r["DeletionPolicy"] == "Retain" and r["UpdateReplacePolicy"] == "Retain"
    assert table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
    # SSEEnabled false = AWS-owned key (free); true without a key id would be the $1/month KMS key.
    assert table["Properties"]["SSESpecification"] == {"SSEEnabled": False}
    p = bucket["Properties"]
    assert p["VersioningConfiguration"]["Status"] == "Enabled"
    assert all(p["PublicAccessBlockConfiguration"].values()) and len(p["PublicAccessBlockConfiguration"]) == 4
    assert any("NoncurrentVersionExpiration" in r for r in p["LifecycleConfiguration"]["Rules"])


def test_queues_redrive_and_outlast_their_consumers(resources):
    mappings = of_type(resources, "AWS::Lambda::EventSourceMapping")
    # Each mapping polls all month, idle or not: one is all SQS's free tier covers.
    assert len(mappings) == 1
    consumed = set()
    for m in mappings.values():
        p = m["Properties"]
        queue = p["EventSourceArn"]["Fn::GetAtt"][0]
        function = resources[p["FunctionName"]["Ref"]]
        consumed.add(queue)
        assert p["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert 2 <= p["ScalingConfig"]["MaximumConcurrency"] <= 10
        q = resources[queue]["Properties"]
        assert q["VisibilityTimeout"] >= 6 * function["Properties"]["Timeout"], queue
        assert q["RedrivePolicy"]["maxReceiveCount"] == 5
    queues = of_type(resources, "AWS::SQS::Queue")
    # Every queue without a dead-letter target is one, and has no poller (no idle cost).
    for qid, q in queues.items():
        assert (qid in consumed) == ("RedrivePolicy" in q["Properties"]), qid
    alarm = resources["DeadLetterAlarm"]["Properties"]
    watched = {alarm["Dimensions"][0]["Value"]["Fn::GetAtt"][0]}
    assert watched == {qid for qid in queues if qid not in consumed}


def cloudfront_origin(distribution, path):
    """The origin CloudFront sends `path` to: first matching behaviour, else the default."""
    cfg = distribution["Properties"]["DistributionConfig"]
    for b in cfg["CacheBehaviors"]:
        # CloudFront: `*` any run of characters (slashes included), `?` one; case-sensitive.
        pattern = "^" + re.escape(b["PathPattern"]).replace(r"\*", ".*").replace(r"\?", ".") + "$"
        if re.match(pattern, path):
            return b["TargetOriginId"]
    return cfg["DefaultCacheBehavior"]["TargetOriginId"]


@pytest.mark.parametrize(
    "path,origin",
    [
        ("/inbox", "inbox"),
        ("/users/alice/inbox", "inbox"),
        ("/api/v1/media", "media"),
        ("/api/v2/media", "media"),
        ("/api/v1/media/123", "media"),
        ("/api/v1/accounts/update_credentials", "media"),
        ("/@alice", "feed"),
        ("/@alice/1234", "feed"),
        ("/@alice.rss", "feed"),
        ("/@alice.atom", "feed"),
        ("/@alice.json", "feed"),
        ("/@alice/feed.json", "feed"),
        ("/tags/rust.rss", "feed"),
        ("/tags/rust.atom", "feed"),
        ("/media/1234/original.jpg", "bucket"),
        ("/accounts/1/avatar-5.png", "bucket"),
        ("/users/alice", "web"),
        ("/users/alice/outbox", "web"),
        ("/users/alice/statuses/1", "web"),
        ("/.well-known/webfinger", "web"),
        ("/nodeinfo/2.0", "web"),
        ("/api/v1/statuses", "web"),
        ("/api/v1/accounts/verify_credentials", "web"),
        ("/api/v1/accounts/1/statuses", "web"),
        ("/api/v2/instance", "web"),
        ("/oauth/token", "web"),
        ("/health", "web"),
        ("/", "web"),
        ("/api/v1/streaming", "streaming"),
        ("/api/v1/streaming/health", "web"),
        ("/api/v1/streaming/user", "web"),
    ],
)
def test_cloudfront_routes_each_path_to_its_function(resources, path, origin):
    assert cloudfront_origin(resources["Distribution"], path) == origin


def test_cached_and_uncached_behaviours(resources):
    cfg = resources["Distribution"]["Properties"]["DistributionConfig"]
    caching_disabled = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    all_viewer_but_host = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    origins = {o["Id"]: o for o in cfg["Origins"]}
    for b in cfg["CacheBehaviors"] + [cfg["DefaultCacheBehavior"]]:
        target = b["TargetOriginId"]
        if target in ("web", "inbox", "media"):
            # The API: uncached, every method, Authorization and query strings forwarded.
            assert b["CachePolicyId"] == caching_disabled and b["OriginRequestPolicyId"] == all_viewer_but_host
            assert "POST" in b["AllowedMethods"] and "DELETE" in b["AllowedMethods"]
        elif target == "streaming":
            # A WebSocket upgrade is a GET: uncached, its headers and query string forwarded.
            assert b["CachePolicyId"] == caching_disabled and b["OriginRequestPolicyId"] == all_viewer_but_host
            assert b["AllowedMethods"] == ["GET", "HEAD"]
        else:
            # Feeds and media: cached, read-only, reached only through origin access control.
            assert b["CachePolicyId"] != caching_disabled and b["AllowedMethods"] == ["GET", "HEAD"]
            assert "OriginAccessControlId" in origins[target]
    urls = of_type(resources, "AWS::Lambda::Url")
    assert urls["FeedFunctionUrl"]["Properties"]["AuthType"] == "AWS_IAM"


def test_open_function_urls_answer_only_the_distribution(resources):
    """Every HTTP function requires the secret header CloudFront adds (PETREL_ORIGIN_SECRET, checked
    by petrel::lambda::run_http), so calling a function URL directly is refused; web, inbox and
    media take unsigned requests (AuthType NONE) and rely on it."""
    cfg = resources["Distribution"]["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in cfg["Origins"]}
    urls = of_type(resources, "AWS::Lambda::Url")
    functions = of_type(resources, "AWS::Lambda::Function")
    for name in ("web", "inbox", "media", "feed"):
        url = urls[f"{name.capitalize()}FunctionUrl"]["Properties"]
        # Feed's URL takes only this distribution's signed requests (OAC) besides.
        assert url["AuthType"] == ("AWS_IAM" if name == "feed" else "NONE")
        headers = {h["HeaderName"]: h["HeaderValue"] for h in origins[name].get("OriginCustomHeaders", [])}
        env = functions[url["TargetFunctionArn"]["Ref"]]["Properties"]["Environment"]["Variables"]
        assert headers.get("x-petrel-origin") is not None, name
        # CloudFront sends the current secret; the function accepts it (and, during a rotation,
        # the previous one): both come from one resource (test_origin_secret.py).
        assert headers["x-petrel-origin"] == {"Fn::GetAtt": ["OriginSecrets", "Current"]}, name
        assert env["PETREL_ORIGIN_SECRET"] == {"Fn::GetAtt": ["OriginSecrets", "Accepted"]}, name


def deployed(source, resources, overrides):
    """Resolve parameters, conditions and Fn::If as CloudFormation would for `overrides`, enough
    to read a property's deployed value (AWS::NoValue comes back as None)."""
    params = {k: str(v.get("Default", "")) for k, v in source["Parameters"].items()}
    params.update({k: str(v) for k, v in overrides.items()})
    conditions = {}

    def ev(node):
        if isinstance(node, dict) and len(node) == 1:
            (fn, arg), = node.items()
            if fn == "Ref":
                return None if arg == "AWS::NoValue" else params.get(arg, node)
            if fn == "Condition":
                return cond(arg)
            if fn == "Fn::Equals":
                return str(ev(arg[0])) == str(ev(arg[1]))
            if fn == "Fn::Not":
                return not ev(arg[0])
            if fn == "Fn::If":
                return ev(arg[1]) if cond(arg[0]) else ev(arg[2])
        return node

    def cond(name):
        if name not in conditions:
            conditions[name] = ev(source["Conditions"][name])
        return conditions[name]

    return ev


@pytest.mark.parametrize("function,parameter", [("InboxFunction", "InboxReservedConcurrency"), ("WebFunction", "WebReservedConcurrency")])
def test_reserved_concurrency_is_a_parameter_off_by_default(source, resources, function, parameter):
    """New accounts may have a concurrency quota of 10 in all, and reserving any of it fails the
    deploy there: unreserved unless the operator asks. Reserved, it caps what a flood of
    unauthenticated requests can run at once (throttled requests are not billed)."""
    p = source["Parameters"][parameter]
    assert p["Type"] == "Number" and str(p["Default"]) == "0" and p["MinValue"] == 0
    prop = resources[function]["Properties"].get("ReservedConcurrentExecutions")
    assert prop is not None, "the function does not take the parameter"
    assert deployed(source, resources, {})(prop) is None
    assert deployed(source, resources, {parameter: 3})(prop) == "3"
    # The other functions are not touched by it.
    for other in of_type(resources, "AWS::Lambda::Function"):
        if other != function:
            assert parameter not in json.dumps(resources[other]["Properties"].get("ReservedConcurrentExecutions")), other


def test_sam_build_builds_every_function_in_one_cargo_invocation(source):
    """`sam build` runs infra/lambda/Makefile for each function (BuildMethod: makefile); every
    target runs the same single cargo-lambda build of all the functions' packages for arm64 and
    copies its own binary as the function's bootstrap."""
    code_uri = source["Globals"]["Function"]["CodeUri"]
    makefile = (ROOT / code_uri / "Makefile").read_text()
    # SAM copies CodeUri to a scratch directory before make runs: it must hold only the Makefile.
    assert sorted(p.name for p in (ROOT / code_uri).iterdir()) == ["Makefile"]
    bins = re.search(r"^BINS := (.+)$", makefile, re.M).group(1).split()
    build = re.search(r"^BUILD := (.+)$", makefile, re.M).group(1)
    assert build == "$(CARGO) lambda build --release --arm64 $(foreach b,$(BINS),-p $(b))"
    deploy = re.search(r"^define deploy\n(.*?)^endef$", makefile, re.M | re.S).group(1)
    assert "sh -c '$(BUILD) && cp \"$$0/lambda/$(1)/bootstrap\" \"$(ARTIFACTS_DIR)/bootstrap\"'" in deploy
    functions = {k: v for k, v in source["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}
    assert len(functions) == 5
    built = []
    for fid, f in functions.items():
        assert f["Metadata"] == {"BuildMethod": "makefile"}, fid
        assert "CodeUri" not in f["Properties"], fid
        target = re.search(rf"^build-{fid}:\n\t\$\(call deploy,([\w-]+)\)$", makefile, re.M)
        assert target, f"no build-{fid} target in {code_uri}/Makefile"
        built.append(target.group(1))
    assert sorted(built) == sorted(bins)
    # Each is a workspace package with one binary of its own name.
    for b in bins:
        manifest = (ROOT / "functions" / b / "Cargo.toml").read_text()
        assert re.search(rf'^\[package\]\nname = "{b}"$', manifest, re.M), b
        assert re.findall(r'^\[\[bin\]\]\nname = "(.+)"$', manifest, re.M) == [b]


def test_streaming_websocket_api_routes_to_the_web_function(resources):
    """$connect, $disconnect and $default of one WebSocket API, each to the web function's
    Lambda proxy integration, which only this API's stage may invoke."""
    apis = of_type(resources, "AWS::ApiGatewayV2::Api")
    assert list(apis) == ["StreamingApi"] and apis["StreamingApi"]["Properties"]["ProtocolType"] == "WEBSOCKET"
    integrations = of_type(resources, "AWS::ApiGatewayV2::Integration")
    assert list(integrations) == ["StreamingIntegration"]
    integration = integrations["StreamingIntegration"]["Properties"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert "${WebFunction.Arn}" in integration["IntegrationUri"]["Fn::Sub"]
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in of_type(resources, "AWS::ApiGatewayV2::Route").values()}
    assert set(routes) == {"$connect", "$disconnect", "$default"}
    for r in routes.values():
        assert r["Target"] == {"Fn::Sub": "integrations/${StreamingIntegration}"}
        assert r["ApiId"] == {"Ref": "StreamingApi"}
    stage = of_type(resources, "AWS::ApiGatewayV2::Stage")["StreamingStage"]["Properties"]
    assert stage["AutoDeploy"] is True and stage["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    invoke = [p["Properties"] for p in of_type(resources, "AWS::Lambda::Permission").values()
              if p["Properties"]["Principal"] == "apigateway.amazonaws.com"]
    assert len(invoke) == 1 and invoke[0]["FunctionName"] == {"Ref": "WebFunction"}
    assert "${StreamingApi}/${StreamingStage}/*" in invoke[0]["SourceArn"]["Fn::Sub"]


def test_only_the_functions_that_post_events_may_manage_connections_of_this_api_only(resources):
    granted = {}
    for rid, s in allow_statements(resources):
        if "execute-api:ManageConnections" in as_list(s["Action"]):
            assert as_list(s["Action"]) == ["execute-api:ManageConnections"], rid
            granted[rid] = as_list(s["Resource"])
    assert set(granted) == {"WebRole", "InboxRole", "OutboxFanoutRole"}
    for rid, res in granted.items():
        # This stack's API and stage, PostToConnection only.
        assert res == [{"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
                                   "${StreamingApi}/${StreamingStage}/POST/@connections/*"}], rid
    functions = of_type(resources, "AWS::Lambda::Function")
    for fid in ("WebFunction", "InboxFunction", "OutboxFanoutFunction"):
        endpoint = functions[fid]["Properties"]["Environment"]["Variables"]["PETREL_STREAMING_ENDPOINT"]
        assert "${StreamingApi}.execute-api" in endpoint["Fn::Sub"] and endpoint["Fn::Sub"].endswith("/${StreamingStage}")


def test_cloudfront_sends_the_streaming_path_to_the_websocket_api_stage(resources):
    cfg = resources["Distribution"]["Properties"]["DistributionConfig"]
    origin = {o["Id"]: o for o in cfg["Origins"]}["streaming"]
    assert origin["DomainName"] == {"Fn::Sub": "${StreamingApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert origin["OriginCustomHeaders"][0]["HeaderName"] == "x-petrel-origin"
    behaviour = [b for b in cfg["CacheBehaviors"] if b["TargetOriginId"] == "streaming"]
    assert [b["PathPattern"] for b in behaviour] == ["/api/v1/streaming"]
    # The viewer's path becomes the stage's, the one path a WebSocket API answers on.
    (assoc,) = behaviour[0]["FunctionAssociations"]
    assert assoc["EventType"] == "viewer-request"
    assert assoc["FunctionARN"] == {"Fn::GetAtt": ["StreamingPath", "FunctionMetadata.FunctionARN"]}
    code = resources["StreamingPath"]["Properties"]["FunctionCode"]["Fn::Sub"]
    assert "event.request.uri = '/${StreamingStage}'" in code
