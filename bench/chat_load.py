"""Live chat under load: 1,000 visitors each sending a message every 5 s to 10 agents, with
end-to-end delivery p99 ≤ 100 ms and nothing lost or duplicated, in the embedded mode (one
server process, SQLite, in-memory channel layer) and scaled out (two server processes and a
task worker on PostgreSQL + Redis); and the server's memory per open chat connection.

    python bench/chat_load.py                            # both modes, 60 s measured each
    python bench/chat_load.py --mode embedded --seconds 30
    python bench/chat_load.py --mode scaled --redis-url redis://127.0.0.1:6379/9 \
        --database-url postgres://postgres@127.0.0.1:5432/mostrador_bench_chat
    python bench/chat_load.py --visitors 200 --agents 4  # a smaller desk

The desk: ``mostrador migrate`` in a fresh data folder (or a re-created PostgreSQL database and
an emptied Redis database), then in ``mostrador shell``: ``--agents`` agents, online, with chat
capacity 1,000 each, in one team whose assignment rule is ``--routing`` (least loaded by
default, so every chat is assigned as on a real desk and every message also passes through the
router); a webchat inbox for that team whose abuse limits are raised so that the 1,000 visitors,
who all come from 127.0.0.1, are not refused; a signed-in session for each agent.

The load is one asyncio process (this script) with the ``websockets`` client, which offers
permessage-deflate as browsers do:

1. Each agent opens ``/ws/agent/`` with its session cookie and the desk's origin. In the scaled
   mode agents and visitors alternate between the two server processes, so most messages go
   from one process to the other through Redis.
2. Warm-up: 20 throw-away visitors connect, say hello, send one message and leave. Then the
   server's resident memory (``VmRSS``, summed over the server processes) is read with no
   visitor connected; then ``--visitors`` visitors connect (``hello`` → ``welcome`` with a
   new token) and stay idle, and it is read again: the difference divided by the number of
   visitors is the memory per open connection.
3. Each visitor sends its first message (it opens the conversation, which routing assigns);
   these are spread over ``--warmup-seconds`` and not measured. The script waits for every
   ``ack`` and for the agents' frames to go quiet.
4. Measured: for ``--seconds``, visitor *i* sends a message at ``t0 + i/N·interval +
   k·interval`` (start times spread evenly over the interval, so the offered load is a steady
   N/interval messages a second), each with a unique ``client_id``; the send time is taken
   just before the frame is written. The ``ack`` gives the stored message's id (ack latency:
   the message is stored). Every agent connection receives a ``conversation`` frame whose
   ``message_ids`` name the messages each committed change added; its arrival time is kept
   per connection and message id, and joined to the acks afterwards (the agent's frame may
   come before the visitor's ack). Delivery latency = arrival at an agent connection − send
   time, pooled over all agent connections.
5. Sending stops; the script waits until every message is acknowledged and has reached every
   agent connection, at most ``--grace`` seconds. Lost: sent but never acknowledged, or
   acknowledged but missing at some agent connection after the grace period. Duplicated: an
   id received twice by the same agent connection, or a ``client_id`` acknowledged with two
   different ids. Afterwards the inbox's stored messages are counted in the database.

Both sides share the machine's two cores: the script prints the CPU seconds of the server
processes, the worker and itself, how late it sent against its schedule and how late its
own event loop woke (a late loop delays the timestamps of arrivals, so it inflates latency).
``--profile`` samples the server processes with py-spy (on ``PATH`` or beside the Python)
during the measured period and prints where their time went.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import (
    CACHE,
    OPEN_SESSION,
    PYTHON,
    REPO,
    Server,
    busy_processes,
    command_line,
    emit,
    fresh_postgres,
    fresh_var_dir,
    latency,
    log,
    machine_facts,
    mostrador,
    print_machine,
    product_env,
    py_spy,
    shell,
    summarise_stacks,
    wait_for_quiet,
)

TARGET_P99_MS = 100.0
PUBLIC_KEY = "wc_bench"
WARMUP_VISITORS = 20
CONNECT_AT_ONCE = 50  # handshakes in flight while the visitors connect
TEXTS = [
    "Hola, ¿dónde está mi pedido? Lo compré hace una semana.",
    "Me han cobrado dos veces la misma factura, ¿me lo podéis revisar?",
    "¿Puedo cambiar la dirección de entrega?",
    "Gracias, ya lo veo.",
    "No me llega el correo para cambiar la contraseña.",
    "Hi, my order arrived broken. What can I do?",
    "Can I get an invoice with my company's tax number on it?",
    "ok",
    "The tracking number you sent does not work on the carrier's site, it says not found.",
    "¿Tenéis la talla 42 en azul?",
]

SETUP = OPEN_SESSION + r"""
import json

