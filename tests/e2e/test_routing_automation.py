"""Routing and automation in a real browser, from setting up to the receiver's end: a supervisor
builds an L1 → L2 → L3 ladder of new teams with round robin, an agent's status, skills and
capacity, an inbox for the L1 team and a time rule; an administrator subscribes a webhook (a
receiver in this test) to escalations. Two customers write: the first reaches the L1 agent, the
second waits (capacity 1). The agent escalates the first with a note: tier 2, the thread and the
customer's waiting time are kept, L2's agent takes it over and the receiver gets one signed
POST. The time rule fires once however often it is run. Selectors are ids, names and the test's
own words, so the test reads the same in any language."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mostrador.automation.webhooks import verify
from mostrador.core.demo import ADMIN_EMAIL, DEMO_PASSWORD
from tests.e2e.conftest import CHROMIUM

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.xdist_group("e2e"),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} is missing: install Debian's chromium "
                              f"(make test does, with apt-get) to run the browser tests"),
]

SUPERVISOR = "carla@demo.mostrador.local"
# Away in the demo desk: a member of the L1 team who must not get its conversations.
AWAY_MEMBER = "Carla Méndez"
# Online, tier 2, with room: the L2 team's agent.
L2_AGENT = "Beto Ruiz"
WAIT = 20.0

# Run inside ``mostrador shell``: two customers write to the test's inbox. Tasks run inline,
# so routing has decided about both conversations when the command returns.
DELIVER = r"""
import json
from mostrador.channels.base import InboundMessage
from mostrador.conversations import actions
from mostrador.conversations.models import Conversation, Inbox
from mostrador.core.tasks import run_inline

inbox = Inbox.objects.get(name=INBOX)
ids = []
with run_inline():
    for number, text in enumerate(TEXTS):
        ids.append(actions.receive_inbound(inbox, InboundMessage(
            sender_kind="email", sender_id=f"{TAG}-{number}@cliente.example",
            sender_name=f"Cliente {number} {TAG}", provider_id=f"<{TAG}-{number}@cliente.example>",
            subject=f"Consulta {number} {TAG}", text=text, reply_text=text)).conversation.pk)
rows = {c.pk: {"assignee": c.assignee_id, "team": c.team_id, "tier": c.tier,
               "status": c.status, "waiting_since": c.waiting_since.isoformat()}
        for c in Conversation.objects.filter(pk__in=ids)}
print("DELIVERED " + json.dumps([rows[pk] | {"id": pk} for pk in ids]))
"""

# Run inside ``mostrador shell``: the minute task's work an hour and more ahead, twice, then
# again after the rule waits longer (which makes it look at stays it already saw).
TIME_TRAVEL = r"""
import datetime as dt
import json
from django.contrib.auth import get_user_model
from django.utils import timezone
from mostrador.automation import actions
from mostrador.automation.models import TimeRule, TimeRuleFiring

rule = TimeRule.objects.get(pk=RULE)
later = timezone.now() + dt.timedelta(hours=1, minutes=1)
actions.run_time_rules(now=later)
actions.run_time_rules(now=later)
supervisor = get_user_model().objects.get(username=SUPERVISOR)
actions.do_update_time_rule(rule, hours=2, acting_user=supervisor)
actions.run_time_rules(now=later + dt.timedelta(hours=1))
firings = list(TimeRuleFiring.objects.filter(rule=rule).values_list("conversation_id", flat=True))
print("FIRINGS " + json.dumps(firings))
"""


@dataclasses.dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A webhook receiver on 127.0.0.1 that keeps every request and answers 204."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.requests.append(Received(self.path, dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/mostrador"

    def about(self, conversation_id: int) -> list[Received]:
        with self._lock:
            requests = list(self.requests)
        return [r for r in requests
                if json.loads(r.body)["data"].get("conversation", {}).get("id")
                == conversation_id]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
        thread.join(timeout=5)


def sign_in(page, url: str, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{url}/account/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(f"{url}/**")
    page.wait_for_load_state()


def new_page(browser):
    context = browser.new_context(locale="es-ES")
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def poll(what: str, check: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout:.0f} s still not true: {what}")
        time.sleep(0.1)


def submit(page, pattern: str) -> None:
    page.locator("main form.settings-form button[type=submit]:not([formaction])").click()
    page.wait_for_url(re.compile(pattern))


def create_team(page, url: str, name: str, tier: int, members: list[str]) -> tuple[int, dict]:
    """The team's id and the user id of each member (by display name)."""
    page.goto(f"{url}/settings/teams/new/")
    page.fill("#id_name", name)
    page.select_option("#id_tier", str(tier))
    submit(page, r".*/settings/teams/\d+/$")
    team_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    ids = {}
    for member in members:
        box = page.get_by_label(member, exact=True)
        box.check()
        ids[member] = int(box.get_attribute("value"))
    submit(page, r".*/settings/teams/$")
    return team_id, ids


