#!/usr/bin/env python3
"""The workflow list side by side with a reference n8n, measured in the same run.

Both servers hold at least 100 small workflows; wrk drives `GET /api/v1/workflows?limit=10`
with an all-scopes API key (2 threads, 32 connections, 10 s; 1 s with --smoke) on each, one
after the other, and the ratio of their requests/s is reported.

Usage: bench/run --compare-n8n [--postgres] [--smoke] [--out DIR]

The reference n8n is optional: set N8N_REFERENCE_URL (e.g. http://127.0.0.1:5688) and
N8N_REFERENCE_API_KEY (an API key of that server with the workflow scopes). Without them, or
when it cannot be reached, its column is skipped with a line saying so. Workflows the
benchmark adds to the reference are named "bench-list-<n>" and reused by the next run.
Results go to RESULTS-compare-n8n[-postgresdb].md and results-compare-n8n[-postgresdb].json.
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
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

PATH = "/api/v1/workflows?limit=10"
WORKFLOWS = 100
CONNECTIONS = 32


def small_workflow(i):
    """Two nodes: what a freshly started workflow looks like."""
    return {"name": f"bench-list-{i}",
            "nodes": [{"id": f"t{i}", "name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
                       "position": [0, 0], "parameters": {}},
                      {"id": f"s{i}", "name": "Edit Fields", "type": "n8n-nodes-base.set", "typeVersion": 3.4,
                       "position": [220, 0], "parameters": {"assignments": {"assignments": [
                           {"id": f"a{i}", "name": "n", "value": i, "type": "number"}]}, "options": {}}}],
            "connections": {"Start": {"main": [[{"node": "Edit Fields", "type": "main", "index": 0}]]}},
            "settings": {"executionOrder": "v1"}}


def api(base, key, method, path, body=None):
    request = urllib.request.Request(base + "/api/v1" + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"X-N8N-API-KEY": key, "content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def ensure_workflows(base, key):
    """Adds small workflows until the server holds at least WORKFLOWS of them."""
    names, cursor = set(), None
    while True:
        page = api(base, key, "GET", "/workflows?limit=250&excludePinnedData=true" + (f"&cursor={cursor}" if cursor else ""))
        names.update(w["name"] for w in page["data"])
        cursor = page.get("nextCursor")
        if not cursor or len(names) >= WORKFLOWS:
            break
    missing = [i for i in range(WORKFLOWS) if f"bench-list-{i}" not in names][: max(0, WORKFLOWS - len(names))]
    for i in missing:
        api(base, key, "POST", "/workflows", small_workflow(i))
    return len(names) + len(missing)


def measure(port, key, seconds, label):
    r = bench.wrk(port, PATH, CONNECTIONS, seconds, headers={"X-N8N-API-KEY": key})
    bench.log(f"{label}: {r['rps']:.0f} req/s p50 {r['p50_ms']} ms p99 {r['p99_ms']} ms non-2xx {r['non_2xx']}")
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--postgres", action="store_true")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--out", default=os.path.join(bench.ROOT, "bench"))
    args = ap.parse_args()
    server_bin, _ = bench.build()
    seconds = 1 if args.smoke else 10
    folder = tempfile.mkdtemp(prefix="flowgate-bench-n8n-")
    env_extra, database = {}, "sqlite"
    if args.postgres:
        database = "postgresdb"
        name = f"bench_n8n_{int(time.time())}"
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"create database {name}"], check=True)
        env_extra = {"DB_TYPE": "postgresdb", "DB_POSTGRESDB_HOST": "127.0.0.1", "DB_POSTGRESDB_DATABASE": name,
                     "DB_POSTGRESDB_POOL_SIZE": "16"}
    env = {**os.environ, "N8N_USER_FOLDER": folder, "N8N_ENCRYPTION_KEY": "bench-key", **env_extra}
    subprocess.run([server_bin, "owner", "setup", "--email", "bench@example.com", "--first-name", "Bench",
                    "--last-name", "Mark"], env={**env, "N8N_OWNER_PASSWORD": bench.PASSWORD}, check=True,
                   capture_output=True)
    key = subprocess.run([server_bin, "api-key", "create", "--label", "bench", "--scopes", "all"], env=env,
                         check=True, capture_output=True, text=True).stdout.strip()
    port = bench.free_port()
    server = bench.Server(server_bin, folder, port, env_extra)
    server.start()
    results = {"date": datetime.date.today().isoformat(), "database": database, "smoke": args.smoke,
               "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "cpu": bench.cpu_model()},
               "scenario": f"GET {PATH}, wrk -t2 -c{CONNECTIONS} -d{seconds}s, {WORKFLOWS} small workflows stored",
               "flowgate": None, "n8n": None, "n8n_skipped": None}
    try:
        ensure_workflows(f"http://127.0.0.1:{port}", key)
        results["flowgate"] = measure(port, key, seconds, "flowgate")
    finally:
        server.stop()

    reference = os.environ.get("N8N_REFERENCE_URL")
    reference_key = os.environ.get("N8N_REFERENCE_API_KEY")
    if reference and reference_key:
        try:
            ensure_workflows(reference.rstrip("/"), reference_key)
            n8n_port = int(reference.rstrip("/").rsplit(":", 1)[1])
            results["n8n"] = measure(n8n_port, reference_key, seconds, "n8n")
        except Exception as e:  # the reference is a courtesy: its failure must not hide ours
            results["n8n_skipped"] = f"the reference n8n could not be measured: {e}"
    else:
        results["n8n_skipped"] = "no reference n8n: set N8N_REFERENCE_URL and N8N_REFERENCE_API_KEY to measure it"
    if results["n8n_skipped"]:
        bench.log(results["n8n_skipped"])

    suffix = "" if database == "sqlite" else "-postgresdb"
    os.makedirs(args.out, exist_ok=True)
    fg, other = results["flowgate"], results["n8n"]
    lines = [f"# The workflow list beside the reference n8n ({database}, {results['date']})", "",
             f"Machine: {results['machine']['cpus']} CPUs, {results['machine']['cpu']}. {results['scenario']}; "
             "both servers measured in the same run, one after the other, with wrk on the same machine.", "",
             "| server | requests/s | p50 ms | p99 ms | non-2xx |", "|---|---|---|---|---|",
             f"| flowgate | {fg['rps']:.0f} | {fg['p50_ms']} | {fg['p99_ms']} | {fg['non_2xx']} |"]
    if other:
        lines.append(f"| n8n | {other['rps']:.0f} | {other['p50_ms']} | {other['p99_ms']} | {other['non_2xx']} |")
        ratio = fg["rps"] / other["rps"] if other["rps"] else 0
        results["ratio"] = round(ratio, 1)
        lines += ["", f"flowgate answers {ratio:.0f}x the requests/s of n8n."]
    else:
        lines += ["", f"n8n column skipped: {results['n8n_skipped']}."]
    with open(os.path.join(args.out, f"results-compare-n8n{suffix}.json"), "w") as f:
        json.dump(results, f, indent=1)
    with open(os.path.join(args.out, f"RESULTS-compare-n8n{suffix}.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
