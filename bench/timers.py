#!/usr/bin/env python3
"""Executions that wait and executions that a clock starts, beside a reference n8n when one is
named (see executions.py).

- Waiting: a published Webhook (answers at once) -> Wait workflow is called N times (1,000 by
  default); half the Wait nodes wait for their resume webhook, half for a time an hour away.
  The figure is the server's resident memory before and once all N executions are `waiting`,
  then the time to resume the webhook-waiting ones through their resume URLs.
- Jitter: a published Schedule Trigger (every second) -> Edit Fields workflow runs for S
  seconds (30 by default); each execution's start is compared with the whole second it was
  due at. The figure is how late the ticks fire (median, p99, max), and how many seconds had
  no tick.

Usage: bench/run --executions --timers [--postgres] [--smoke]

Memory of a reference n8n is read from /proc when its process can be found by its port (it
runs on this machine); otherwise that column says `-`. Results go to
RESULTS-executions-timers[-postgresdb].md and results-executions-timers[-postgresdb].json.
"""

import concurrent.futures
import datetime
import json
import os
import subprocess
import time
import urllib.request

import bench
import executions

WAITING = 1000


def wait_workflow(name, path):
    """Webhook -> Wait: by the `kind` query parameter the run waits for its resume webhook or
    for an hour (an If node picks the Wait)."""
    return {
        "name": name,
        "nodes": [
            {"id": "w", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2, "position": [0, 0],
             "webhookId": f"bench-{path}", "parameters": {"path": path, "responseMode": "onReceived", "options": {}}},
            {"id": "i", "name": "If", "type": "n8n-nodes-base.if", "typeVersion": 2, "position": [220, 0],
             "parameters": {"conditions": {
                 "options": {"caseSensitive": True, "leftValue": "", "typeValidation": "strict"},
                 "conditions": [{"id": "c", "leftValue": "={{ $json.query.kind }}", "rightValue": "webhook",
                                 "operator": {"type": "string", "operation": "equals"}}],
                 "combinator": "and"}, "options": {}}},
            {"id": "h", "name": "Wait for webhook", "type": "n8n-nodes-base.wait", "typeVersion": 1.1,
             "position": [440, -100], "webhookId": f"bench-{path}-resume",
             "parameters": {"resume": "webhook", "options": {}}},
            {"id": "t", "name": "Wait an hour", "type": "n8n-nodes-base.wait", "typeVersion": 1.1,
             "position": [440, 100], "webhookId": f"bench-{path}-time",
             "parameters": {"resume": "timeInterval", "amount": 1, "unit": "hours"}},
        ],
        "connections": {"Webhook": {"main": [[{"node": "If", "type": "main", "index": 0}]]},
                        "If": {"main": [[{"node": "Wait for webhook", "type": "main", "index": 0}],
                                        [{"node": "Wait an hour", "type": "main", "index": 0}]]}},
        "settings": {"executionOrder": "v1"},
    }


def schedule_workflow(name):
    return {
        "name": name,
        "nodes": [
            {"id": "s", "name": "Schedule Trigger", "type": "n8n-nodes-base.scheduleTrigger", "typeVersion": 1.2,
             "position": [0, 0], "parameters": {"rule": {"interval": [{"field": "seconds", "secondsInterval": 1}]}}},
            {"id": "e", "name": "Edit Fields", "type": "n8n-nodes-base.set", "typeVersion": 3.4, "position": [220, 0],
             "parameters": {"assignments": {"assignments": [
                 {"id": "a", "name": "at", "value": "={{ $now.toISO() }}", "type": "string"}]}, "options": {}}},
        ],
        "connections": {"Schedule Trigger": {"main": [[{"node": "Edit Fields", "type": "main", "index": 0}]]}},
        "settings": {"executionOrder": "v1"},
    }


def get(base, path, timeout=30):
    with urllib.request.urlopen(base + path, timeout=timeout) as response:
        return response.status


def executions_of(base, key, workflow_id, status=None):
    """Every execution of a workflow (the public API's pages)."""
    out, cursor = [], None
    while True:
        query = f"/executions?workflowId={workflow_id}&limit=250"
        if status:
            query += f"&status={status}"
        if cursor:
            query += f"&cursor={cursor}"
        page = executions.api(base, key, "GET", query)
        out += page.get("data", [])
        cursor = page.get("nextCursor")
        if not cursor:
            return out


