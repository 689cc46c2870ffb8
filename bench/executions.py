#!/usr/bin/env python3
"""Workflow executions: a published Webhook -> Edit Fields (two expressions) -> "last node"
answer workflow, driven with wrk at 1, 16 and 64 connections, with executions saved and with
saving off, a Webhook -> Code -> Respond to Webhook workflow and a Webhook -> HTTP Request ->
Respond to Webhook workflow whose request goes to a small JSON service on 127.0.0.1 started
here (executions saved); the same workflows on a reference n8n server in the same run when one
is named.

Usage: bench/run --executions [--postgres] [--smoke] [--only saved,unsaved,code,http] [--out DIR]
       bench/run --executions --timers [--postgres] [--smoke]   (see timers.py)

`--only` measures some workflows and keeps the other rows of the last results file. The
workflows made on the reference are named `<--name-prefix>-...` and deleted after the run.

The reference n8n is optional: set N8N_REFERENCE_URL (e.g. http://127.0.0.1:5688) and
N8N_REFERENCE_API_KEY (an API key of that server) to measure it side by side; without them
that column is skipped with a line saying so. Results go to RESULTS-executions[-postgresdb].md
and results-executions[-postgresdb].json.
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

PASSWORD = bench.PASSWORD


def workflow(name, path, save):
    settings = {"executionOrder": "v1"}
    if not save:
        settings["saveDataSuccessExecution"] = "none"
    return {
        "name": name,
        "nodes": [
            {"id": "w", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2, "position": [0, 0],
             "webhookId": f"bench-{path}", "parameters": {"path": path, "responseMode": "lastNode", "options": {}}},
            {"id": "s", "name": "Edit Fields", "type": "n8n-nodes-base.set", "typeVersion": 3.4, "position": [220, 0],
             "parameters": {"assignments": {"assignments": [
                 {"id": "a", "name": "greeting", "value": "=Hello {{ $json.query.name }}", "type": "string"},
                 {"id": "b", "name": "count", "value": "={{ $json.query.n }}", "type": "number"}]}, "options": {}}},
        ],
        "connections": {"Webhook": {"main": [[{"node": "Edit Fields", "type": "main", "index": 0}]]}},
        "settings": settings,
    }


# The Code node's JavaScript: one output item per input item, built from the query.
CODE = ("return $input.all().map(item => ({ json: {\n"
        "  greeting: 'Hello ' + item.json.query.name,\n"
        "  count: Number(item.json.query.n) * 2,\n"
        "  at: $now.toISO(),\n"
        "} }));")


def code_workflow(name, path):
    return {
        "name": name,
        "nodes": [
            {"id": "w", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2, "position": [0, 0],
             "webhookId": f"bench-{path}", "parameters": {"path": path, "responseMode": "responseNode", "options": {}}},
            {"id": "c", "name": "Code", "type": "n8n-nodes-base.code", "typeVersion": 2, "position": [220, 0],
             "parameters": {"jsCode": CODE}},
            {"id": "r", "name": "Respond", "type": "n8n-nodes-base.respondToWebhook", "typeVersion": 1.1,
             "position": [440, 0], "parameters": {"respondWith": "firstIncomingItem", "options": {}}},
        ],
        "connections": {"Webhook": {"main": [[{"node": "Code", "type": "main", "index": 0}]]},
                        "Code": {"main": [[{"node": "Respond", "type": "main", "index": 0}]]}},
        "settings": {"executionOrder": "v1"},
    }


def http_workflow(name, path, target_port):
    return {
        "name": name,
        "nodes": [
            {"id": "w", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2, "position": [0, 0],
             "webhookId": f"bench-{path}", "parameters": {"path": path, "responseMode": "responseNode", "options": {}}},
            {"id": "h", "name": "HTTP Request", "type": "n8n-nodes-base.httpRequest", "typeVersion": 4.2,
             "position": [220, 0], "parameters": {
                 "url": f"=http://127.0.0.1:{target_port}/item?n={{{{ $json.query.n }}}}", "options": {}}},
            {"id": "r", "name": "Respond", "type": "n8n-nodes-base.respondToWebhook", "typeVersion": 1.1,
             "position": [440, 0], "parameters": {"respondWith": "firstIncomingItem", "options": {}}},
        ],
        "connections": {"Webhook": {"main": [[{"node": "HTTP Request", "type": "main", "index": 0}]]},
                        "HTTP Request": {"main": [[{"node": "Respond", "type": "main", "index": 0}]]}},
        "settings": {"executionOrder": "v1"},
    }


# The service the HTTP Request workflow calls: `examples/bench_target.rs`, a single-threaded
# Rust server answering one small JSON body with keep-alive, so that it takes little of the
# machine from the server measured (a Python service was itself the limit on 2 cores). Both
# flowgate and n8n call the same one in the same run.
def build_target():
    subprocess.run(["cargo", "build", "--release", "--example", "bench_target"], cwd=bench.ROOT, check=True)
    return os.path.join(bench.target_dir(), "release", "examples", "bench_target")


def start_target():
    port = bench.free_port()
    proc = subprocess.Popen([build_target()], env={**os.environ, "PORT": str(port)})
    for _ in range(50):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/item", timeout=1).read()
            return port, proc
        except Exception:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the target service did not start")


SCENARIOS = ("saved", "unsaved", "code", "http")


def api(base, key, method, path, body=None):
    request = urllib.request.Request(base + "/api/v1" + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"X-N8N-API-KEY": key, "content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def deploy(base, key, suffix, scenarios, target_port=None, prefix="bench", created=None):
    """Creates and publishes the workflows (their ids go to `created`); answers their webhook
    paths by scenario."""
    paths = {}
    for scenario in scenarios:
        path = f"{prefix}-exec-{scenario}-{suffix}"
        if scenario == "code":
            body = code_workflow(path, path)
        elif scenario == "http":
            body = http_workflow(path, path, target_port)
        else:
            body = workflow(path, path, scenario == "saved")
        made = api(base, key, "POST", "/workflows", body)
        if created is not None:
            created.append(made["id"])
        api(base, key, "POST", f"/workflows/{made['id']}/activate")
        paths[scenario] = f"/webhook/{path}?name=Ada&n=3"
    return paths


def measure(port, paths, connections, seconds, label):
    out = {}
    for scenario, path in paths.items():
        for c in connections:
            key = f"{scenario}@{c}"
            r = bench.wrk(port, path, c, seconds)
            bench.log(f"{label} {key}: {r['rps']:.0f} exec/s p50 {r['p50_ms']} ms p99 {r['p99_ms']} ms non-2xx {r['non_2xx']}")
            out[key] = r
    return out


def report(results, database):
    kept = results.get("kept_from")
    kept_note = ""
    if kept:
        machine = (kept.get("machine") or {}).get("cpu", "?")
        kept_note = (f" The {', '.join('`%s`' % k for k in kept.get('scenarios', []))} rows are kept from an earlier "
                     f"run ({kept.get('date')}, {machine}); only the others were measured in this one.")
    lines = [f"# Workflow executions ({database}, {results['date']})", "",
             f"Machine: {results['machine']['cpus']} CPUs, {results['machine']['cpu']}. Workflows: `saved` / `unsaved`: "
             "Webhook -> Edit Fields (two expressions) -> answer of the last node, executions saved or not; `code`: "
             "Webhook -> Code (JavaScript, one item per input item) -> Respond to Webhook, executions saved; `http`: "
             "Webhook -> HTTP Request (GET of a small JSON service on 127.0.0.1, keep-alive, `examples/bench_target.rs`, the same for both servers) -> Respond to Webhook, "
             "executions saved. "
             "wrk on the same machine." + kept_note, "",
             "| scenario | flowgate exec/s | p50 ms | p99 ms | n8n exec/s | n8n p99 ms | ratio |", "|---|---|---|---|---|---|---|"]
    for scenario, r in results["flowgate"].items():
        other = (results["n8n"] or {}).get(scenario)
        ratio = f"{r['rps'] / other['rps']:.0f}x" if other and other["rps"] else "-"
        lines.append(f"| {scenario} | {r['rps']:.0f} | {r['p50_ms']} | {r['p99_ms']} | "
                     f"{other['rps']:.0f} | {other['p99_ms']} | {ratio} |" if other else
                     f"| {scenario} | {r['rps']:.0f} | {r['p50_ms']} | {r['p99_ms']} | - | - | - |")
    lines += ["", f"flowgate RSS after the run: {results['flowgate_rss_mib_after']} MiB."]
    if results.get("load_average"):
        lines += ["", f"Load average (1 / 5 / 15 min): {' / '.join(map(str, results['load_average']))} at the start, "
                      f"{' / '.join(map(str, results.get('load_average_after') or []))} at the end."]
    if results.get("note"):
        lines += ["", results["note"]]
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--postgres", action="store_true")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--out", default=os.path.join(bench.ROOT, "bench"))
    ap.add_argument("--note", help="a remark on this run, written under the table")
    ap.add_argument("--timers", action="store_true",
                    help="waiting executions' memory and schedule jitter instead (see timers.py)")
    ap.add_argument("--name-prefix", default="bench", help="the start of the names of workflows made on the reference")
    ap.add_argument("--only", default=",".join(SCENARIOS),
                    help="comma-separated scenarios to measure: " + ", ".join(SCENARIOS))
    args = ap.parse_args()
    scenarios = [s for s in args.only.split(",") if s]
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        ap.error(f"unknown scenarios: {', '.join(unknown)}")
    server_bin, _ = bench.build()
    seconds = 1 if args.smoke else 10
    connections = [1, 16, 64]
    folder = tempfile.mkdtemp(prefix="flowgate-bench-exec-")
    env_extra = {}
    database = "sqlite"
    if args.postgres:
        database = "postgresdb"
        name = f"bench_exec_{int(time.time())}"
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"create database {name}"], check=True)
        env_extra = {"DB_TYPE": "postgresdb", "DB_POSTGRESDB_HOST": "127.0.0.1", "DB_POSTGRESDB_DATABASE": name,
                     "DB_POSTGRESDB_POOL_SIZE": "16"}
    port = bench.free_port()
    server = bench.Server(server_bin, folder, port, env_extra)
    subprocess.run([server_bin, "owner", "setup", "--email", "bench@example.com", "--first-name", "Bench",
                    "--last-name", "Mark"], env={**os.environ, "N8N_USER_FOLDER": folder, "N8N_ENCRYPTION_KEY": "bench-key",
                                                 "N8N_OWNER_PASSWORD": PASSWORD, **env_extra}, check=True, capture_output=True)
    key = subprocess.run([server_bin, "api-key", "create", "--label", "bench", "--scopes", "all"],
                         env={**os.environ, "N8N_USER_FOLDER": folder, "N8N_ENCRYPTION_KEY": "bench-key", **env_extra},
                         check=True, capture_output=True, text=True).stdout.strip()
    server.start()
    if args.timers:
        import timers
        timers.run(args, server, port, key, database, args.out)
        return
    target_port, target = start_target() if "http" in scenarios else (None, None)
    results = {"date": datetime.date.today().isoformat(), "database": database, "smoke": args.smoke,
               "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "cpu": bench.cpu_model()},
               "flowgate": {}, "n8n": None, "note": args.note,
               "load_average": [round(x, 2) for x in os.getloadavg()]}
    base = f"http://127.0.0.1:{port}"
    paths = deploy(base, key, "fg", scenarios, target_port)
    results["flowgate"] = measure(port, paths, connections, seconds, "flowgate")
    results["flowgate_rss_mib_after"] = round(bench.rss_kib(server.proc.pid) / 1024, 1)
    server.stop()

    reference = os.environ.get("N8N_REFERENCE_URL")
    reference_key = os.environ.get("N8N_REFERENCE_API_KEY")
    if reference and reference_key:
        n8n_port = int(reference.rsplit(":", 1)[1].strip("/"))
        created = []
        try:
            n8n_paths = deploy(reference.rstrip("/"), reference_key, f"{int(time.time())}", scenarios, target_port,
                               args.name_prefix, created)
            results["n8n"] = measure(n8n_port, n8n_paths, [c for c in connections if c <= 16], seconds, "n8n")
        except Exception as e:  # the reference is a courtesy: its failure must not hide ours
            bench.log(f"the reference n8n could not be measured: {e}")
        for workflow_id in created:
            try:
                api(reference.rstrip("/"), reference_key, "DELETE", f"/workflows/{workflow_id}")
            except Exception as e:
                bench.log(f"could not delete workflow {workflow_id} on the reference: {e}")
    else:
        bench.log("no reference n8n: set N8N_REFERENCE_URL and N8N_REFERENCE_API_KEY to measure it side by side")
    if target:
        target.kill()
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]

    suffix = "" if database == "sqlite" else "-postgresdb"
    os.makedirs(args.out, exist_ok=True)
    results_file = os.path.join(args.out, f"results-executions{suffix}.json")
    if set(scenarios) != set(SCENARIOS) and os.path.exists(results_file):
        # Keep the rows of the scenarios not measured this time (their own date stays in the
        # file as `kept_from`).
        with open(results_file) as f:
            previous = json.load(f)
        for side in ("flowgate", "n8n"):
            kept = {k: v for k, v in (previous.get(side) or {}).items() if k.split("@")[0] not in scenarios}
            if kept:
                results[side] = {**kept, **(results[side] or {})}
        kept_scenarios = sorted({k.split("@")[0] for k in previous.get("flowgate", {})} - set(scenarios))
        earlier = previous.get("kept_from") or {}
        # The kept rows' own run: the earlier one when they were all kept already.
        source = earlier if set(kept_scenarios) <= set(earlier.get("scenarios", [])) else previous
        results["kept_from"] = {"date": source.get("date"), "machine": source.get("machine"),
                                "scenarios": kept_scenarios}
    with open(results_file, "w") as f:
        json.dump(results, f, indent=1)
    lines = report(results, database)
    with open(os.path.join(args.out, f"RESULTS-executions{suffix}.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
