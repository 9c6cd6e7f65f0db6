"""Target 2: the API conversation list with filters, first page and deep keyset pages, must
answer with p95 ≤ 50 ms at 1,000,000 conversations (embedded mode: SQLite).

    python bench/api_list.py                       # 1,000,000 conversations (built once)
    python bench/api_list.py --conversations 100000 --repeat 50
    python bench/api_list.py --rebuild             # build the database again

The database is built once by the bench-only bulk loader (bench/bulkload.py, after
``mostrador migrate``) and cached under $MOSTRADOR_BENCH_CACHE (default /tmp/mostrador-bench);
later runs reuse it. Then ``mostrador serve --no-embedded`` runs on it in a subprocess, an
administrator's token is made with ``mostrador createadmin`` and ``mostrador token create``,
and each case is timed with sequential httpx requests over one keep-alive connection after a
warm-up: client-side wall time, from sending the request to the last byte of the answer.

Cases: no filter; status=open; assignee+status=open; team; inbox+status=new; a common tag and a
rare one; q with a common word and with a rare one; updated_since (recent) in the default order
and in order=updated; deep pages (following next_cursor 200 pages down, the pages at depth
≥ 100 timed) in the default order and in order=created. The database queries each case makes
and SQLite's plan for its main query are read once per case through Django's test client in a
``mostrador shell`` (not timed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import (
    BENCH,
    CACHE,
    PYTHON,
    REPO,
    Server,
    command_line,
    create_admin_and_token,
    emit,
    latency,
    log,
    machine_facts,
    mostrador,
    print_machine,
    product_env,
    shell,
)

TARGET_P95_MS = 50.0
BUILD_FILE = "bench-build.json"


def schema_signature() -> list[str]:
    """The migrations in the tree: a cached database made before one was added is stale."""
    return sorted(str(p.relative_to(REPO)) for p in (REPO / "mostrador").rglob("migrations/0*.py"))


def build_database(var_dir: Path, conversations: int, *, rebuild: bool, analyze: bool) -> dict:
    """The cached database with ``conversations`` conversations, built when missing or when the
    migrations changed since it was built."""
    marker = var_dir / BUILD_FILE
    if marker.exists() and not rebuild:
        build = json.loads(marker.read_text())
        if build.get("migrations") == schema_signature():
            return build
        log("the migrations changed since the cached database was built: building it again")
    shutil.rmtree(var_dir, ignore_errors=True)
    var_dir.mkdir(parents=True)
    env = product_env(var_dir)
    log(f"building a database with {conversations:,} conversations in {var_dir}")
    started = time.perf_counter()
    mostrador(["migrate", "--noinput", "-v", "0"], env)
    import subprocess

    args = [PYTHON, str(BENCH / "bulkload.py"), "--conversations", str(conversations)]
    if analyze:
        args.append("--analyze")
    result = subprocess.run(args, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True,
                            check=True)
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    token = create_admin_and_token(env)
    build = {"conversations": conversations, "load": loaded, "token": token,
             "build_seconds": round(time.perf_counter() - started, 1),
             "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
             "db_bytes": (var_dir / "mostrador.sqlite3").stat().st_size,
             "command": f"{PYTHON} bench/bulkload.py --conversations {conversations}",
             "migrations": schema_signature()}
    marker.write_text(json.dumps(build))
    log(f"built in {build['build_seconds']} s ({build['db_bytes'] / 2**30:.2f} GiB)")
    return build


def cases(load: dict, built_at: str) -> list[tuple[str, dict]]:
    """(name, query parameters) of the first-page cases."""
    words = load["words"]
    rare = next((w for w, n in words.items() if w.isdigit() and n > 0), "zqxwv")
    tags = list(load["tags"])
    # Six hours before the data was made: the last activities are spread up to that moment.
    recent = (dt.datetime.fromisoformat(built_at) - dt.timedelta(hours=6)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    return [
        ("no filter", {}),
        ("status=open", {"status": "open"}),
        ("status=new,open (waiting for us)", {"status": "new,open"}),
        ("assignee+status=open", {"assignee": load["agents"][0], "status": "open"}),
        ("team", {"team": load["teams"][0]}),
        ("inbox+status=new", {"inbox": load["inboxes"][0], "status": "new"}),
        (f"tag={tags[0]} (common)", {"tag": tags[0]}),
        (f"tag={tags[-1]} (rare)", {"tag": tags[-1]}),
        ("q=pedido (common)", {"q": "pedido"}),
        (f"q={rare} (rare)", {"q": rare}),
        ("updated_since=6h", {"updated_since": recent}),
        ("updated_since=6h&order=updated", {"updated_since": recent, "order": "updated"}),
    ]


def time_case(client: httpx.Client, params: dict, warmup: int, repeat: int,
              max_seconds: float) -> dict:
    """Sequential GETs of one first page; a slow case stops after ``max_seconds`` (warm-up
    included) so that the run stays bounded, and reports how many it timed."""
    path = "/api/v1/conversations" + ("?" + urlencode(params) if params else "")
    deadline = time.perf_counter() + max_seconds
    for _ in range(warmup):
        client.get(path).raise_for_status()
        if time.perf_counter() > deadline - max_seconds / 2:
            break
    seconds, errors, rows = [], 0, None
    for _ in range(repeat):
        if time.perf_counter() > deadline and len(seconds) >= 5:
            break
        start = time.perf_counter()
        response = client.get(path)
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            errors += 1
            continue
        seconds.append(elapsed)
        if rows is None:
            body = response.json()
            rows = len(body["items"])
    return {"path": path, "rows": rows, "errors": errors, "capped": len(seconds) < repeat,
            **latency(seconds)}


def time_deep(client: httpx.Client, params: dict, pages: int, timed_from: int) -> dict:
    """Follow next_cursor ``pages`` pages down; time the pages at depth ≥ ``timed_from``."""
    seconds, cursor, depth, errors = [], None, 0, 0
    while depth < pages:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        path = "/api/v1/conversations?" + urlencode(query) if query else "/api/v1/conversations"
        start = time.perf_counter()
        response = client.get(path)
        elapsed = time.perf_counter() - start
        depth += 1
        if response.status_code != 200:
            errors += 1
            break
        if depth >= timed_from:
            seconds.append(elapsed)
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    return {"path": "/api/v1/conversations?" + urlencode(params) + " (cursor)",
            "pages_walked": depth, "errors": errors, **latency(seconds)}


QUERY_PROBE = r"""
import json
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
paths, token = json.loads(ARGS)
client = Client(HTTP_AUTHORIZATION="Bearer " + token)
client.get(paths[0])
out = []
for path in paths:
    with CaptureQueriesContext(connection) as ctx:
        status = client.get(path).status_code
    main = max((q["sql"] for q in ctx.captured_queries
                if 'FROM "conversations_conversation"' in q["sql"]), key=len, default="")
    plan = []
    if main:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + main)
            plan = [row[-1] for row in cursor.fetchall()]
    out.append({"path": path, "status": status, "queries": len(ctx.captured_queries),
                "plan": plan})