def pid_on_port(port):
    """The process listening on `port` on this machine, if it can be seen."""
    try:
        listing = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    except OSError:
        return None
    marker = "pid="
    if marker not in listing:
        return None
    return int(listing.split(marker, 1)[1].split(",", 1)[0])


def rss_mib(pid):
    if not pid:
        return None
    try:
        return round(bench.rss_kib(pid) / 1024, 1)
    except OSError:
        return None


def measure_waiting(base, key, pid, count, label):
    name = f"{label}-waiting-{int(time.time())}"
    created = executions.api(base, key, "POST", "/workflows", wait_workflow(name, name))
    executions.api(base, key, "POST", f"/workflows/{created['id']}/activate")
    before = rss_mib(pid)
    started = time.time()

    def call(i):
        kind = "webhook" if i % 2 == 0 else "time"
        return get(base, f"/webhook/{name}?kind={kind}&i={i}")

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(call, range(count)))
    # The webhook answers before the run reaches its Wait: wait until every run waits.
    deadline = time.time() + 120
    waiting = []
    while time.time() < deadline:
        waiting = executions_of(base, key, created["id"], "waiting")
        if len(waiting) >= count:
            break
        time.sleep(1)
    settled = time.time() - started
    time.sleep(2)
    after = rss_mib(pid)
    bench.log(f"{label}: {len(waiting)} waiting of {count} calls ({sum(s == 200 for s in statuses)} answered 200) "
              f"in {settled:.1f} s; RSS {before} -> {after} MiB")
    # Resume the webhook-waiting half (the others would run in an hour).
    ids = sorted(int(e["id"]) for e in waiting)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        details = list(pool.map(lambda i: executions.api(base, key, "GET", f"/executions/{i}?includeData=true"), ids))
    hooks = [d["id"] for d in details if (d.get("data") or {}).get("resultData", {}).get("lastNodeExecuted") == "Wait for webhook"]
    resumed_at = time.time()
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        resumed = list(pool.map(lambda i: get(base, f"/webhook-waiting/{i}"), hooks))
    resume_s = time.time() - resumed_at
    bench.log(f"{label}: resumed {sum(s == 200 for s in resumed)} of {len(hooks)} in {resume_s:.2f} s")
    executions.api(base, key, "POST", f"/workflows/{created['id']}/deactivate")
    return created["id"], {"calls": count, "waiting": len(waiting), "settle_s": round(settled, 1),
                           "rss_before_mib": before, "rss_waiting_mib": after,
                           "resumed": sum(s == 200 for s in resumed), "resume_s": round(resume_s, 2),
                           "resumed_per_s": round(len(hooks) / resume_s) if resume_s else None}


def lateness(executions_list):
    """How late each tick started past its whole second, in ms, and the seconds without one."""
    starts = sorted(datetime.datetime.fromisoformat(e["startedAt"].replace("Z", "+00:00"))
                    for e in executions_list if e.get("startedAt"))
    late, seconds = [], set()
    for s in starts:
        due = s.replace(microsecond=0)
        late.append((s - due).total_seconds() * 1000)
        seconds.add(due)
    missed = 0
    if seconds:
        first, last = min(seconds), max(seconds)
        missed = int((last - first).total_seconds()) + 1 - len(seconds)
    late.sort()
    pick = (lambda q: round(late[min(len(late) - 1, int(q * len(late)))], 1)) if late else (lambda q: None)
    return {"ticks": len(late), "missed_seconds": missed, "p50_ms": pick(0.5), "p99_ms": pick(0.99),
            "max_ms": round(late[-1], 1) if late else None}


def measure_jitter(base, key, seconds, label):
    name = f"{label}-schedule-{int(time.time())}"
    created = executions.api(base, key, "POST", "/workflows", schedule_workflow(name))
    executions.api(base, key, "POST", f"/workflows/{created['id']}/activate")
    time.sleep(seconds + 1)
    executions.api(base, key, "POST", f"/workflows/{created['id']}/deactivate")
    time.sleep(1)
    found = executions_of(base, key, created["id"])
    # The first tick may come from a second that was already under way at publication.
    result = lateness(found[:-1] if len(found) > 1 else found)
    bench.log(f"{label} schedule: {result}")
    return created["id"], result


