"""The first deploy and what guards the bill (issue #18), and the facts the docs state that can be
checked against the code: `sam deploy --guided` with every default accepted, stacks on an existing
table and bucket, the budget and alarms, the number of queues, the accepted media types, and the
parameters and outputs the README and infra/deploy.md name.

    .venv/bin/python -m pytest infra/tests -q
"""
import copy
import json
import re
import sys
from pathlib import Path

import click
import click.termui
import pytest
from click.testing import CliRunner
from samtranslator.yaml_helper import yaml_parse

from test_template import expand, of_type  # noqa: E402  (infra/tests is on sys.path under pytest)

ROOT = Path(__file__).resolve().parents[2]

try:
    from tomllib import loads as toml
except ImportError:  # Python < 3.11: the SAM CLI's own TOML library
    from tomlkit import parse as toml
README = (ROOT / "README.md").read_text()
DEPLOY = (ROOT / "infra" / "deploy.md").read_text()


@pytest.fixture(scope="module")
def source():
    return yaml_parse((ROOT / "template.yaml").read_text())


@pytest.fixture(scope="module")
def resources(source):
    return expand(source)


# ------------------------------------------------------------------ sam deploy --guided


def guided_answers(template_path, answers):
    """SAM's own guided prompts for the template's parameters and its "has no authentication"
    questions, fed `answers` on standard input; answers what SAM would deploy, or raises."""
    from samcli.commands.deploy.auth_utils import auth_per_resource
    from samcli.commands.deploy.guided_context import GuidedContext
    from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider
    # What GuidedContext.run reads, then the prompts it makes, in its order.
    from samcli.commands._utils.template import get_template_parameters as template_parameters

    ctx = GuidedContext.__new__(GuidedContext)
    ctx.template_file = str(template_path)
    result = {}

    @click.command()
    def run():
        # A terminal at the end of its input: click's test runner would answer hidden prompts
        # with "" forever instead, where a real one ends (Abort), as `yes '' | sam deploy
        # --guided` does.
        def hidden(prompt):
            line = sys.stdin.readline()
            if not line:
                raise EOFError
            return line.rstrip("\r\n")

        click.termui.hidden_prompt_func = hidden
        params = ctx.prompt_parameters(template_parameters(str(template_path)), {}, "", "")
        stacks, _ = SamLocalStackProvider.get_stacks(
            str(template_path),
            parameter_overrides={k: v["Value"] for k, v in params.items()},
            global_parameter_overrides={"AWS::Region": "us-east-1"},
        )
        ctx.start_bold = ctx.end_bold = ""
        ctx.prompt_authorization(stacks)
        result["params"] = {k: v["Value"] for k, v in params.items()}
        result["open"] = [r for r, authorised in auth_per_resource(stacks) if not authorised]

    out = CliRunner().invoke(run, input=answers)
    if out.exception:
        raise AssertionError(f"guided prompts failed: {out.output[-400:]}") from out.exception
    return result


def test_guided_deploy_takes_every_default(source, tmp_path):
    got = guided_answers(ROOT / "template.yaml", "\n" * 200)
    assert got["params"] == {k: str(v.get("Default", "")) for k, v in source["Parameters"].items()}
    assert got["open"] == [], "SAM asks '… has no authentication' for these, and aborts on the default N"
    config = toml((ROOT / "samconfig.toml").read_text())["default"]["deploy"]["parameters"]
    assert config["stack_name"] == "petrel" and config["resolve_s3"] is True
    assert config["capabilities"] == "CAPABILITY_IAM" and "region" not in config
    # CAPABILITY_IAM suffices: no named IAM resources (CAPABILITY_NAMED_IAM), no nested stacks or
    # other macros (CAPABILITY_AUTO_EXPAND).
    roles = of_type(expand(source), "AWS::IAM::Role")
    assert roles and not [r for r, v in roles.items() if "RoleName" in v["Properties"]]
    assert source["Transform"] == "AWS::Serverless-2016-10-31"


