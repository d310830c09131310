"""Load test of the web application: N concurrent clients on loopback for a fixed time.

Starts `livermet serve` (SQLite in a temporary data folder, or --database-url), creates
cases from the bundled demo case, logs every client in (its own session) and runs a
realistic mix for --duration seconds:

    40% case read (GET /api/cases/{pk})        20% worklist (GET /api/cases)
    20% assessment (GET /api/cases/{pk}/assessment; cached per case version)
     8% edit (PUT /api/cases/{pk}: change a lab; a stale version gets 409, then one retry)
     7% assessment right after an edit (uncached: the library recomputes)
     5% case editor page (GET /cases/{pk}, HTML)

Prints throughput, p50/p95/p99 latency per kind and errors. Goal (issue 6): p95 under
100 ms for case reads and assessments, no errors. The load generator shares the machine's
CPUs with the server, so the figures are a floor for a dedicated server.

    python bench/service.py [--clients 50] [--duration 20] [--think-ms 0,500]

Two modes: closed loop (--think-ms 0, the default: every client fires its next request the
moment the last is answered, so 50 clients keep the server saturated and latency is queueing
time, about clients / throughput) and think time (--think-ms 500: users pause between clicks;
latency is then mostly service time). The output says which mode ran, the machine's cores,
the CPU seconds the server (with its child processes) and the load generator each used, and
the server's CPU time per request: on a machine shared with other work, that figure moves far
less than the latencies, so compare changes by it first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

PASSWORD = "bench-password-123"
DEMO = Path(__file__).resolve().parents[1] / "src" / "livermet" / "data" / "demo_case.json"
MIX = [("read", 40), ("worklist", 20), ("assessment", 20), ("edit", 8), ("assessment_after_edit", 7),
       ("editor_page", 5)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, database_url: str | None, workers: int = 1) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = dict(os.environ, LIVERMET_ADMIN_PASSWORD=PASSWORD)
    if database_url:
        env["LIVERMET_DATABASE_URL"] = database_url
    proc = subprocess.Popen([sys.executable, "-m", "livermet.cli.main", "serve", "--port", str(port),
                             "--data-dir", str(data_dir), "--no-jobs", "--workers", str(workers)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
        if proc.poll() is not None:
            raise SystemExit("the server did not start")
    raise SystemExit("the server did not answer in 20 s")


async def login(client: httpx.AsyncClient) -> str:
    r = await client.post("/api/login", json={"username": "admin", "password": PASSWORD})
    r.raise_for_status()
    return r.json()["csrf_token"]


async def setup_cases(url: str, n: int, prefix: str = "bench") -> list[int]:
    demo = json.loads(DEMO.read_text())
    async with httpx.AsyncClient(base_url=url, timeout=30) as c:
        csrf = await login(c)
        pks = []
        for i in range(n):
            d = dict(demo, id=f"{prefix}-{i:04d}", meeting_date=f"2026-12-{1 + i % 28:02d}")
            d["patient"] = dict(demo["patient"], name=f"Bench Patient {i}")
            r = await c.post("/api/cases", json={"data": d}, headers={"X-CSRF-Token": csrf})
            r.raise_for_status()
            pks.append(r.json()["pk"])
    return pks


async def client_loop(url: str, pks: list[int], begin: asyncio.Event, stop: list, think_ms: float,
                      seed: int, lat: dict, errors: dict, counts: dict, login_lock: asyncio.Semaphore) -> None:
    rng = random.Random(seed)
    kinds = [k for k, w in MIX for _ in range(w)]
    # keep-alive shorter than the server's (uvicorn closes idle connections after 5 s): a client
    # idle that long (while the others log in) opens a new connection instead of racing the
    # server's close, which otherwise surfaces as a rare RemoteProtocolError / ReadError
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=4.0)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as c:
        async with login_lock:  # log-ins (argon2, deliberately slow) happen before the clock starts
            csrf = await login(c)
        counts["logged_in"] += 1
        h = {"X-CSRF-Token": csrf}
        await begin.wait()
        if think_ms:  # users do not all click at the same instant
            await asyncio.sleep(rng.uniform(0, 2 * think_ms) / 1000)
        while time.perf_counter() < stop[0]:
            kind = rng.choice(kinds)
            pk = rng.choice(pks)
            t0 = time.perf_counter()
            try:
                if kind == "read":
                    r = await c.get(f"/api/cases/{pk}")
                elif kind == "worklist":
                    r = await c.get("/api/cases", params={"meeting_date": f"2026-12-{rng.randint(1, 28):02d}"})
                elif kind == "assessment":
                    r = await c.get(f"/api/cases/{pk}/assessment")
                elif kind == "editor_page":
                    r = await c.get(f"/cases/{pk}")
                elif kind in ("edit", "assessment_after_edit"):
                    case = (await c.get(f"/api/cases/{pk}")).json()
                    data = case["data"]
                    data["labs"]["cea"] = round(rng.uniform(1, 200), 1)
                    t0 = time.perf_counter()
                    r = await c.put(f"/api/cases/{pk}", json={"version": case["version"], "data": data}, headers=h)
                    if r.status_code == 409:  # someone else saved first: reload and apply again
                        counts["conflict_409"] += 1
                        case = (await c.get(f"/api/cases/{pk}")).json()
                        data = case["data"]
                        data["labs"]["cea"] = round(rng.uniform(1, 200), 1)
                        r = await c.put(f"/api/cases/{pk}", json={"version": case["version"], "data": data},
                                        headers=h)
                    if kind == "assessment_after_edit" and r.status_code < 400:
                        t0 = time.perf_counter()
                        r = await c.get(f"/api/cases/{pk}/assessment")
                ok = r.status_code < 400 or (kind in ("edit", "assessment_after_edit") and r.status_code == 409)
            except httpx.HTTPError as exc:
                ok, r = False, None
                errors[f"{kind}: {type(exc).__name__}"] += 1
            dt = (time.perf_counter() - t0) * 1000
            lat[kind].append(dt)
            if not ok and r is not None:
                errors[f"{kind}: HTTP {r.status_code}"] += 1
            if think_ms:
                await asyncio.sleep(rng.expovariate(1.0 / think_ms) / 1000)


def _proc_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of a process and its descendants still running (Linux
    /proc): with --workers, uvicorn's workers and their assessment processes."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = {pid}
    try:
        parent_of = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    fields = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                parent_of[int(d)] = int(fields[1])
        grown = True
        while grown:
            new = {p for p, parent in parent_of.items() if parent in pids} - pids
            pids |= new
            grown = bool(new)
        for p in pids:
            try:
                fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / tick
    except OSError:  # not Linux
        return float("nan")
    return total


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


async def run(url: str, clients: int, duration: float, n_cases: int, think_ms: float,
              server_pid: int | None = None, prefix: str = "bench") -> dict:
    pks = await setup_cases(url, n_cases, prefix)
    lat: dict = defaultdict(list)
    errors: dict = defaultdict(int)
    counts: dict = defaultdict(int)
    begin = asyncio.Event()
    stop = [float("inf")]
    login_lock = asyncio.Semaphore(2)
    tasks = [asyncio.create_task(client_loop(url, pks, begin, stop, think_ms, i, lat, errors, counts, login_lock))
             for i in range(clients)]
    while counts["logged_in"] < clients:
        if any(t.done() for t in tasks):  # a client failed to log in
            await asyncio.gather(*tasks)
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    cpu0 = (os.times(), _proc_cpu_seconds(server_pid) if server_pid else float("nan"))
    start = time.perf_counter()
    stop[0] = start + duration
    begin.set()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    t1 = os.times()
    server_cpu = (_proc_cpu_seconds(server_pid) if server_pid else float("nan")) - cpu0[1]
    client_cpu = (t1.user + t1.system) - (cpu0[0].user + cpu0[0].system)
    return {"lat": lat, "errors": errors, "counts": counts, "elapsed": elapsed,
            "server_cpu": server_cpu, "client_cpu": client_cpu}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=20.0, help="seconds of load (per mode)")
    ap.add_argument("--cases", type=int, default=40)
    ap.add_argument("--think-ms", default="0",
                    help="mean pause between a client's requests; 0: closed loop, the hardest case. "
                         "Several, comma-separated (e.g. 0,500), run one after the other on the same server")
    ap.add_argument("--workers", type=int, default=1, help="server processes")
    ap.add_argument("--url", help="an already running server (admin password: " + PASSWORD + ")")
    ap.add_argument("--database-url", help="PostgreSQL URL for the started server (default SQLite)")
    args = ap.parse_args()
    try:
        modes = [float(x) for x in str(args.think_ms).split(",") if x.strip()]
    except ValueError:
        raise SystemExit(f"--think-ms={args.think_ms!r}: expected milliseconds, e.g. 0 or 0,500") from None

    proc = None
    tmp = tempfile.TemporaryDirectory()
    url = args.url
    if url is None:
        proc, url = start_server(Path(tmp.name) / "data", args.database_url, args.workers)
    results = []
    try:
        for i, think in enumerate(modes):
            results.append((think, asyncio.run(run(url, args.clients, args.duration, args.cases, think,
                                                   proc.pid if proc is not None else None,
                                                   prefix=f"bench{i}-{os.getpid()}"))))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        tmp.cleanup()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"livermet web service: {args.clients} clients, {args.duration:.0f} s per mode, "
          f"{'PostgreSQL' if args.database_url else 'SQLite'}, {args.workers} server process(es)")
    print(f"machine: {cores} CPU cores usable ({os.cpu_count()} in the machine), shared by the server and this "
          f"load generator; load average at the end: {os.getloadavg()[0]:.1f}")
    for think, res in results:
        report(think, res, cores)


def report(think_ms: float, res: dict, cores: int) -> None:
    lat, errors = res["lat"], res["errors"]
    total = sum(len(v) for v in lat.values())
    mode = ("closed loop: each client sends its next request as soon as the last one is answered"
            if not think_ms else
            f"think time: each client pauses {think_ms:.0f} ms on average (exponential) between requests")
    print(f"\nmode: {mode}")
    print(f"CPU used during the run: server {res['server_cpu']:.1f} s, load generator {res['client_cpu']:.1f} s "
          f"(of {res['elapsed'] * cores:.0f} core-seconds)")
    print(f"throughput: {total / res['elapsed']:.0f} requests/s ({total} requests); server CPU per request: "
          f"{res['server_cpu'] / max(total, 1) * 1000:.2f} ms (its processes, the assessment process included; "
          f"not the database server's)")
    print(f"{'kind':<24}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'mean':>8}")
    for kind, _w in MIX:
        v = lat.get(kind, [])
        if v:
            print(f"{kind:<24}{len(v):>7}{pct(v, 50):>9.1f}{pct(v, 95):>9.1f}{pct(v, 99):>9.1f}"
                  f"{statistics.fmean(v):>8.1f}")
    allv = [x for v in lat.values() for x in v]
    print(f"{'all':<24}{len(allv):>7}{pct(allv, 50):>9.1f}{pct(allv, 95):>9.1f}{pct(allv, 99):>9.1f}"
          f"{statistics.fmean(allv):>8.1f}")
    print(f"edit conflicts (409, retried once): {res['counts'].get('conflict_409', 0)}")
    print("errors: " + (", ".join(f"{k} x{v}" for k, v in errors.items()) if errors else "none"))
    goal = max(pct(lat.get("read", []), 95), pct(lat.get("assessment", []), 95))
    print(f"goal p95 < 100 ms for case reads and assessments ({'closed loop' if not think_ms else 'think time'}): "
          f"{'met' if goal < 100 and not errors else 'NOT met'} (worst p95 {goal:.1f} ms)")


if __name__ == "__main__":
    main()