def cleanup(base, key, workflow_ids):
    for workflow_id in workflow_ids:
        try:
            executions.api(base, key, "DELETE", f"/workflows/{workflow_id}")
        except Exception as e:  # cleanup must not hide the figures
            bench.log(f"could not delete workflow {workflow_id}: {e}")


def run(args, server, port, key, database, out):
    count = 50 if args.smoke else WAITING
    seconds = 5 if args.smoke else 30
    base = f"http://127.0.0.1:{port}"
    load = os.getloadavg()
    results = {"date": datetime.date.today().isoformat(), "database": database, "smoke": args.smoke,
               "machine": {"cpus": os.cpu_count(), "cpu": bench.cpu_model()}, "load_average": [round(x, 2) for x in load],
               "flowgate": {}, "n8n": None}
    _, results["flowgate"]["waiting"] = measure_waiting(base, key, server.proc.pid, count, "flowgate")
    _, results["flowgate"]["jitter"] = measure_jitter(base, key, seconds, "flowgate")
    server.stop()
    reference = os.environ.get("N8N_REFERENCE_URL")
    reference_key = os.environ.get("N8N_REFERENCE_API_KEY")
    if reference and reference_key:
        reference = reference.rstrip("/")
        created = []
        try:
            pid = pid_on_port(int(reference.rsplit(":", 1)[1]))
            results["n8n"] = {}
            wid, results["n8n"]["waiting"] = measure_waiting(reference, reference_key, pid, count, args.name_prefix)
            created.append(wid)
            wid, results["n8n"]["jitter"] = measure_jitter(reference, reference_key, seconds, args.name_prefix)
            created.append(wid)
        except Exception as e:  # the reference is a courtesy: its failure must not hide ours
            bench.log(f"the reference n8n could not be measured: {e}")
        cleanup(reference, reference_key, created)
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    suffix = "" if database == "sqlite" else "-postgresdb"
    with open(os.path.join(out, f"results-executions-timers{suffix}.json"), "w") as f:
        json.dump(results, f, indent=1)
    lines = report(results)
    with open(os.path.join(out, f"RESULTS-executions-timers{suffix}.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def report(results):
    fg, ref = results["flowgate"], results["n8n"] or {}

    def cell(side, scenario, field):
        value = (side.get(scenario) or {}).get(field)
        return "-" if value is None else str(value)

    lines = [f"# Waiting executions and schedules ({results['database']}, {results['date']})", "",
             f"Machine: {results['machine']['cpus']} CPUs, {results['machine']['cpu']}; load average "
             f"{' / '.join(map(str, results['load_average']))} at the start, "
             f"{' / '.join(map(str, results['load_average_after']))} at the end.", "",
             f"## {fg['waiting']['calls']} waiting executions", "",
             "Webhook -> If -> Wait: half wait for their resume webhook, half for an hour. Resident memory of "
             "the server process before the calls and once every execution waits; then the webhook-waiting "
             "half is resumed through the resume URLs (16 at a time).", "",
             "| | flowgate | n8n |", "|---|---|---|"]
    for field, title in (("waiting", "executions waiting"), ("rss_before_mib", "RSS before, MiB"),
                         ("rss_waiting_mib", "RSS with them waiting, MiB"), ("settle_s", "calls until all wait, s"),
                         ("resumed", "resumed by webhook"), ("resumed_per_s", "resumed per second")):
        lines.append(f"| {title} | {cell(fg, 'waiting', field)} | {cell(ref, 'waiting', field)} |")
    lines += ["", "## Schedule jitter", "",
              "A Schedule Trigger every second -> Edit Fields, published for the run; how late each execution "
              "started after the whole second it was due at.", "",
              "| | flowgate | n8n |", "|---|---|---|"]
    for field, title in (("ticks", "ticks"), ("missed_seconds", "seconds without a tick"), ("p50_ms", "late p50, ms"),
                         ("p99_ms", "late p99, ms"), ("max_ms", "late max, ms")):
        lines.append(f"| {title} | {cell(fg, 'jitter', field)} | {cell(ref, 'jitter', field)} |")
    return lines
