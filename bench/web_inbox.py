"""Target: the agent's inbox page (server-rendered HTML, first page of a filtered view) answers
with p95 ≤ 80 ms at 1,000,000 conversations (embedded mode: SQLite).

    python bench/web_inbox.py                      # 1,000,000 conversations
    python bench/web_inbox.py --conversations 100000 --repeat 50

The database is the one ``api_list.py`` builds with the bulk loader (cached under
$MOSTRADOR_BENCH_CACHE/list-N; built here the same way when missing). It is copied (SQLite's
backup API: a consistent snapshot even while another bench reads it) into a throw-away data
folder and ``mostrador migrate`` runs on the copy, so the inbox's own tables and indexes are
there whatever the cache was built with. One of the loaded agents (one with conversations
assigned, so that "mine" is a real queue) gets a password in the copy and signs in through the
login form like a person; then ``mostrador serve --no-embedded`` runs on the copy and each case
is timed with sequential httpx GETs over one keep-alive connection carrying the session cookie
(10 warm-up, 100 timed; client-side wall time to the last byte of the HTML).

Cases: All; Mine (the preset: new, open, on hold); Mine with status open; Unassigned; My teams;
a common tag and a rare one; text search with a common and a rare word; All sorted by oldest
waiting and by priority; the second page of All (through its "Older" link). Afterwards the
database queries of each case and SQLite's plan for its list query are read once through
Django's test client in a ``mostrador shell`` (not timed).
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import (
    CACHE,
    Server,
    command_line,
    copy_database,
    emit,
    fresh_var_dir,
    latency,
    log,
    machine_facts,
    mostrador,
    print_machine,
    product_env,
    shell,
    wait_for_quiet,
)

TARGET_P95_MS = 80.0
PASSWORD = "bench-inbox-password-5127"
ROW = re.compile(r'data-conversation="(\d+)"')
NEXT = re.compile(r'rel="next" href="([^"]+)"')


def source_database(conversations: int) -> tuple[Path, dict]:
    """The cached bulk-loaded database and its build record, built by api_list.py's builder
    when missing."""
    var_dir = CACHE / f"list-{conversations}"
    marker = var_dir / "bench-build.json"
    if not marker.exists():
        from bench.api_list import build_database

        build_database(var_dir, conversations, rebuild=False, analyze=False)
    return var_dir / "mostrador.sqlite3", json.loads(marker.read_text())


PREPARE = r"""
import json
from django.contrib.auth import get_user_model
from mostrador.conversations.models import Conversation
user_id, password = json.loads(ARGS)
user = get_user_model().objects.select_related("agent").get(pk=user_id)
user.set_password(password)
user.save(update_fields=["password"])
print("PREPARED " + json.dumps({"username": user.username, "name": user.agent.display_name,
      "teams": list(user.teams.values_list("pk", flat=True))}))
"""


def prepare_agent(env: dict, user_id: int) -> dict:
    code = f"ARGS = {json.dumps(json.dumps([user_id, PASSWORD]))}\n" + PREPARE
    out = shell(code, env)
    return json.loads(next(x for x in out.splitlines() if x.startswith("PREPARED "))[9:])


def sign_in(client: httpx.Client, username: str) -> None:
    """The login form, as a browser sends it: CSRF cookie and token, then the POST."""
    form = client.get("/account/login/")
    form.raise_for_status()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    answer = client.post("/account/login/", data={
        "csrfmiddlewaretoken": token, "username": username, "password": PASSWORD},
        headers={"Referer": str(form.url)})
    if answer.status_code != 302 or "sessionid" not in client.cookies:
        raise SystemExit(f"signing in as {username} failed ({answer.status_code})")


def cases(load: dict) -> list[tuple[str, str]]:
    words = load["words"]
    rare_word = next((w for w, n in words.items() if w.isdigit() and n > 0), "zqxwv")
    tags = list(load["tags"])
    return [
        ("all", "/?view=all"),
        ("mine (new, open, on hold)", "/?view=mine"),
        ("mine + status=open", "/?" + urlencode({"view": "mine", "f": 1, "assignee": "me",
                                                  "status": "open"})),
        ("unassigned", "/?view=unassigned"),
        ("my teams", "/?view=teams"),
        (f"tag={tags[0]} (common)", "/?" + urlencode({"view": "all", "f": 1, "tag": tags[0]})),
        (f"tag={tags[-1]} (rare)", "/?" + urlencode({"view": "all", "f": 1, "tag": tags[-1]})),
        ("q=pedido (common)", "/?" + urlencode({"view": "all", "f": 1, "q": "pedido"})),
        (f"q={rare_word} (rare)", "/?" + urlencode({"view": "all", "f": 1, "q": rare_word})),
        ("oldest waiting", "/?" + urlencode({"view": "all", "f": 1, "order": "waiting"})),
        ("priority", "/?" + urlencode({"view": "all", "f": 1, "order": "-priority"})),
    ]


def time_case(client: httpx.Client, path: str, warmup: int, repeat: int,
              max_seconds: float) -> dict:
    deadline = time.perf_counter() + max_seconds
    for _ in range(warmup):
        client.get(path).raise_for_status()
        if time.perf_counter() > deadline - max_seconds / 2:
            break
    seconds, errors, rows, size = [], 0, None, None
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
            rows, size = len(ROW.findall(response.text)), len(response.content)
    return {"path": path, "rows": rows, "bytes": size, "errors": errors,
            "capped": len(seconds) < repeat, **latency(seconds)}


QUERY_PROBE = r"""
import json
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
paths, user_id = json.loads(ARGS)
client = Client()
client.force_login(get_user_model().objects.get(pk=user_id))
client.get(paths[0])
out = []
for path in paths:
    with CaptureQueriesContext(connection) as ctx:
        status = client.get(path).status_code
    lists = [q["sql"] for q in ctx.captured_queries
             if q["sql"].startswith('SELECT "conversations_conversation"."id", ')]
    plan = []
    for sql in lists[:1]:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            plan = [row[-1] for row in cursor.fetchall()]
    out.append({"path": path, "status": status, "queries": len(ctx.captured_queries),
                "plan": plan})
