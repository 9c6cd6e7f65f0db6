"""The customer 360 page (``GET /customers/<id>/``) of a customer with 500 past conversations:
p95 ≤ 120 ms.

A fresh data folder (embedded SQLite): ``mostrador migrate``, then one ``mostrador shell`` that
builds the desk through the actions — an e-mail inbox, two agents, and a customer (with
identities on two channels, an organisation, segments and attributes) who wrote 500 times:
every conversation opened by her mail (``receive_inbound``), most answered
(``do_send_reply``), most solved or closed, many tagged, some with a note or a request type.
Beside her, 200 other customers with 3 conversations each, so her rows are not the whole table.
A session for the agent is opened with Django's ``SessionStore``. Then
``mostrador serve --no-embedded`` runs on it and each page is fetched with the session cookie
over one keep-alive connection: 10 warm-up requests, 100 timed. Cases: the customer page (the
target), the next page of her timeline and of her conversations (htmx partials), the customer
panel beside her newest conversation, and the customer list searched by her address.
Afterwards each case's database queries are counted through Django's test client (not timed).
Everything is written by the actions (the request type, which no action sets yet, by one UPDATE
of that column); nothing is back-dated, since no query the pages make depends on the dates.
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
    busy_processes,
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
from django.db import transaction
from mostrador.accounts.actions import do_create_staff_user
from mostrador.channels.base import InboundMessage
from mostrador.conversations import actions
from mostrador.conversations.models import Conversation, Message
from mostrador.core.testing import make_email_inbox
from mostrador.customers.actions import (do_add_identity, do_create_organisation,
                                         do_update_customer)

started = time.perf_counter()
TOPICS = [("Pedido {n} sin llegar", "envíos"), ("Devolución del pedido {n}", "devoluciones"),
          ("Factura del pedido {n}", "facturación"), ("Cambio de dirección", "cuenta"),
          ("Cargo duplicado en la tarjeta", "pagos"), ("No puedo entrar en mi cuenta", "cuenta")]
PARAGRAPH = ("Hola, os escribo por el pedido {n}: el paquete sigue sin llegar y el seguimiento "
             "no se mueve desde hace días. ¿Podéis revisarlo, por favor? Gracias.")
REPLY = ("Hola Elena:\n\nLo hemos revisado: el pedido {n} sale hoy de nuevo y te llegará en "
         "48 horas. Te hemos devuelto los gastos de envío.\n\nUn saludo,\nAna")

with transaction.atomic():
    inbox = make_email_inbox("soporte@desk.example.com")
    ana = do_create_staff_user(email="ana@desk.example.com", password="bench-password-1234",
                               display_name="Ana García", check_password=False)
    beto = do_create_staff_user(email="beto@desk.example.com", password="bench-password-1234",
                                display_name="Beto Ruiz", check_password=False)
    acme = do_create_organisation(name="Acme Ibérica", domains=["acme.es"])

    def inbound(sender, name, key, subject, text):
        return actions.receive_inbound(inbox, InboundMessage(
            sender_kind="email", sender_id=sender, sender_name=name,
            provider_id=f"<{key}@correo.es>", subject=subject, text=text,
            reply_text=text)).conversation

    for c in range(OTHERS):
        for k in range(3):
            inbound(f"cliente{c}@correo.es", f"Cliente {c}", f"o{c}-{k}",
                                   f"Consulta {k}", f"Hola, tengo una duda ({c}-{k}).")
    elena_ids = []
    for n in range(CONVERSATIONS):
        subject, tag = TOPICS[n % len(TOPICS)]
        number = 10000 + n
        conversation = inbound("elena@acme.es", "Elena Martín", f"e{n}",
                               subject.format(n=number), PARAGRAPH.format(n=number))
        elena_ids.append(conversation.pk)
        if n % 4:
            actions.do_send_reply(conversation, REPLY.format(n=number), acting_user=ana)
        if n % 3 == 0:
            actions.do_add_tags(conversation, [tag], acting_user=ana)
        elif n % 3 == 1:
            Conversation.objects.filter(pk=conversation.pk).update(request_type=tag)
        if n % 7 == 0:
            actions.do_add_note(conversation, "Revisar con logística", acting_user=beto)
        if n < CONVERSATIONS - 5:
            actions.do_change_status(conversation, "closed" if n % 2 else "solved",
                                     acting_user=ana)
    elena = Conversation.objects.get(pk=elena_ids[0]).customer
    do_add_identity(elena, "phone", "+34 600 11 22 33", acting_user=ana)
    do_update_customer(elena, language="es", time_zone="Europe/Madrid", segments=["premium"],
                       attributes={"plan": "business", "lifetime_value": 18400,
                                   "last_purchase": "2025-03-02"}, acting_user=ana)

session_key = open_session(ana)
print("BUILD " + json.dumps({
    "customer": elena.pk, "newest": elena_ids[-1], "session": session_key,
    "conversations": elena.conversations.count(),
    "messages": Message.objects.filter(conversation__customer=elena).count(),
    "all_conversations": Conversation.objects.count(), "all_messages": Message.objects.count(),
    "seconds": round(time.perf_counter() - started, 1)}))
"""

