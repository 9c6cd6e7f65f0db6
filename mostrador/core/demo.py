"""The demo desk: a believable, bilingual help desk to try Mostrador on.

:func:`seed_demo_desk` fills an empty desk with the agents of the house personas (diego admin,
carla supervisor, ana and lucía L1, beto L2, sam billing), three teams, two e-mail inboxes
(``soporte@demo.mostrador.local`` catches mail to any address), customers writing in Spanish and
English, and a few thousand conversations of an online shop over the last 90 days: late orders,
refunds, invoices, log-in trouble, double charges, address changes, cancellations.

Conversations are made through the real doors: :func:`receive_inbound` for every customer
message (with its own ``now=`` in the past), and ``do_send_reply``, ``do_add_note``,
``do_assign``, ``do_set_team``, ``do_add_tags``, ``do_change_priority``, ``do_change_status``
for what agents do. Two things are demo-only, and only here:

* **Replies are never delivered.** Right after ``do_send_reply`` the seeder records the reply
  as sent with the delivery worker's own bookkeeping (``do_mark_sent``, with the Message-ID the
  e-mail adapter would have given it) without calling the adapter, so demo replies show as sent
  and nothing reaches the outbox or a relay. The delivery task that ``do_send_reply`` queues on
  commit runs in-line (:func:`mostrador.core.tasks.run_inline`), finds the reply no longer
  queued and does nothing.
* **Agent actions are back-dated afterwards.** The actions stamp ``timezone.now()``; the seeder
  notes the real time before each action and the moment in the past it stands for, and once
  everything is written it rewrites, in bulk, the timestamps written after seeding began
  (events, messages, conversation clocks) to the moments they stand for.

Everything runs in one transaction: an interrupted seeding leaves an empty desk, and seeding
again is a no-op once the demo admin exists. The same ``seed`` gives the same desk.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import itertools
import random
import time
import unicodedata
import zoneinfo
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from mostrador.accounts.actions import (
    do_create_api_token,
    do_create_staff_user,
    do_create_team,
    do_update_agent,
    user_for_token,
)
from mostrador.accounts.models import Agent
from mostrador.channels.base import InboundMessage
from mostrador.channels.registry import get_adapter
from mostrador.conversations import actions
from mostrador.conversations.models import Conversation, Event, Inbox, Message
from mostrador.core import publish, tasks
from mostrador.core.demo_text import (
    ASK_DETAILS,
    CITIES,
    COUPONS,
    CUSTOMER_DETAILS,
    CUSTOMER_NUDGE,
    CUSTOMER_STILL,
    CUSTOMER_THANKS,
    FIRST_NAMES,
    GREETINGS,
    LAST_NAMES,
    MONTHS,
    ON_HOLD_REPLY,
    ORGANISATIONS,
    PERSONAL_DOMAINS,
    PLANS,
    PRODUCTS,
    QUOTE_HEADER,
    REPLY_OPENING,
    REPLY_SIGNATURE,
    SHOP,
    SIGN_OFFS,
    STREETS,
    THANKS_REPLY,
    TOPICS,
    ZONES,
)
from mostrador.customers.actions import do_create_customer, do_create_organisation
from mostrador.customers.models import Customer, CustomerEvent, Organisation

DEMO_DOMAIN = "demo.mostrador.local"
DEMO_PASSWORD = "mostrador-demo"
ADMIN_EMAIL = f"diego@{DEMO_DOMAIN}"
SUPPORT_ADDRESS = f"soporte@{DEMO_DOMAIN}"
BILLING_ADDRESS = f"facturacion@{DEMO_DOMAIN}"
# The demo chat's public key: the widget's data-inbox and the hosted page /chat/<key>/.
DEMO_CHAT_KEY = "wc_demo_tienda"
CHAT_TOPICS = ("Pedidos", "Facturación", "Otro")
TOKEN_FILE = "demo_api_token"

Status = Conversation.Status


@dataclasses.dataclass(frozen=True)
class DemoAgent:
    key: str
    name: str
    role: str
    team: str  # "l1", "l2", "billing" or "" (supervision)
    language: str
    label: str

    @property
    def email(self) -> str:
        return f"{self.key}@{DEMO_DOMAIN}"


AGENTS = (
    DemoAgent("diego", "Diego Torres", Agent.Role.ADMIN, "", "es", "administrator"),
    DemoAgent("carla", "Carla Méndez", Agent.Role.SUPERVISOR, "", "es", "supervisor"),
    DemoAgent("ana", "Ana García", Agent.Role.AGENT, "l1", "es", "agent, Soporte L1"),
    DemoAgent("lucia", "Lucía Fernández", Agent.Role.AGENT, "l1", "es", "agent, Soporte L1"),
    DemoAgent("beto", "Beto Ruiz", Agent.Role.AGENT, "l2", "es", "agent, Soporte L2"),
    DemoAgent("sam", "Sam Taylor", Agent.Role.AGENT, "billing", "en", "agent, Billing"),
)
TEAMS = {"l1": ("Soporte L1", 1), "l2": ("Soporte L2", 2), "billing": ("Facturación / Billing", 1)}
# (e-mail, what they are), for the sign-in list the demo prints.
LOGINS = tuple((agent.email, agent.label) for agent in AGENTS)


@dataclasses.dataclass
class DemoSummary:
    """What :func:`seed_demo_desk` did (``created`` is False when the desk was already there)."""

    created: bool
    conversations: int = 0
    messages: int = 0
    customers: int = 0
    seconds: float = 0.0
    admin_email: str = ADMIN_EMAIL
    password: str = DEMO_PASSWORD
    logins: tuple[tuple[str, str], ...] = LOGINS


def demo_desk_exists() -> bool:
    return get_user_model().objects.filter(username=ADMIN_EMAIL).exists()


def desk_is_empty() -> bool:
    """No inbox and no conversation yet: the only kind of desk the demo is seeded into."""
    return not Inbox.objects.exists() and not Conversation.objects.exists()


def demo_api_token() -> str | None:
    """The demo admin's API token, kept in the data folder so every start can print it.

    A token that was revoked (or a file that went missing) is replaced by a new one.
    """
    user = get_user_model().objects.filter(username=ADMIN_EMAIL, is_active=True).first()
    if user is None:
        return None
    path = settings.VAR_DIR / TOKEN_FILE
    if path.exists():
        token = path.read_text().strip()
        owner = user_for_token(token)
        if owner is not None and owner.pk == user.pk:
            return token
    _record, token = do_create_api_token(user, name="demo")
    path.write_text(token + "\n")
    path.chmod(0o600)
    return token


def seed_demo_desk(*, conversations: int = 2500, customers: int = 300, seed: int = 7,
                   now: dt.datetime | None = None,
                   progress: Callable[[int, int], None] | None = None) -> DemoSummary:
    """Create the demo desk unless its admin exists, all in one transaction.

    The same ``seed`` and ``now`` (default: the current time, which the 90 days run up to) give
    the same desk. ``progress(done, total)`` is called every hundred conversations.
    """
    if demo_desk_exists():
        return DemoSummary(created=False)
    started = time.perf_counter()
    seeder = _Seeder(random.Random(seed), now or timezone.now(), progress)
    with tasks.run_inline(), publish.muted(), transaction.atomic():
        seeder.run(conversations=conversations, customers=max(2, customers))
    # The history above is written with listeners muted (SLA clocks would run in real time
    # while the seeder plays the past); creating the policies afterwards plans the SLA state
    # of the open conversations over the backdated rows (the re-computation runs in-line).
    from mostrador.automation.demo import seed_demo_automation
    from mostrador.knowledge.demo import seed_demo_articles
    from mostrador.sla.demo import seed_demo_sla, settle_history

    with tasks.run_inline(), transaction.atomic():
        seed_demo_sla(acting_user=seeder.users["diego"])
        # Not muted: the help center's articles are indexed and embedded after this commit.
        seed_demo_articles(acting_user=seeder.users["carla"])
    settle_history()
    # Routing and automation come last, muted: they act on what happens from now on.
    with publish.muted(), transaction.atomic():
        seed_demo_automation(users=seeder.users, teams=seeder.teams, inboxes=seeder.inboxes)
    return DemoSummary(
        created=True, conversations=conversations,
        messages=Message.objects.filter(conversation__inbox__in=seeder.inboxes.values()).count(),
        customers=len(seeder.customers), seconds=time.perf_counter() - started,
    )


# Weights of each status by the age of the conversation: recent ones are still being worked,
# old ones are mostly solved and closed.
STATUS_BY_AGE = (
    (3, {Status.NEW: 40, Status.OPEN: 30, Status.PENDING: 20, Status.ON_HOLD: 5,
         Status.SOLVED: 5}),
    (21, {Status.NEW: 5, Status.OPEN: 20, Status.PENDING: 20, Status.ON_HOLD: 10,
          Status.SOLVED: 40, Status.CLOSED: 5}),
    (10_000, {Status.OPEN: 3, Status.PENDING: 4, Status.ON_HOLD: 3, Status.SOLVED: 30,
              Status.CLOSED: 60}),
)
HOUR_WEIGHTS = {h: w for h, w in zip(range(7, 24), (1, 4, 8, 10, 10, 9, 7, 6, 8, 9, 9, 8, 7, 6,
                                                     5, 4, 2), strict=True)}


@dataclasses.dataclass
class _CustomerSpec:
    customer: Customer
    email: str
    name: str
    language: str
    organisation: Organisation | None
    vip: bool

    @property
    def first(self) -> str:
        return self.name.split(" ")[0]


@dataclasses.dataclass
class _Step:
    kind: str  # inbound | triage | note | escalate | reply | status
    gap: dt.timedelta
    at: dt.datetime | None = None
    text: str = ""
    agent: Any = None
    status: str | None = None


class _Seeder:
    def __init__(self, rng: random.Random, now: dt.datetime,
                 progress: Callable[[int, int], None] | None) -> None:
        self.rng = rng
        self.now = now
        self.progress = progress
        self.zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        self.adapter = get_adapter("email")
        self.users: dict[str, Any] = {}
        self.teams: dict[str, Any] = {}
        self.inboxes: dict[str, Inbox] = {}
        self.customers: list[_CustomerSpec] = []
        # Real time before each agent action, and the moment in the past it stands for.
        self.real_marks: list[dt.datetime] = []
        self.sim_marks: list[dt.datetime] = []
        self.real_start = timezone.now()
        self.message_seq = 0

    # -- people and places ---------------------------------------------------------------

    def run(self, *, conversations: int, customers: int) -> None:
        self._make_staff()
        self._make_inboxes()
        self._make_customers(customers)
        plans = self._plan_conversations(conversations)
        for done, plan in enumerate(plans, start=1):
            self._play(plan)
            if self.progress and (done % 100 == 0 or done == len(plans)):
                self.progress(done, len(plans))
        self._backdate()

    def _make_staff(self) -> None:
        User = get_user_model()
        for agent in AGENTS:
            do_create_staff_user(email=agent.email, password=DEMO_PASSWORD,
                                 display_name=agent.name, role=agent.role,
                                 language=agent.language, check_password=False)
        users = User.objects.select_related("agent").filter(
            username__in=[a.email for a in AGENTS])
        self.users = {u.username.split("@")[0]: u for u in users}
        do_update_agent(self.users["beto"].agent, tier=2)
        for key, (name, tier) in TEAMS.items():
            members = [self.users[a.key] for a in AGENTS if a.team == key]
            if key == "billing":
                members.append(self.users["carla"])
            self.teams[key] = do_create_team(name, members=members, tier=tier)

    def _make_inboxes(self) -> None:
        for key, address, name, team, catch_all in (
            ("support", SUPPORT_ADDRESS, "Soporte", "l1", True),
            ("billing", BILLING_ADDRESS, "Facturación", "billing", False),
        ):
            self.inboxes[key] = actions.do_create_inbox(
                name=name, channel_kind="email", default_team=self.teams[team],
                config={"address": address, "from_name": f"{SHOP} · {name}",
                        "catch_all": catch_all},
                acting_user=self.users["diego"])
        self.inboxes["chat"] = actions.do_create_inbox(
            name="Chat", channel_kind="webchat", default_team=self.teams["l1"],
            config={"public_key": DEMO_CHAT_KEY, "topics": list(CHAT_TOPICS),
                    "prechat_fields": [{"name": "name", "required": False},
                                       {"name": "email", "required": False},
                                       {"name": "topic", "required": False}],
                    "greeting": {"es": f"¡Hola! Somos el equipo de {SHOP}. ¿En qué te ayudamos?",
                                 "en": f"Hi! This is the {SHOP} team. How can we help?"}},
            acting_user=self.users["diego"])

    def _make_customers(self, count: int) -> None:
        rng = self.rng
        organisations = []
        for name, domain, language in ORGANISATIONS:
            organisations.append((do_create_organisation(
                name=name, domains=[domain],
                attributes={"plan": "business", "seats": rng.choice((5, 10, 25, 50)),
                            "account_manager": "Carla Méndez"}), domain, language))
        # The house personas first: elena writes in Spanish, frank in English.
        specs = [("Elena Martín", "es", "elena.martin@correo.example", None),
                 ("Frank Miller", "en", "frank.miller@mail.example", None)]
        seen = {spec[2] for spec in specs}
        while len(specs) < count:
            language = "es" if rng.random() < 0.6 else "en"
            name = f"{rng.choice(FIRST_NAMES[language])} {rng.choice(LAST_NAMES[language])}"
            organisation, domain = None, rng.choice(PERSONAL_DOMAINS[language])
            if rng.random() < 0.25:
                org = rng.choice([o for o in organisations if o[2] == language])
                organisation, domain = org[0], org[1]
            local = _ascii(name).replace(" ", ".")
            email = f"{local}@{domain}"
            while email in seen:
                email = f"{local}{rng.randint(2, 99)}@{domain}"
            seen.add(email)
            specs.append((name, language, email, organisation))
        for name, language, email, organisation in specs[:count]:
            ltv = round(rng.lognormvariate(5.2, 1.0), 2)
            plan = "business" if organisation else rng.choices(
                ("basic", "pro", "business"), (60, 30, 10))[0]
            last_purchase = (self.now - dt.timedelta(days=rng.randint(0, 400))).date()
            vip = ltv > 1500
            customer = do_create_customer(
                name=name, identities=[("email", email)], language=language,
                time_zone=rng.choice(ZONES[language]), organisation=organisation,
                segments=["vip"] if vip else [],
                attributes={"plan": plan, "lifetime_value": ltv,
                            "currency": "EUR" if language == "es" else "USD",
                            "last_purchase": last_purchase.isoformat(),
                            "orders": max(1, int(ltv // rng.randint(40, 120)))},
            )
            self.customers.append(_CustomerSpec(customer, email, name, language, organisation,
                                                vip))

    # -- what happens in each conversation -----------------------------------------------

    def _plan_conversations(self, count: int) -> list[dict[str, Any]]:
        rng = self.rng
        starts = sorted(self._start_time() for _ in range(count))
        # A few customers write often, most write once or twice.
        weights = list(itertools.accumulate(1 / (rank + 1) ** 0.7
                                            for rank in range(len(self.customers))))
        plans = []
        for t0 in starts:
            age_days = (self.now - t0).total_seconds() / 86400
            table = next(w for limit, w in STATUS_BY_AGE if age_days < limit)
            status = rng.choices(list(table), list(table.values()))[0]
            plans.append({"t0": t0, "status": status,
                          "customer": rng.choices(self.customers, cum_weights=weights)[0],
                          "topic": rng.choice(TOPICS)})
        # Every status shows up, however small the desk: the newest conversations become the
        # missing active ones, the oldest the missing finished ones.
        missing = [s for s in Status.values if s not in {p["status"] for p in plans}]
        recent, old = list(reversed(range(len(plans)))), list(range(len(plans)))
        taken: set[int] = set()
        for status in missing:
            order = old if status in (Status.SOLVED, Status.CLOSED) else recent
            index = next((i for i in order if i not in taken), None)
            if index is not None:
                taken.add(index)
                plans[index]["status"] = status
        return plans

    def _start_time(self) -> dt.datetime:
        rng = self.rng
        day = (self.now - dt.timedelta(days=90 * rng.random() ** 1.6)).astimezone(self.zone)
        hour = rng.choices(list(HOUR_WEIGHTS), list(HOUR_WEIGHTS.values()))[0]
        start = day.replace(hour=hour, minute=rng.randint(0, 59), second=rng.randint(0, 59),
                            microsecond=0)
        if start > self.now - dt.timedelta(minutes=10):
            start = self.now - dt.timedelta(minutes=rng.randint(10, 600))
        return start

    def _facts(self, spec: _CustomerSpec, t0: dt.datetime) -> dict[str, Any]:
        rng, lang = self.rng, spec.language
        value = rng.choice((19.9, 24.95, 29.9, 39.0, 49.9, 59.99, 89.0, 129.0, 249.0))
        amount = (f"{value:.2f} €".replace(".", ",") if lang == "es" else f"${value:.2f}")
        ordered = t0 - dt.timedelta(days=rng.randint(2, 12))
        return {
            "first": spec.first, "name": spec.name, "amount": amount,
            "order": f"MS-{rng.randint(10000, 99999)}",
            "product": rng.choice(PRODUCTS[lang]), "date": self._date(ordered, lang),
            "date2": self._date(t0 + dt.timedelta(days=rng.randint(3, 30)), lang),
            "days": rng.randint(3, 9), "card": f"{rng.randint(0, 9999):04d}",
            "tracking": (f"ES{rng.randint(10**9, 10**10 - 1)}" if lang == "es"
                         else f"1Z{rng.randint(10**9, 10**10 - 1)}"),
            "city": rng.choice(CITIES[lang]), "street": rng.choice(STREETS[lang]),
            "invoice": f"F{t0.year}-{rng.randint(100, 9999):05d}",
            "company": spec.organisation.name if spec.organisation else spec.name,
            "taxid": (f"B{rng.randint(10**7, 10**8 - 1)}" if lang == "es"
                      else f"GB{rng.randint(10**8, 10**9 - 1)}"),
            "plan": rng.choice(PLANS[lang]), "coupon": rng.choice(COUPONS),
            "phone": f"{rng.randint(0, 999):03d}", "n": rng.randint(1000, 99999),
        }

    @staticmethod
    def _date(moment: dt.datetime, lang: str) -> str:
        month = MONTHS[lang][moment.month - 1]
        return f"{moment.day} de {month}" if lang == "es" else f"{month} {moment.day}"

    def _agent_for(self, team: str) -> Any:
        keys = {"l1": ("ana", "lucia"), "l2": ("beto",), "billing": ("sam", "sam", "carla")}
        return self.users[self.rng.choice(keys[team])]

    def _steps(self, plan: dict[str, Any], facts: dict[str, Any]) -> list[_Step]:
        """The thread a conversation of this status had: 1 to 5 messages plus triage."""
        rng, status, topic = self.rng, plan["status"], plan["topic"]
        lang = plan["customer"].language
        minutes, hours = (lambda a, b: dt.timedelta(minutes=rng.uniform(a, b)),
                          lambda a, b: dt.timedelta(hours=rng.uniform(a, b)))
        team = topic.team
        if topic.key == "login" and status == Status.ON_HOLD:
            team = "l2"
        agent = self._agent_for(team if team != "l2" else "l1")

        def reply(text: str, status: str | None, gap: dt.timedelta, by: Any = None,
                  opening: bool = True) -> _Step:
            return _Step("reply", gap, agent=by or agent, status=status,
                         text=self._reply(text, lang, facts, by or agent, opening=opening))

        def note(by: Any = None) -> _Step:
            author = by or agent
            note_lang = "en" if author.username.startswith("sam@") else "es"
            return _Step("note", minutes(3, 90), agent=author,
                         text=rng.choice(topic.notes[note_lang]).format_map(facts))

        def customer(texts: tuple[str, ...], gap: dt.timedelta) -> _Step:
            return _Step("inbound", gap, text=rng.choice(texts).format_map(facts))

        steps = [_Step("inbound", dt.timedelta(0))]
        if status == Status.NEW:
            steps.append(_Step("triage", minutes(5, 120), agent=None))
            if rng.random() < 0.3:
                steps.append(customer(CUSTOMER_NUDGE[lang], hours(20, 50)))
            return steps
        steps.append(_Step("triage", minutes(2, 180), agent=agent))
        topic_reply = rng.choice(topic.replies[lang])
        if status == Status.OPEN:
            if rng.random() < 0.5:
                steps.append(note())
            else:
                steps += [reply(ASK_DETAILS[lang], Status.PENDING, minutes(15, 600)),
                          customer(CUSTOMER_STILL[lang] + CUSTOMER_DETAILS[lang], hours(1, 30))]
        elif status == Status.PENDING:
            if rng.random() < 0.3:
                steps.append(note())
            if rng.random() < 0.35:
                steps += [reply(ASK_DETAILS[lang], Status.PENDING, minutes(15, 600)),
                          customer(CUSTOMER_DETAILS[lang], hours(1, 30))]
            steps.append(reply(topic_reply, Status.PENDING, minutes(15, 900)))
        elif status == Status.ON_HOLD:
            specialist = self.users["beto"] if team == "l2" else agent
            steps.append(note())
            if specialist is not agent:
                steps.append(_Step("escalate", minutes(1, 10), agent=specialist))
            steps += [reply(ON_HOLD_REPLY[lang], None, minutes(10, 240), by=specialist),
                      _Step("status", minutes(1, 5), agent=specialist, status=Status.ON_HOLD)]
        else:  # solved, closed
            if rng.random() < 0.3:
                steps.append(note())
            if rng.random() < 0.5:
                steps += [reply(topic_reply, Status.PENDING, minutes(15, 900)),
                          customer(CUSTOMER_THANKS[lang], hours(1, 40)),
                          reply(THANKS_REPLY[lang], Status.SOLVED, minutes(10, 300),
                                opening=False)]
            else:
                steps.append(reply(topic_reply, Status.SOLVED, minutes(15, 900)))
            if status == Status.CLOSED:
                steps.append(_Step("status", hours(72, 120), agent=self.users["carla"],
                                   status=Status.CLOSED))
        return steps

    def _reply(self, body: str, lang: str, facts: dict[str, Any], agent: Any, *,
               opening: bool = True) -> str:
        first = agent.agent.display_name.split(" ")[0]
        parts = (REPLY_OPENING[lang], body) if opening else (body,)
        return "\n\n".join((*parts, REPLY_SIGNATURE[lang])).format_map(
            {**facts, "agent": first})

    def _schedule(self, t0: dt.datetime, steps: list[_Step]) -> None:
        """Lay the steps out in time from ``t0``: agents act in working hours (8:00 to 21:00
        at the desk), and a thread that would run past now is squeezed to end before it."""
        moment, offsets = t0, []
        for step in steps:
            moment = moment + step.gap
            if step.kind != "inbound":
                moment = self._working_time(moment)
            offsets.append(moment - t0)
        total = offsets[-1]
        room = self.now - dt.timedelta(minutes=2) - t0
        # A thread that cannot have happened yet is squeezed, each to its own share of the time
        # since it started, so recent conversations do not all end at the same minute.
        scale = 1.0 if total <= room else room * self.rng.uniform(0.3, 1.0) / total
        for step, offset in zip(steps, offsets, strict=True):
            step.at = t0 + offset * scale

    def _working_time(self, moment: dt.datetime) -> dt.datetime:
        local = moment.astimezone(self.zone)
        if 8 <= local.hour < 21:
            return moment
        day = local.date() if local.hour < 8 else local.date() + dt.timedelta(days=1)
        opening = dt.datetime.combine(day, dt.time(8), tzinfo=self.zone)
        return opening + dt.timedelta(minutes=self.rng.uniform(0, 90))

    def _play(self, plan: dict[str, Any]) -> None:
        rng, spec, topic = self.rng, plan["customer"], plan["topic"]
        lang = spec.language
        facts = self._facts(spec, plan["t0"])
        steps = self._steps(plan, facts)
        self._schedule(plan["t0"], steps)
        billing_inbox = topic.team == "billing" and rng.random() < 0.4
        inbox = self.inboxes["billing" if billing_inbox else "support"]
        subject = rng.choice(topic.subjects[lang]).format_map(facts)
        first_text = "\n\n".join((rng.choice(GREETINGS[lang]),
                                  rng.choice(topic.bodies[lang]).format_map(facts),
                                  f"{rng.choice(SIGN_OFFS[lang])}\n{spec.name}"))
        thread_ids: list[str] = []
        last_reply: Message | None = None
        conversation: Conversation | None = None
        for step in steps:
            if step.kind == "inbound":
                if conversation is None:
                    inbound = self._inbound(spec, inbox, subject, first_text, first_text, [],
                                            None)
                else:
                    text = step.text
                    if last_reply is not None:
                        text = f"{text}\n\n{self._quote(last_reply, lang, inbox)}"
                    inbound = self._inbound(spec, inbox, f"Re: {subject} [#{conversation.pk}]",
                                            text, step.text, thread_ids, conversation.pk)
                result = actions.receive_inbound(inbox, inbound, now=step.at)
                conversation = conversation or result.conversation
                thread_ids.append(inbound.provider_id)
                continue
            assert conversation is not None
            self._mark(step.at)
            if step.kind == "triage":
                self._triage(conversation, plan, step.agent, inbox)
            elif step.kind == "note":
                actions.do_add_note(conversation, step.text, acting_user=step.agent)
            elif step.kind == "escalate":
                actions.do_set_team(conversation, self.teams["l2"], acting_user=step.agent)
                actions.do_assign(conversation, step.agent, acting_user=step.agent)
            elif step.kind == "reply":
                last_reply = actions.do_send_reply(conversation, step.text,
                                                   acting_user=step.agent, status=step.status)
                thread_ids.append(self._record_sent(last_reply))
            elif step.kind == "status":
                actions.do_change_status(conversation, step.status, acting_user=step.agent)

    def _triage(self, conversation: Conversation, plan: dict[str, Any], agent: Any,
                inbox: Inbox) -> None:
        rng, topic, spec = self.rng, plan["topic"], plan["customer"]
        supervisor = self.users["carla"]
        if rng.random() < 0.8 or agent is not None:
            tags = [topic.tag] + (["vip"] if spec.vip else [])
            if rng.random() < 0.1:
                tags.append("redes-sociales" if spec.language == "es" else "social-media")
            actions.do_add_tags(conversation, tags, acting_user=agent or supervisor)
        priority = rng.choice(topic.priority)
        if spec.vip and priority < 3 and rng.random() < 0.5:
            priority += 1
        if priority != Conversation.Priority.NORMAL:
            actions.do_change_priority(conversation, priority, acting_user=agent or supervisor)
        wanted_team = self.teams["l1" if topic.team == "l2" else topic.team]
        if inbox.default_team_id != wanted_team.pk:
            actions.do_set_team(conversation, wanted_team, acting_user=agent or supervisor)
        if agent is not None:
            actions.do_assign(conversation, agent,
                              acting_user=supervisor if rng.random() < 0.3 else agent)

    def _inbound(self, spec: _CustomerSpec, inbox: Inbox, subject: str, text: str,
                 reply_text: str, references: list[str],
                 number: int | None) -> InboundMessage:
        self.message_seq += 1
        domain = spec.email.rsplit("@", 1)[1]
        return InboundMessage(
            sender_kind="email", sender_id=spec.email, sender_name=spec.name,
            provider_id=f"<demo.{self.message_seq}.{self.rng.randint(10**6, 10**7)}@{domain}>",
            subject=subject, text=text, reply_text=reply_text,
            references=list(references), conversation_number=number,
            recipients=[inbox.config["address"]],
        )

    def _quote(self, reply: Message, lang: str, inbox: Inbox) -> str:
        header = QUOTE_HEADER[lang].format(date=self._date(self._sim_of(reply.created_at), lang),
                                           shop=SHOP, address=inbox.config["address"])
        return header + "\n" + "\n".join(f"> {line}" if line else ">"
                                         for line in reply.text.splitlines())

    def _record_sent(self, message: Message) -> str:
        """Demo-only delivery: the worker's bookkeeping without the adapter's ``send``."""
        provider_id = self.adapter.new_provider_id(message)
        actions.do_mark_sent(message, provider_id)
        return provider_id

    # -- back-dating -----------------------------------------------------------------------

    def _mark(self, moment: dt.datetime) -> None:
        self.real_marks.append(timezone.now())
        self.sim_marks.append(moment)

    def _sim_of(self, value: dt.datetime | None) -> dt.datetime | None:
        if value is None or value < self.real_start or not self.real_marks:
            return value
        index = bisect.bisect_right(self.real_marks, value) - 1
        return self.sim_marks[max(index, 0)]

    def _backdate(self) -> None:
        """Demo-only: move what the actions stamped with the real time to the moment each
        action stands for (see the module docstring)."""
        start = self.real_start
        inboxes = list(self.inboxes.values())
        self._rewrite(Event.objects.filter(conversation__inbox__in=inboxes, at__gte=start),
                      ["at"])
        self._rewrite(Message.objects.filter(inbox__in=inboxes, created_at__gte=start),
                      ["created_at", "sent_at"])
        # All of them: a customer's later message re-stamps some clocks with its own (past)
        # time while others keep the real time of an earlier agent action.
        self._rewrite(Conversation.objects.filter(inbox__in=inboxes),
                      ["updated_at", "last_activity_at", "first_response_at", "solved_at",
                       "closed_at", "waiting_since", "status_since"])
        # Customers were "created" before they first wrote, some long before.
        first_contact: dict[int, dt.datetime] = {}
        for customer_id, created in Conversation.objects.filter(inbox__in=inboxes).values_list(
                "customer_id", "created_at"):
            if customer_id not in first_contact or created < first_contact[customer_id]:
                first_contact[customer_id] = created
        changed = []
        for spec in self.customers:
            anchor = first_contact.get(spec.customer.pk, self.now)
            spec.customer.created_at = anchor - dt.timedelta(days=self.rng.uniform(1, 700))
            spec.customer.updated_at = anchor
            changed.append(spec.customer)
        Customer.objects.bulk_update(changed, ["created_at", "updated_at"], batch_size=500)
        for spec in self.customers:
            CustomerEvent.objects.filter(customer=spec.customer, at__gte=start).update(
                at=spec.customer.created_at)

    def _rewrite(self, queryset, fields: list[str]) -> None:
        """Map each of ``fields`` through :meth:`_sim_of`, one parameterised UPDATE per row
        (executemany): far quicker than ``bulk_update``'s CASE expressions at this size."""
        model = queryset.model
        ops = connection.ops
        columns = [model._meta.get_field(f).column for f in fields]
        sql = "UPDATE {} SET {} WHERE {} = %s".format(
            ops.quote_name(model._meta.db_table),
            ", ".join(f"{ops.quote_name(c)} = %s" for c in columns),
            ops.quote_name(model._meta.pk.column))
        params = []
        for row in queryset.values_list("pk", *fields).iterator(chunk_size=2000):
            values = [self._sim_of(v) for v in row[1:]]
            if values != list(row[1:]):
                params.append([*(ops.adapt_datetimefield_value(v) for v in values), row[0]])
        with connection.cursor() as cursor:
            for chunk in itertools.batched(params, 5000):
                cursor.executemany(sql, list(chunk))


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if ch.isascii() and (ch.isalnum() or ch == " "))
