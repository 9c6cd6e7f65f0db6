"""Helpers shared by the bench scripts: running the ``mostrador`` command in a throw-away data
folder, a real server in a subprocess, PostgreSQL scratch databases, inputs from the peer
harness's generators, percentiles and the machine facts every figure is printed with.

The scripts never import Django themselves: the product runs in subprocesses exactly as an
operator runs it, so what is timed is what a user gets.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import platform
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
# The product-neutral harness: corpus and payload generators, workloads (read-only).
PEER_BENCH = Path(os.environ.get("PEER_BENCH_DIR", "/work/shared/peer-bench"))
# Generated inputs and cached databases; nothing generated goes into the repository.
CACHE = Path(os.environ.get("MOSTRADOR_BENCH_CACHE", "/tmp/mostrador-bench"))
# The interpreter that runs the product (the one running this script unless told).
PYTHON = os.environ.get("MOSTRADOR_PYTHON", sys.executable)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the machine ----------------------------------------------------------------------------


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _mem_gib() -> float | None:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    return None


def calibration_ms() -> float:
    """Median of five runs of a fixed pure-Python task: a busy or throttled machine shows up as
    a larger number, so figures from different sessions can be compared with care."""
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        total, table = 0, {}
        for i in range(300_000):
            key = i % 7919
            table[key] = table.get(key, 0) ^ i
            total += key * 3
        sorted(str(v) for v in table.values())
        runs.append(time.perf_counter() - start)
    runs.sort()
    return round(runs[2] * 1000, 1)


def load_average() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


def wait_for_quiet(threshold: float = 0.8, max_wait: float = 300) -> float:
    """Wait (at most ``max_wait`` s) until the 1-minute load average is below ``threshold``:
    the machine is shared, and a figure taken next to someone's test run says little. Returns
    the load average when the wait ended."""
    deadline = time.monotonic() + max_wait
    load = load_average()
    if load >= threshold:
        log(f"load average {load:.2f}: waiting up to {max_wait:.0f} s for a quieter machine")
    while load >= threshold and time.monotonic() < deadline:
        time.sleep(5)
        load = load_average()
    return load


def busy_processes(limit: int = 5) -> list[str]:
    """The other processes using CPU right now (ps), for the record next to a figure."""
    out = subprocess.run(["ps", "-eo", "pcpu,args", "--sort=-pcpu"], capture_output=True,
                         text=True).stdout.splitlines()[1:]
    mine = {str(os.getpid())}
    return [line.strip()[:120] for line in out[:limit] if line.split(None, 1)[0] != "0.0"
            and not any(pid in line for pid in mine)]


def machine_facts() -> dict:
    """nproc, CPU model, memory, the product's Python and SQLite, OS, date, load, calibration."""
    probe = subprocess.run(
        [PYTHON, "-c", "import json, platform, sqlite3; print(json.dumps({'python': "
         "platform.python_version(), 'sqlite': sqlite3.sqlite_version}))"],
        capture_output=True, text=True, check=True)
    return {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "mem_gib": _mem_gib(),
        **json.loads(probe.stdout),
        "os": f"{platform.system()} {platform.release()}",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "load_average_1m": load_average(),
        "cpu_calibration_ms": calibration_ms(),
    }


def print_machine(facts: dict) -> None:
    print(f"machine: nproc={facts['nproc']} cpu={facts['cpu']!r} mem={facts['mem_gib']} GiB "
          f"python={facts['python']} sqlite={facts['sqlite']} {facts['os']} "
          f"date={facts['date']} load={facts['load_average_1m']} "
          f"calibration={facts['cpu_calibration_ms']} ms")


def command_line() -> str:
    return " ".join([Path(sys.executable).name, *sys.argv])


# --- statistics -----------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted sequence."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def latency(seconds: Sequence[float]) -> dict:
    ms = sorted(s * 1000 for s in seconds)
    if not ms:
        return {"n": 0}
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 2),
            "p95_ms": round(percentile(ms, 95), 2), "p99_ms": round(percentile(ms, 99), 2),
            "max_ms": round(ms[-1], 2), "mean_ms": round(sum(ms) / len(ms), 2)}


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


# --- running the product --------------------------------------------------------------------


def product_env(var_dir: Path, *, database_url: str | None = None,
                redis_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a ``mostrador`` process using ``var_dir`` (embedded mode unless the
    URLs are given). Inherited DATABASE_URL/REDIS_URL never leak into a bench run."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE",
                        "MOSTRADOR_TASKS_IMMEDIATE", "PYTHONPATH"}}
    env.update({
        "MOSTRADOR_VAR_DIR": str(var_dir),
        "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "LOG_LEVEL": "WARNING",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": str(REPO),
        # Never the default 2525: several benches (or a developer's desk) may run at once.
        "MOSTRADOR_SMTPD_PORT": str(free_port()),
        "MOSTRADOR_TASK_QUEUE": f"mostrador-bench-{os.getpid()}",
    })
    if database_url:
        env["DATABASE_URL"] = database_url
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


