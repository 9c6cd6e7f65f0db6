"""Target 1: ``mostrador mail import`` of 5,000 realistic messages at ≥ 1,000 messages/s,
threading, attachments and search indexing included (embedded mode: SQLite).

    python bench/import_mail.py                      # 5,000 messages, 3 runs
    python bench/import_mail.py --n 1000 --repeats 5
    python bench/import_mail.py --database-url postgres://postgres@127.0.0.1:5432/mostrador_bench
    python bench/import_mail.py --profile            # one more run under py-spy

The corpus is the peer harness's generator (``corpus.py --n N --seed 42``: Spanish and English
customers, a quarter replies, attachments, HTML, five body encodings), made once under
$MOSTRADOR_BENCH_CACHE (default /tmp/mostrador-bench); its .eml files are linked into a folder
that holds nothing else. Each run starts from nothing: a new data folder (MOSTRADOR_VAR_DIR),
``mostrador migrate``, one catch-all e-mail inbox, then ``mostrador mail import DIR --json`` as a
subprocess. Printed per run: the command's own ``seconds`` (parsing, threading, storing,
attachments, indexing; what messages/s is computed from), and the wall time of the whole
command including Python and Django start-up. The outcome is checked against the corpus
manifest: one conversation per thread, every reply threaded, no quarantine, every attachment
stored, every message in the search index.

With --database-url the same runs go to PostgreSQL (the database named in the URL is dropped
and re-created for each run; its name must contain "bench").
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import (
    CACHE,
    PYTHON,
    REPO,
    command_line,
    emit,
    ensure_corpus,
    expected_from_manifest,
    fresh_postgres,
    fresh_var_dir,
    load_average,
    log,
    machine_facts,
    make_inbox,
    median,
    mostrador,
    print_machine,
    product_env,
    shell,
    stage_messages,
    summarise_stacks,
)

TARGET = 1000.0

COUNTS = r"""
import json
from django.db import connection
from mostrador.conversations.models import Attachment, Conversation, Message, RawInbound
from mostrador.customers.models import Customer
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM search_messages")
    indexed = cursor.fetchone()[0]
print("COUNTS " + json.dumps({
    "conversations": Conversation.objects.count(), "messages": Message.objects.count(),
    "attachments": Attachment.objects.count(), "customers": Customer.objects.count(),
    "raw": RawInbound.objects.count(), "search_rows": indexed}))
