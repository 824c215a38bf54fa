"""Times executions of one workflow on a Step Functions API endpoint (stepcheck serve, moto,
LocalStack) with boto3, and prints one JSON object.

Standard: StartExecution, then DescribeExecution polled until the execution leaves RUNNING
(the poll interval starts at 1 ms and doubles up to 20 ms, so that short executions are not
charged a long sleep). Express with --sync: StartSyncExecution, which returns at the end.

Transitions are credited as --transitions per execution (the workflow's state entries as AWS
counts them, from stepcheck's Standard history) so that every runner is measured on the same
work; the endpoint's own StateEntered count of the untimed first execution is reported as
`own_state_entered` (Standard only: Express keeps no history).

Bounded: one untimed execution first; if it does not end within --timeout seconds it is
stopped, and its rate is the states it entered before that over --timeout ("partial": true;
{"skipped": ...} when it entered none). If it took --seconds or more, it is the
measurement (one execution, one client: LocalStack and moto on the longer workflows), so that a
slow endpoint costs one execution per cell, not three. Otherwise --concurrency threads start
executions until --seconds have passed; each execution is also bounded by --timeout.
"""
import argparse
import json
import sys
import threading
import time
import uuid

import boto3
from botocore.config import Config


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--definition", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--concurrency", type=int, default=2)
    p.add_argument("--transitions", type=int, required=True)
    p.add_argument("--type", default="STANDARD", choices=["STANDARD", "EXPRESS"])
    p.add_argument("--sync", action="store_true", help="Express via StartSyncExecution")
    a = p.parse_args()

    # inject_host_prefix=False: StartSyncExecution otherwise goes to "sync-<host>", which a
    # loopback endpoint does not answer. Dummy credentials: none of these endpoints checks them.
    client = boto3.client(
        "stepfunctions", endpoint_url=a.endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(inject_host_prefix=False, retries={"max_attempts": 2},
                      read_timeout=max(a.timeout, 5), connect_timeout=5,
                      max_pool_connections=max(10, a.concurrency * 2)))
    definition = open(a.definition).read()
    payload = open(a.input).read()
    arn = client.create_state_machine(
        name="peers-" + uuid.uuid4().hex[:12], definition=definition,
        roleArn="arn:aws:iam::123456789012:role/peers", type=a.type)["stateMachineArn"]

    def run_one():
        """Runs one execution to its end; returns (status, execution ARN or None)."""
        if a.sync:
            r = client.start_sync_execution(stateMachineArn=arn, input=payload)
            return r["status"], None
        # An explicit unique name: moto's generated names collide under load
        # (ExecutionAlreadyExists).
        ex = client.start_execution(stateMachineArn=arn, input=payload,
                                    name=uuid.uuid4().hex)["executionArn"]
        deadline = time.monotonic() + a.timeout
        pause = 0.001
        while True:
            status = client.describe_execution(executionArn=ex)["status"]
            if status != "RUNNING":
                return status, ex
            if time.monotonic() > deadline:
                try:
                    client.stop_execution(executionArn=ex, cause="peers: timeout")
                except Exception:
                    pass
                return "TIMEOUT", ex
            time.sleep(pause)
            pause = min(pause * 2, 0.02)

    def state_entered(ex):
        """The *StateEntered events of an execution's history (all pages)."""
        n, token = 0, None
        while True:
            kw = {"executionArn": ex, "maxResults": 1000}
            if token:
                kw["nextToken"] = token
            h = client.get_execution_history(**kw)
            n += sum(1 for e in h["events"] if e["type"].endswith("StateEntered"))
            token = h.get("nextToken")
            if not token:
                return n

    t = time.monotonic()
    status, ex = run_one()
    first = time.monotonic() - t
    if status == "TIMEOUT" and ex is not None:
        # Too slow to end within --timeout: the states it entered before it was stopped give
        # its rate on the same work (the workflows repeat one pattern), marked as partial.
        try:
            done = state_entered(ex)
        except Exception:
            done = 0
        if done:
            print(json.dumps({
                "executions": 0, "statuses": {"TIMEOUT": 1}, "seconds": first,
                "transitions": done, "transitions_per_second": done / first,
                "latency_ms": None, "first_execution_seconds": first,
                "own_state_entered": None, "concurrency": 1, "partial": True,
                "measured": f"partial execution: {done} of {a.transitions} states entered "
                            f"in {first:.0f} s (timeout {a.timeout:g} s)",
            }))
            return
    if status != "SUCCEEDED":
        print(json.dumps({"skipped": f"first execution ended {status} after {first:.1f} s"
                          + (f" (timeout {a.timeout:g} s)" if status == "TIMEOUT" else "")}))
        return
    # A slow endpoint: an execution that alone takes longer than --seconds is the measurement
    # (one execution, one client) rather than the start of another --concurrency executions
    # that would each take as long again.
    slow = first >= a.seconds
    own = state_entered(ex) if ex is not None else None

    if slow:
        print(json.dumps({
            "executions": 1, "statuses": {status: 1}, "seconds": first,
            "transitions": a.transitions, "transitions_per_second": a.transitions / first,
            "latency_ms": {q: first * 1000 for q in ("p50", "p90", "p99")},
            "first_execution_seconds": first, "own_state_entered": own, "concurrency": 1,
            "measured": "first execution (longer than --seconds)",
        }))
        return

    lock = threading.Lock()
    latencies, statuses = [], {}
    stop_at = time.monotonic() + a.seconds

    def worker():
        while time.monotonic() < stop_at:
            s = time.monotonic()
            try:
                st, _ = run_one()
            except Exception as e:  # counted, not raised: one failure must not hang the run
                st = "ERROR:" + type(e).__name__
            with lock:
                latencies.append((time.monotonic() - s) * 1000)
                statuses[st] = statuses.get(st, 0) + 1
            if st == "TIMEOUT":
                return

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(a.concurrency)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.monotonic() - t0
    ok = statuses.get("SUCCEEDED", 0)
    latencies.sort()
    pct = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    print(json.dumps({
        "executions": sum(statuses.values()),
        "statuses": statuses,
        "seconds": elapsed,
        # Only executions that succeeded are credited with transitions.
        "transitions": ok * a.transitions,
        "transitions_per_second": ok * a.transitions / elapsed,
        "latency_ms": {"p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99)},
        "first_execution_seconds": first,
        "own_state_entered": own,
        "concurrency": a.concurrency,
    }))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:
        print(json.dumps({"skipped": f"{type(e).__name__}: {e}"[:300]}))
        sys.exit(0)