def mostrador(args: Sequence[str], env: dict[str, str], *, timeout: float = 1800,
              check: bool = True) -> subprocess.CompletedProcess:
    """Run ``mostrador ARGS`` (``python -m mostrador``) from the repository, output captured."""
    result = subprocess.run([PYTHON, "-m", "mostrador", *args], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"mostrador {' '.join(args)} failed ({result.returncode}):\n"
                           f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return result


def shell(code: str, env: dict[str, str]) -> str:
    """Run Python inside ``mostrador shell`` and return what it printed."""
    return mostrador(["shell", "--no-imports", "-c", code], env).stdout


def fresh_var_dir(prefix: str = "mostrador-bench-") -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


ADMIN_EMAIL = "bench-admin@desk.example.com"
ADMIN_PASSWORD = "bench-admin-password-4821"


def create_admin_and_token(env: dict[str, str]) -> str:
    """``mostrador createadmin`` then ``mostrador token create``: the bearer token."""
    mostrador(["createadmin", "--email", ADMIN_EMAIL, "--password", ADMIN_PASSWORD,
               "--name", "Bench Admin", "--update"], env)
    return mostrador(["token", "create", "--user", ADMIN_EMAIL, "--name", "bench"],
                     env).stdout.strip().splitlines()[-1]


def make_inbox(env: dict[str, str], address: str = "soporte@desk.example.com") -> int:
    """One catch-all e-mail inbox, as the tests make it; returns its id."""
    out = shell("from mostrador.core.testing import make_email_inbox; "
                f"print(make_email_inbox({address!r}).pk)", env)
    return int(out.strip().splitlines()[-1])


def _process_group_cpu(pgid: int) -> float:
    """CPU seconds (user + system) of the live processes in a process group."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        # fields[2] is the process group; [11], [12] utime, stime (stat fields 14 and 15).
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / tick


class Server:
    """``mostrador serve`` in its own process group on a free port, stopped on exit."""

    def __init__(self, env: dict[str, str], *, workers: int = 1, embedded: bool = True,
                 log_path: Path | None = None, ready_timeout: float = 90) -> None:
        self.env = env
        self.workers = workers
        self.embedded = embedded
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path or Path(env["MOSTRADOR_VAR_DIR"]) / "serve.log"
        self.ready_timeout = ready_timeout
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        import httpx

        args = [PYTHON, "-m", "mostrador", "serve", "--port", str(self.port),
                "--workers", str(self.workers)]
        if not self.embedded:
            args.append("--no-embedded")
        self._log = open(self.log_path, "a")  # closed in __exit__
        self.process = subprocess.Popen(args, cwd=REPO, env=self.env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + self.ready_timeout
        ready = 0
        # With several workers each must have imported the app: wait for a few answers.
        while ready < self.workers * 2:
            if self.process.poll() is not None:
                raise RuntimeError(f"mostrador serve exited; see {self.log_path}:\n"
                                   f"{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=10).status_code == 200:
                    ready += 1
                    continue
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"mostrador serve did not answer /healthz in "
                                   f"{self.ready_timeout:.0f} s; see {self.log_path}")
            time.sleep(0.2)
        return self

    def cpu_seconds(self) -> float:
        return _process_group_cpu(self.process.pid) if self.process else 0.0

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


# --- PostgreSQL scratch databases ------------------------------------------------------------


def fresh_postgres(url: str) -> str:
    """Drop and re-create the database named in ``url`` (it must look like a bench database:
    its name has to contain "bench"), return ``url``."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"refusing to drop {name!r}: bench databases must have 'bench' in "
                         "their name, e.g. postgres://postgres@127.0.0.1:5432/mostrador_bench")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url


# --- inputs ---------------------------------------------------------------------------------


def ensure_corpus(n: int = 5000, seed: int = 42) -> Path:
    """The peer harness's e-mail corpus (``corpus.py --n N --seed S``), generated once."""
    out = CACHE / f"corpus-{n}-{seed}"
    if not (out / "manifest.json").exists():
        log(f"generating {n} e-mails (seed {seed}) into {out}")
        subprocess.run([PYTHON, str(PEER_BENCH / "corpus.py"), "--n", str(n), "--seed",
                        str(seed), "--out", str(out)], check=True, stdout=subprocess.DEVNULL)
    return out