print("PROBE " + json.dumps(out))
"""


def probe_queries(env: dict, paths: list[str], user_id: int) -> list[dict]:
    code = f"ARGS = {json.dumps(json.dumps([paths, user_id]))}\n" + QUERY_PROBE
    out = shell(code, env)
    return json.loads(next(x for x in out.splitlines() if x.startswith("PROBE "))[6:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--max-seconds", type=float, default=25,
                        help="time cap per case (at least 5 requests are timed)")
    parser.add_argument("--agent", type=int, help="user id to sign in as (default: the first "
                        "loaded agent)")
    parser.add_argument("--quiet-load", type=float,
                        help="before each case, wait (up to --quiet-wait s) until the 1-minute "
                             "load average is below this")
    parser.add_argument("--quiet-wait", type=float, default=120)
    parser.add_argument("--no-probe", action="store_true", help="skip the query counts")
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    args = parser.parse_args(argv)

    facts = machine_facts()
    print_machine(facts)
    source, build = source_database(args.conversations)
    load = build["load"]
    var_dir = fresh_var_dir("mostrador-web-inbox-")
    try:
        log(f"copying {source} into {var_dir}")
        copy_seconds = copy_database(source, var_dir / "mostrador.sqlite3")
        env = product_env(var_dir)
        started = time.perf_counter()
        mostrador(["migrate", "--noinput", "-v", "0"], env)
        migrate_seconds = time.perf_counter() - started
        user_id = args.agent or load["agents"][0]
        agent = prepare_agent(env, user_id)
        print(f"database: {load['conversations_in_db']:,} conversations "
              f"({build['db_bytes'] / 2**30:.2f} GiB, built {build['built_at']}); copied in "
              f"{copy_seconds:.1f} s, migrated in {migrate_seconds:.1f} s; signed in as "
              f"{agent['name']} (user {user_id}, teams {agent['teams']})")
        results = []
        with Server(env, embedded=False) as server, httpx.Client(
                base_url=server.base_url, timeout=60) as client:
            sign_in(client, agent["username"])
            for name, path in cases(load):
                load_average = (wait_for_quiet(args.quiet_load, args.quiet_wait)
                                if args.quiet_load else None)
                log(f"timing {name}")
                results.append({"case": name, "load_average": load_average,
                                **time_case(client, path, args.warmup, args.repeat,
                                            args.max_seconds)})
            # The second page of All, through the first page's own "Older" link.
            first = client.get("/?view=all").text
            older = html.unescape(NEXT.search(first).group(1))
            log("timing all, page 2")
            results.append({"case": "all, page 2 (Older link)",
                            **time_case(client, older, args.warmup, args.repeat,
                                        args.max_seconds)})
        if not args.no_probe:
            for probe in probe_queries(env, [r["path"] for r in results], user_id):
                for r in results:
                    if r["path"] == probe["path"]:
                        r["queries"], r["plan"] = probe["queries"], probe["plan"]
    finally:
        if not args.keep:
            shutil.rmtree(var_dir, ignore_errors=True)

    print(f"\n{'case':30} {'rows':>4} {'KiB':>5} {'n':>4} {'p50':>7} {'p95':>7} {'p99':>7} "
          f"{'max':>7}  queries  ≤{TARGET_P95_MS:.0f} ms p95")
    for r in results:
        ok = "yes" if r.get("p95_ms", 1e9) <= TARGET_P95_MS and not r["errors"] else "NO"
        print(f"{r['case'][:30]:30} {r.get('rows') if r.get('rows') is not None else '':>4} "
              f"{(r.get('bytes') or 0) / 1024:5.0f} {r['n']:>4} {r.get('p50_ms', 0):7.1f} "
              f"{r.get('p95_ms', 0):7.1f} {r.get('p99_ms', 0):7.1f} {r.get('max_ms', 0):7.1f}  "
              f"{r.get('queries', ''):>7}  {ok}")
    for r in results:
        if r.get("plan"):
            print(f"plan {r['case']}: {' | '.join(r['plan'])}")
    emit({"bench": "web_inbox", "command": command_line(), "machine": facts,
          "params": vars(args) | {"source": str(source)},
          "database": {k: build[k] for k in ("conversations", "db_bytes", "built_at")},
          "results": results,
          "target_met": all(r.get("p95_ms", 1e9) <= TARGET_P95_MS and not r["errors"]
                            for r in results)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
