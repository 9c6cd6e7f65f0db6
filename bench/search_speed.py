"""Search speed: knowledge-base search p95 ≤ 30 ms over 50,000 articles, and the inbox's
conversation search p95 ≤ 100 ms over 1,000,000 messages.

    python bench/search_speed.py                     # SQLite, then PostgreSQL
    python bench/search_speed.py --quick             # 2,000 articles, 20,000 messages
    python bench/search_speed.py --backends postgres --articles 50000 --messages 1000000
    python bench/search_speed.py --database-url postgres://postgres@127.0.0.1:5432/bench_search

For each backend: a fresh data folder, and on PostgreSQL a throw-away database (its name must
contain "bench"; created and dropped by the script, skipped with a message when the server
does not answer), ``mostrador migrate``, then one product process (``--phase measure``) that:

* writes ``--articles`` published articles (``bulk_create``, one translation group each; 60 %
  Spanish, 40 % English; 85 % public), and indexes them with the real
  ``knowledge.search.index_articles`` in batches of 1,000 (what ``mostrador kb reindex`` does);
* writes ``--messages`` messages in conversations of four (customer, agent, customer, agent;
  ``bulk_create``, last activity spread over two years, 20,000 customers), indexing each
  batch with the real ``conversations.search.index_messages`` as the actions do (the first
  message with its subject);
* on PostgreSQL runs ``ANALYZE`` (what autovacuum does after a load this size; the product
  runs none on SQLite, and neither does this script there);
* times fixed queries in classes (common words, rare words, two words, a typo, accents; in
  Spanish and English): articles through ``knowledge.search.search`` (the language given, as
  the help center and the API give it; one class without), conversations through
  ``conversations.queries.list_conversations`` with ``q`` (the call behind the inbox's search
  box and ``GET /api/v1/conversations?q=``: the search subquery, the first page of 50 in the
  default order, tags prefetched). Each query runs ``--repeat`` times after two untimed runs,
  the queries interleaved; p50/p95/p99 per class and overall;
* prints the plan of the slowest query of each search (``EXPLAIN (ANALYZE, BUFFERS)`` on
  PostgreSQL, ``EXPLAIN QUERY PLAN`` on SQLite).

The text: help-desk sentences built from templates (orders, invoices, passwords, refunds,
deliveries…, in Spanish and English), with sentences of Wikipedia taken from XQuAD's dev subset
(``$DATASETS_DIR/xquad-dev``, CC BY-SA 4.0) mixed into articles as their long tail of words,
and English customer messages taken from BANKING77's training split
(``$DATASETS_DIR/banking77-dev``, CC BY 4.0). Without those folders the templates alone are
used. A few rare words ("termostato", "dehumidifier"…) are planted in about one article in
2,000 and one message in 50,000: the "rare" queries.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import (
    PYTHON,
    REPO,
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
)

TARGET_ARTICLES_P95_MS = 30.0
TARGET_MESSAGES_P95_MS = 100.0
DATASETS = Path(os.environ.get("DATASETS_DIR", "/work/shared/datasets"))
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/bench_search"

# (query, language) per class; the language is what the help center would pass.
ARTICLE_QUERIES = {
    "common": [("pedido", "es"), ("cuenta", "es"), ("factura", "es"), ("order", "en"),
               ("account", "en"), ("payment", "en")],
    "rare": [("termostato", "es"), ("portabicicletas", "es"), ("thermostat", "en"),
             ("dehumidifier", "en")],
    "two words": [("cambiar contraseña", "es"), ("cargo duplicado", "es"),
                  ("reset password", "en"), ("shipping address", "en")],
    "typo": [("factrua", "es"), ("contrasela", "es"), ("pasword", "en"), ("delivry", "en")],
    "accents": [("envío", "es"), ("envio", "es"), ("devolución", "es"), ("contrasena", "es")],
    "no language": [("reembolso", ""), ("refund", ""), ("garantía", ""), ("invoice", "")],
}
MESSAGE_QUERIES = {
    "common": ["pedido", "tarjeta", "factura", "card", "order", "account"],
    "rare": ["termostato", "portabicicletas", "thermostat", "dehumidifier"],
    "two words": ["cargo duplicado", "cambiar contraseña", "card arrived", "refund order"],
    "typo": ["factrua", "pasword"],
    "accents": ["envío", "envio", "contraseña", "devolución"],
}
RARE = {"es": ["termostato", "portabicicletas", "deshumidificador"],
        "en": ["thermostat", "dehumidifier", "chargeback"]}

# --- the text ------------------------------------------------------------------------------

# (noun, article, possessive "my") in Spanish; nouns in English.
THINGS_ES = [("pedido", "el"), ("factura", "la"), ("cuenta", "la"), ("contraseña", "la"),
             ("tarjeta", "la"), ("suscripción", "la"), ("envío", "el"), ("paquete", "el"),
             ("devolución", "la"), ("reembolso", "el"), ("dirección de envío", "la"),
             ("cupón", "el"), ("garantía", "la"), ("cargo", "el"), ("pago", "el"),
             ("plan", "el"), ("correo electrónico", "el"), ("aplicación", "la"),
             ("número de teléfono", "el"), ("método de pago", "el")]
ACTIONS_ES = ["cambiar", "cancelar", "actualizar", "recuperar", "descargar", "activar",
              "modificar", "consultar", "renovar", "eliminar", "restablecer"]
PROBLEMS_ES = ["no ha llegado todavía", "llegó dañado", "aparece duplicado",
               "no me deja continuar", "sigue pendiente desde hace una semana",
               "no coincide con lo que pedí", "se cobró dos veces",
               "aparece como cancelado sin motivo", "no se actualiza en la aplicación",
               "da un error al confirmar"]
PLACES_ES = ["Mi cuenta", "Ajustes", "Pedidos", "Facturación", "Seguridad", "Perfil"]
BUTTONS_ES = ["Guardar", "Confirmar", "Cambiar", "Solicitar", "Continuar", "Enviar"]
THINGS_EN = ["order", "invoice", "account", "password", "card", "subscription", "delivery",
             "parcel", "return", "refund", "shipping address", "coupon", "warranty", "charge",
             "payment", "plan", "email address", "app", "phone number", "payment method"]
ACTIONS_EN = ["change", "cancel", "update", "recover", "download", "activate", "edit",
              "check", "renew", "delete", "reset"]
PROBLEMS_EN = ["has not arrived yet", "arrived damaged", "shows up twice",
               "will not let me continue", "has been pending for a week",
               "does not match what I ordered", "was charged twice",
               "appears as cancelled for no reason", "is not updated in the app",
               "gives an error when I confirm"]
PLACES_EN = ["My account", "Settings", "Orders", "Billing", "Security", "Profile"]
BUTTONS_EN = ["Save", "Confirm", "Change", "Request", "Continue", "Send"]

ARTICLE_SENTENCES = {
    "es": ["Para {action} {the} {thing}, entra en {place} y pulsa {button}.",
           "Si {the} {thing} {problem}, escríbenos desde el formulario de contacto con el "
           "número de pedido.",
           "El plazo habitual es de {n} días hábiles desde la confirmación.",
           "Puedes {action} {the} {thing} mientras el pedido no haya salido del almacén.",
           "Recibirás un correo de confirmación cuando {the} {thing} se haya procesado.",
           "Los cambios en {the} {thing} pueden tardar hasta {n} horas en verse en la "
           "aplicación.",
           "No es posible {action} {the} {thing} pasados {n} días.",
           "Nuestro equipo revisa cada solicitud sobre {the} {thing} en menos de {n} horas."],
    "en": ["To {action} your {thing}, go to {place} and press {button}.",
           "If your {thing} {problem}, write to us from the contact form with your order "
           "number.",
           "It usually takes {n} working days from the confirmation.",
           "You can {action} your {thing} while the order has not left the warehouse.",
           "You will get a confirmation email once your {thing} has been processed.",
           "Changes to your {thing} may take up to {n} hours to show in the app.",
           "It is not possible to {action} your {thing} after {n} days.",
           "Our team reviews every request about your {thing} within {n} hours."],
}
TITLES = {
    "es": ["Cómo {action} {the} {thing}", "¿Qué hago si {the} {thing} {problem}?",
           "Preguntas frecuentes sobre {the} {thing}", "{Thing}: plazos y condiciones"],
    "en": ["How to {action} your {thing}", "What to do if your {thing} {problem}",
           "Questions about your {thing}", "{Thing}: times and conditions"],
}
CUSTOMER_SENTENCES = {
    "es": ["Hola, mi {thing} {problem}.", "Buenos días, quiero {action} {the} {thing} del "
           "pedido {number}.", "¿Cómo puedo {action} mi {thing}? Gracias.",
           "Llevo {n} días esperando y mi {thing} {problem}. ¿Podéis ayudarme?",
           "Necesito {action} {the} {thing} cuanto antes, por favor."],
    "en": ["Hi, my {thing} {problem}.", "Hello, I want to {action} the {thing} of order "
           "{number}.", "How can I {action} my {thing}? Thanks.",
           "I have been waiting {n} days and my {thing} {problem}. Can you help?",
           "I need to {action} the {thing} as soon as possible, please."],
}
AGENT_SENTENCES = {
    "es": ["Gracias por escribirnos. Hemos revisado tu {thing} y ya está solucionado.",
           "Te confirmamos que puedes {action} tu {thing} desde {place}.",
           "Sentimos las molestias: hemos abierto una incidencia sobre tu {thing} y te "
           "avisaremos en {n} días.",
           "¿Puedes enviarnos una foto del {thing} y el número de pedido? Así lo revisamos."],
    "en": ["Thanks for writing. We have checked your {thing} and it is sorted now.",
           "We confirm you can {action} your {thing} from {place}.",
           "Sorry for the trouble: we opened a ticket about your {thing} and will update "
           "you within {n} days.",
           "Could you send us a photo of the {thing} and the order number? We will check."],
}


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if 40 <= len(s.strip()) <= 260]


def load_datasets() -> dict:
    """Wikipedia sentences (XQuAD dev) per language and English banking queries (BANKING77),
    when the folders are there."""
    found: dict = {"wiki": {"es": [], "en": []}, "banking": [], "sources": []}
    for language in ("es", "en"):
        path = DATASETS / "xquad-dev" / f"xquad.{language}.json"
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8-sig"))
            for article in data["data"]:
                for paragraph in article["paragraphs"]:
                    found["wiki"][language] += _sentences(paragraph["context"])
            found["sources"].append(f"xquad-dev/{path.name}")
    path = DATASETS / "banking77-dev" / "train.csv"
    if path.exists():
        with open(path, encoding="utf-8", newline="") as handle:
            found["banking"] = [row["text"].strip() for row in csv.DictReader(handle)
                                if row["text"].strip()]
        found["sources"].append("banking77-dev/train.csv")
    return found


class Writer:
    """Seeded help-desk text in Spanish and English."""

    def __init__(self, rng: random.Random, datasets: dict) -> None:
        self.rng = rng
        self.wiki = datasets["wiki"]
        self.banking = datasets["banking"]

    def _fill(self, template: str, language: str) -> str:
        rng = self.rng
        if language == "es":
            thing, the = rng.choice(THINGS_ES)
            values = {"action": rng.choice(ACTIONS_ES), "problem": rng.choice(PROBLEMS_ES),
                      "place": rng.choice(PLACES_ES), "button": rng.choice(BUTTONS_ES)}
        else:
            thing, the = rng.choice(THINGS_EN), "the"
            values = {"action": rng.choice(ACTIONS_EN), "problem": rng.choice(PROBLEMS_EN),
                      "place": rng.choice(PLACES_EN), "button": rng.choice(BUTTONS_EN)}
        return template.format(thing=thing, Thing=thing.capitalize(), the=the,
                               n=rng.randint(2, 30), number=rng.randint(100_000, 999_999),
                               **values)

    def article(self, language: str) -> tuple[str, str]:
        rng = self.rng
        title = self._fill(rng.choice(TITLES[language]), language)
        sentences = []
        for _ in range(rng.randint(6, 14)):
            if self.wiki[language] and rng.random() < 0.2:
                sentences.append(rng.choice(self.wiki[language]))
            else:
                sentences.append(self._fill(rng.choice(ARTICLE_SENTENCES[language]), language))
        if rng.random() < 1 / 2000:
            sentences.append(("Compatible con el {} de la serie {}." if language == "es" else
                              "Works with the {} of the {} series.").format(
                rng.choice(RARE[language]), rng.randint(10, 99)))
        paragraphs = [" ".join(sentences[i:i + 3]) for i in range(0, len(sentences), 3)]
        return title, "\n\n".join(paragraphs)

    def message(self, language: str, *, inbound: bool) -> str:
        rng = self.rng
        if inbound and language == "en" and self.banking and rng.random() < 0.5:
            text = rng.choice(self.banking)
        else:
            pool = CUSTOMER_SENTENCES if inbound else AGENT_SENTENCES
            text = " ".join(self._fill(rng.choice(pool[language]), language)
                            for _ in range(rng.randint(1, 3)))
        if rng.random() < 1 / 50_000:
            text += (" Es sobre el {}." if language == "es" else " It is about the {}.").format(
                rng.choice(RARE[language]))
        return text


# --- the measure phase (inside a product process) ------------------------------------------


def build_articles(n: int, writer: Writer) -> dict:
    from django.db import transaction

    from mostrador.knowledge import search
    from mostrador.knowledge.models import Article, TranslationGroup

    made = 0
    rows_seconds = index_seconds = 0.0
    rng = writer.rng
    batch = 1000
    for start in range(0, n, batch):
        size = min(batch, n - start)
        started = time.perf_counter()
        with transaction.atomic():
            groups = TranslationGroup.objects.bulk_create([TranslationGroup()
                                                           for _ in range(size)])
            articles = []
            for i, group in enumerate(groups):
                language = "es" if rng.random() < 0.6 else "en"
                title, body = writer.article(language)
                html = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
                articles.append(Article(
                    title=title, slug=f"articulo-{start + i}", body_html=html, body_text=body,
                    language=language, translation_group=group,
                    status=Article.Status.PUBLISHED,
                    visibility="public" if rng.random() < 0.85 else "internal"))
            articles = Article.objects.bulk_create(articles)
        rows_seconds += time.perf_counter() - started
        started = time.perf_counter()
        search.index_articles([(a.pk, a.language, a.visibility, a.title, a.body_text)
                               for a in articles])
        index_seconds += time.perf_counter() - started
        made += size
    return {"articles": made, "rows_seconds": round(rows_seconds, 1),
            "index_seconds": round(index_seconds, 1),
            "indexed_per_second": round(made / index_seconds) if index_seconds else None}


def build_messages(n: int, writer: Writer) -> dict:
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from mostrador.conversations import search
    from mostrador.conversations.models import Conversation, Inbox, Message
    from mostrador.customers.models import Customer

    rng = writer.rng
    now = timezone.now()
    agent = get_user_model().objects.create(username="bench-agent@desk.example.com",
                                            email="bench-agent@desk.example.com",
                                            is_active=True, is_staff=True, password="!")
    inbox = Inbox.objects.create(name="Soporte", channel_kind="email",
                                 config={"address": "soporte@desk.example.com",
                                         "from_name": "Soporte", "catch_all": True})
    customers = Customer.objects.bulk_create(
        [Customer(name=f"Cliente {i}", language="es" if i % 5 < 3 else "en")
         for i in range(20_000)], batch_size=5000)
    per_conversation = 4
    conversations_per_batch = 2500
    rows_seconds = index_seconds = 0.0
    made = 0
    statuses = ["solved"] * 6 + ["closed"] * 2 + ["open", "new"]
    while made < n:
        started = time.perf_counter()
        with transaction.atomic():
            size = min(conversations_per_batch, -(-(n - made) // per_conversation))
            plans = []
            conversations = []
            for _ in range(size):
                customer = rng.choice(customers)
                language = customer.language
                opened = now - dt.timedelta(seconds=rng.randint(3600, 2 * 365 * 86400))
                first = writer.message(language, inbound=True)
                subject = first.split(".")[0][:120]
                count = min(per_conversation, n - made - len(plans) * per_conversation)
                plans.append((customer, language, opened, subject, first, count))
                conversations.append(Conversation(
                    inbox=inbox, customer=customer, subject=subject,
                    status=rng.choice(statuses), status_since=opened, channel_kind="email",
                    language=language, message_count=count, created_at=opened,
                    updated_at=opened + dt.timedelta(hours=count),
                    last_activity_at=opened + dt.timedelta(hours=count)))
            conversations = Conversation.objects.bulk_create(conversations)
            messages = []
            for conversation, (customer, language, opened, subject, first, count) in zip(
                    conversations, plans, strict=True):
                for k in range(count):
                    inbound = k % 2 == 0
                    text = first if k == 0 else writer.message(language, inbound=inbound)
                    messages.append(Message(
                        conversation=conversation, inbox=inbox,
                        direction="inbound" if inbound else "outbound",
                        author_kind="customer" if inbound else "agent",
                        author_customer=customer if inbound else None,
                        author_user=None if inbound else agent, channel_kind="email",
                        subject=subject if k == 0 else "", text=text,
                        created_at=opened + dt.timedelta(hours=k)))
            messages = Message.objects.bulk_create(messages)
            rows_seconds += time.perf_counter() - started
            started = time.perf_counter()
            search.index_messages([
                (m.pk, m.conversation_id, f"{m.subject}\n{m.text}" if m.subject else m.text)
                for m in messages])
            index_seconds += time.perf_counter() - started
        made += len(messages)
        if made % 100_000 < len(messages):
            log(f"{made:,} messages written")
    return {"messages": made, "conversations": Conversation.objects.count(),
            "rows_seconds": round(rows_seconds, 1), "index_seconds": round(index_seconds, 1),
            "indexed_per_second": round(made / index_seconds) if index_seconds else None,
            "agent": agent.pk}


def sizes(vendor: str) -> dict:
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("SELECT pg_database_size(current_database()), "
                           "pg_total_relation_size('search_articles'), "
                           "pg_total_relation_size('search_article_word_lists') + "
                           "pg_total_relation_size('search_article_words'), "
                           "pg_total_relation_size('search_messages')")
            total, articles, words, messages = cursor.fetchone()
            return {"database_mib": round(total / 2**20, 1),
                    "search_articles_mib": round(articles / 2**20, 1),
                    "article_words_mib": round(words / 2**20, 1),
                    "search_messages_mib": round(messages / 2**20, 1)}
        path = Path(settings.DATABASES["default"]["NAME"])
        total = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
        cursor.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")
        by_name = dict(cursor.fetchall())
        part = {k: sum(v for name, v in by_name.items() if name.startswith(k))
                for k in ("search_articles", "search_messages")}
        return {"database_mib": round(total / 2**20, 1),
                "search_articles_mib": round(part["search_articles"] / 2**20, 1),
                "search_messages_mib": round(part["search_messages"] / 2**20, 1)}


def time_queries(cases: dict, run, repeat: int) -> dict:
    """``run(case)`` for every case of every class, ``repeat`` rounds (after two untimed),
    the cases interleaved; latencies per class and overall, hits per case."""
    flat = [(name, case) for name, group in cases.items() for case in group]
    for _ in range(2):
        for _, case in flat:
            run(case)
    seconds: dict = {name: [] for name in cases}
    per_case: dict = {}
    hits: dict = {}
    for _ in range(repeat):
        for name, case in flat:
            started = time.perf_counter()
            found = run(case)
            took = time.perf_counter() - started
            seconds[name].append(took)
            per_case.setdefault(case, []).append(took)
            hits[case] = found
    overall = [s for values in seconds.values() for s in values]
    return {"classes": {name: latency(values) for name, values in seconds.items()},
            "overall": latency(overall),
            "cases": [{"class": name, "query": case if isinstance(case, str) else case[0],
                       "language": "" if isinstance(case, str) else case[1],
                       "hits": hits[case], **latency(per_case[case])}
                      for name, case in flat]}


def explain(run, case, vendor: str) -> str:
    """The plans of the statements ``run(case)`` sends that read a search table."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        run(case)
    out = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            sql = query["sql"]
            if "search_" not in sql:
                continue
            out.append(f"-- {query['time']} s: {sql[:600]}")
            if vendor == "postgresql":
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                out += [row[0] for row in cursor.fetchall()]
            else:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
                out += [f"{'  ' * (row[1] > 0)}{row[3]}" for row in cursor.fetchall()]
    return "\n".join(out)


