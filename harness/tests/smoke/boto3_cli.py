"""Smoke test of `stepcheck serve` with the real clients: boto3 and the AWS CLI.

Usage: python3 boto3_cli.py ENDPOINT_URL

Drives the server the way users' tests do (boto3 with endpoint_url, the CLI with
--endpoint-url) and checks what comes back; exits non-zero with a message on the first
difference. Prints "ok" at the end. The credentials are dummies: the server checks none.
"""

import json
import os
import subprocess
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/StepFunctionsRole"


def expect_error(code, fn, **kwargs):
    try:
        fn(**kwargs)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"expected {code}, got {got}: {e}"
        return e.response["Error"]["Message"]
    raise AssertionError(f"expected {code}, the call succeeded")


def main(url):
    os.environ.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION="us-east-1",
    )
    # StartSyncExecution's endpoint has the host prefix "sync-" on AWS; against a local
    # endpoint the prefix must be off, as with Step Functions Local.
    sfn = boto3.client(
        "stepfunctions",
        endpoint_url=url,
        region_name="us-east-1",
        config=Config(inject_host_prefix=False),
    )

    definition = json.dumps(
        {
            "StartAt": "P",
            "States": {
                "P": {"Type": "Pass", "Result": {"n": 1}, "ResultPath": "$.r", "Next": "W"},
                "W": {"Type": "Wait", "Seconds": 60, "End": True},
            },
        }
    )
    created = sfn.create_state_machine(name="smoke", definition=definition, roleArn=ROLE)
    arn = created["stateMachineArn"]
    assert arn == "arn:aws:states:us-east-1:123456789012:stateMachine:smoke", arn
    # botocore parses epoch-seconds timestamps into datetimes.
    assert created["creationDate"].year == 2024, created["creationDate"]

    started = sfn.start_execution(stateMachineArn=arn, name="e1", input='{"a": 1}')
    described = sfn.describe_execution(executionArn=started["executionArn"])
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"a": 1, "r": {"n": 1}}, described["output"]
    waited = (described["stopDate"] - described["startDate"]).total_seconds()
    assert waited == 60, waited

    history = sfn.get_execution_history(executionArn=started["executionArn"])
    types = [e["type"] for e in history["events"]]
    assert types == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "WaitStateEntered",
        "WaitStateExited",
        "ExecutionSucceeded",
    ], types
    # The paginator follows nextToken.
    pages = sfn.get_paginator("get_execution_history").paginate(
        executionArn=started["executionArn"], PaginationConfig={"PageSize": 4}
    )
    assert [len(p["events"]) for p in pages] == [4, 2]

    express = sfn.create_state_machine(
        name="smoke-express",
        definition=json.dumps({"StartAt": "S", "States": {"S": {"Type": "Pass", "End": True}}}),
        roleArn=ROLE,
        type="EXPRESS",
    )
    sync = sfn.start_sync_execution(stateMachineArn=express["stateMachineArn"], input='{"x": 2}')
    assert sync["status"] == "SUCCEEDED", sync
    assert json.loads(sync["output"]) == {"x": 2}, sync

    message = expect_error(
        "StateMachineDoesNotExist",
        sfn.describe_state_machine,
        stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:none",
    )
    assert "none" in message, message
    expect_error(
        "ExecutionAlreadyExists",
        sfn.start_execution,
        stateMachineArn=arn,
        name="e1",
        input='{"other": true}',
    )
    expect_error(
        "InvalidDefinition",
        sfn.create_state_machine,
        name="bad",
        definition='{"StartAt": "A", "States": {}}',
        roleArn=ROLE,
    )

    activity = sfn.create_activity(name="smoke-activity")["activityArn"]
    worker = sfn.create_state_machine(
        name="smoke-worker",
        definition=json.dumps(
            {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": activity, "End": True}}}
        ),
        roleArn=ROLE,
    )
    run = sfn.start_execution(stateMachineArn=worker["stateMachineArn"], input='{"job": 1}')
    task = sfn.get_activity_task(activityArn=activity, workerName="smoke")
    assert json.loads(task["input"]) == {"job": 1}, task
    sfn.send_task_success(taskToken=task["taskToken"], output='{"done": true}')
    assert sfn.describe_execution(executionArn=run["executionArn"])["status"] == "SUCCEEDED"

    sfn.tag_resource(resourceArn=arn, tags=[{"key": "team", "value": "qa"}])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "team", "value": "qa"}]

    validated = sfn.validate_state_machine_definition(definition='{"StartAt": "A", "States": {}}')
    assert validated["result"] == "FAIL", validated

    # The AWS CLI, as a subprocess of the same interpreter (no `aws` on PATH needed).
    cli = [sys.executable, "-m", "awscli", "stepfunctions", "--endpoint-url", url, "--output", "json"]
    listed = json.loads(subprocess.check_output(cli + ["list-state-machines"]))
    names = [m["name"] for m in listed["stateMachines"]]
    assert names == ["smoke", "smoke-express", "smoke-worker"], names
    out = json.loads(
        subprocess.check_output(
            cli + ["start-execution", "--state-machine-arn", arn, "--name", "cli", "--input", '{"c": 3}']
        )
    )
    described = json.loads(
        subprocess.check_output(cli + ["describe-execution", "--execution-arn", out["executionArn"]])
    )
    assert described["status"] == "SUCCEEDED", described
    failed = subprocess.run(
        cli + ["describe-execution", "--execution-arn", arn.replace("stateMachine", "execution") + ":none"],
        capture_output=True,
        text=True,
    )
    assert failed.returncode != 0 and "ExecutionDoesNotExist" in failed.stderr, failed.stderr
    print("ok")


if __name__ == "__main__":
    main(sys.argv[1])