from mostrador.accounts.actions import do_create_staff_user, do_create_team, do_update_agent
from mostrador.conversations.actions import do_create_inbox
from mostrador.routing.actions import do_set_assignment_rule

params = json.loads(PARAMS)
admin = do_create_staff_user(email="bench-admin@desk.example.com", password="!",
                             display_name="Bench Admin", role="admin", check_password=False)
agents = []
for i in range(params["agents"]):
    user = do_create_staff_user(email=f"agente{i}@desk.example.com", password="!",
                                display_name=f"Agente {i}", check_password=False)
    do_update_agent(user.agent, status="online", capacity={"webchat": 1000})
    agents.append(user)
team = do_create_team("Chat", members=agents)
inbox = do_create_inbox(
    name="Chat", channel_kind="webchat", default_team=team, acting_user=admin,
    config={"public_key": params["public_key"], "visitor_messages_per_minute": 1000,
            "ip_messages_per_minute": 1000000, "ip_connections": 100000})
if params["routing"] != "manual":
    do_set_assignment_rule(team=team, strategy=params["routing"], acting_user=admin)
print(json.dumps({"inbox": inbox.pk, "sessions": [open_session(user) for user in agents]}))
"""

# Bench-only settings for --layer-fix: the product's settings with the channel layer's Redis
# connections given redis-py 5's defaults (no socket timeout, no pool limit); see the option.
LAYER_FIX_SETTINGS = """
from mostrador.settings import *  # noqa: F403

CHANNEL_LAYERS["default"]["CONFIG"]["hosts"] = [  # noqa: F405
    {"address": REDIS_URL, "socket_timeout": None, "max_connections": 2 ** 31}]  # noqa: F405
"""

CHECK = r"""
import json

from mostrador.conversations.models import Conversation, Message