def measure_phase(args: argparse.Namespace) -> dict:
    from bench.bulkload import setup_django

    setup_django()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from mostrador.conversations.queries import ConversationFilters, list_conversations
    from mostrador.knowledge import search

    vendor = connection.vendor
    datasets = load_datasets()
    writer = Writer(random.Random(args.seed), datasets)
    started = time.perf_counter()
    articles = build_articles(args.articles, writer)
    log(f"{vendor}: {args.articles:,} articles written in {articles['rows_seconds']} s, "
        f"indexed in {articles['index_seconds']} s")
    messages = build_messages(args.messages, writer)
    log(f"{vendor}: {args.messages:,} messages written in {messages['rows_seconds']} s, "
        f"indexed in {messages['index_seconds']} s")
    analyze_seconds = None
    if vendor == "postgresql":
        analyze_started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        analyze_seconds = round(time.perf_counter() - analyze_started, 1)
    build_seconds = round(time.perf_counter() - started, 1)
    agent = get_user_model().objects.get(pk=messages["agent"])

    def find_articles(case):
        query, language = case
        return len(search.search(query, language=language, public_only=False, limit=20))

    def find_conversations(query):
        return len(list_conversations(agent, ConversationFilters(q=query), limit=50).items)

    article_times = time_queries(ARTICLE_QUERIES, find_articles, args.repeat)
    log(f"{vendor}: articles p95 {article_times['overall']['p95_ms']} ms")
    message_times = time_queries(MESSAGE_QUERIES, find_conversations, args.repeat)
    log(f"{vendor}: conversations p95 {message_times['overall']['p95_ms']} ms")
    slowest_article = max(article_times["cases"], key=lambda c: c["p95_ms"])
    slowest_message = max(message_times["cases"], key=lambda c: c["p95_ms"])
    return {
        "backend": vendor, "datasets": datasets["sources"], "build_seconds": build_seconds,
        "analyze_seconds": analyze_seconds, "build_articles": articles,
        "build_messages": messages, "sizes": sizes(vendor),
        "articles": article_times, "conversations": message_times,
        "plans": {
            "articles": {"query": slowest_article["query"], "plan": explain(
                find_articles, (slowest_article["query"], slowest_article["language"]),
                vendor)},
            "conversations": {"query": slowest_message["query"], "plan": explain(
                find_conversations, slowest_message["query"], vendor)},
        },
    }


