"""Target 3: ticket creation through the API, ≥ 500 requests/s at concurrency 16 with
p99 ≤ 100 ms (embedded mode: SQLite, the task consumer inside the server process).

    python bench/api_create.py                         # --workers 1 and 2, httpx and wrk
    python bench/api_create.py --workers 1 --generator httpx --rounds 1 --requests 1000
    python bench/api_create.py --database-url postgres://postgres@127.0.0.1:5432/mostrador_bench \
        --redis-url redis://127.0.0.1:6379/0 --workers 2,4
    python bench/api_create.py --workers 1 --profile   # py-spy on the server during a round

For each server set-up: a fresh data folder (and a fresh PostgreSQL database with
--database-url), ``mostrador migrate``, one e-mail inbox, an administrator and a token, then
``mostrador serve --workers N`` in a subprocess. Every request is ``POST /api/v1/conversations``
with the customer's e-mail, name, subject, text and priority of one of the peer harness's
neutral payloads (``payloads.py``), so nearly every request also creates a customer.

Load generators, on the same 2-core machine as the server (their CPU time is printed, and so is
the server's):
* httpx: ``httpx.AsyncClient`` with 16 keep-alive connections and 16 tasks, a fixed number of
  requests per round; latency per request from send to the full answer.
* wrk (when installed): 16 connections on one thread for a fixed time per round, bodies from a
  file through a Lua script; its own latency percentiles. It needs far less CPU than httpx, so
  the server gets more of the machine.
After the rounds the number of conversations in the database is compared with the 201s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import (
    CACHE,
    Server,
    busy_processes,
    command_line,
    create_admin_and_token,
    emit,
    ensure_payloads,
    fresh_postgres,
    fresh_var_dir,
    iter_jsonl,
    latency,
    load_average,
    log,
    machine_facts,
    make_inbox,
    mostrador,
    print_machine,
    product_env,
    py_spy,
    shell,
    summarise_stacks,
    wait_for_quiet,
)

TARGET_RPS, TARGET_P99_MS = 500.0, 100.0
PEER_PRIORITY = {1: 4, 2: 3, 3: 2, 4: 1, 5: 1}  # 1 = critical there, 4 = urgent here
PATH = "/api/v1/conversations"

WRK_SCRIPT = r"""
local bodies = {}
local n = 0
function init(args)
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do bodies[#bodies + 1] = line end
  f:close()
  wrk.method = "POST"
  wrk.path = args[2]
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. args[3]
end
function request()
  n = n + 1
  return wrk.format(nil, nil, nil, bodies[(n - 1) % #bodies + 1])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "non_2xx": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"mean_us": %.1f}\n', summary.requests, summary.duration, e.status, e.connect, e.read,
    e.write, e.timeout, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
end
"""


def body_of(payload: dict, inbox: int) -> dict:
    email = payload["submitter_email"]
    name = " ".join(part.capitalize() for part in email.split("@")[0].rstrip("0123456789")
                    .split("."))
    return {"inbox": inbox, "customer_email": email, "customer_name": name,
            "subject": payload["title"], "text": payload["description"],
            "priority": PEER_PRIORITY[payload["priority"]]}


async def httpx_round(base: str, token: str, bodies: list[dict], concurrency: int,
                      max_seconds: float) -> dict:
    seconds: list[float] = []
    statuses: dict[str, int] = {}
    queue = iter(bodies)
    deadline = time.perf_counter() + max_seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60,
                                 headers={"Authorization": f"Bearer {token}"}) as client:

        async def worker() -> None:
            for body in queue:
                if time.perf_counter() > deadline:
                    return
                start = time.perf_counter()
                try:
                    response = await client.post(PATH, json=body)
                except httpx.HTTPError as exc:
                    key = type(exc).__name__
                    statuses[key] = statuses.get(key, 0) + 1
                    continue
                elapsed = time.perf_counter() - start
                key = str(response.status_code)
                statuses[key] = statuses.get(key, 0) + 1
                if response.status_code == 201:
                    seconds.append(elapsed)
                elif statuses[key] <= 2:
                    log(f"HTTP {key}: {response.text[:300]}")

        cpu = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - start
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = (cpu_after.ru_utime - cpu.ru_utime) + (cpu_after.ru_stime - cpu.ru_stime)
    return {"generator": "httpx", "ok": len(seconds),
            "errors": sum(v for k, v in statuses.items() if k != "201"),
            "statuses": statuses, "seconds": round(wall, 2),
            "req_per_s": round(len(seconds) / wall, 1), "client_cpu_s": round(client_cpu, 2),
            "_lat": seconds, **latency(seconds)}


def wrk_round(base: str, token: str, bodies_file: Path, script: Path, concurrency: int,
              duration: float) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(["wrk", "-t1", f"-c{concurrency}", f"-d{duration:.0f}s", "--timeout",
                          "30s", "-s", str(script), base, "--", str(bodies_file), PATH, token],
                         capture_output=True, text=True, timeout=duration + 120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((x for x in out.stdout.splitlines() if x.startswith("WRK ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out.stdout}\n{out.stderr}")
    w = json.loads(line[4:])
    socket_errors = w["connect"] + w["read"] + w["write"] + w["timeout"]
    ok = w["requests"] - w["non_2xx"] - socket_errors
    wall = w["duration_us"] / 1e6
    return {"generator": "wrk", "ok": ok, "errors": w["non_2xx"] + socket_errors,
            "statuses": {"2xx": ok, "non_2xx": w["non_2xx"], "socket": socket_errors},
            "seconds": round(wall, 2), "req_per_s": round(ok / wall, 1),
            "client_cpu_s": round((after.ru_utime - before.ru_utime)
                                  + (after.ru_stime - before.ru_stime), 2),
            "n": w["requests"], "p50_ms": w["p50_us"] / 1000, "p95_ms": w["p95_us"] / 1000,
            "p99_ms": w["p99_us"] / 1000, "max_ms": w["max_us"] / 1000,
            "mean_ms": round(w["mean_us"] / 1000, 2)}


def summarise(rounds: list[dict]) -> dict:
    """Median round's req/s; latency over every round (httpx) or the median round's (wrk)."""
    med = sorted(rounds, key=lambda r: r["req_per_s"])[len(rounds) // 2]
    if rounds[0]["generator"] == "httpx":
        lat = latency([s for r in rounds for s in r["_lat"]])
    else:
        lat = {k: med[k] for k in ("n", "p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms")}
    return {"req_per_s": med["req_per_s"], "req_per_s_rounds": [r["req_per_s"] for r in rounds],
            "ok": sum(r["ok"] for r in rounds), "errors": sum(r["errors"] for r in rounds),
            "client_cpu_s": round(sum(r["client_cpu_s"] for r in rounds), 2),
            "server_cpu_s": round(sum(r["server_cpu_s"] for r in rounds), 2),
            "wall_s": round(sum(r["seconds"] for r in rounds), 2), **lat}


def run_setup(args, *, workers: int, database_url: str | None, redis_url: str | None,
              payloads: list[dict]) -> dict:
    var_dir = fresh_var_dir("mostrador-bench-create-")
    if database_url:
        fresh_postgres(database_url)
    env = product_env(var_dir, database_url=database_url, redis_url=redis_url)
    mostrador(["migrate", "--noinput", "-v", "0"], env)
    inbox = make_inbox(env)
    token = create_admin_and_token(env)
    bodies = [body_of(p, inbox) for p in payloads]
    bodies_file = var_dir / "bodies.jsonl"
    bodies_file.write_text("".join(json.dumps(b, ensure_ascii=False) + "\n" for b in bodies))
    script = var_dir / "create.lua"
    script.write_text(WRK_SCRIPT)
    backend = "postgresql+redis" if database_url else "sqlite (embedded)"
    label = f"{backend}, --workers {workers}"
    out = {"setup": label, "backend": backend, "workers": workers, "generators": {}}
    generators = ["httpx", "wrk"] if args.generator == "both" else [args.generator]
    if "wrk" in generators and not shutil.which("wrk"):
        log("wrk is not installed (apt-get install wrk): httpx only")
        generators.remove("wrk")
    position = 0
    with Server(env, workers=workers, embedded=True) as server:
        log(f"{label}: warming up with {args.warmup} requests")
        warm = asyncio.run(httpx_round(server.base_url, token, bodies[:args.warmup],
                                       args.concurrency, 60))
        answered = warm["ok"]
        position = args.warmup
        for generator in generators:
            rounds = []
            for n in range(args.rounds):
                load = wait_for_quiet(args.quiet_load, args.quiet_wait) if args.quiet_load \
                    else load_average()
                log(f"{label}: {generator} round {n + 1}/{args.rounds} (load {load:.2f})")
                cpu = server.cpu_seconds()
                if generator == "httpx":
                    chunk = bodies[position:position + args.requests]
                    position += args.requests
                    r = asyncio.run(httpx_round(server.base_url, token, chunk,
                                                args.concurrency, args.max_seconds))
                else:
                    r = wrk_round(server.base_url, token, bodies_file, script,
                                  args.concurrency, args.wrk_seconds)
                r["server_cpu_s"] = round(server.cpu_seconds() - cpu, 2)
                r["load_before"] = load
                print(f"  {label} {generator} round {n + 1}: {r['req_per_s']:.0f} req/s, "
                      f"p50 {r['p50_ms']:.1f} p95 {r['p95_ms']:.1f} p99 {r['p99_ms']:.1f} "
                      f"max {r['max_ms']:.1f} ms, {r['ok']} ok, {r['errors']} errors "
                      f"{r['statuses']}, {r['seconds']} s; CPU s: server "
                      f"{r['server_cpu_s']}, load generator {r['client_cpu_s']}", flush=True)
                rounds.append(r)
                answered += r["ok"]
            out["generators"][generator] = summarise(rounds)
        if args.profile:
            profile = var_dir / "server.stacks"
            log(f"{label}: one more httpx round with py-spy on the server")
            spy = py_spy(server.process.pid, args.profile_seconds, profile)
            time.sleep(1)
            chunk = bodies[position:position + args.requests]
            position += len(chunk)
            answered += asyncio.run(httpx_round(server.base_url, token, chunk,
                                                args.concurrency, args.profile_seconds - 2))["ok"]
            spy.wait(timeout=args.profile_seconds + 60)
            out["profile"] = summarise_stacks(profile) if profile.exists() else (
                spy.stderr.read().decode()[-500:] if spy.stderr else "py-spy failed")
    created = json.loads(shell(
        "import json; from mostrador.conversations.models import Conversation; "
        "print(json.dumps(Conversation.objects.count()))", env).strip().splitlines()[-1])
    out["conversations_in_db"] = created
    out["created_ok_responses"] = answered
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="1,2", help="comma list of `serve --workers`")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--requests", type=int, default=3000, help="per httpx round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--wrk-seconds", type=float, default=8, help="per wrk round")
    parser.add_argument("--max-seconds", type=float, default=120, help="cap per httpx round")
    parser.add_argument("--generator", choices=["httpx", "wrk", "both"], default="both")
    parser.add_argument("--database-url", help="PostgreSQL (with --redis-url: scaled out)")
    parser.add_argument("--redis-url")
    parser.add_argument("--quiet-load", type=float, default=0.0,
                        help="before each round wait for the 1-minute load average to drop "
                             "below this (0: do not wait)")
    parser.add_argument("--quiet-wait", type=float, default=120)
    parser.add_argument("--profile", action="store_true", help="py-spy the server")
    parser.add_argument("--profile-seconds", type=float, default=15)
    args = parser.parse_args(argv)

    facts = machine_facts()
    print_machine(facts)
    workers = [int(w) for w in args.workers.split(",")]
    need = args.warmup + args.rounds * args.requests + (args.requests if args.profile else 0)
    payload_file = ensure_payloads(max(need, 20_000))
    payloads = list(iter_jsonl(payload_file, 0, max(need, 20_000)))
    results = []
    for w in workers:
        results.append(run_setup(args, workers=w, database_url=args.database_url,
                                 redis_url=args.redis_url, payloads=payloads))
    print(f"\n{'set-up':38} {'generator':9} {'req/s':>6} {'p50':>6} {'p95':>6} {'p99':>6} "
          f"{'max':>6} {'errors':>6}  server CPU s / client CPU s / wall s   target")
    for r in results:
        for gen, g in r["generators"].items():
            met = g["req_per_s"] >= TARGET_RPS and g["p99_ms"] <= TARGET_P99_MS and not g["errors"]
            g["target_met"] = met
            print(f"{r['setup']:38} {gen:9} {g['req_per_s']:6.0f} {g['p50_ms']:6.1f} "
                  f"{g['p95_ms']:6.1f} {g['p99_ms']:6.1f} {g['max_ms']:6.1f} {g['errors']:6}  "
                  f"{g['server_cpu_s']:6.1f} / {g['client_cpu_s']:5.1f} / {g['wall_s']:5.1f}   "
                  f"{'met' if met else 'MISSED'}  (rounds {g['req_per_s_rounds']})")
        print(f"{'':38} conversations in the database {r['conversations_in_db']}, "
              f"successful creations answered {r['created_ok_responses']}")
        if r.get("profile"):
            print(f"\nserver profile ({r['setup']}):\n{r['profile']}\n")
    for r in results:
        for g in r["generators"].values():
            g.pop("_lat", None)
    emit({"bench": "api_create", "command": command_line(), "machine": facts,
          "busy_processes_at_end": busy_processes(), "params": vars(args), "results": results,
          "cache": str(CACHE)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