"""


def counts(env: dict) -> dict:
    out = shell(COUNTS, env)
    return json.loads(next(x for x in out.splitlines() if x.startswith("COUNTS "))[7:])


def prepare(database_url: str | None) -> tuple[Path, dict, int]:
    var_dir = fresh_var_dir("mostrador-bench-import-")
    if database_url:
        fresh_postgres(database_url)
    env = product_env(var_dir, database_url=database_url)
    mostrador(["migrate", "--noinput", "-v", "0"], env)
    return var_dir, env, make_inbox(env)


def one_run(spool: Path, database_url: str | None, profile: Path | None = None) -> dict:
    var_dir, env, _inbox = prepare(database_url)
    args = [PYTHON, "-m", "mostrador", "mail", "import", str(spool), "--json"]
    if profile is not None:
        # py-spy samples the command and its parser helper at a low, fixed cost.
        spy = shutil.which("py-spy") or str(Path(PYTHON).parent / "py-spy")
        args = [spy, "record", "--subprocesses", "--rate", "250", "--format", "raw",
                "--function", "--output", str(profile), "--", *args]
    load = load_average()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=1800)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The command and its parser helper (reaped before the command exits).
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode != 0:
        raise RuntimeError(f"mail import failed:\n{result.stderr[-4000:]}")
    summary = json.loads(next(line for line in reversed(result.stdout.strip().splitlines())
                              if line.startswith("{")))
    return {"var_dir": str(var_dir), "wall_seconds": round(wall, 3), "summary": summary,
            "cpu_seconds": round(cpu, 2), "load_before": load,
            "counts": counts(env), "stderr": result.stderr.strip()[-500:]}


def check(run: dict, n: int, expected: dict) -> list[str]:
    s, c = run["summary"], run["counts"]
    problems = []
    pairs = [("read", s["read"], n), ("imported (new conversations)", s["imported"],
                                      expected["threads"]),
             ("threaded", s["threaded"], expected["replies"]), ("quarantined", s["quarantined"], 0),
             ("duplicates", s["duplicates"], 0), ("conversations", c["conversations"],
                                                  expected["threads"]),
             ("attachments stored", c["attachments"], expected["attachments"]),
             ("messages", c["messages"], n), ("search rows", c["search_rows"], n)]
    for label, got, want in pairs:
        if got != want:
            problems.append(f"{label}: {got}, expected {want}")
    return problems


def print_profile(path: Path, top: int = 30) -> None:
    print(f"\npy-spy profile of the import (the command and its parser helper):\n"
          f"{summarise_stacks(path, top)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=5000, help="messages to import")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--database-url", help="also run on this PostgreSQL database")
    parser.add_argument("--skip-sqlite", action="store_true",
                        help="with --database-url: only PostgreSQL")
    parser.add_argument("--profile", action="store_true",
                        help="one more SQLite run under py-spy, hotspots printed")
    args = parser.parse_args(argv)

    facts = machine_facts()
    print_machine(facts)
    corpus = ensure_corpus(max(args.n, 5000), args.seed)
    spool = CACHE / f"spool-{args.n}"
    names = stage_messages(corpus, args.n, spool)
    expected = expected_from_manifest(corpus, names)
    print(f"corpus: {args.n} messages (seed {args.seed}): {expected['threads']} threads, "
          f"{expected['replies']} replies, {expected['attachments']} attachments")

    # Start-up cost of the command itself: an import of an empty folder.
    empty = CACHE / "spool-empty"
    stage_messages(corpus, 0, empty)
    _var, env, _inbox = prepare(None)
    startup = []
    for _ in range(3):
        start = time.perf_counter()
        mostrador(["mail", "import", str(empty), "--json"], env)
        startup.append(time.perf_counter() - start)
    startup_s = median(startup)
    print(f"start-up (import of an empty folder, median of 3): {startup_s:.2f} s")

    backends = [] if args.skip_sqlite else [("sqlite", None)]
    if args.database_url:
        backends.append(("postgresql", args.database_url))
    results = []
    for backend, url in backends:
        runs = []
        for rep in range(args.repeats):
            log(f"{backend}: importing {args.n} messages (run {rep + 1}/{args.repeats})")
            run = one_run(spool, url)
            run["problems"] = check(run, args.n, expected)
            s = run["summary"]
            run["msgs_per_s"] = round(s["read"] / s["seconds"], 1)
            run["msgs_per_s_wall"] = round(s["read"] / run["wall_seconds"], 1)
            print(f"{backend} run {rep + 1}: {s['read']} read, {s['imported']} new, "
                  f"{s['threaded']} threaded, {s['duplicates']} duplicates, "
                  f"{s['quarantined']} quarantined in {s['seconds']:.2f} s = "
                  f"{run['msgs_per_s']:.0f} msg/s; whole command {run['wall_seconds']:.2f} s = "
                  f"{run['msgs_per_s_wall']:.0f} msg/s; CPU {run['cpu_seconds']:.1f} s in all "
                  f"processes (load before {run['load_before']:.1f}); stored {run['counts']}"
                  + (f"; PROBLEMS: {run['problems']}" if run["problems"] else "; checks ok"))
            runs.append(run)
        rate = median([r["msgs_per_s"] for r in runs])
        wall_rate = median([r["msgs_per_s_wall"] for r in runs])
        print(f"{backend}: median {rate:.0f} msg/s (command's own time), {wall_rate:.0f} msg/s "
              f"(whole command); target ≥ {TARGET:.0f}: "
              f"{'met' if rate >= TARGET else 'MISSED'}")
        results.append({"backend": backend, "messages": args.n, "runs": [
            {k: r[k] for k in ("summary", "wall_seconds", "msgs_per_s", "msgs_per_s_wall",
                               "cpu_seconds", "load_before", "counts", "problems")}
            for r in runs],
            "median_msgs_per_s": rate, "median_msgs_per_s_wall": wall_rate,
            "target_met": rate >= TARGET and not any(r["problems"] for r in runs)})

    if args.profile:
        profile = CACHE / "import.stacks"
        log("one more run under py-spy")
        run = one_run(spool, None, profile=profile)
        print(f"profiled run: {run['summary']['seconds']:.2f} s")
        print_profile(profile)

    emit({"bench": "import_mail", "command": command_line(), "machine": facts,
          "params": vars(args), "expected": expected, "startup_seconds": round(startup_s, 3),
          "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