def test_the_guided_check_catches_a_noecho_parameter_and_a_sam_function_url(source, tmp_path):
    import yaml

    secret = copy.deepcopy(source)
    secret["Parameters"]["OriginSecret"]["NoEcho"] = True
    path = tmp_path / "noecho.yaml"
    path.write_text(yaml.safe_dump(secret))
    with pytest.raises(AssertionError, match="guided prompts failed"):
        guided_answers(path, "\n" * 200)  # SAM asks again until something is typed

    sam_url = copy.deepcopy(source)
    sam_url["Resources"]["WebFunction"]["Properties"]["FunctionUrlConfig"] = {"AuthType": "NONE"}
    path = tmp_path / "samurl.yaml"
    path.write_text(yaml.safe_dump(sam_url))
    with pytest.raises(AssertionError, match="guided prompts failed"):
        guided_answers(path, "\n" * 200)  # "Security Constraints Not Satisfied!"
    answers = "\n" * len(source["Parameters"]) + "y\n"
    assert guided_answers(path, answers)["open"] == ["WebFunction Function Url"]


def test_open_function_urls_keep_sams_logical_ids(resources):
    """Declared by hand with the ids SAM's FunctionUrlConfig generated, so an existing stack keeps
    its URLs (and the distribution its origins)."""
    for name in ("Web", "Inbox", "Media"):
        assert resources[f"{name}FunctionUrl"]["Properties"] == {
            "TargetFunctionArn": {"Ref": f"{name}Function"}, "AuthType": "NONE", "InvokeMode": "BUFFERED"
        }
        assert resources[f"{name}FunctionUrlPublicPermissions"]["Properties"]["FunctionUrlAuthType"] == "NONE"
        assert resources[f"{name}FunctionURLInvokeAllowPublicAccess"]["Properties"]["InvokedViaFunctionUrl"] is True


# ------------------------------------------------------------------ resolving the template


def resolver(source, overrides):
    """Evaluates parameters, conditions and the intrinsic functions the template uses as
    CloudFormation would for `overrides`. Resources resolve to `Ref:Id` and `GetAtt:Id.Attr`,
    pseudo parameters to their names (`AWS::Region`); AWS::NoValue to None."""
    params = {k: str(v.get("Default", "")) for k, v in source["Parameters"].items()}
    params.update({k: str(v) for k, v in overrides.items()})
    conditions = {}

    def name(ref):
        return params[ref] if ref in params else ref if ref.startswith("AWS::") else f"Ref:{ref}"

    def sub(text, names):
        def one(m):
            var = m.group(1)
            if var in names:
                return str(names[var])
            if "." in var:
                return f"GetAtt:{var}"
            return name(var)

        return re.sub(r"\$\{([\w:.]+)\}", one, text)

    def ev(node):
        if isinstance(node, list):
            return [v for v in (ev(x) for x in node) if v is not None]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (fn, arg), = node.items()
            if fn == "Ref":
                return None if arg == "AWS::NoValue" else name(arg)
            if fn == "Condition":
                return cond(arg)
            if fn == "Fn::Equals":
                return str(ev(arg[0])) == str(ev(arg[1]))
            if fn == "Fn::Not":
                return not ev(arg[0])
            if fn == "Fn::And":
                return all(ev(a) for a in arg)
            if fn == "Fn::If":
                return ev(arg[1]) if cond(arg[0]) else ev(arg[2])
            if fn == "Fn::GetAtt":
                return "GetAtt:" + (".".join(arg) if isinstance(arg, list) else arg)
            if fn == "Fn::Sub":
                return sub(arg, {}) if isinstance(arg, str) else sub(arg[0], ev(arg[1]))
        return {k: v for k, v in ((k, ev(v)) for k, v in node.items()) if v is not None}

    def cond(c):
        if c not in conditions:
            conditions[c] = ev(source["Conditions"][c])
        return conditions[c]

    return ev, cond


