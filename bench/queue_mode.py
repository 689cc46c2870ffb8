#!/usr/bin/env python3
"""Queue mode on PostgreSQL: executions per second with 1, 2 and 4 workers, claim latency, and
the reference n8n in its default (regular) mode in the same run.

One receiving instance (EXECUTIONS_MODE=queue, N8N_CONCURRENCY_PRODUCTION_LIMIT=0: it runs
nothing itself) and 1, 2, then 4 `flowgate worker` processes (10 executions at once each) on one
PostgreSQL database. Per worker count:

- drain: N webhook calls answered at once (onReceived) are queued while no worker runs; then
  the workers start and the rate is N over the time from the first claim to the last end
  (from the executions' own started/stopped times);
- end to end: wrk at 16 connections on Webhook -> Edit Fields -> Respond to Webhook: the
  receiving instance queues, a worker claims and runs, the Respond node's answer comes back
  through the database to the caller; one request is one execution;
- claim latency: how long the end-to-end executions waited queued (claim time minus queue
  time, from their rows), p50 and p99.

The same Webhook -> Edit Fields -> Respond workflow on the reference n8n (N8N_REFERENCE_URL and
N8N_REFERENCE_API_KEY, e.g. http://127.0.0.1:5688) gives the ratio; without them that column is
skipped with a line saying so.

Usage: bench/run --queue [--smoke] [--workers 1,2,4] [--out DIR] [--binary PATH]
(PostgreSQL at 127.0.0.1:5432, user postgres; --binary skips the release build and measures
that binary, whose build the results then name)
Results go to RESULTS-queue.md and results-queue.json.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import executions  # noqa: E402


def workflow(name, path, mode):
    return {
        "name": name,
        "nodes": [
            {"id": "w", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2, "position": [0, 0],
             "webhookId": f"bench-{path}", "parameters": {"path": path, "httpMethod": "POST", "responseMode": mode, "options": {}}},
            {"id": "s", "name": "Edit Fields", "type": "n8n-nodes-base.set", "typeVersion": 3.4, "position": [220, 0],
             "parameters": {"assignments": {"assignments": [
                 {"id": "a", "name": "greeting", "value": "=Hello {{ $json.body.name }}", "type": "string"},
                 {"id": "b", "name": "count", "value": "={{ $json.body.n }}", "type": "number"}]}, "options": {}}},
        ],
        "connections": {"Webhook": {"main": [[{"node": "Edit Fields", "type": "main", "index": 0}]]}},
        "settings": {"executionOrder": "v1"},
    }


def respond_workflow(name, path):
    """Webhook -> Edit Fields -> Respond to Webhook (the first item as JSON)."""
    body = workflow(name, path, "responseNode")
    body["nodes"].append({"id": "r", "name": "Respond", "type": "n8n-nodes-base.respondToWebhook", "typeVersion": 1.1,
                          "position": [440, 0], "parameters": {"respondWith": "firstIncomingItem", "options": {}}})
    body["connections"]["Edit Fields"] = {"main": [[{"node": "Respond", "type": "main", "index": 0}]]}
    return body


def reference(path_suffix, seconds, connections):
    """The Respond workflow on the reference n8n, measured with wrk; None without one."""
    base = os.environ.get("N8N_REFERENCE_URL")
    key = os.environ.get("N8N_REFERENCE_API_KEY")
    if not (base and key):
        bench.log("no reference n8n: set N8N_REFERENCE_URL and N8N_REFERENCE_API_KEY to measure it in the same run")
        return None
    base = base.rstrip("/")
    try:
        path = f"bench-queue-respond-{path_suffix}"
        created = executions.api(base, key, "POST", "/workflows", respond_workflow(path, path))
        executions.api(base, key, "POST", f"/workflows/{created['id']}/activate")
        port = int(base.rsplit(":", 1)[1])
        result = bench.wrk(port, f"/webhook/{path}", connections, seconds, method="POST", body={"name": "y", "n": 1})
        executions.api(base, key, "POST", f"/workflows/{created['id']}/deactivate")
        bench.log(f"n8n (regular mode): {result['rps']:.0f}/s p50 {result['p50_ms']} ms p99 {result['p99_ms']} ms")
        return result
    except Exception as e:  # the reference is a courtesy: its failure must not hide ours
        bench.log(f"the reference n8n could not be measured: {e}")
        return None


def psql(database, sql):
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-tAc", sql],
                         check=True, capture_output=True, text=True).stdout.strip()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--out", default=os.path.join(bench.ROOT, "bench"))
    ap.add_argument("--binary")
    ap.add_argument("--workers", default="1,2,4", help="comma-separated worker counts")
    args = ap.parse_args()
    counts = [int(w) for w in args.workers.split(",") if w]
    server_bin = args.binary or bench.build()[0]
    build = "release build"
    if args.binary and "/release/" not in args.binary:
        build = f"binary {args.binary.rsplit('/target/', 1)[-1]} (not a release build)"
    calls = 200 if args.smoke else 3000
    seconds = 2 if args.smoke else 10
    database = f"bench_queue_{int(time.time())}"
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"create database {database}"], check=True)
    common = {"DB_TYPE": "postgresdb", "DB_POSTGRESDB_HOST": "127.0.0.1", "DB_POSTGRESDB_DATABASE": database,
              "DB_POSTGRESDB_POOL_SIZE": "16", "EXECUTIONS_MODE": "queue", "N8N_EXECUTIONS_QUEUE_LIMIT": "0"}
    folder = tempfile.mkdtemp(prefix="flowgate-bench-queue-")
    cli_env = {**os.environ, "N8N_USER_FOLDER": folder, "N8N_ENCRYPTION_KEY": "bench-key", **common}
    subprocess.run([server_bin, "owner", "setup", "--email", "bench@example.com", "--first-name", "Bench",
                    "--last-name", "Mark"], env={**cli_env, "N8N_OWNER_PASSWORD": bench.PASSWORD},
                   check=True, capture_output=True)
    key = subprocess.run([server_bin, "api-key", "create", "--label", "bench", "--scopes", "all"], env=cli_env,
                         check=True, capture_output=True, text=True).stdout.strip()
    port = bench.free_port()
    receiver = bench.Server(server_bin, folder, port, {**common, "N8N_CONCURRENCY_PRODUCTION_LIMIT": "0"})
    receiver.start()
    client = bench.Client(port, key=key)
    ids = {}
    for path, body in (("queued", workflow("queued", "queued", "onReceived")), ("respond", respond_workflow("respond", "respond"))):
        status, _, created = client.call("POST", "/api/v1/workflows", body)
        assert status == 200, created
        status, _, _ = client.call("POST", f"/api/v1/workflows/{created['id']}/activate")
        assert status == 200
        ids[path] = created["id"]

    def start_workers(count):
        procs = []
        for i in range(count):
            env = {"PATH": os.environ.get("PATH", ""), "N8N_USER_FOLDER": folder, "N8N_ENCRYPTION_KEY": "bench-key",
                   "N8N_LOG_LEVEL": "warn", "N8N_CONCURRENCY_PRODUCTION_LIMIT": "10", **common}
            procs.append(subprocess.Popen([server_bin, "worker"], env=env, stdout=subprocess.DEVNULL,
                                          stderr=open(os.path.join(folder, f"worker{i}.log"), "a")))
        return procs

    def stop(procs):
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)

    results = {"date": datetime.date.today().isoformat(), "database": "postgresdb", "smoke": args.smoke,
               "calls": calls, "build": build, "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                                           "cpu": bench.cpu_model()}, "workers": {}}
    for workers in counts:
        since = int(psql(database, "select coalesce(max(id), 0) from executions"))
        started = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            codes = list(pool.map(lambda n: client.call("POST", "/webhook/queued", {"name": "x", "n": n})[0],
                                  range(calls)))
        enqueue_s = time.perf_counter() - started
        assert all(c == 200 for c in codes), set(codes)
        procs = start_workers(workers)
        deadline = time.time() + 300
        while int(psql(database, "select count(*) from executions where status in ('new', 'running')")) > 0:
            assert time.time() < deadline, "the queue did not drain"
            time.sleep(0.2)
        span = float(psql(database, "select extract(epoch from max(stopped_at::timestamptz) - min(started_at::timestamptz)) "
                                    f"from executions where id > {since}"))
        done = int(psql(database, f"select count(*) from executions where id > {since} and status = 'success'"))
        assert done == calls, f"{done} of {calls} succeeded"
        bench.log(f"{workers} worker(s): drained {calls} in {span:.2f}s = {calls / span:.0f}/s")
        since = int(psql(database, "select coalesce(max(id), 0) from executions"))
        e2e = bench.wrk(port, "/webhook/respond", 16, seconds, method="POST", body={"name": "y", "n": 1})
        bench.log(f"{workers} worker(s): end to end {e2e['rps']:.0f}/s p50 {e2e['p50_ms']} ms p99 {e2e['p99_ms']} ms")
        # Calls cut off when wrk stopped may have left queued executions: run them before the next count.
        while int(psql(database, "select count(*) from executions where status in ('new', 'running')")) > 0:
            assert time.time() < deadline + 300, "the queue did not drain"
            time.sleep(0.2)
        stop(procs)
        waited = "extract(epoch from started_at::timestamptz - created_at::timestamptz) * 1000"
        claim = psql(database, f"select percentile_cont(0.5) within group (order by {waited}), "
                               f"percentile_cont(0.99) within group (order by {waited}) "
                               f"from executions where id > {since} and started_at is not null").split("|")
        claim_ms = {"p50": round(float(claim[0]), 1), "p99": round(float(claim[1]), 1)}
        bench.log(f"{workers} worker(s): claim latency p50 {claim_ms['p50']} ms p99 {claim_ms['p99']} ms")
        results["workers"][str(workers)] = {"drain_per_s": round(calls / span, 1), "drain_s": round(span, 2),
                                            "enqueue_per_s": round(calls / enqueue_s, 1), "end_to_end_16": e2e,
                                            "claim_ms": claim_ms}
    receiver.stop()
    results["n8n"] = reference(int(time.time()), seconds, 16)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results-queue.json"), "w") as f:
        json.dump(results, f, indent=1)
    lines = ["# Queue mode on PostgreSQL", "",
             f"{results['date']}, {results['machine']['cpu']} ({results['machine']['cpus']} CPUs), {build}; "
             "PostgreSQL, receiver, workers and load generator on the same machine. Workflow: Webhook -> Edit Fields "
             "(two expressions), executions saved.", "",
             f"Drain: {calls} calls queued (acknowledged) with no worker running, then the workers start; rate = calls / "
             "(last end - first claim). End to end: wrk, 16 connections, Webhook -> Edit Fields -> Respond to Webhook, "
             "the answer relayed through the database; one request is one execution. Claim latency: queue time to "
             "claim time of the end-to-end executions.", "",
             "| workers (10 slots each) | queued at (calls/s) | drain (executions/s) | end to end (executions/s) | p50 ms | "
             "p99 ms | claim p50 ms | claim p99 ms | vs n8n |",
             "|---|---|---|---|---|---|---|---|---|"]
    n8n = results.get("n8n")
    for workers, r in results["workers"].items():
        e = r["end_to_end_16"]
        ratio = f"{e['rps'] / n8n['rps']:.1f}x" if n8n and n8n["rps"] else "-"
        lines.append(f"| {workers} | {r['enqueue_per_s']:.0f} | {r['drain_per_s']:.0f} | {e['rps']:.0f} | {e['p50_ms']} | "
                     f"{e['p99_ms']} | {r['claim_ms']['p50']} | {r['claim_ms']['p99']} | {ratio} |")
    if n8n:
        lines += ["", f"Reference n8n (regular mode, its default), same workflow, same run, wrk 16 connections: "
                      f"{n8n['rps']:.0f} executions/s, p50 {n8n['p50_ms']} ms, p99 {n8n['p99_ms']} ms."]
    else:
        lines += ["", "Reference n8n: not measured in this run."]
    with open(os.path.join(args.out, "RESULTS-queue.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"drop database {database}"], check=False)


if __name__ == "__main__":
    main()