print("PROBE " + json.dumps(out))
"""


def probe_queries(env: dict, paths: list[str], token: str) -> list[dict]:
    code = f"ARGS = {json.dumps(json.dumps([paths, token]))}\n" + QUERY_PROBE
    out = shell(code, env)
    line = next(x for x in out.splitlines() if x.startswith("PROBE "))
    return json.loads(line[6:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--analyze", action="store_true",
                        help="build with ANALYZE statistics (a separate cached database)")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--deep-pages", type=int, default=200)
    parser.add_argument("--deep-from", type=int, default=100)
    parser.add_argument("--max-seconds", type=float, default=25,
                        help="time cap per case (at least 5 requests are timed)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-probe", action="store_true", help="skip the query counts")
    args = parser.parse_args(argv)

    facts = machine_facts()
    print_machine(facts)
    var_dir = CACHE / f"list-{args.conversations}{'-analyze' if args.analyze else ''}"
    build = build_database(var_dir, args.conversations, rebuild=args.rebuild,
                           analyze=args.analyze)
    load = build["load"]
    print(f"database: {load['conversations_in_db']:,} conversations, {load['customers']:,} "
          f"customers, {load['conversation_tags']:,} conversation tags, "
          f"{build['db_bytes'] / 2**30:.2f} GiB; built in {build['build_seconds']} s "
          f"({build['built_at']}); words {load['words']}")
    env = product_env(var_dir)
    token = build["token"]
    results = []
    with Server(env, workers=args.workers, embedded=False) as server, httpx.Client(
            base_url=server.base_url, timeout=60,
            headers={"Authorization": f"Bearer {token}"}) as client:
        for name, params in cases(load, build["built_at"]):
            log(f"timing {name}")
            results.append({"case": name, **time_case(client, params, args.warmup,
                                                      args.repeat, args.max_seconds)})
        for name, params in [("deep pages, -last_activity", {}),
                             ("deep pages, order=created", {"order": "created"})]:
            log(f"timing {name}")
            time_deep(client, params, min(20, args.deep_pages), args.deep_pages + 1)  # warm
            results.append({"case": name, **time_deep(client, params, args.deep_pages,
                                                      args.deep_from)})
    if not args.no_probe:
        # The deep cases' queries are the first page's plus the cursor condition: probe page 2.
        paths = [r["path"] for r in results if "(cursor)" not in r["path"]]
        for probe in probe_queries(env, paths, token):
            for r in results:
                if r["path"] == probe["path"]:
                    r["queries"], r["plan"] = probe["queries"], probe["plan"]

    print(f"\n{'case':34} {'rows':>4} {'n':>4} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}  "
          f"queries  ≤{TARGET_P95_MS:.0f} ms p95")
    for r in results:
        ok = "yes" if r.get("p95_ms", 1e9) <= TARGET_P95_MS and not r["errors"] else "NO"
        print(f"{r['case'][:34]:34} {r.get('rows') or '':>4} {r['n']:>4} "
              f"{r.get('p50_ms', 0):7.1f} {r.get('p95_ms', 0):7.1f} {r.get('p99_ms', 0):7.1f} "
              f"{r.get('max_ms', 0):7.1f}  {r.get('queries', ''):>7}  {ok}")
    for r in results:
        if r.get("plan"):
            print(f"plan {r['case']}: {' | '.join(r['plan'])}")
    emit({"bench": "api_list", "command": command_line(), "machine": facts,
          "params": vars(args) | {"database": str(var_dir)},
          "database": {k: build[k] for k in ("conversations", "build_seconds", "db_bytes",
                                             "built_at")},
          "results": results,
          "target_met": all(r.get("p95_ms", 1e9) <= TARGET_P95_MS and not r["errors"]
                            for r in results)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
