"""The agent's conversation page (``GET /c/<id>/``) with a 200-message thread: p95 ≤ 120 ms.

A fresh data folder (embedded SQLite): ``mostrador migrate``, then one ``mostrador shell`` that
builds the desk through the actions — an e-mail inbox, two agents, a customer, and a thread of
200 messages taking turns between the customer's mail (every third with an image), the agent's
replies and internal notes mentioning a colleague, with assignment, priority, tag and status
events along the way — and opens a session for the agent with Django's ``SessionStore``.
Then ``mostrador serve --no-embedded`` runs on it and the page is fetched with the session
cookie over one keep-alive connection: 10 warm-up requests, 100 timed. Afterwards the page's
database queries are counted through Django's test client (not timed).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import (
    OPEN_SESSION,
    Server,
    command_line,
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

TARGET_P95_MS = 120.0

BUILD = OPEN_SESSION + r"""
import json, time
from mostrador.accounts.actions import do_create_staff_user
from mostrador.channels.base import InboundAttachment, InboundMessage
from mostrador.conversations import actions
from mostrador.core.testing import make_email_inbox

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
started = time.perf_counter()
inbox = make_email_inbox("soporte@desk.example.com")
ana = do_create_staff_user(email="ana@desk.example.com", password="bench-password-1234",
                           display_name="Ana García", check_password=False)
beto = do_create_staff_user(email="beto@desk.example.com", password="bench-password-1234",
                            display_name="Beto Ruiz", check_password=False)
PARAGRAPH = ("Hola, os escribo otra vez por el pedido 2291: el paquete sigue sin llegar y el "
             "seguimiento no se mueve desde hace días. ¿Podéis revisarlo, por favor? "
             "Gracias de antemano.\n\n")
QUOTE = "\n".join("> " + line for line in (PARAGRAPH * 3).splitlines())


def customer(n, **extra):
    text = f"Mensaje {n}. " + PARAGRAPH * 2
    return actions.receive_inbound(inbox, InboundMessage(
        sender_kind="email", sender_id="elena.martin@correo.es", sender_name="Elena Martín",
        provider_id=f"<bench-{n}@correo.es>", subject="Pedido 2291 sin llegar",
        text=text + "\nEl lunes escribisteis:\n" + QUOTE, reply_text=text,
        html="<p>" + text.replace("\n\n", "</p><p>") + "</p><blockquote>" + QUOTE + "</blockquote>",
        references=["<bench-0@correo.es>"] if n else [], **extra))


conversation = customer(0).conversation
actions.do_assign(conversation, ana, acting_user=beto)
for n in range(1, MESSAGES):
    turn = n % 3
    if turn == 0:
        files = [InboundAttachment(f"foto-{n}.png", "image/png", PNG)] if n % 9 == 0 else []
        customer(n, attachments=files)
    elif turn == 1:
        actions.do_send_reply(conversation, f"Respuesta {n}. " + PARAGRAPH, acting_user=ana)
    else:
        actions.do_add_note(conversation, f"Nota {n} para @beto: revisar con logística.",
                            acting_user=ana)
    if n % 25 == 0:
        actions.do_change_priority(conversation, 1 + (n // 25) % 4, acting_user=ana)
        actions.do_add_tags(conversation, [f"lote-{n}"], acting_user=ana)
        actions.do_change_status(conversation, "pending", acting_user=ana)
session_key = open_session(ana)
print("BUILD " + json.dumps({"conversation": conversation.pk, "session": session_key,
                             "messages": conversation.messages.count(),
                             "events": conversation.events.count(),
                             "seconds": round(time.perf_counter() - started, 1)}))
"""

PROBE = r"""
import json
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
client = Client()
client.cookies["sessionid"] = SESSION
client.get(PATH)
with CaptureQueriesContext(connection) as ctx:
    status = client.get(PATH).status_code
print("PROBE " + json.dumps({"status": status, "queries": len(ctx.captured_queries)}))
"""


def tagged(out: str, tag: str) -> dict:
    line = next(x for x in out.splitlines() if x.startswith(tag + " "))
    return json.loads(line[len(tag) + 1:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--quiet-load", type=float, default=0,
                        help="before timing, wait for the 1-minute load average to fall below "
                             "this (0: do not wait)")
    parser.add_argument("--quiet-wait", type=float, default=120)
    args = parser.parse_args(argv)

    facts = machine_facts()
    print_machine(facts)
    var_dir = fresh_var_dir("mostrador-bench-conversation-")
    env = product_env(var_dir)
    log(f"data folder {var_dir}: migrate")
    mostrador(["migrate", "--noinput", "-v0"], env)
    log(f"building a {args.messages}-message thread through the actions")
    # Tasks run inline here so the replies are delivered (to the outbox folder) and shown sent.
    build = tagged(shell(f"MESSAGES = {args.messages}\n" + BUILD,
                         {**env, "MOSTRADOR_TASKS_IMMEDIATE": "1"}), "BUILD")
    print(f"thread: conversation #{build['conversation']}, {build['messages']} messages, "
          f"{build['events']} events, built in {build['seconds']} s")
    path = f"/c/{build['conversation']}/"
    seconds, errors, size, shown = [], 0, 0, 0
    with Server(env, embedded=False) as server, httpx.Client(
            base_url=server.base_url, timeout=30,
            cookies={"sessionid": build["session"]}) as client:
        for _ in range(args.warmup):
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"GET {path} answered {response.status_code}:\n"
                                 f"{response.text[:2000]}")
        size = len(response.content)
        shown = response.text.count('class="msg ')
        if args.quiet_load:
            log(f"load average {wait_for_quiet(args.quiet_load, args.quiet_wait):.2f}")
        for _ in range(args.repeat):
            start = time.perf_counter()
            response = client.get(path)
            seconds.append(time.perf_counter() - start)
            errors += response.status_code != 200
    probe = tagged(shell(f"SESSION = {build['session']!r}\nPATH = {path!r}\n" + PROBE, env),
                   "PROBE")
    figures = latency(seconds)
    met = figures["p95_ms"] <= TARGET_P95_MS and not errors
    print(f"\nGET {path}: {figures['n']} requests, {errors} errors, {size / 1024:.0f} KiB, "
          f"{shown} messages shown, {probe['queries']} queries")
    print(f"p50 {figures['p50_ms']:.1f} ms  p95 {figures['p95_ms']:.1f} ms  "
          f"p99 {figures['p99_ms']:.1f} ms  max {figures['max_ms']:.1f} ms  "
          f"(target p95 ≤ {TARGET_P95_MS:.0f} ms: {'yes' if met else 'NO'})")
    emit({"bench": "web_conversation", "command": command_line(), "machine": facts,
          "params": vars(args) | {"database": str(var_dir)}, "thread": build,
          "page": {"path": path, "bytes": size, "messages_shown": shown,
                   "queries": probe["queries"]},
          "errors": errors, **figures, "target_p95_ms": TARGET_P95_MS, "target_met": met})
    return 0


if __name__ == "__main__":
    sys.exit(main())
