#!/usr/bin/env python3
"""The benchmark harness: builds the release binaries, starts the server on a loopback port
with a fresh database, seeds realistic data through the public API, drives load with wrk at
1, 16 and 64 connections, and reports every figure as requests/s, p50/p99 latency and as a
ratio to a bare axum "hello" route measured in the same run (these machines are shared, so
absolute numbers drift; ratios do not).

Usage (see README): bench/run [--postgres] [--smoke] [--data-tables] [--core] [--compare old.json] [--out DIR]

A full run ends with the data tables: rows inserted per second in batches of 1,000, and the
latency of filtered reads at 10k, 100k and 1M rows; --data-tables runs only that part.
SQLite results go to RESULTS.md / results.json, PostgreSQL ones to RESULTS-postgresdb.*.
"""

import argparse
import base64
import datetime
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "Bench-Passw0rd"


def log(*parts):
    print("[bench]", *parts, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def target_dir():
    meta = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=ROOT, check=True, capture_output=True)
    return json.loads(meta.stdout)["target_directory"]


def build():
    log("building release binaries")
    subprocess.run(["cargo", "build", "--release", "--bin", "flowgate", "--example", "bench_hello"], cwd=ROOT, check=True)
    base = os.path.join(target_dir(), "release")
    return os.path.join(base, "flowgate"), os.path.join(base, "examples", "bench_hello")


class Client:
    """A small keep-alive HTTP client for seeding (one connection per thread)."""

    def __init__(self, port, key=None, cookie=None):
        self.port, self.key, self.cookie = port, key, cookie
        self.local = threading.local()

    def conn(self):
        if not hasattr(self.local, "c"):
            self.local.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        return self.local.c

    def call(self, method, path, body=None, headers=None):
        h = {"content-type": "application/json"} if body is not None else {}
        if self.key:
            h["x-n8n-api-key"] = self.key
        if self.cookie:
            h["cookie"] = self.cookie
        h.update(headers or {})
        for attempt in range(3):
            try:
                c = self.conn()
                c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
                r = c.getresponse()
                data = r.read()
                return r.status, r.getheader("set-cookie"), (json.loads(data) if data and data[:1] in b"{[" else data)
            except (ConnectionError, http.client.HTTPException):
                self.local.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise


def rss_kib(pid, field="VmRSS"):
    """Resident memory of a process; `field` RssAnon is the part that is its own (heap,
    stacks), without the pages of the binary and libraries it maps (RssFile)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def wait_ready(port, path, deadline=30.0):
    start = time.perf_counter()
    while time.perf_counter() - start < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", path)
            if c.getresponse().status == 200:
                return time.perf_counter() - start
        except OSError:
            pass
        time.sleep(0.002)
    raise RuntimeError(f"not ready on port {port}")


def workflow_body(i):
    """A workflow of realistic size: a trigger and nine nodes with parameters, ~4 KB."""
    nodes = [{"id": f"n{i}-0", "name": "Schedule", "type": "n8n-nodes-base.scheduleTrigger", "typeVersion": 1.2,
              "position": [0, 0], "parameters": {"rule": {"interval": [{"field": "hours", "hoursInterval": 1}]}}}]
    for n in range(1, 10):
        nodes.append({"id": f"n{i}-{n}", "name": f"Step {n}", "type": "n8n-nodes-base.httpRequest", "typeVersion": 4.2,
                      "position": [n * 220, 0],
                      "parameters": {"url": f"https://api.example.com/v1/items/{n}", "method": "POST",
                                     "sendBody": True, "jsonBody": "={{ JSON.stringify($json) }}",
                                     "options": {"timeout": 10000, "retry": {"maxTries": 3}}}})
    connections = {("Schedule" if n == 0 else f"Step {n}"): {"main": [[{"node": f"Step {n + 1}", "type": "main", "index": 0}]]} for n in range(0, 9)}
    return {"name": f"Bench workflow {i}", "nodes": nodes, "connections": connections,
            "settings": {"executionOrder": "v1", "timezone": "Europe/Berlin"}}


def seed_parallel(client, count, make, threads=8):
    ids, errors = [], []
    lock = threading.Lock()

    def work(start):
        for i in range(start, count, threads):
            status, _, body = make(i)
            with lock:
                if status in (200, 201):
                    ids.append(body.get("id") if isinstance(body, dict) else None)
                else:
                    errors.append((status, body))

    ts = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise RuntimeError(f"seeding failed: {errors[:3]}")
    return ids


WRK_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_ERRORS = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")


def to_ms(value, unit):
    # Rounded to the microsecond: a float product such as 831 us * 0.001 is not exact.
    return round(float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 3)


def wrk(port, path, connections, seconds, headers=None, method="GET", body=None):
    script = None
    args = ["wrk", f"-t{min(connections, 2)}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for k, v in (headers or {}).items():
        args += ["-H", f"{k}: {v}"]
    if method != "GET" or body is not None:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write(f"wrk.method = {json.dumps(method)}\n")
        if body is not None:
            script.write(f"wrk.body = {json.dumps(json.dumps(body))}\n")
            script.write('wrk.headers["Content-Type"] = "application/json"\n')
        script.close()
        args += ["-s", script.name]
    args.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    if script:
        os.unlink(script.name)
    lat = {m.group(1): to_ms(m.group(2), m.group(3)) for m in WRK_LATENCY.finditer(out)}
    errors = WRK_ERRORS.search(out)
    return {"rps": float(WRK_RPS.search(out).group(1)), "p50_ms": lat.get("50"), "p99_ms": lat.get("99"),
            "non_2xx": int(errors.group(1)) if errors else 0}


class Server:
    def __init__(self, binary, folder, port, env_extra):
        self.binary, self.folder, self.port, self.env_extra = binary, folder, port, env_extra
        self.proc = None

    def start(self):
        env = {"PATH": os.environ.get("PATH", ""), "N8N_USER_FOLDER": self.folder, "N8N_PORT": str(self.port),
               "N8N_LOG_LEVEL": "warn", "N8N_SECURE_COOKIE": "false", "N8N_ENCRYPTION_KEY": "bench-key",
               "N8N_PUBLIC_API_FAILED_AUTH_LIMIT": "1000000000"}
        env.update(self.env_extra)
        self.proc = subprocess.Popen([self.binary], env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.folder, "server.log"), "a"))
        return wait_ready(self.port, "/healthz/readiness")

    def stop(self):
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
            self.proc = None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--postgres", action="store_true", help="run against PostgreSQL on 127.0.0.1:5432")
    ap.add_argument("--smoke", action="store_true", help="tiny data and 1-second runs (CI: proves the harness works)")
    ap.add_argument("--data-tables", action="store_true", help="measure the data tables (inserts, filtered reads at 10k/100k/1M rows)")
    ap.add_argument("--core", action="store_true", help="only the request scenarios: no deep pagination, data tables or restarts")
    ap.add_argument("--compare", help="a previous results JSON to print ratios against")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench"), help="where RESULTS.md and results.json go")
    args = ap.parse_args()

    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (bench/run installs it)")
    server_bin, hello_bin = build()
    seconds = 1 if args.smoke else 8
    n_small = 50 if args.smoke else 1000
    n_large = 500 if args.smoke else 100_000
    connections = [1, 16, 64]
    folder = tempfile.mkdtemp(prefix="flowgate-bench-")
    env_extra = {}
    database = "sqlite"
    if args.postgres:
        database = "postgresdb"
        name = f"bench_{int(time.time())}"
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"create database {name}"], check=True)
        env_extra = {"DB_TYPE": "postgresdb", "DB_POSTGRESDB_HOST": "127.0.0.1", "DB_POSTGRESDB_DATABASE": name, "DB_POSTGRESDB_POOL_SIZE": "16"}
    # A million rows are far past n8n's 50 MiB default; the limit is not what is measured.
    env_extra["N8N_DATA_TABLES_MAX_SIZE_BYTES"] = str(64 * 1024 ** 3)
    env_extra["N8N_DATA_TABLES_TABLE_MAX_SIZE_BYTES"] = str(64 * 1024 ** 3)

    results = {"date": datetime.date.today().isoformat(), "database": database, "smoke": args.smoke,
               "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "cpu": cpu_model()},
               "scenarios": {}, "figures": {}}

    # Baseline: the bare hello route.
    hello_port = free_port()
    hello = subprocess.Popen([hello_bin], env={"PORT": str(hello_port)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(hello_port, "/hello")
    baseline = {c: wrk(hello_port, "/hello", c, seconds) for c in connections}
    hello.terminate()
    hello.wait()
    results["scenarios"]["hello (baseline)"] = {str(c): r for c, r in baseline.items()}
    log("baseline", {c: round(r["rps"]) for c, r in baseline.items()})

    port = free_port()
    server = Server(server_bin, folder, port, env_extra)
    results["figures"]["ready_first_start_ms"] = round(server.start() * 1000, 1)
    anon = Client(port)
    status, cookie, _ = anon.call("POST", "/rest/owner/setup", {"email": "bench@example.com", "firstName": "Bench", "lastName": "Mark", "password": PASSWORD})
    assert status == 200, status
    session = Client(port, cookie=cookie.split(";")[0])
    _, _, scopes = session.call("GET", "/rest/api-keys/scopes")
    _, _, created = session.call("POST", "/rest/api-keys", {"label": "bench", "scopes": scopes["data"], "expiresAt": None})
    key = created["data"]["rawApiKey"]
    api = Client(port, key=key)
    auth = {"X-N8N-API-KEY": key}

    if args.data_tables:
        bench_data_tables(api, port, auth, baseline, seconds, results, args.smoke)
        server.stop()
        write(results, args, suffix=f"-data-tables-{database}")
        shutil.rmtree(folder, ignore_errors=True)
        return

    log("seeding tags and workflows")
    tag_ids = seed_parallel(api, 100, lambda i: api.call("POST", "/api/v1/tags", {"name": f"tag-{i}"}))
    started = time.perf_counter()
    wf_ids = seed_parallel(api, n_small, lambda i: api.call("POST", "/api/v1/workflows", workflow_body(i)))
    results["figures"]["seed_workflows_per_s"] = round(n_small / (time.perf_counter() - started))
    results["figures"]["idle_rss_mib"] = round(rss_kib(server.proc.pid) / 1024, 1)
    results["figures"]["idle_rss_anon_mib"] = round(rss_kib(server.proc.pid, "RssAnon") / 1024, 1)

    def scenario(name, path, method="GET", body=None, conns=connections):
        runs = {}
        for c in conns:
            r = wrk(port, path, c, seconds, headers=auth, method=method, body=body)
            r["ratio_to_hello"] = round(r["rps"] / baseline[c]["rps"], 3)
            runs[str(c)] = r
        results["scenarios"][name] = runs
        log(name, {c: (round(r["rps"]), r["p99_ms"], r["ratio_to_hello"]) for c, r in runs.items()})

    scenario("GET /api/v1/tags/{id}", f"/api/v1/tags/{tag_ids[0]}")
    scenario("GET /api/v1/workflows/{id}", f"/api/v1/workflows/{wf_ids[0]}")
    scenario("GET /api/v1/workflows?limit=100", "/api/v1/workflows?limit=100&excludePinnedData=true")
    results["figures"]["rss_after_64_connections_mib"] = round(rss_kib(server.proc.pid) / 1024, 1)
    results["figures"]["rss_anon_after_64_connections_mib"] = round(rss_kib(server.proc.pid, "RssAnon") / 1024, 1)
    rejected = wrk(port, "/api/v1/tags", 16, seconds, headers={"X-N8N-API-KEY": "n8n_api_" + "A" * 46})
    rejected["ratio_to_hello"] = round(rejected["rps"] / baseline[16]["rps"], 3)
    results["scenarios"]["invalid key (rejection path, 401)"] = {"16": rejected}
    scenario("PUT /api/v1/workflows/{id}", f"/api/v1/workflows/{wf_ids[1]}", method="PUT", body=workflow_body(1), conns=[1, 16])
    scenario("POST /api/v1/workflows", "/api/v1/workflows", method="POST", body=workflow_body(7), conns=[1, 16])
    if args.core:
        server.stop()
        write(results, args, suffix=f"-core-{database}")
        shutil.rmtree(folder, ignore_errors=True)
        return

    log(f"seeding up to {n_large} workflows for deep pagination")
    have = n_small + sum(int(r["rps"] * seconds) for r in results["scenarios"]["POST /api/v1/workflows"].values())
    if have < n_large:
        started = time.perf_counter()
        seed_parallel(api, n_large - have, lambda i: api.call("POST", "/api/v1/workflows", workflow_body(i)))
        log(f"seeded in {time.perf_counter() - started:.0f} s")
    # Page 1000 as a client reaches it: by following nextCursor.
    page, cursor, target = 1, None, min(1000, n_large // 100)
    while page < target:
        path = "/api/v1/workflows?limit=100&excludePinnedData=true" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        _, _, body = api.call("GET", path)
        cursor = body["nextCursor"]
        page += 1
    first = wrk(port, "/api/v1/workflows?limit=100&excludePinnedData=true", 16, seconds, headers=auth)
    deep = wrk(port, f"/api/v1/workflows?excludePinnedData=true&cursor={urllib.parse.quote(cursor)}", 16, seconds, headers=auth)
    offset_cursor = base64.b64encode(json.dumps({"limit": 100, "offset": (target - 1) * 100}).encode()).decode()
    deep_offset = wrk(port, f"/api/v1/workflows?excludePinnedData=true&cursor={urllib.parse.quote(offset_cursor)}", 16, seconds, headers=auth)
    results["scenarios"][f"pagination page 1 vs page {target}"] = {
        "page 1": first, f"page {target} (nextCursor)": deep, f"page {target} (n8n offset-only cursor)": deep_offset,
        "cost_ratio_nextCursor": round(first["rps"] / deep["rps"], 3),
        "cost_ratio_offset_only": round(first["rps"] / deep_offset["rps"], 3)}
    log("pagination", results["scenarios"][f"pagination page 1 vs page {target}"]["cost_ratio_nextCursor"])

    bench_data_tables(api, port, auth, baseline, seconds, results, args.smoke)

    # Start-up on an existing database.
    server.stop()
    results["figures"]["ready_existing_db_ms"] = round(min(restart(server) for _ in range(3)) * 1000, 1)
    server.start()
    time.sleep(1)
    results["figures"]["idle_rss_after_restart_mib"] = round(rss_kib(server.proc.pid) / 1024, 1)
    server.stop()

    write(results, args, suffix="" if database == "sqlite" else f"-{database}")
    shutil.rmtree(folder, ignore_errors=True)


def bench_data_tables(api, port, auth, baseline, seconds, results, smoke):
    """Rows per second inserted in batches of 1,000 (one client), and filtered reads as the
    table grows: an `eq` on an indexed string column, a range on an indexed number column, and
    a `search` (which reads every row: the honest worst case)."""
    status, _, table = api.call("POST", "/api/v1/data-tables", {"name": "bench", "columns": [
        {"name": "sku", "type": "string"}, {"name": "amount", "type": "number"},
        {"name": "paid", "type": "boolean"}, {"name": "due", "type": "date"}, {"name": "note", "type": "string"}]})
    assert status == 201, (status, table)
    table_id = table["id"]
    checkpoints = [1000, 5000] if smoke else [10_000, 100_000, 1_000_000]
    rows_path = f"/api/v1/data-tables/{table_id}/rows"

    def batch(start):
        return [{"sku": f"SKU-{i:07d}", "amount": (i * 7919) % 100_000 / 100, "paid": i % 3 == 0,
                 "due": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T12:00:00Z", "note": f"order {i} for customer {i % 977}"}
                for i in range(start, start + 1000)]

    have, insert_seconds = 0, 0.0
    for target in checkpoints:
        started = time.perf_counter()
        while have < target:
            body = {"data": batch(have), "returnType": "count"}
            t0 = time.perf_counter()
            status, _, answer = api.call("POST", rows_path, body)
            insert_seconds += time.perf_counter() - t0
            assert status == 200, (status, answer)
            have += 1000
        log(f"data table: {have} rows ({time.perf_counter() - started:.1f} s for this step)")
        results["figures"][f"data_table_insert_rows_per_s_up_to_{target}"] = round(have / insert_seconds)
        probe = have // 2
        reads = {
            "eq on indexed string": {"type": "and", "filters": [{"columnName": "sku", "condition": "eq", "value": f"SKU-{probe:07d}"}]},
            "range on indexed number (limit 100)": {"type": "and", "filters": [{"columnName": "amount", "condition": "gte", "value": 500.0}, {"columnName": "amount", "condition": "lt", "value": 510.0}]},
        }
        runs = {}
        for name, flt in reads.items():
            path = f"{rows_path}?limit=100&filter={urllib.parse.quote(json.dumps(flt))}"
            r = wrk(port, path, 16, seconds, headers=auth)
            r["ratio_to_hello"] = round(r["rps"] / baseline[16]["rps"], 3)
            runs[f"{name} @16"] = r
        search = wrk(port, f"{rows_path}?limit=100&search=customer%20{probe % 977}x", 1, seconds, headers=auth)
        runs["search (reads every row) @1"] = search
        results["scenarios"][f"data table rows at {target}"] = runs
        log(f"data table at {target}", {k: (round(v["rps"]), v["p50_ms"], v["p99_ms"]) for k, v in runs.items()})


def restart(server):
    took = server.start()
    server.stop()
    return took


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def write(results, args, suffix=""):
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, f"results{suffix}.json"), "w") as f:
        json.dump(results, f, indent=1)
    lines = [f"# Benchmark results ({results['date']}, {results['database']}{', smoke' if results['smoke'] else ''})", "",
             f"Machine: {results['machine']['cpus']} CPUs, {results['machine']['cpu']}, {results['machine']['platform']}.", "",
             "Every throughput is also given as a ratio to the bare axum hello route measured in the same run.", "",
             "| scenario | connections | requests/s | p50 ms | p99 ms | ratio to hello | non-2xx |", "|---|---|---|---|---|---|---|"]
    for name, runs in results["scenarios"].items():
        for conns, r in runs.items():
            if not isinstance(r, dict):
                continue
            lines.append(f"| {name} | {conns} | {r['rps']:.0f} | {r['p50_ms']} | {r['p99_ms']} | {r.get('ratio_to_hello', '')} | {r.get('non_2xx', 0)} |")
    lines += ["", "| figure | value |", "|---|---|"]
    for k, v in results["figures"].items():
        lines.append(f"| {k} | {v} |")
    for name, runs in results["scenarios"].items():
        for k, v in runs.items():
            if not isinstance(v, dict):
                lines.append(f"| {name}: {k} | {v} |")
    with open(os.path.join(args.out, f"RESULTS{suffix}.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    if args.compare:
        with open(args.compare) as f:
            old = json.load(f)
        print("\n# Compared with", args.compare)
        for name, runs in results["scenarios"].items():
            for conns, r in runs.items():
                before = old.get("scenarios", {}).get(name, {}).get(conns)
                if isinstance(r, dict) and isinstance(before, dict) and before.get("ratio_to_hello") and r.get("ratio_to_hello"):
                    print(f"{name} @{conns}: ratio {before['ratio_to_hello']} -> {r['ratio_to_hello']} ({r['ratio_to_hello'] / before['ratio_to_hello']:.2f}x)")


if __name__ == "__main__":
    main()