params = json.loads(PARAMS)
inbound = Message.objects.filter(inbox_id=params["inbox"], direction="inbound")
conversations = Conversation.objects.filter(inbox_id=params["inbox"])
print(json.dumps({
    "inbound_messages": inbound.count(),
    "distinct_provider_ids": inbound.values("provider_id").distinct().count(),
    "conversations": conversations.count(),
    "assigned": conversations.filter(assignee__isnull=False).count(),
}))
"""


def run_shell(code: str, env: dict[str, str], params: dict) -> dict:
    out = shell(f"PARAMS = {json.dumps(params)!r}\n" + code, env)
    return json.loads(out.strip().splitlines()[-1])


# --- the server processes ---------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process, all its threads."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Worker:
    """``mostrador worker`` (the scaled mode's task consumer), stopped on exit."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env, self.log_path = env, log_path

    def __enter__(self) -> Worker:
        self._log = open(self.log_path, "a")
        self.process = subprocess.Popen([PYTHON, "-m", "mostrador", "worker"], cwd=REPO,
                                        env=self.env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def empty_redis(url: str) -> None:
    import redis

    database = urlsplit(url).path.lstrip("/") or "0"
    if database == "0":
        raise SystemExit("refusing to empty Redis database 0: name another one in --redis-url, "
                         "e.g. redis://127.0.0.1:6379/9")
    redis.Redis.from_url(url).flushdb()


def log_problems(paths: list[Path], limit: int = 12) -> list[str]:
    """Error and warning lines (and tracebacks' last lines) of the servers' logs."""
    found = []
    for path in paths:
        if not path.exists():
            continue
        lines = path.read_text(errors="replace").splitlines()
        for index, line in enumerate(lines):
            flagged = any(word in line for word in ("ERROR", "WARNING", "Traceback",
                                                    "CRITICAL"))
            # A traceback's last line: the exception, right after the indented frames.
            exception = bool(index and lines[index - 1].startswith("  ") and line
                             and line[0] != " " and "Error" in line)
            if flagged or exception:
                found.append(f"{path.name}: {line.strip()[:240]}")
    counts = collections.Counter(found)
    return [f"{n}× {line}" if n > 1 else line for line, n in counts.most_common(limit)]


# --- the load -----------------------------------------------------------------------------------


class Visitor:
    def __init__(self, index: int, url: str) -> None:
        self.index, self.url = index, url
        self.ws = None
        self.welcome: asyncio.Future | None = None
        self.reader: asyncio.Task | None = None
        self.waiting: str | None = None  # the client id of a message whose ack is awaited


class Load:
    """The visitors and agents of one run, and what they saw."""

    def __init__(self, args: argparse.Namespace, ports: list[int], sessions: list[str]) -> None:
        self.args, self.ports, self.sessions = args, ports, sessions
        self.rng = random.Random(args.seed)
        self.sent: dict[str, float] = {}                    # measured client_id → send time
        self.lateness: list[float] = []                     # send time − planned time
        self.acked: dict[str, tuple[int, float]] = {}       # client_id → (message id, time)
        self.conflicting_acks = 0                           # one client_id, two message ids
        self.repeated_acks = 0                              # one client_id acked twice, same id
        self.waiters: dict[str, asyncio.Future] = {}
        self.send_failed = 0  # measured messages that could not be sent: socket closed
        self.errors: collections.Counter = collections.Counter()
        self.error_samples: list[dict] = []
        self.visitor_frames: collections.Counter = collections.Counter()
        self.closed: collections.Counter = collections.Counter()  # by the server, mid-run
        self.closing = False  # the script closes its connections: not counted then
        self.arrivals: list[dict[int, float]] = [{} for _ in sessions]
        self.agent_duplicates = [0] * len(sessions)
        self.duplicate_samples: list[dict] = []
        self.agent_frames: list[collections.Counter] = [collections.Counter() for _ in sessions]
        self.last_agent_frame = 0.0
        self.loop_lag: list[float] = []
        self.visitors: list[Visitor] = []
        self.agent_sockets: list = []
        self.tasks: list[asyncio.Task] = []

    def url(self, index: int, path: str) -> str:
        return f"ws://127.0.0.1:{self.ports[index % len(self.ports)]}{path}"

    def origin(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports[index % len(self.ports)]}"

    def connect_options(self) -> dict:
        return {"compression": None if self.args.compression == "none" else "deflate",
                "ping_interval": None, "open_timeout": 60, "max_size": 2 ** 22,
                "close_timeout": 2}

    # Agents.

    async def open_agents(self) -> None:
        from websockets.asyncio.client import connect

        for index, session in enumerate(self.sessions):
            ws = await connect(self.url(index, "/ws/agent/"), origin=self.origin(index),
                               additional_headers={"Cookie": f"sessionid={session}"},
                               **self.connect_options())
            self.agent_sockets.append(ws)
            self.tasks.append(asyncio.create_task(self.agent_reader(index, ws)))

    async def agent_reader(self, index: int, ws) -> None:
        from websockets.exceptions import ConnectionClosed

        seen, frames = self.arrivals[index], self.agent_frames[index]
        try:
            async for raw in ws:
                now = time.perf_counter()
                frame = json.loads(raw)
                frames[frame.get("type")] += 1
                self.last_agent_frame = now
                if frame.get("type") != "conversation":
                    continue
                for message_id in frame.get("message_ids") or ():
                    if message_id in seen:
                        self.agent_duplicates[index] += 1
                        if len(self.duplicate_samples) < 10:
                            self.duplicate_samples.append({
                                "agent": index, "message_id": message_id,
                                "kind": frame.get("kind"),
                                "conversation": (frame.get("conversation") or {}).get("id"),
                                "seconds_after_first": round(now - seen[message_id], 3)})
                    else:
                        seen[message_id] = now
        except ConnectionClosed as exc:
            if not self.closing:
                self.closed[f"agent {exc.rcvd.code if exc.rcvd else 'no close frame'}"] += 1

    # Visitors.

    async def open_visitor(self, index: int, gate: asyncio.Semaphore) -> Visitor:
        from websockets.asyncio.client import connect

        visitor = Visitor(index, self.url(index, f"/ws/chat/{PUBLIC_KEY}/"))
        async with gate:
            visitor.ws = await connect(visitor.url, origin="https://shop.example.com",
                                       **self.connect_options())
            visitor.welcome = asyncio.get_running_loop().create_future()
            visitor.reader = asyncio.create_task(self.visitor_reader(visitor))
            await visitor.ws.send(json.dumps({"type": "hello", "token": None,
                                              "language": "es" if index % 2 else "en",
                                              "after": None,
                                              "page": "https://shop.example.com/"}))
            await asyncio.wait_for(visitor.welcome, 60)
        return visitor

    async def open_visitors(self, count: int, first_index: int = 0) -> list[Visitor]:
        gate = asyncio.Semaphore(CONNECT_AT_ONCE)
        return list(await asyncio.gather(*(self.open_visitor(first_index + i, gate)
                                           for i in range(count))))

    async def visitor_reader(self, visitor: Visitor) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in visitor.ws:
                now = time.perf_counter()
                frame = json.loads(raw)
                kind = frame.get("type")
                self.visitor_frames[kind] += 1
                if kind == "ack":
                    self.on_ack(frame, now)
                elif kind == "welcome" and not visitor.welcome.done():
                    visitor.welcome.set_result(frame)
                elif kind == "error":
                    self.errors[frame.get("code")] += 1
                    if len(self.error_samples) < 5:
                        self.error_samples.append(frame)
                    waiter = self.waiters.pop(frame.get("client_id") or "", None)
                    if waiter is not None and not waiter.done():
                        waiter.set_exception(RuntimeError(f"refused: {frame}"))
        except ConnectionClosed as exc:
            if not self.closing:
                self.closed[f"visitor {exc.rcvd.code if exc.rcvd else 'no close frame'}"] += 1
            waiter = self.waiters.pop(visitor.waiting or "", None)
            if waiter is not None and not waiter.done():
                waiter.set_exception(exc)

    def on_ack(self, frame: dict, now: float) -> None:
        client_id, message_id = frame["client_id"], frame["message"]["id"]
        before = self.acked.get(client_id)
        if before is None:
            self.acked[client_id] = (message_id, now)
        elif before[0] != message_id:
            self.conflicting_acks += 1
        else:
            self.repeated_acks += 1
        waiter = self.waiters.pop(client_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(message_id)

    async def say(self, visitor: Visitor, client_id: str, first: bool = False) -> None:
        frame = {"type": "message", "client_id": client_id, "text": self.rng.choice(TEXTS)}
        if first:
            frame["fields"] = {"name": f"Visitante {visitor.index}"}
        await visitor.ws.send(json.dumps(frame, ensure_ascii=False))

    async def converse_once(self, visitor: Visitor, client_id: str, delay: float) -> None:
        """Wait ``delay`` s, send one message and wait for its ack."""
        await asyncio.sleep(delay)
        waiter = asyncio.get_running_loop().create_future()
        self.waiters[client_id] = waiter
        visitor.waiting = client_id
        await self.say(visitor, client_id, first=True)
        await asyncio.wait_for(waiter, 120)

    async def close_visitors(self, visitors: list[Visitor]) -> None:
        await asyncio.gather(*(v.ws.close() for v in visitors), return_exceptions=True)
        for visitor in visitors:
            if visitor.reader is not None:
                visitor.reader.cancel()

    # Phases.

    async def quiet(self, seconds: float = 2.0, limit: float = 120.0) -> float:
        """Wait until no agent frame came for ``seconds`` (at most ``limit``)."""
        started = time.perf_counter()
        while time.perf_counter() - started < limit:
            if time.perf_counter() - max(self.last_agent_frame, started) >= seconds:
                break
            await asyncio.sleep(0.2)
        return time.perf_counter() - started

    async def watch_loop(self, stop: asyncio.Event) -> None:
        """How late this process's event loop wakes (every 50 ms) while measuring."""
        while not stop.is_set():
            planned = time.perf_counter() + 0.05
            await asyncio.sleep(0.05)
            self.loop_lag.append(time.perf_counter() - planned)

    async def send_schedule(self, visitor: Visitor, t0: float, end: float) -> None:
        from websockets.exceptions import ConnectionClosed

        interval, n = self.args.interval, self.args.visitors
        offset = interval * visitor.index / n
        k = 0
        while (planned := t0 + offset + k * interval) < end:
            delay = planned - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            client_id = f"m{visitor.index}-{k}"
            now = time.perf_counter()
            self.lateness.append(now - planned)
            self.sent[client_id] = now
            try:
                await self.say(visitor, client_id)
            except ConnectionClosed:
                # The server closed this visitor's socket: this message and the rest of its
                # schedule cannot go (a widget would reconnect; this generator does not).
                del self.sent[client_id]
                self.send_failed += math.ceil((end - planned) / interval)
                return
            k += 1

    def complete(self) -> bool:
        """Every measured message acknowledged and at every agent connection."""
        if not all(client_id in self.acked for client_id in self.sent):
            return False
        ids = [self.acked[client_id][0] for client_id in self.sent]
        return all(all(i in seen for i in ids) for seen in self.arrivals)


async def drive(load: Load, servers: list[int], on_phase) -> dict:
    """Phases 1–5 of the docstring; ``servers`` are the pids whose memory is read."""
    args = load.args
    out: dict = {}
    await load.open_agents()
    log(f"{len(load.sessions)} agents connected")

    # Warm-up with throw-away visitors, then memory with none and with all connected.
    warm = await load.open_visitors(WARMUP_VISITORS, first_index=10 ** 6)
    await asyncio.gather(*(load.converse_once(v, f"w{v.index}", 0) for v in warm))
    await load.close_visitors(warm)
    await load.quiet(3.0)
    idle = sum(rss_kib(pid) for pid in servers)
    started = time.perf_counter()
    load.visitors = await load.open_visitors(args.visitors)
    out["connect_seconds"] = round(time.perf_counter() - started, 2)
    await asyncio.sleep(3)
    connected = sum(rss_kib(pid) for pid in servers)
    out["memory"] = {"idle_kib": idle, "connected_kib": connected,
                     "per_connection_kib": round((connected - idle) / args.visitors, 1)}
    log(f"{args.visitors} visitors connected in {out['connect_seconds']} s; server RSS "
        f"{idle / 1024:.0f} → {connected / 1024:.0f} MiB, "
        f"{out['memory']['per_connection_kib']} KiB per connection")

    # First messages: each opens a conversation (not measured).
    started = time.perf_counter()
    spread = args.warmup_seconds
    acked_before = len(load.acked)
    outcomes = await asyncio.gather(
        *(load.converse_once(v, f"f{v.index}", spread * v.index / args.visitors)
          for v in load.visitors), return_exceptions=True)
    failures = collections.Counter(type(o).__name__ for o in outcomes if o is not None)
    first_acks = [load.acked[f"f{v.index}"][1] for v in load.visitors
                  if f"f{v.index}" in load.acked]
    out["first_messages"] = {"acked": len(load.acked) - acked_before,
                             "seconds": round(max(first_acks, default=started) - started, 2),
                             "failed": dict(failures)}
    if failures:
        log(f"first messages failed: {dict(failures)}")
    settle = await load.quiet(2.0)
    log(f"first messages acknowledged; agents quiet after {settle:.1f} s more")

    # Measured period.
    on_phase("start")
    cpu_before = own_cpu()
    stop = asyncio.Event()
    watcher = asyncio.create_task(load.watch_loop(stop))
    t0 = time.perf_counter() + 0.5
    end = t0 + args.seconds
    await asyncio.gather(*(load.send_schedule(v, t0, end) for v in load.visitors))
    sending_done = time.perf_counter()
    while time.perf_counter() < sending_done + args.grace and not load.complete():
        await asyncio.sleep(0.25)
    stop.set()
    await watcher
    out["generator_cpu_seconds"] = round(own_cpu() - cpu_before, 1)
    out["send_seconds"] = round(sending_done - t0, 2)
    out["waited_after_sending_seconds"] = round(time.perf_counter() - sending_done, 2)
    on_phase("end")
    out["memory"]["after_run_kib"] = sum(rss_kib(pid) for pid in servers)
    load.closing = True
    await load.close_visitors(load.visitors)
    await asyncio.gather(*(ws.close() for ws in load.agent_sockets), return_exceptions=True)
    for task in load.tasks:
        task.cancel()
    return out


def tally(load: Load, args: argparse.Namespace) -> dict:
    """Counts and percentiles of the measured period."""
    sent = load.sent
    acked = {c: load.acked[c] for c in sent if c in load.acked}
    ack_latency = [acked[c][1] - sent[c] for c in acked]
    pooled: list[float] = []
    agents = []
    for index, seen in enumerate(load.arrivals):
        latencies = [seen[m] - sent[c] for c, (m, _t) in acked.items() if m in seen]
        pooled.extend(latencies)
        agents.append({"agent": index, "port": load.ports[index % len(load.ports)],
                       "delivered": len(latencies), "missing": len(acked) - len(latencies),
                       "duplicated": load.agent_duplicates[index],
                       "frames": dict(load.agent_frames[index]),
                       "delivery": latency(latencies)})
    ids = [m for m, _t in acked.values()]
    everywhere = sum(1 for m in ids if all(m in seen for seen in load.arrivals))
    first_seen = [min(seen[m] for seen in load.arrivals if m in seen) - sent[c]
                  for c, (m, _t) in acked.items()
                  if any(m in seen for seen in load.arrivals)]
    last_seen = [max(seen[m] for seen in load.arrivals) - sent[c]
                 for c, (m, _t) in acked.items() if all(m in seen for seen in load.arrivals)]
    offered = args.visitors / args.interval
    window = max(args.seconds, 1e-9)
    return {
        "offered_per_second": offered,
        "sent": len(sent), "acked": len(acked), "unacked": len(sent) - len(acked),
        "delivered_everywhere": everywhere,
        "send_failed": load.send_failed,
        "lost": load.send_failed + (len(sent) - len(acked)) + (len(acked) - everywhere),
        "duplicated": sum(load.agent_duplicates) + load.conflicting_acks
        + (len(ids) - len(set(ids))),
        "repeated_acks": load.repeated_acks,
        "unacked_samples": [c for c in sent if c not in acked][:10],
        "duplicate_samples": load.duplicate_samples,
        "undelivered_samples": [(c, m) for c, (m, _t) in acked.items()
                                if not all(m in seen for seen in load.arrivals)][:10],
        "errors": dict(load.errors), "error_samples": load.error_samples,
        "closed": dict(load.closed),
        "sent_per_second": round(len(sent) / window, 1),
        "acked_per_second": round(len(acked) / window, 1),
        "ack": latency(ack_latency), "delivery": latency(pooled),
        "delivery_first_agent": latency(first_seen), "delivery_last_agent": latency(last_seen),
        "send_lateness": latency(load.lateness), "generator_loop_lag": latency(load.loop_lag),
        "visitor_frames": dict(load.visitor_frames), "agents": agents,
    }


# --- one mode -------------------------------------------------------------------------------------


def run_mode(mode: str, args: argparse.Namespace) -> dict:
    var_dir = fresh_var_dir(f"mostrador-bench-chat-{mode}-")
    scaled = mode == "scaled"
    if scaled:
        fresh_postgres(args.database_url)
        empty_redis(args.redis_url)
        extra = {}
        extra = {}
        if args.layer_fix:
            (var_dir / "bench_chat_settings.py").write_text(LAYER_FIX_SETTINGS)
            extra = {"DJANGO_SETTINGS_MODULE": "bench_chat_settings",
                     "PYTHONPATH": f"{REPO}:{var_dir}"}
        env = product_env(var_dir, database_url=args.database_url, redis_url=args.redis_url,
                          **extra)
    else:
        env = product_env(var_dir)
    logs = [var_dir / "serve-1.log"] + ([var_dir / "serve-2.log", var_dir / "worker.log"]
                                        if scaled else [])
    try:
        mostrador(["migrate", "--noinput", "-v", "0"], env)
        setup = run_shell(SETUP, env, {"agents": args.agents, "public_key": PUBLIC_KEY,
                                       "routing": args.routing})
        with contextlib.ExitStack() as stack:
            servers = [stack.enter_context(Server(env, embedded=not scaled, log_path=logs[0]))]
            if scaled:
                servers.append(stack.enter_context(Server(env, embedded=False,
                                                          log_path=logs[1])))
                worker = stack.enter_context(Worker(env, logs[2]))
            pids = [s.process.pid for s in servers]
            log(f"{mode}: server pids {pids} on ports {[s.port for s in servers]}")
            load = Load(args, [s.port for s in servers], setup["sessions"])
            marks: dict = {}
            profiles: list[tuple[subprocess.Popen, Path]] = []

            def on_phase(phase: str) -> None:
                marks[phase] = {"servers": [cpu_seconds(pid) for pid in pids],
                                "worker": cpu_seconds(worker.process.pid) if scaled else 0.0,
                                "at": time.perf_counter()}
                if phase == "start" and args.profile:
                    for pid in pids:
                        CACHE.mkdir(parents=True, exist_ok=True)
                        out = CACHE / f"chat-profile-{mode}-{pid}.txt"
                        profiles.append((py_spy(pid, args.seconds, out), out))

            measured = asyncio.run(drive(load, pids, on_phase))
            alive = [s.process.poll() is None for s in servers]
            check = run_shell(CHECK, env, {"inbox": setup["inbox"]})
            profile_text = []
            for process, out in profiles:
                process.wait()
                profile_text.append(f"py-spy, server {out.name} (raw stacks in {out}):\n"
                                    + summarise_stacks(out) if out.exists() else
                                    f"py-spy wrote nothing: {process.stderr.read()[-500:]}")
        server_cpu = [round(b - a, 1) for a, b in zip(marks["start"]["servers"],
                                                      marks["end"]["servers"], strict=True)]
        wall = marks["end"]["at"] - marks["start"]["at"]
        result = {"mode": mode, "backend": "postgresql+redis" if scaled else "sqlite",
                  "layer_fix": bool(scaled and args.layer_fix),
                  "server_processes": len(pids), **measured, **tally(load, args),
                  "database": check, "servers_alive_after": alive,
                  "cpu": {"wall_seconds": round(wall, 1), "servers": server_cpu,
                          "worker": round(marks["end"]["worker"] - marks["start"]["worker"], 1),
                          "generator": measured["generator_cpu_seconds"]},
                  "log_problems": log_problems(logs)}
        if profile_text:
            result["profiles"] = profile_text
        return result
    finally:
        if args.keep:
            log(f"kept {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


# --- report -----------------------------------------------------------------------------------


def report(r: dict, args: argparse.Namespace) -> None:
    setup = ("SQLite, one `mostrador serve` (embedded: tasks and channel layer in-process)"
             if r["mode"] == "embedded" else
             "PostgreSQL + Redis, two `mostrador serve --no-embedded` + `mostrador worker`"
             + (" with --layer-fix (bench-only settings)" if r.get("layer_fix") else ""))
    print(f"\n== {r['mode']}: {setup}")
    before = r["machine_before"]
    print(f"load average before: {before['load_average_1m']}; busy: "
          f"{'; '.join(before['busy']) or 'nothing else'}")
    print(f"{args.visitors:,} visitors, {args.agents} agents, a message every "
          f"{args.interval:g} s each: offered {r['offered_per_second']:.0f} msg/s for "
          f"{args.seconds:g} s")
    print(f"sent {r['sent']:,} ({r['sent_per_second']}/s), acked {r['acked']:,} "
          f"({r['acked_per_second']}/s), reached every agent connection "
          f"{r['delivered_everywhere']:,}; lost {r['lost']}, duplicated {r['duplicated']}"
          + (f" ({r['send_failed']:,} could not be sent: socket closed by the server)"
             if r["send_failed"] else "")
          + (f", errors {r['errors']}" if r["errors"] else "")
          + (f", connections closed {r['closed']}" if r["closed"] else ""))
    if r["sent_per_second"] < 0.95 * r["offered_per_second"]:
        print(f"  the generator could not keep the offered rate: {r['sent_per_second']}/s "
              f"of {r['offered_per_second']:.0f}/s sent")
    if r["acked_per_second"] < 0.95 * r["offered_per_second"]:
        print(f"  the server did not keep up: {r['acked_per_second']}/s acknowledged "
              f"of {r['offered_per_second']:.0f}/s offered")
    print(f"{'latency':28} {'n':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    rows = [("ack (stored)", r["ack"]), ("delivery, all agents pooled", r["delivery"]),
            ("delivery, first agent", r["delivery_first_agent"]),
            ("delivery, last agent", r["delivery_last_agent"]),
            ("generator: send lateness", r["send_lateness"]),
            ("generator: loop lag", r["generator_loop_lag"])]
    for name, figures in rows:
        if figures.get("n"):
            print(f"{name:28} {figures['n']:8,} {figures['p50_ms']:8.1f} {figures['p95_ms']:8.1f}"
                  f" {figures['p99_ms']:8.1f} {figures['max_ms']:8.1f}")
    p99 = r["delivery"].get("p99_ms", float("inf"))
    met = p99 <= TARGET_P99_MS and r["lost"] == 0 and r["duplicated"] == 0
    print(f"target delivery p99 ≤ {TARGET_P99_MS:.0f} ms, nothing lost or duplicated: "
          f"{'met' if met else 'missed'} (p99 {p99} ms)")
    print("per agent connection: port delivered missing duplicated p50 p99 ms")
    for a in r["agents"]:
        d = a["delivery"]
        print(f"  agent {a['agent']:2} {a['port']:6} {a['delivered']:8,} {a['missing']:6,} "
              f"{a['duplicated']:4} {d.get('p50_ms', float('nan')):8.1f} "
              f"{d.get('p99_ms', float('nan')):8.1f}")
    m = r["memory"]
    print(f"memory (VmRSS, {r['server_processes']} server process(es)): "
          f"{m['idle_kib'] / 1024:.1f} MiB with no visitor, {m['connected_kib'] / 1024:.1f} MiB "
          f"with {args.visitors:,} idle visitor connections → "
          f"{m['per_connection_kib']} KiB per connection; {m['after_run_kib'] / 1024:.1f} MiB "
          "after the run")
    c = r["cpu"]
    print(f"waited {r['waited_after_sending_seconds']} s after the last send for the last acks "
          "and deliveries")
    print(f"CPU over {c['wall_seconds']} s measured: servers {c['servers']} s, worker "
          f"{c['worker']} s, load generator {c['generator']} s")
    print(f"connect {args.visitors:,} visitors {r['connect_seconds']} s; first messages "
          f"{r['first_messages']['acked']:,} acked in {r['first_messages']['seconds']} s"
          + (f", failed: {r['first_messages']['failed']}" if r["first_messages"]["failed"]
             else ""))
    print(f"database: {r['database']}")
    if r["unacked_samples"] or r["undelivered_samples"]:
        print(f"never acknowledged (client ids): {r['unacked_samples']}; acknowledged but "
              f"missing at an agent (client id, message id): {r['undelivered_samples']}")
    if r["duplicate_samples"]:
        print(f"ids received twice by one agent connection: {r['duplicate_samples']}")
    if not all(r["servers_alive_after"]):
        print(f"A SERVER PROCESS DIED: alive {r['servers_alive_after']}")
    for line in r["log_problems"]:
        print(f"  log: {line}")
    for text in r.get("profiles", []):
        print(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["embedded", "scaled", "both"], default="both")
    parser.add_argument("--visitors", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--interval", type=float, default=5.0,
                        help="seconds between two messages of a visitor")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured period")
    parser.add_argument("--grace", type=float, default=10.0,
                        help="seconds after the last send for acks and deliveries")
    parser.add_argument("--warmup-seconds", type=float, default=10.0,
                        help="the first messages (new conversations) are spread over this")
    parser.add_argument("--routing", default="least_loaded",
                        choices=["least_loaded", "round_robin", "manual"])
    parser.add_argument("--compression", choices=["deflate", "none"], default="deflate",
                        help="permessage-deflate offered by the clients (browsers offer it)")
    parser.add_argument("--database-url",
                        default="postgres://postgres@127.0.0.1:5432/mostrador_bench_chat",
                        help="scaled mode (re-created; its name must contain 'bench')")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9",
                        help="scaled mode (emptied; not database 0)")
    parser.add_argument("--layer-fix", action="store_true",
                        help="scaled mode: run the product with bench-only settings that give "
                        "the channel layer's Redis connections redis-py 5's defaults: no socket "
                        "timeout and no pool limit (redis-py 8 times out after 5 s, no longer "
                        "than channels-redis's blocking receive, and refuses a 101st "
                        "connection); default: the product's own settings")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy on the server processes during the measured period")
    parser.add_argument("--quiet-load", type=float, default=1.0,
                        help="before each mode, wait for the 1-minute load to drop below this")
    parser.add_argument("--quiet-wait", type=float, default=300, help="at most this long (s)")
    parser.add_argument("--keep", action="store_true", help="keep the data folder and logs")
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args(argv)

    facts = machine_facts()
    print_machine(facts)
    modes = ["embedded", "scaled"] if args.mode == "both" else [args.mode]
    results = []
    for mode in modes:
        load_before = wait_for_quiet(args.quiet_load, args.quiet_wait)
        others = busy_processes()
        result = run_mode(mode, args)
        result["machine_before"] = {"load_average_1m": load_before, "busy": others}
        report(result, args)
        results.append(result)
    emit({"bench": "chat_load", "command": command_line(), "machine": facts,
          "params": vars(args), "target_p99_ms": TARGET_P99_MS, "modes": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
