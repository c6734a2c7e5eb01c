#!/usr/bin/env python3
"""Creates the table, bucket and queues that template.yaml defines, in moto server (or any AWS
endpoint named by AWS_ENDPOINT_URL), reading their settings from the template itself so the
local stack cannot drift from the deployed one. Idempotent.

Names: the table is $PETREL_TABLE (default petrel), the bucket $PETREL_BUCKET (petrel-media);
a queue `XQueue` becomes `petrel-x`, its `XDeadLetterQueue` `petrel-x-dlq` (as petrel::config and
petrel::store::dead_letter_name expect).
"""
import json
import os
import re
import sys

import boto3
import yaml


class CfnLoader(yaml.SafeLoader):
    pass


def _tag(loader, tag_suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {tag_suffix: value}


CfnLoader.add_multi_constructor("!", _tag)


def queue_name(logical_id):
    m = re.fullmatch(r"(\w+?)(DeadLetter)?Queue", logical_id)
    if not m:
        sys.exit(f"provision: cannot name queue {logical_id}")
    base = "petrel-" + re.sub(r"(?<!^)(?=[A-Z])", "-", m.group(1)).lower()
    return base + ("-dlq" if m.group(2) else "")


def main():
    template_path = sys.argv[1] if len(sys.argv) > 1 else "template.yaml"
    with open(template_path) as f:
        template = yaml.load(f, Loader=CfnLoader)
    resources = template["Resources"]
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    region = os.environ.get("AWS_REGION", "us-east-1")
    kw = {"endpoint_url": endpoint, "region_name": region}
    ddb, s3, sqs = (boto3.client(s, **kw) for s in ("dynamodb", "s3", "sqs"))

    for rid, res in resources.items():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::DynamoDB::Table":
            name = os.environ.get("PETREL_TABLE", "petrel")
            try:
                ddb.create_table(
                    TableName=name,
                    AttributeDefinitions=props["AttributeDefinitions"],
                    KeySchema=props["KeySchema"],
                    BillingMode=props["BillingMode"],
                )
            except ddb.exceptions.ResourceInUseException:
                pass
            ttl = props.get("TimeToLiveSpecification")
            if ttl:
                try:
                    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
                except Exception as e:  # already enabled
                    if "already enabled" not in str(e).lower() and "TimeToLive is already" not in str(e):
                        raise
            print(f"table {name}")
        elif res["Type"] == "AWS::S3::Bucket":
            name = os.environ.get("PETREL_BUCKET", "petrel-media")
            try:
                s3.create_bucket(Bucket=name)
            except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
                pass
            if props.get("VersioningConfiguration"):
                s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=props["VersioningConfiguration"])
            print(f"bucket {name}")

    # Dead-letter queues first, so the work queues can point at their ARNs.
    arns = {}
    queues = [(rid, res) for rid, res in resources.items() if res["Type"] == "AWS::SQS::Queue"]
    queues.sort(key=lambda q: "RedrivePolicy" in q[1].get("Properties", {}))
    for rid, res in queues:
        props = res.get("Properties", {})
        attrs = {}
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds"):
            if key in props:
                attrs[key] = str(props[key])
        policy = props.get("RedrivePolicy")
        if policy:
            target = policy["deadLetterTargetArn"]["GetAtt"]
            target_id = target[0] if isinstance(target, list) else target.split(".")[0]
            attrs["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": arns[target_id], "maxReceiveCount": str(policy["maxReceiveCount"])}
            )
        name = queue_name(rid)
        try:
            url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        except sqs.exceptions.QueueNameExists:
            # Made by an earlier run with other settings (the template changed): bring it up to date.
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            sqs.set_queue_attributes(QueueUrl=url, Attributes=attrs)
        arns[rid] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        print(f"queue {name}")


if __name__ == "__main__":
    main()