def set_team_routing(page, url: str, team_id: int, escalates_to: int) -> None:
    page.goto(f"{url}/settings/routing/teams/{team_id}/")
    page.select_option("#id_strategy", "round_robin")
    page.select_option("#id_escalates_to", str(escalates_to))
    submit(page, rf".*/settings/routing/#team-{team_id}$")


def assignee_of(page, url: str, conversation_id: int) -> str:
    page.goto(f"{url}/c/{conversation_id}/")
    return page.input_value("#id_assignee")


def test_ladder_capacity_escalation_webhook_and_time_rule(browser, page, live_desk, receiver):
    url, tag = live_desk.url, "e2e" + uuid.uuid4().hex[:8]
    l1_name, l2_name, l3_name = f"L1 {tag}", f"L2 {tag}", f"L3 {tag}"
    agent_name, agent_email = f"Nora {tag}", f"nora.{tag}@demo.mostrador.local"
    inbox_name, rule_name = f"Buzón {tag}", f"Sigue abierta {tag}"
    texts = [f"Hola, el pedido {tag} llegó roto.", f"Buenas, no puedo entrar en mi cuenta {tag}."]
    note = f"Revisar el envío {tag} con almacén"
    reminder = f"Lleva una hora en L2 {tag}"

    # --- the supervisor sets up the ladder, the agent, the inbox and the time rule --------
    sign_in(page, url, SUPERVISOR)
    page.goto(f"{url}/settings/users/new/")
    page.fill("#id_email", agent_email)
    page.fill("#id_display_name", agent_name)
    page.select_option("#id_role", "agent")
    page.select_option("#id_tier", "1")
    page.check("input[name=password_delivery][value=show]")
    page.locator("form.settings-form button[type=submit]").click()
    agent_password = page.locator("#new-password").inner_text().strip()
    agent_id = int(re.search(r"/settings/users/(\d+)/", page.url)[1])

    l3, _ = create_team(page, url, l3_name, 3, [])
    l2, l2_members = create_team(page, url, l2_name, 2, [L2_AGENT])
    l1, l1_members = create_team(page, url, l1_name, 1, [agent_name, AWAY_MEMBER])
    assert l1_members[agent_name] == agent_id
    set_team_routing(page, url, l1, escalates_to=l2)
    set_team_routing(page, url, l2, escalates_to=l3)

    # The demo desk's agents start offline; the L2 agent is put online like the new one.
    beto_id = l2_members[L2_AGENT]
    page.goto(f"{url}/settings/routing/agents/{beto_id}/")
    page.select_option("#id_status", "online")
    submit(page, rf".*/settings/routing/#agent-{beto_id}$")

    page.goto(f"{url}/settings/routing/agents/{agent_id}/")
    page.select_option("#id_status", "online")
    page.fill("#id_skills", "language:es, channel:email")
    page.fill("#id_capacity_email", "1")
    submit(page, rf".*/settings/routing/#agent-{agent_id}$")
    assert page.locator(f"#agent-{agent_id} .agent-online").count() == 1
    assert page.locator(f"#agent-{agent_id} .tag").all_inner_texts() == ["channel:email",
                                                                         "language:es"]
    for team_id, next_name in ((l1, l2_name), (l2, l3_name)):
        row = page.locator(f"#team-{team_id}")
        assert row.locator(".badge.state-on").count() == 1  # an automatic rule
        assert next_name in row.inner_text()

    page.goto(f"{url}/settings/inboxes/new/")
    page.fill("#id_name", inbox_name)
    page.fill("#id_address", f"{tag}@tienda.example")
    page.select_option("#id_default_team", str(l1))
    assert not page.is_checked("#id_catch_all")
    submit(page, r".*/settings/$")

    # Open for an hour in the L2 team: a note. Built with the rule builder's rows.
    page.goto(f"{url}/settings/automation/time-rules/new/")
    page.fill("#id_name", rule_name)
    page.select_option("#id_status", "open")
    page.fill("#id_hours", "1")
    conditions = page.locator("[data-rule-builder=conditions] .rb-group").first
    conditions.locator("> button").click()
    condition = conditions.locator(".rb-row")
    condition.locator("select").nth(0).select_option("team")
    condition.locator("select").nth(1).select_option("is")
    condition.locator(".rb-value select").select_option(label=l2_name)
    actions = page.locator("[data-rule-builder=actions]")
    actions.locator("> button.btn").click()
    actions.locator(".rb-row select").first.select_option("add_note")
    actions.locator(".rb-row textarea[lang=es]").fill(reminder)
    page.locator("form.automation-form .form-actions button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/settings/automation/#time-rule-\d+$"))
    rule_id = int(page.url.rsplit("-", 1)[1])

    # --- the administrator subscribes the receiver to escalations ---------------------------
    admin = new_page(browser)
    try:
        sign_in(admin, url, ADMIN_EMAIL)
        admin.goto(f"{url}/settings/webhooks/new/")
        admin.fill("#id_name", f"Receptor {tag}")
        admin.fill("#id_url", receiver.url)
        admin.check("input[name=event_types][value='routing.escalated']")
        admin.locator("form.webhook-form button[type=submit]").click()
        admin.wait_for_url(re.compile(r".*/settings/webhooks/\d+/$"))
        secret = admin.locator("#new-secret").inner_text().strip()
    finally:
        admin.context.close()
    assert secret.startswith("whsec_")

    # --- two customers write: the first reaches the agent, the second waits ---------------
    code = f"INBOX = {inbox_name!r}\nTAG = {tag!r}\nTEXTS = {texts!r}\n" + DELIVER
    first, second = live_desk.shell_json(code, "DELIVERED")
    assert (first["assignee"], first["team"], first["tier"], first["status"]) == (
        agent_id, l1, 1, "open")
    assert (second["assignee"], second["team"], second["status"]) == (None, l1, "new")
    page.goto(f"{url}/settings/routing/")
    assert page.locator(f"#team-{l1} td.count").inner_text() == "1"

    # --- the agent escalates the first one with a note -------------------------------------
    agent = new_page(browser)
    try:
        sign_in(agent, url, agent_email, agent_password)
        agent.goto(f"{url}/c/{first['id']}/")
        assert agent.input_value("#id_assignee") == str(agent_id)
        panel = agent.locator(".routing-figures")
        panel.wait_for()
        assert l1_name in panel.locator("dd").first.inner_text()
        waiting_before = panel.locator("time").get_attribute("datetime")
        # The customer's first message, as the page writes it (to the second).
        assert abs(dt.datetime.fromisoformat(waiting_before)
                   - dt.datetime.fromisoformat(first["waiting_since"])) < dt.timedelta(seconds=1)

        agent.fill("#routing-note", note)
        agent.locator("form.routing-move button[formaction$='/escalate/']").click()
        panel = agent.locator(".routing-figures", has_text=l2_name)
        panel.wait_for()
        assert panel.locator("dd").first.inner_text().startswith("2")
        assert panel.locator("time").get_attribute("datetime") == waiting_before
        assert agent.locator(".msg-inbound", has_text=texts[0]).count() == 1
        assert agent.locator(".msg-note", has_text=note).count() == 1
        escalation = agent.locator("#timeline .event").filter(has_text=l1_name).filter(
            has_text=l2_name)
        assert escalation.count() == 1
        assert agent_name in escalation.inner_text()  # by the agent

        # The L2 team's round robin finds it an agent of its own.
        poll(f"{L2_AGENT} gets the escalated conversation",
             lambda: assignee_of(agent, url, first["id"]) == str(l2_members[L2_AGENT]))
        # The room it freed goes to the next in the L1 queue at once, not at the minute sweep.
        poll(f"{agent_name} gets the waiting conversation",
             lambda: assignee_of(agent, url, second["id"]) == str(agent_id))
    finally:
        agent.context.close()

    poll("the receiver gets the escalation", lambda: receiver.about(first["id"]))

    # --- the time rule fires once, however often it runs ----------------------------------
    code = f"RULE = {rule_id}\nSUPERVISOR = {SUPERVISOR!r}\n" + TIME_TRAVEL
    assert live_desk.shell_json(code, "FIRINGS") == [first["id"]]
    page.goto(f"{url}/c/{first['id']}/")
    assert page.locator("#timeline .event", has_text=rule_name).count() == 1
    assert page.locator(".msg-note", has_text=reminder).count() == 1
    page.goto(f"{url}/settings/automation/")
    assert page.locator(f"#time-rule-{rule_id} td.fired").inner_text().startswith("1 ")

    # --- exactly one signed POST, about this escalation ------------------------------------
    (delivery,) = receiver.about(first["id"])
    headers = {k.lower(): v for k, v in delivery.headers.items()}
    assert delivery.path == "/hooks/mostrador"
    assert headers["x-mostrador-event"] == "routing.escalated"
    assert verify(secret, delivery.body, headers["x-mostrador-signature"])
    assert not verify(secret, delivery.body + b" ", headers["x-mostrador-signature"])
    payload = json.loads(delivery.body)
    assert payload["id"] == headers["x-mostrador-delivery"]
    event, conversation = payload["data"]["event"], payload["data"]["conversation"]
    assert event["kind"] == "routing.escalated"
    assert event["actor"]["id"] == agent_id
    assert (event["before"]["tier"], event["before"]["team"]) == (1, l1)
    assert (event["after"]["tier"], event["after"]["team"], event["after"]["note"]) == (
        2, l2, True)
    assert (conversation["tier"], conversation["team_id"]) == (2, l2)