def ensure_payloads(n: int, seed: int = 7) -> Path:
    """The peer harness's ticket payloads (``payloads.py``), generated once."""
    out = CACHE / f"payloads-{n}-{seed}.jsonl"
    if not out.exists():
        log(f"generating {n} ticket payloads (seed {seed}) into {out}")
        tmp = out.with_suffix(".partial")
        subprocess.run([PYTHON, str(PEER_BENCH / "payloads.py"), "--n", str(n), "--seed",
                        str(seed), "--out", str(tmp)], check=True, stdout=subprocess.DEVNULL)
        tmp.rename(out)
    return out


def stage_messages(corpus: Path, n: int, spool: Path) -> list[str]:
    """The first ``n`` .eml files of the corpus, hard-linked (copied across file systems) into
    a fresh folder that holds nothing else; returns their names."""
    names = sorted(f for f in os.listdir(corpus) if f.endswith(".eml"))[:n]
    if len(names) < n:
        raise SystemExit(f"{corpus} has {len(names)} messages, {n} wanted")
    shutil.rmtree(spool, ignore_errors=True)
    spool.mkdir(parents=True)
    for name in names:
        try:
            os.link(corpus / name, spool / name)
        except OSError:
            shutil.copyfile(corpus / name, spool / name)
    return names


def expected_from_manifest(corpus: Path, names: Sequence[str]) -> dict:
    """Threads, replies and attachments the staged messages hold, per the corpus manifest."""
    wanted = set(names)
    threads = replies = attachments = 0
    with open(corpus / "manifest.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row["file"] not in wanted:
                continue
            if row["in_reply_to"]:
                replies += 1
            else:
                threads += 1
            attachments += len(row["attachments"])
    return {"threads": threads, "replies": replies, "attachments": attachments}


def emit(record: dict) -> None:
    """The machine-readable result line (stdout, last line of every script)."""
    print("RESULT " + json.dumps(record, ensure_ascii=False, default=str), flush=True)


def iter_jsonl(path: Path, skip: int = 0, count: int | None = None) -> Iterator[dict]:
    with open(path, encoding="utf-8") as handle:
        for index, line in enumerate(handle):
            if index < skip:
                continue
            if count is not None and index >= skip + count:
                return
            yield json.loads(line)


# --- profiles -------------------------------------------------------------------------------


def py_spy(pid: int, seconds: float, out: Path, rate: int = 250) -> subprocess.Popen:
    """Start sampling ``pid`` and its children with py-spy (collapsed stacks, one frame per
    function, into ``out``); wait on the returned process."""
    exe = shutil.which("py-spy") or str(Path(PYTHON).parent / "py-spy")
    return subprocess.Popen([exe, "record", "--pid", str(pid), "--subprocesses", "--rate",
                             str(rate), "--duration", str(int(seconds)), "--format", "raw",
                             "--function", "--nonblocking", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


# Functions whose own samples are waiting, not working: a thread blocked on a lock, a join, the
# event loop's select.
IDLE = frozenset({"wait", "select", "poll", "_worker", "acquire", "_wait_for_tstate_lock",
                  "run_forever", "_run_once", "sleep", "accept", "recv_into", "readline",
                  "join", "shutdown", "get", "_bootstrap", "_bootstrap_inner"})


def summarise_stacks(path: Path, top: int = 25) -> str:
    """Own and inclusive share of the busy samples per function, from py-spy's collapsed
    stacks; samples whose innermost frame is waiting (see IDLE) are counted apart."""
    import collections

    own: collections.Counter = collections.Counter()
    inclusive: collections.Counter = collections.Counter()
    total = idle = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = [f for f in stack.split(";")
                  if f and not f.startswith(("process ", "thread "))]
        if not frames:
            frames = ["(no Python frame: native code)"]
        name = frames[-1].split(" (")[0].rsplit(".", 1)[-1]
        if name in IDLE:
            idle += n
            continue
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not total:
        return "no busy samples"
    lines = [f"{total} busy samples ({idle} more waiting); own time:"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines.append("inclusive time, product code (mostrador/):")
    product = [(f, n) for f, n in inclusive.most_common() if "mostrador/" in f
               and "/bench/" not in f][:top]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in product]
    lines.append("inclusive time, selected library layers:")
    layers = [(f, n) for f, n in inclusive.most_common()
              if any(k in f for k in ("asgiref/", "ninja/", "uvicorn/", "django/core/handlers",
                                      "django/db/backends", "django/db/models/query",
                                      "huey/", "pydantic"))][:top]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in layers]
    return "\n".join(lines)


# Prepended to the code a bench runs in ``mostrador shell``: a signed-in session for a user,
# without going through the login form, so a page bench times only the page.
OPEN_SESSION = r"""
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore


def open_session(user):
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key
"""


def copy_database(source: Path, target: Path) -> float:
    """A consistent copy of ``source`` (WAL included) without disturbing its readers."""
    started = time.perf_counter()
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return time.perf_counter() - started
