"""Bench-only bulk loader: fills a migrated embedded (SQLite) database with conversations fast.

    MOSTRADOR_VAR_DIR=DIR python bench/bulkload.py --conversations 1000000
    MOSTRADOR_VAR_DIR=DIR python bench/bulkload.py --payloads tickets.jsonl --skip 0 --count 10000

It does not go through the actions: a million conversations through ``do_create_conversation``
would take hours, and what the list benchmark needs is the rows, not how they were written. So
this writes the real schema (made by ``mostrador migrate``) directly with ``executemany`` in big
transactions, after creating the handful of agents, teams, inboxes and tags through the ORM.
Columns it does not set get the model field's default, so a field added later does not break it
(a new NOT NULL column without a default does, loudly).

What it writes, per conversation: the conversation (status, priority, assignee, team and inbox
spread as on a real desk, last activity spread over two years), its customer's first message,
that message's row in the ``search_messages`` full-text table (subject and text folded with
``search.fold``, as the actions index them) and, for about a third of them, tags. Customers
(about one per ten conversations) get an e-mail identity. Not written: timeline events, raw
payloads, attachments, replies; the list and search queries do not read them.

While loading it drops the secondary indexes of the tables it fills and re-creates them from
their own ``CREATE INDEX`` text afterwards (much faster than updating them row by row), and runs
with the journal off; the file is left in WAL mode as the product wants it. It runs no ANALYZE,
since the product does not either (``--analyze`` to see what statistics would change).

Prints one JSON object: what it wrote, how long it took, and the ids and words the list
benchmark filters on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import PEER_BENCH

CHUNK = 50_000
AGENTS = 12
TEAMS = ["Soporte L1", "Soporte L2", "Facturación", "Logística"]
INBOXES = [("Soporte", "soporte@desk.example.com", 0),
           ("Facturación", "facturacion@desk.example.com", 2),
           ("Pedidos", "pedidos@desk.example.com", 3)]
TAGS = ["vip", "refund", "shipping", "invoice", "login", "bug", "address-change", "cancel",
        "duplicate-charge", "plan-change", "data-export", "damaged", "late-delivery",
        "spanish", "english", "escalated", "callback", "chargeback", "warranty", "feedback",
        "urgent-review", "partner", "b2b", "newsletter", "gdpr", "fraud-check", "api",
        "mobile-app", "press", "legal"]
BASELINE_FILE = "bench-baseline.json"


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mostrador.settings")
    import django

    django.setup()


# --- the baseline: through the ORM, once per database ---------------------------------------


def baseline(var_dir: Path) -> dict:
    """Agents, teams, inboxes and tags (created once; their ids are kept beside the data)."""
    path = var_dir / BASELINE_FILE
    if path.exists():
        return json.loads(path.read_text())
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from mostrador.accounts.actions import do_create_team
    from mostrador.accounts.models import Agent
    from mostrador.conversations.models import Inbox, Tag

    User = get_user_model()
    with transaction.atomic():
        users = []
        for n in range(AGENTS):
            email = f"agent{n + 1:02d}@desk.example.com"
            # Agents of a bench never log in: an unusable password spares 12 slow hashes.
            user = User(username=email, email=email, is_active=True)
            user.set_unusable_password()
            users.append(user)
        users = User.objects.bulk_create(users)
        Agent.objects.bulk_create([Agent(user=u, display_name=f"Agent {i + 1:02d}",
                                         role=Agent.Role.AGENT)
                                   for i, u in enumerate(users)])
        teams = [do_create_team(name, members=users[i::len(TEAMS)], tier=1 + (i == 1))
                 for i, name in enumerate(TEAMS)]
        inboxes = [Inbox.objects.create(name=name, channel_kind="email",
                                        default_team=teams[team],
                                        config={"address": address, "from_name": name,
                                                "catch_all": index == 0})
                   for index, (name, address, team) in enumerate(INBOXES)]
        tags = Tag.objects.bulk_create([Tag(name=name) for name in TAGS])
    info = {
        "agents": [u.pk for u in users],
        "agent_team": {str(u.pk): teams[i % len(TEAMS)].pk for i, u in enumerate(users)},
        "teams": [t.pk for t in teams],
        "inboxes": [i.pk for i in inboxes],
        "inbox_team": {str(i.pk): i.default_team_id for i in inboxes},
        "tags": {t.name: t.pk for t in tags},
    }
    path.write_text(json.dumps(info))
    return info


# --- bulk rows ------------------------------------------------------------------------------


class Table:
    """INSERT for one model: the given columns, every other column at its field default."""

    def __init__(self, model, given: list[str]) -> None:
        from django.db import connection

        fields = [f for f in model._meta.concrete_fields if f.column != "id" or "id" in given]
        missing = [f for f in fields if f.column not in given]
        self.table = model._meta.db_table
        self.columns = given + [f.column for f in missing]
        self.defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in missing)
        names = ", ".join(f'"{c}"' for c in self.columns)
        marks = ", ".join("?" for _ in self.columns)
        self.sql = f'INSERT INTO "{self.table}" ({names}) VALUES ({marks})'

    def rows(self, values: list[tuple]) -> Iterator[tuple]:
        defaults = self.defaults
        return (v + defaults for v in values)


def stamp(moment: dt.datetime) -> str:
    """How Django's SQLite backend stores an aware datetime (naive UTC, ``str()``)."""
    return str(moment.astimezone(dt.UTC).replace(tzinfo=None))