def deployed_stack(source, resources, overrides):
    ev, cond = resolver(source, overrides)
    created = {rid: ev(r) for rid, r in resources.items() if "Condition" not in r or cond(r["Condition"])}
    outputs = {k: ev(o["Value"]) for k, o in source["Outputs"].items()}
    return created, outputs


def test_existing_table_and_bucket_replace_every_reference(source, resources):
    given = {"ExistingTableName": "petrel-restored", "ExistingBucketName": "petrel-kept-bucket"}
    created, outputs = deployed_stack(source, resources, given)
    assert "Table" not in created and "MediaBucket" not in created
    text = json.dumps([created, outputs])
    for gone in ("Ref:Table", "GetAtt:Table.", "Ref:MediaBucket", "GetAtt:MediaBucket."):
        assert gone not in text, f"{gone} is still referred to"
    table_arn = "arn:AWS::Partition:dynamodb:AWS::Region:AWS::AccountId:table/petrel-restored"
    functions = of_type(created, "AWS::Lambda::Function")
    for fid in ("WebFunction", "InboxFunction", "OutboxFanoutFunction", "MediaFunction", "FeedFunction"):
        env = functions[fid]["Properties"]["Environment"]["Variables"]
        assert (env["PETREL_TABLE"], env["PETREL_BUCKET"]) == ("petrel-restored", "petrel-kept-bucket"), fid
        role = functions[fid]["Properties"]["Role"].removeprefix("GetAtt:").removesuffix(".Arn")
        statements = [s for p in created[role]["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
        dynamo = [s for s in statements if any(a.startswith("dynamodb:") for a in s["Action"])]
        assert dynamo and all(s["Resource"] == table_arn for s in dynamo), fid
        for s in statements:
            if any(a.startswith("s3:") for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])):
                for r in [s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"]:
                    assert r.startswith("arn:AWS::Partition:s3:::petrel-kept-bucket"), (fid, r)
    assert created["MediaBucketPolicy"]["Properties"]["Bucket"] == "petrel-kept-bucket"
    origins = created["Distribution"]["Properties"]["DistributionConfig"]["Origins"]
    assert {o["Id"]: o["DomainName"] for o in origins}["bucket"] == "petrel-kept-bucket.s3.AWS::Region.AWS::URLSuffix"
    assert (outputs["TableName"], outputs["BucketName"]) == ("petrel-restored", "petrel-kept-bucket")

    # By default the stack creates and keeps its own (Retain on delete and on replacement).
    created, outputs = deployed_stack(source, resources, {})
    assert created["Table"]["DeletionPolicy"] == created["MediaBucket"]["DeletionPolicy"] == "Retain"
    assert created["Table"]["UpdateReplacePolicy"] == created["MediaBucket"]["UpdateReplacePolicy"] == "Retain"
    assert (outputs["TableName"], outputs["BucketName"]) == ("Ref:Table", "Ref:MediaBucket")
    env = created["WebFunction"]["Properties"]["Environment"]["Variables"]
    assert (env["PETREL_TABLE"], env["PETREL_BUCKET"]) == ("Ref:Table", "Ref:MediaBucket")


def test_the_cli_outputs_name_the_stack(source, resources):
    _, outputs = deployed_stack(source, resources, {"Domain": "social.example.com", "HandleDomain": "example.com"})
    assert outputs["CreateOwner"] == "petrel --stack AWS::StackName --region AWS::Region account create YOUR_NAME"
    assert (outputs["Domain"], outputs["HandleDomain"]) == ("social.example.com", "example.com")
    assert outputs["QueueUrl"] == "Ref:OutboxQueue"
    _, outputs = deployed_stack(source, resources, {})
    assert outputs["Domain"] == outputs["HandleDomain"] == "GetAtt:Distribution.DomainName"
    # The names infra/cli/src/stack.rs reads.
    cli = (ROOT / "infra" / "cli" / "src" / "stack.rs").read_text()
    needed = re.search(r"const NEEDED: \[&str; \d+\] = \[(.*?)\];", cli).group(1)
    assert set(re.findall(r'"(\w+)"', needed)) <= set(outputs)


# ------------------------------------------------------------------ guardrails


def alarm_metrics(alarms):
    return sum(max(1, sum("MetricStat" in m for m in a["Properties"].get("Metrics", []))) for a in alarms.values())


def test_guardrails_cost_nothing_by_default_and_say_what_they_cost(source, resources):
    created, _ = deployed_stack(source, resources, {})
    assert not of_type(created, "AWS::Budgets::Budget")
    assert list(of_type(created, "AWS::CloudWatch::Alarm")) == ["DeadLetterAlarm"]

    created, _ = deployed_stack(source, resources, {"AlarmEmail": "me@example.com"})
    (budget,) = of_type(created, "AWS::Budgets::Budget").values()
    b = budget["Properties"]
    assert b["Budget"]["BudgetLimit"] == {"Amount": "5", "Unit": "USD"} and b["Budget"]["TimeUnit"] == "MONTHLY"
    assert {n["Notification"]["NotificationType"] for n in b["NotificationsWithSubscribers"]} == {"ACTUAL", "FORECASTED"}
    assert all(n["Subscribers"] == [{"SubscriptionType": "EMAIL", "Address": "me@example.com"}] for n in b["NotificationsWithSubscribers"])
    created, _ = deployed_stack(source, resources, {"AlarmEmail": "me@example.com", "BudgetMonthlyUsd": 0})
    assert not of_type(created, "AWS::Budgets::Budget")
    created, _ = deployed_stack(source, resources, {"BudgetMonthlyUsd": 20})
    assert not of_type(created, "AWS::Budgets::Budget"), "a budget needs someone to tell"

    created, _ = deployed_stack(source, resources, {"FunctionAlarms": "on", "AlarmEmail": "me@example.com"})
    alarms = of_type(created, "AWS::CloudWatch::Alarm")
    assert set(alarms) == {"DeadLetterAlarm", "FunctionErrorsAlarm", "FunctionThrottlesAlarm", "QueueAgeAlarm"}
    assert all(a["Properties"]["AlarmActions"] == ["Ref:AlarmTopic"] for a in alarms.values())
    functions = {f"Ref:{f}" for f in of_type(resources, "AWS::Lambda::Function") if f != "OriginSecretFunction"}
    for aid, metric in (("FunctionErrorsAlarm", "Errors"), ("FunctionThrottlesAlarm", "Throttles")):
        stats = [m["MetricStat"]["Metric"] for m in alarms[aid]["Properties"]["Metrics"] if "MetricStat" in m]
        assert {m["MetricName"] for m in stats} == {metric}
        assert {m["Dimensions"][0]["Value"] for m in stats} == functions, aid
    age = alarms["QueueAgeAlarm"]["Properties"]
    assert age["Threshold"] == "24" and "age / 3600" in json.dumps(age["Metrics"])
    # The price stated next to the parameter is the count the template makes: 12 alarm metrics,
    # 2 past CloudWatch's 10 free ones at $0.10, 11 of them this parameter's.
    total = alarm_metrics(alarms)
    description = " ".join(source["Parameters"]["FunctionAlarms"]["Description"].split())
    assert total == 12 and f"that is {total}" in description
    assert f"${(total - 10) * 0.10:.2f} a month" in description and f"${(total - 1) * 0.10:.2f}" in description
    assert f"${(total - 10) * 0.10:.2f} a month" in " ".join(README.split())


# ------------------------------------------------------------------ the docs against the code


def test_the_docs_count_the_queues_the_template_has(source):
    queues = {k: v for k, v in source["Resources"].items() if v["Type"] == "AWS::SQS::Queue"}
    work = [k for k, v in queues.items() if "RedrivePolicy" in v.get("Properties", {})]
    assert len(work) == 1 and len(queues) == 2
    words = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
    number = r"\b(one|two|three|four|five|\d+)\s+(?:SQS\s+)?(?:work\s+)?queues?\b"
    # Sentences about how it used to be, which the cost history keeps.
    history = ("with three queues", "one queue instead of three")
    texts = {"template.yaml": (ROOT / "template.yaml").read_text(), "README.md": README, "infra/deploy.md": DEPLOY}
    for name, text in texts.items():
        flat = " ".join(text.split())
        for kept in history:
            flat = flat.replace(kept, "")
        for m in re.finditer(number, flat):
            assert m.group(1) in (words[len(work)], str(len(work))), f"{name}: '{m.group(0)}' (the template has {len(work)})"
    assert "one SQS work queue" in " ".join(source["Description"].split())


MEDIA_NAMES = {  # how the README names each container the media function sniffs
    "Jpeg": "JPEG", "Png": "PNG", "Gif": "GIF", "WebP": "WebP",
    "Mp4": {"MP4", "M4A", "MOV"}, "Matroska": {"WebM", "Matroska"}, "Ogg": {"Ogg"}, "Mp3": {"MP3"},
}


def accepted_media():
    """(image formats, audio/video containers) that functions/media/src/pipeline.rs accepts."""
    src = (ROOT / "functions" / "media" / "src" / "pipeline.rs").read_text()
    sniff = re.search(r"pub fn sniff\(.*?\n\}", src, re.S).group(0)
    images = set(re.findall(r"ImageFormat::(\w+)", re.search(r"Ok\(f @ \((.*?)\)\)", sniff).group(1)))
    as_is = re.search(r"pub fn sniff_as_is\(.*?\n\}", src, re.S).group(0)
    containers = set(re.findall(r"Container::(\w+)\)", as_is))
    return images, containers


def test_the_readme_lists_the_media_types_the_code_accepts():
    images, containers = accepted_media()
    assert images and containers
    section = README[README.index("## Media uploads"):]
    section = " ".join(section[: section.index("\n## ", 5)].split())
    listed = re.search(r"accept ([\w ,]+?) images", section).group(1)
    assert set(re.split(r", | and ", listed)) == {MEDIA_NAMES[i] for i in images}, listed
    av = re.search(r"Audio and video \(([^)]*?), recognised from their bytes\)", section).group(1)
    named = {n for part in av.split(", ") for n in part.split("/")}
    assert named == set().union(*(MEDIA_NAMES[c] for c in containers)), av
    for text in (README, DEPLOY):
        flat = " ".join(text.split())
        assert not re.search(r"(audio|video)[^.]*\b(not|never) (accepted|supported|allowed)", flat, re.I)


def test_the_docs_name_only_parameters_and_outputs_the_template_has(source):
    params, outputs = set(source["Parameters"]), set(source["Outputs"])
    both = README + DEPLOY
    # Parameters given on a command line: `--parameter-overrides A=x B=y`, in code or prose.
    for m in re.finditer(r"--parameter-overrides((?:\s*\\?\s*'?[A-Za-z]+=\S*)+)", both):
        for name in re.findall(r"([A-Za-z]+)=", m.group(1)):
            assert name in params, f"--parameter-overrides names {name}, which the template lacks"
    for name in re.findall(r"`(\w+)` parameters?\b", both) + re.findall(r"\bparameters? `(\w+)`", both):
        assert name in params, name
    for name in re.findall(r"`(\w+)` outputs?\b", both) + re.findall(r"\boutputs? \(?`(\w+)`", both):
        assert name in outputs, name
    # And every parameter and output is documented somewhere.
    for name in params:
        assert f"`{name}`" in both or f"{name}=" in both, f"parameter {name} is not in README.md or infra/deploy.md"
    for name in outputs:
        assert f"`{name}`" in both, f"output {name} is not in README.md or infra/deploy.md"
