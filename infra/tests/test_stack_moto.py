"""The stack in moto's CloudFormation, driven by `petrel --stack`: the template is expanded by the
SAM translator (offline), created as a stack in moto server, and the CLI reads the table, bucket,
queue and domain from its outputs. Then the README's ways back are followed: a point-in-time
restore into a new table, and a new stack, after the first is deleted, given the restored table
and the retained bucket (ExistingTableName, ExistingBucketName).

moto cannot create every resource type the template uses (UNSUPPORTED below: the WebSocket API,
CloudFront, function URLs, bucket policies, CloudWatch alarms and budgets have no CloudFormation model in moto 5.2, and
the origin secret's custom resources would need moto to run their Lambda function in Docker).
Those are left out of the stack, and what refers to them gets a placeholder; everything else —
table, bucket, queues, roles, log groups, functions, the event source mapping, the SNS topic —
is created by moto from the template as CloudFormation would.

Runs after `cargo build -p petrel-cli` (infra/test.sh), against AWS_ENDPOINT_URL.
"""
import copy
import io
import json
import os
import re
import secrets
import subprocess
import time
import zipfile
from pathlib import Path

import boto3
import pytest

from test_template import expand  # noqa: E402  (infra/tests is on sys.path under pytest)
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
UNSUPPORTED = (
    "AWS::ApiGatewayV2::",
    "AWS::CloudFront::",
    "AWS::Lambda::Url",
    "AWS::S3::BucketPolicy",
    "AWS::CloudWatch::Alarm",
    "AWS::Budgets::Budget",
    "Custom::",
)
DOMAIN = "social.example.test"


def table_names(ddb):
    """Every table's name (ListTables gives 100 a page; a run's tests create many)."""
    return {n for page in ddb.get_paginator("list_tables").paginate() for n in page["TableNames"]}


def petrel_bin():
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    path = Path(os.environ.get("PETREL_BIN", target / "debug" / "petrel"))
    assert path.exists(), f"{path} is missing: run `cargo build -p petrel-cli` first (infra/test.sh does)"
    return str(path)


def aws(service):
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    assert endpoint, "AWS_ENDPOINT_URL is not set: run under infra/test.sh (moto server)"
    return boto3.client(service, endpoint_url=endpoint, region_name=os.environ.get("AWS_REGION", "us-east-1"))


def moto_subset(template, code_bucket):
    """The expanded template without the resource types moto cannot create; what referred to them
    gets a placeholder string. Answers the template and the left-out resources by type."""
    t = copy.deepcopy(template)
    t["Globals"]["Function"]["CodeUri"] = f"s3://{code_bucket}/code.zip"
    out = {"AWSTemplateFormatVersion": "2010-09-09", "Parameters": t["Parameters"], "Conditions": t["Conditions"]}
    resources = expand_with_code(t)
    removed = {rid: r["Type"] for rid, r in resources.items() if r["Type"].startswith(UNSUPPORTED)}

    def scrub(node):
        if isinstance(node, dict):
            if set(node) == {"Ref"} and node["Ref"] in removed:
                return f"removed-{node['Ref']}"
            if set(node) == {"Fn::GetAtt"} and as_getatt(node)[0] in removed:
                return "removed-" + "-".join(as_getatt(node))
            if set(node) == {"Fn::Sub"}:
                arg = node["Fn::Sub"]
                text, names = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                text = re.sub(r"\$\{(\w+)(?:\.(\w+))?\}", lambda m: sub_var(m, removed), text)
                return {"Fn::Sub": text if not names else [text, scrub(names)]}
            return {k: scrub(v) for k, v in node.items()}
        if isinstance(node, list):
            return [scrub(v) for v in node]
        return node

    kept = {rid: r for rid, r in resources.items() if rid not in removed}
    out["Resources"] = scrub(kept)
    for r in out["Resources"].values():
        if "DependsOn" in r:
            r["DependsOn"] = scrub_depends(r["DependsOn"], removed)
            if not r["DependsOn"]:
                del r["DependsOn"]
    out["Outputs"] = scrub(t["Outputs"])
    return out, removed


def expand_with_code(t):
    # expand() sets a placeholder CodeUri; keep ours (moto's Lambda reads the code from S3).
    code = t["Globals"]["Function"]["CodeUri"]
    resources = expand(t)
    for r in resources.values():
        if r["Type"] == "AWS::Lambda::Function" and "S3Bucket" in r["Properties"].get("Code", {}):
            bucket, key = code.removeprefix("s3://").split("/", 1)
            r["Properties"]["Code"] = {"S3Bucket": bucket, "S3Key": key}
    return resources


def as_getatt(node):
    v = node["Fn::GetAtt"]
    return v if isinstance(v, list) else v.split(".", 1)


def sub_var(m, removed):
    name, attr = m.group(1), m.group(2)
    if name in removed:
        return f"removed-{name}" + (f"-{attr}" if attr else "")
    return m.group(0)


def scrub_depends(v, removed):
    return [d for d in (v if isinstance(v, list) else [v]) if d not in removed]