# --- the driver ----------------------------------------------------------------------------


def postgres_reachable(url: str) -> str | None:
    """None when the server answers, else why not."""
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    try:
        with psycopg.connect(admin, connect_timeout=3):
            return None
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0]


def drop_postgres(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_backend(backend: str, args: argparse.Namespace) -> dict | None:
    url = None
    if backend == "postgres":
        why = postgres_reachable(args.database_url)
        if why:
            print(f"\nPostgreSQL skipped: {args.database_url} does not answer ({why})")
            return None
        url = fresh_postgres(args.database_url)
    var_dir = fresh_var_dir("mostrador-bench-search-")
    env = product_env(var_dir, database_url=url)
    try:
        mostrador(["migrate", "--noinput", "-v", "0"], env)
        command = [PYTHON, str(Path(__file__).resolve()), "--phase", "measure",
                   "--articles", str(args.articles), "--messages", str(args.messages),
                   "--repeat", str(args.repeat), "--seed", str(args.seed)]
        result = subprocess.run(command, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
        if result.returncode != 0:
            raise SystemExit(f"the measure phase failed ({result.returncode}):\n"
                             f"{result.stdout[-3000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        if args.keep:
            print(f"\nkept: data folder {var_dir}" + (f", database {url}" if url else ""))
        else:
            shutil.rmtree(var_dir, ignore_errors=True)
            if url:
                drop_postgres(url)


def print_times(title: str, times: dict, target: float) -> None:
    print(f"\n{title}")
    print(f"  {'class':12} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, figures in [*times["classes"].items(), ("overall", times["overall"])]:
        verdict = "" if name != "overall" else (
            f"  p95 ≤ {target:.0f} ms: {'met' if figures['p95_ms'] <= target else 'missed'}")
        print(f"  {name:12} {figures['n']:5} {figures['p50_ms']:8.2f} {figures['p95_ms']:8.2f} "
              f"{figures['p99_ms']:8.2f} {figures['max_ms']:8.2f}{verdict}")
    print("  per query (hits, p50 / p95 ms): " + "; ".join(
        f"{c['query']}{'/' + c['language'] if c['language'] else ''} {c['hits']}, "
        f"{c['p50_ms']:.1f} / {c['p95_ms']:.1f}" for c in times["cases"]))


def report(measured: dict) -> None:
    a, m, s = measured["build_articles"], measured["build_messages"], measured["sizes"]
    print(f"\n== {measured['backend']}: {a['articles']:,} articles, {m['messages']:,} messages "
          f"in {m['conversations']:,} conversations (text: "
          f"{', '.join(measured['datasets']) or 'templates only'})")
    print(f"build: articles written {a['rows_seconds']} s, indexed {a['index_seconds']} s "
          f"({a['indexed_per_second']}/s); messages written {m['rows_seconds']} s, indexed "
          f"{m['index_seconds']} s ({m['indexed_per_second']}/s); ANALYZE "
          f"{measured['analyze_seconds']} s; total {measured['build_seconds']} s")
    words = (f" (+ {s['article_words_mib']} MiB of words for typos)"
             if "article_words_mib" in s else "")
    print(f"size: database {s['database_mib']} MiB, article index {s['search_articles_mib']} "
          f"MiB{words}, message index {s['search_messages_mib']} MiB")
    print_times("knowledge.search.search (limit 20)", measured["articles"],
                TARGET_ARTICLES_P95_MS)
    print_times("list_conversations(q=…) (first page of 50)", measured["conversations"],
                TARGET_MESSAGES_P95_MS)
    for what in ("articles", "conversations"):
        plan = measured["plans"][what]
        print(f"\nplan of the slowest {what} query ({plan['query']!r}):\n{plan['plan']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=10, help="timed runs of each query")
    parser.add_argument("--quick", action="store_true",
                        help="2,000 articles, 20,000 messages, 5 runs of each query")
    parser.add_argument("--backends", default="sqlite,postgres",
                        help="comma-separated: sqlite, postgres")
    parser.add_argument("--database-url", default=DEFAULT_POSTGRES,
                        help="the throw-away PostgreSQL database (re-created, then dropped; "
                        "its name must contain 'bench')")
    parser.add_argument("--keep", action="store_true",
                        help="keep the data folder (and the PostgreSQL database) to look into")
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--phase", choices=["measure"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        print(json.dumps(measure_phase(args), default=str))
        return 0
    if args.quick:
        args.articles, args.messages, args.repeat = 2000, 20_000, 5

    facts = machine_facts()
    print_machine(facts)
    results = []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        if backend not in ("sqlite", "postgres"):
            raise SystemExit(f"unknown backend {backend!r}: use sqlite, postgres")
        log(f"{backend}: building {args.articles:,} articles and {args.messages:,} messages")
        measured = run_backend(backend, args)
        if measured:
            report(measured)
            results.append(measured)
    emit({"bench": "search_speed", "command": command_line(), "machine": facts,
          "params": {k: v for k, v in vars(args).items() if k != "phase"},
          "targets": {"articles_p95_ms": TARGET_ARTICLES_P95_MS,
                      "conversations_p95_ms": TARGET_MESSAGES_P95_MS},
          "results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