STATUS_BY_AGE = [  # (max age in days, [(status, weight)…])
    (7, [("new", 25), ("open", 40), ("pending", 20), ("on_hold", 5), ("solved", 10)]),
    (30, [("open", 15), ("pending", 15), ("on_hold", 5), ("solved", 40), ("closed", 25)]),
    (10_000, [("open", 1), ("pending", 1), ("solved", 10), ("closed", 88)]),
]
PRIORITIES = ([1, 2, 3, 4], [10, 70, 15, 5])
PEER_STATUS = {"open": "open", "reopened": "open", "resolved": "solved", "closed": "closed"}
PEER_PRIORITY = {1: 4, 2: 3, 3: 2, 4: 1, 5: 1}  # 1 = critical there, 4 = urgent here


class Loader:
    def __init__(self, info: dict, now: dt.datetime, seed: int) -> None:
        from mostrador.conversations.models import Conversation, ConversationTag, Message
        from mostrador.conversations.search import MAX_INDEXED_CHARS, fold
        from mostrador.customers.models import Customer, Identity

        self.fold, self.max_chars = fold, MAX_INDEXED_CHARS
        self.info, self.now, self.rng = info, now, random.Random(seed)
        self.customer = Table(Customer, ["id", "name", "language", "created_at", "updated_at"])
        self.identity = Table(Identity, ["customer_id", "kind", "external_id", "created_at"])
        self.conversation = Table(Conversation, [
            "id", "inbox_id", "customer_id", "subject", "status", "priority", "assignee_id",
            "team_id", "language", "channel_kind", "message_count", "created_at", "updated_at",
            "last_activity_at", "waiting_since", "first_response_at", "solved_at", "closed_at"])
        self.message = Table(Message, [
            "id", "conversation_id", "inbox_id", "direction", "author_kind", "author_customer_id",
            "channel_kind", "subject", "text", "reply_text", "provider_id", "meta", "created_at"])
        self.tag = Table(ConversationTag, ["conversation_id", "tag_id"])
        self.tag_ids = list(info["tags"].values())
        # A few tags are everywhere, most are rare (as on a real desk).
        self.tag_weights = [1 / (k + 1) for k in range(len(self.tag_ids))]
        self.counts = dict.fromkeys(["customers", "conversations", "messages", "search_rows",
                                     "conversation_tags"], 0)

    # one conversation's rows
    def conversation_rows(self, cid: int, mid: int, *, customer_id: int, name: str, email: str,
                          lang: str, subject: str, text: str, created: dt.datetime,
                          status: str, priority: int, inbox: int, assignee: int | None):
        rng = self.rng
        team = (self.info["agent_team"][str(assignee)] if assignee is not None
                else self.info["inbox_team"][str(inbox)])
        # Last activity within a week of creation (recent ones: before now, spread evenly).
        window = min(dt.timedelta(days=7), self.now - created)
        activity = created + window * rng.random()
        if status == "new":
            activity = created
        waiting = activity if status in {"new", "open"} else None
        first_response = (created + dt.timedelta(minutes=rng.randrange(5, 24 * 60))
                          if status != "new" else None)
        if first_response and first_response > activity:
            first_response = activity
        solved = activity if status in {"solved", "closed"} else None
        closed = activity if status == "closed" else None
        conv = (cid, inbox, customer_id, subject[:500], status, priority, assignee, team, lang,
                "email", 1, stamp(created), stamp(activity), stamp(activity),
                waiting and stamp(waiting), first_response and stamp(first_response),
                solved and stamp(solved), closed and stamp(closed))
        message = (mid, cid, inbox, "inbound", "customer", customer_id, "email", subject[:500],
                   text, text, f"<bench.{cid}@{email.rpartition('@')[2]}>",
                   json.dumps({"sender": email}), stamp(created))
        search = (mid, cid, self.fold(f"{subject}\n{text}"[:self.max_chars]))
        tags = []
        roll = rng.random()
        if roll < 0.35:
            picked = set(rng.choices(self.tag_ids, self.tag_weights, k=1 if roll < 0.27 else 2))
            tags = [(cid, t) for t in picked]
        return conv, message, search, tags