PROBE = r"""
import json
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
client = Client()
client.cookies["sessionid"] = SESSION
found = {}
for name, path, htmx in CASES:
    headers = {"HX-Request": "true"} if htmx else {}
    client.get(path, headers=headers)
    with CaptureQueriesContext(connection) as ctx:
        status = client.get(path, headers=headers).status_code
    found[name] = {"status": status, "queries": len(ctx.captured_queries)}
print("PROBE " + json.dumps(found))
"""


def tagged(out: str, tag: str) -> dict:
    line = next(x for x in out.splitlines() if x.startswith(tag + " "))
    return json.loads(line[len(tag) + 1:])


def time_case(client: httpx.Client, path: str, *, htmx: bool, warmup: int,
              repeat: int) -> tuple[list[float], int, httpx.Response]:
    headers = {"HX-Request": "true"} if htmx else {}
    for _ in range(warmup):
        response = client.get(path, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"GET {path} answered {response.status_code}:\n"
                             f"{response.text[:2000]}")
    seconds, errors = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(path, headers=headers)
        seconds.append(time.perf_counter() - start)
        errors += response.status_code != 200
    return seconds, errors, response


def hx_link(html: str, marker: str) -> str:
    """The ``hx-get`` address that contains ``marker`` (an "older" link of the page)."""
    start = html.rindex('hx-get="', 0, html.index(marker)) + len('hx-get="')
    return html[start:html.index('"', start)].replace("&amp;", "&")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--others", type=int, default=200,
                        help="other customers, 3 conversations each")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--quiet-load", type=float, default=1.5,
                        help="wait for the 1-minute load average to fall below this first")
    parser.add_argument("--quiet-wait", type=float, default=120,
                        help="how long to wait for a quieter machine at most (s)")
    args = parser.parse_args(argv)

    facts = machine_facts()
    print_machine(facts)
    var_dir = fresh_var_dir("mostrador-bench-customer-")
    env = product_env(var_dir)
    log(f"data folder {var_dir}: migrate")
    mostrador(["migrate", "--noinput", "-v0"], env)
    log(f"building a customer with {args.conversations} conversations through the actions")
    build = tagged(shell(f"CONVERSATIONS = {args.conversations}\nOTHERS = {args.others}\n"
                         + BUILD, env), "BUILD")
    print(f"customer #{build['customer']}: {build['conversations']} conversations, "
          f"{build['messages']} messages (desk: {build['all_conversations']} conversations, "
          f"{build['all_messages']} messages), built in {build['seconds']} s")

    page = f"/customers/{build['customer']}/"
    results: dict[str, dict] = {}
    with Server(env, embedded=False) as server, httpx.Client(
            base_url=server.base_url, timeout=30,
            cookies={"sessionid": build["session"]}) as client:
        load = wait_for_quiet(args.quiet_load, args.quiet_wait)
        log(f"load average {load:.2f}; timing")
        busy = busy_processes()
        first = client.get(page)
        html = first.text
        cases = [
            ("customer page", page, False),
            ("older timeline (htmx)", hx_link(html, "/timeline/?before="), True),
            ("older conversations (htmx)",
             hx_link(html, "/conversations/?conversations_before="), True),
            ("customer panel (htmx)", f"/customers/panel/{build['newest']}/", True),
            ("customer list, search", "/customers/?q=elena%40acme", False),
        ]
        for name, path, htmx in cases:
            seconds, errors, response = time_case(client, path, htmx=htmx,
                                                  warmup=args.warmup, repeat=args.repeat)
            results[name] = {"path": path, "errors": errors, "bytes": len(response.content),
                             **latency(seconds)}
        shown = first.text.count("<tr>") - 1, first.text.count('class="timeline-entry ')
    probe = tagged(shell(f"SESSION = {build['session']!r}\n"
                         f"CASES = {[(n, p, h) for n, p, h in cases]!r}\n" + PROBE, env),
                   "PROBE")
    print(f"\ncustomer page shows {shown[0]} conversation rows and {shown[1]} timeline "
          f"entries; {args.repeat} timed requests per case after {args.warmup} warm-up; load "
          f"average {load:.2f} when timing began")
    if busy:
        print("other busy processes: " + "; ".join(busy))
    for name, figures in results.items():
        print(f"{name:28} p50 {figures['p50_ms']:6.1f} ms  p95 {figures['p95_ms']:6.1f} ms  "
              f"p99 {figures['p99_ms']:6.1f} ms  max {figures['max_ms']:6.1f} ms  "
              f"{figures['bytes'] / 1024:5.0f} KiB  {probe[name]['queries']:2} queries  "
              f"{figures['errors']} errors")
    main_case = results["customer page"]
    met = main_case["p95_ms"] <= TARGET_P95_MS and not main_case["errors"]
    print(f"\ntarget: customer page p95 ≤ {TARGET_P95_MS:.0f} ms: "
          f"{'yes' if met else 'NO'} ({main_case['p95_ms']:.1f} ms)")
    emit({"bench": "web_customer", "command": command_line(), "machine": facts,
          "params": vars(args) | {"database": str(var_dir)}, "build": build,
          "load_average_at_start": load, "busy_processes": busy,
          "cases": {name: {**figures, "queries": probe[name]["queries"]}
                    for name, figures in results.items()},
          "p50_ms": main_case["p50_ms"], "p95_ms": main_case["p95_ms"],
          "p99_ms": main_case["p99_ms"], "target_p95_ms": TARGET_P95_MS, "target_met": met})
    return 0


if __name__ == "__main__":
    sys.exit(main())