def create(cfn, name, body, params):
    cfn.create_stack(
        StackName=name,
        TemplateBody=json.dumps(body),
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
    )
    for _ in range(120):
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        if not stack["StackStatus"].endswith("IN_PROGRESS"):
            break
        time.sleep(0.25)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def petrel(*args, stdin=""):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PETREL_")}
    env["PETREL_PASSWORD"] = "correct horse battery"
    return subprocess.run([petrel_bin(), *args], env=env, input=stdin, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def code_bucket():
    s3 = aws("s3")
    name = "petrel-stack-code-" + secrets.token_hex(4)
    s3.create_bucket(Bucket=name)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\n")
    s3.put_object(Bucket=name, Key="code.zip", Body=buf.getvalue())
    return name


def test_left_out_resource_types_are_only_those_moto_cannot_create(code_bucket):
    """If moto learns a type, or the template gains one it lacks, this says so."""
    from moto.cloudformation.parsing import get_model_map
    import moto.backends  # noqa: F401  (registers every service's models)

    for service in ("cloudwatch", "cloudfront", "s3", "awslambda", "budgets"):
        __import__(f"moto.{service}.models")
    source = yaml_parse((ROOT / "template.yaml").read_text())
    _, removed = moto_subset(source, code_bucket)
    models = get_model_map()
    assert {t for t in removed.values() if not t.startswith("Custom::")} == {
        t for t in {r["Type"] for r in expand(source).values()} if t.startswith(UNSUPPORTED) and not t.startswith("Custom::")
    }
    assert not [t for t in removed.values() if t in models], "moto can create these now: keep them in the stack"
    assert sorted(set(removed.values())) == [
        "AWS::ApiGatewayV2::Api",
        "AWS::ApiGatewayV2::Integration",
        "AWS::ApiGatewayV2::Route",
        "AWS::ApiGatewayV2::Stage",
        "AWS::Budgets::Budget",
        "AWS::CloudFront::CachePolicy",
        "AWS::CloudFront::Distribution",
        "AWS::CloudFront::Function",
        "AWS::CloudFront::OriginAccessControl",
        "AWS::CloudWatch::Alarm",
        "AWS::Lambda::Url",
        "AWS::S3::BucketPolicy",
        "Custom::GeneratedOriginSecret",
        "Custom::OriginSecrets",
    ]


def test_petrel_stack_reads_the_outputs_and_the_restore_steps_work(code_bucket):
    cfn, ddb = aws("cloudformation"), aws("dynamodb")
    source = yaml_parse((ROOT / "template.yaml").read_text())
    body, _ = moto_subset(source, code_bucket)
    first = "petrel-first-" + secrets.token_hex(3)
    tables_before = table_names(ddb)
    out = create(cfn, first, body, {"Domain": DOMAIN})
    assert table_names(ddb) - tables_before == {out["TableName"]}
    assert out["Domain"] == out["HandleDomain"] == DOMAIN
    assert out["CreateOwner"] == f"petrel --stack {first} --region us-east-1 account create YOUR_NAME"

    # The CreateOwner output, as printed: nothing but the stack's name and region.
    created = petrel(*out["CreateOwner"].replace("YOUR_NAME", "alice").split()[1:])
    assert created.returncode == 0, created.stderr
    assert f"created @alice@{DOMAIN}" in created.stdout
    # It wrote to the stack's table, under the stack's domain.
    item = ddb.get_item(TableName=out["TableName"], Key={"pk": {"S": "SITE"}, "sk": {"S": "SETTINGS"}}).get("Item")
    assert item and item["domain"]["S"] == DOMAIN, item
    listed = petrel("--stack", first, "account", "tokens", "alice")
    assert listed.returncode == 0 and "@alice has no listed tokens" in listed.stdout, listed.stderr
    missing = petrel("--stack", "petrel-no-such-stack", "account", "tokens", "alice")
    assert missing.returncode != 0 and "petrel-no-such-stack" in missing.stderr, missing.stderr

    # Point-in-time restore into a new table; the first stack deleted (its table and bucket stay).
    restored = out["TableName"] + "-restored"
    ddb.restore_table_to_point_in_time(SourceTableName=out["TableName"], TargetTableName=restored, UseLatestRestorableTime=True)
    cfn.delete_stack(StackName=first)
    assert out["TableName"] in table_names(ddb), "the Retain table was deleted with the stack"
    aws("s3").head_bucket(Bucket=out["BucketName"])

    # A new stack on the restored table and the retained bucket creates neither.
    second = "petrel-second-" + secrets.token_hex(3)
    tables_before = table_names(ddb)
    buckets_before = {b["Name"] for b in aws("s3").list_buckets()["Buckets"]}
    out2 = create(cfn, second, body, {"Domain": DOMAIN, "ExistingTableName": restored, "ExistingBucketName": out["BucketName"]})
    assert table_names(ddb) == tables_before
    assert {b["Name"] for b in aws("s3").list_buckets()["Buckets"]} == buckets_before
    assert (out2["TableName"], out2["BucketName"]) == (restored, out["BucketName"])
    # The roles name them too (moto keeps the policies it was given).
    iam = aws("iam")
    resources = cfn.describe_stack_resources(StackName=second)["StackResources"]

    def policy(role, name):
        physical = next(r for r in resources if r["LogicalResourceId"] == role)["PhysicalResourceId"]
        return json.dumps(iam.get_role_policy(RoleName=physical, PolicyName=name)["PolicyDocument"])

    web, media = policy("WebRole", "web"), policy("MediaRole", "media")
    assert f":table/{restored}" in web, web
    assert f":table/{restored}" in media and f":::{out['BucketName']}/media/*" in media, media

    back = petrel("--stack", second, "account", "tokens", "alice")
    assert back.returncode == 0 and "@alice has no listed tokens" in back.stdout, back.stderr
    # The restored data keeps its domain: another one is refused.
    other = petrel("--stack", second, "--domain", "other.example.test", "account", "create", "bob")
    assert other.returncode != 0 and f"served as {DOMAIN}" in other.stderr, other.stderr
    cfn.delete_stack(StackName=second)