def _secondary_indexes(db: sqlite3.Connection, tables: list[str]) -> list[tuple[str, str]]:
    marks = ", ".join("?" for _ in tables)
    return db.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT "
                      f"NULL AND tbl_name IN ({marks})", tables).fetchall()


def _next_id(db: sqlite3.Connection, table: str) -> int:
    return (db.execute(f'SELECT max(id) FROM "{table}"').fetchone()[0] or 0) + 1


def load(var_dir: Path, source: Iterator[dict], *, seed: int, total: int,
         analyze: bool = False) -> dict:
    """Write the conversations ``source`` yields (dicts from :func:`synthetic` or
    :func:`from_payloads`)."""
    from django.db import connection

    from mostrador.conversations.models import Conversation

    if connection.vendor != "sqlite":
        raise SystemExit("the bulk loader writes the embedded SQLite database only")
    info = baseline(var_dir)
    path = connection.settings_dict["NAME"]
    now = dt.datetime.now(dt.UTC)
    loader = Loader(info, now, seed)
    connection.close()

    started = time.perf_counter()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=DELETE")
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-1000000")
    db.execute("PRAGMA temp_store=MEMORY")
    tables = [loader.customer.table, loader.identity.table, loader.conversation.table,
              loader.message.table, loader.tag.table]
    indexes = _secondary_indexes(db, tables)
    for name, _sql in indexes:
        db.execute(f'DROP INDEX "{name}"')
    customers_by_email = dict(db.execute(
        f'SELECT external_id, customer_id FROM "{loader.identity.table}" WHERE kind = ?',
        ["email"]).fetchall())
    next_customer = _next_id(db, loader.customer.table)
    next_conversation = _next_id(db, loader.conversation.table)
    next_message = _next_id(db, loader.message.table)

    batches = {t: [] for t in ("customer", "identity", "conversation", "message", "search",
                               "tag")}

    def flush() -> None:
        db.execute("BEGIN")
        for key, table in (("customer", loader.customer), ("identity", loader.identity),
                           ("conversation", loader.conversation), ("message", loader.message),
                           ("tag", loader.tag)):
            if batches[key]:
                db.executemany(table.sql, table.rows(batches[key]))
        if batches["search"]:
            db.executemany("INSERT INTO search_messages (rowid, conversation_id, body) "
                           "VALUES (?, ?, ?)", batches["search"])
        db.execute("COMMIT")
        loader.counts["customers"] += len(batches["customer"])
        loader.counts["conversations"] += len(batches["conversation"])
        loader.counts["messages"] += len(batches["message"])
        loader.counts["search_rows"] += len(batches["search"])
        loader.counts["conversation_tags"] += len(batches["tag"])
        for rows in batches.values():
            rows.clear()

    for item in source:
        email = item["email"].lower()
        customer_id = customers_by_email.get(email)
        if customer_id is None:
            customer_id = customers_by_email[email] = next_customer
            next_customer += 1
            created = stamp(item["created"])
            batches["customer"].append((customer_id, item["name"][:200], item["lang"], created,
                                        created))
            batches["identity"].append((customer_id, "email", email, created))
        conv, message, search_row, tags = loader.conversation_rows(
            next_conversation, next_message, customer_id=customer_id, name=item["name"],
            email=email, lang=item["lang"], subject=item["subject"], text=item["text"],
            created=item["created"], status=item["status"], priority=item["priority"],
            inbox=item["inbox"], assignee=item["assignee"])
        next_conversation += 1
        next_message += 1
        batches["conversation"].append(conv)
        batches["message"].append(message)
        batches["search"].append(search_row)
        batches["tag"].extend(tags)
        if len(batches["conversation"]) >= CHUNK:
            flush()
            print(f"  {loader.counts['conversations']:,} / {total:,} conversations "
                  f"({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    flush()
    rows_seconds = time.perf_counter() - started
    for _name, sql in indexes:
        db.execute(sql)
    index_seconds = time.perf_counter() - started - rows_seconds
    if analyze:
        db.execute("ANALYZE")
    db.execute("PRAGMA journal_mode=WAL")
    words = _probe_words(db)
    db.close()
    return {
        **loader.counts, "conversations_in_db": Conversation.objects.count(),
        "rows_seconds": round(rows_seconds, 1), "index_seconds": round(index_seconds, 1),
        "seconds": round(time.perf_counter() - started, 1), "analyze": analyze,
        **info, "words": words,
    }


def _probe_words(db: sqlite3.Connection) -> dict:
    """How many messages some words match: common ones, and a few six-digit numbers (order
    numbers, phone digits) taken from messages spread over the table, which are rare."""
    rare = []
    low, high = db.execute("SELECT min(rowid), max(rowid) FROM search_messages").fetchone()
    for k in range(1, 40):
        if len(rare) >= 3 or low is None:
            break
        row = db.execute("SELECT body FROM search_messages WHERE rowid >= ? LIMIT 1",
                         [low + (high - low) * k // 40]).fetchone()
        found = re.findall(r"\b\d{6}\b", row[0] if row else "")
        if found and found[0] not in rare:
            rare.append(found[0])
    out = {}
    for word in ["pedido", "refund", "factura", "contrasena", *rare]:
        out[word] = db.execute("SELECT count(*) FROM search_messages WHERE search_messages "
                               "MATCH ?", [f'"{word}"*']).fetchone()[0]
    return out


# --- sources --------------------------------------------------------------------------------


def synthetic(n: int, seed: int, now: dt.datetime, info: dict) -> Iterator[dict]:
    """``n`` conversations over the two years before ``now``; customers about one per ten
    conversations; texts from the peer corpus's generator (Spanish and English requests)."""
    sys.path.insert(0, str(PEER_BENCH))
    from corpus import make_customer, make_ticket_text

    rng = random.Random(seed)
    span = dt.timedelta(days=730).total_seconds()
    start = now - dt.timedelta(days=730)
    customers = []
    for i in range(max(100, n // 10)):
        person = make_customer(rng)
        local, _, domain = person["email"].partition("@")
        person["email"] = f"{local}.{i}@{domain}"
        customers.append(person)
    inboxes, agents = info["inboxes"], info["agents"]
    statuses = [(age, [s for s, _ in mix], [w for _, w in mix]) for age, mix in STATUS_BY_AGE]
    for i in range(n):
        created = start + dt.timedelta(seconds=span * i / n + rng.random() * span / n)
        age = (now - created).days
        choices, weights = next((s, w) for limit, s, w in statuses if age < limit)
        status = rng.choices(choices, weights)[0]
        person = customers[rng.randrange(len(customers))]
        text = make_ticket_text(rng, person)
        unassigned = rng.random() < (0.7 if status == "new" else 0.1)
        yield {"email": person["email"], "name": person["name"], "lang": person["lang"],
               "subject": text["subject"], "text": text["body"], "created": created,
               "status": status, "priority": rng.choices(*PRIORITIES)[0],
               "inbox": inboxes[rng.choices([0, 1, 2], [60, 25, 15])[0]],
               "assignee": None if unassigned else rng.choice(agents),
               "order": text["slots"]["order"]}


def from_payloads(path: Path, skip: int, count: int, info: dict) -> Iterator[dict]:
    """The peer harness's neutral ticket payloads (queue → inbox, assignee index → agent)."""
    with open(path, encoding="utf-8") as handle:
        for index, line in enumerate(handle):
            if index < skip:
                continue
            if index >= skip + count:
                return
            p = json.loads(line)
            created = dt.datetime.fromisoformat(p["created"])
            yield {"email": p["submitter_email"], "name": "", "lang": p.get("lang", ""),
                   "subject": p["title"], "text": p["description"], "created": created,
                   "status": PEER_STATUS[p["status"]], "priority": PEER_PRIORITY[p["priority"]],
                   "inbox": info["inboxes"][p["queue"] % len(info["inboxes"])],
                   "assignee": (None if p["assignee"] is None
                                else info["agents"][p["assignee"] % len(info["agents"])])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, help="synthetic conversations to add")
    parser.add_argument("--payloads", type=Path, help="peer payload file (JSON Lines)")
    parser.add_argument("--skip", type=int, default=0)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE afterwards")
    parser.add_argument("--baseline-only", action="store_true",
                        help="create the agents, teams, inboxes and tags only")
    args = parser.parse_args(argv)
    setup_django()
    from django.conf import settings

    var_dir = Path(settings.VAR_DIR)
    info = baseline(var_dir)
    now = dt.datetime.now(dt.UTC)
    if args.baseline_only:
        print(json.dumps(info))
        return 0
    if args.payloads:
        source, total = from_payloads(args.payloads, args.skip, args.count, info), args.count
    elif args.conversations:
        source = synthetic(args.conversations, args.seed, now, info)
        total = args.conversations
    else:
        parser.error("give --conversations N or --payloads FILE --count N")
    result = load(var_dir, source, seed=args.seed, total=total, analyze=args.analyze)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
