"""Routing in the agent workspace: Settings → Routing (each team's and inbox's assignment rule,
the escalation ladder, queue lengths, agents' status, tier, skills, capacity and load), the
status switch in the header, and escalation, transfer and the routing panel on the
conversation page, with the routing steps in the timeline."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from mostrador.accounts.actions import do_update_agent
from mostrador.accounts.models import Agent
from mostrador.automation import engine
from mostrador.conversations import actions as conv
from mostrador.conversations.models import Conversation, Event
from mostrador.routing import events
from mostrador.routing.actions import do_set_assignment_rule, queue, route
from mostrador.routing.models import AssignmentRule
from mostrador.routing.queries import routing_figures

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _fresh_triggers():
    # Each test's database starts over; so must the process's compiled triggers.
    engine.forget_compiled()
    yield
    engine.forget_compiled()


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def field_errors(response, name: str) -> str:
    found = re.search(rf'<ul class="errorlist" id="id_{name}_error">(.*?)</ul>',
                      response.content.decode(), re.S)
    return re.sub(r"<[^>]+>", " ", found.group(1)).strip() if found else ""


def flashes(client) -> list[str]:
    response = client.get(reverse("web:inbox"))
    return [str(m) for m in response.context["messages"]]


def open_conversation(desk, *, team=None, customer=None, text="Hola, necesito ayuda"):
    conversation = conv.do_create_conversation(inbox=desk.inbox, customer=customer or desk.elena,
                                               subject="Consulta", text=text)
    if team is not None:
        conv.do_set_team(conversation, team, acting_user=None)
        conversation.refresh_from_db()
    return conversation


RULE_FORM = {"strategy": "round_robin", "premium_segments": "vip, enterprise ; vip",
             "include_away": "on", "escalates_to": ""}


# --- who may come in ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["settings_routing", "settings_routing_team",
                                  "settings_routing_inbox", "settings_routing_agent"])
def test_agents_get_the_403_page_and_strangers_the_sign_in(client, desk, name):
    args = {"settings_routing_team": [desk.team_l1.pk],
            "settings_routing_inbox": [desk.inbox.pk],
            "settings_routing_agent": [desk.ana.pk]}.get(name, [])
    url = reverse(f"web:{name}", args=args)
    assert client.get(url)["Location"].startswith(reverse("web:login"))
    client.force_login(desk.ana)
    response = client.get(url)
    assert response.status_code == 403
    assert "Only supervisors and administrators" in text_of(response)
    if name != "settings_routing":
        assert client.post(url, {**RULE_FORM, "status": "online", "tier": "3"}).status_code \
            == 403
    assert not AssignmentRule.objects.exists()
    assert Agent.objects.get(user=desk.ana).tier == 1


def test_the_routing_tab_is_in_the_settings(client, desk):
    client.force_login(desk.carla)
    html = client.get(reverse("web:settings_sla")).content.decode()
    assert reverse("web:settings_routing") in html
    assert reverse("web:settings_automation") in html


# --- teams and inboxes ----------------------------------------------------------------------


def test_a_supervisor_sets_a_team_to_round_robin_with_premium_segments_and_a_ladder(
        client, desk):
    client.force_login(desk.carla)
    url = reverse("web:settings_routing_team", args=[desk.team_l1.pk])
    form = client.get(url)
    assert form.status_code == 200
    assert 'name="premium_segments"' in form.content.decode()

    response = client.post(url, {**RULE_FORM, "escalates_to": str(desk.team_l2.pk)})
    assert response.status_code == 302
    assert response["Location"].endswith(f"#team-{desk.team_l1.pk}")
    rule = AssignmentRule.objects.get(team=desk.team_l1)
    assert (rule.strategy, rule.premium_segments, rule.include_away) == (
        "round_robin", ["enterprise", "vip"], True)
    desk.team_l1.refresh_from_db()
    assert desk.team_l1.escalates_to_id == desk.team_l2.pk
    assert "Routing of the team Soporte L1 was saved" in " ".join(flashes(client))

    # The form shows what was saved.
    html = client.get(url).content.decode()
    assert 'value="enterprise, vip"' in html
    assert f'<option value="{desk.team_l2.pk}" selected>' in html


def test_a_team_can_go_back_to_its_inbox_rule(client, desk):
    do_set_assignment_rule(team=desk.team_l1, strategy="least_loaded", acting_user=desk.carla)
    client.force_login(desk.carla)
    response = client.post(reverse("web:settings_routing_team", args=[desk.team_l1.pk]),
                           {**RULE_FORM, "strategy": ""})
    assert response.status_code == 302
    assert not AssignmentRule.objects.filter(team=desk.team_l1).exists()
    html = text_of(client.get(reverse("web:settings_routing")))
    assert "The inbox's rule" in html


def test_a_ladder_that_loops_is_refused_next_to_the_field(client, desk):
    client.force_login(desk.carla)
    client.post(reverse("web:settings_routing_team", args=[desk.team_l1.pk]),
                {**RULE_FORM, "escalates_to": str(desk.team_l2.pk)})
    response = client.post(reverse("web:settings_routing_team", args=[desk.team_l2.pk]),
                           {**RULE_FORM, "strategy": "skills",
                            "escalates_to": str(desk.team_l1.pk)})
    assert response.status_code == 200
    assert "loop" in field_errors(response, "escalates_to")
    desk.team_l2.refresh_from_db()
    assert desk.team_l2.escalates_to_id is None
    # Nothing of the form was kept: the rule and the ladder change together.
    assert not AssignmentRule.objects.filter(team=desk.team_l2).exists()


def test_the_overview_lists_rules_ladders_and_queue_lengths(client, desk):
    do_set_assignment_rule(team=desk.team_l1, strategy="round_robin",
                           premium_segments=["vip"], acting_user=desk.carla)
    do_set_assignment_rule(inbox=desk.inbox, strategy="least_loaded", acting_user=desk.carla)
    for _ in range(3):
        open_conversation(desk, team=desk.team_l1)
    open_conversation(desk)  # no team: the inbox's queue
    taken = open_conversation(desk, team=desk.team_l1)
    conv.do_assign(taken, desk.ana, acting_user=desk.carla)
    assert len(queue(team_id=desk.team_l1.pk)) == 3
    assert len(queue(inbox_id=desk.inbox.pk)) == 1

    client.force_login(desk.carla)
    response = client.get(reverse("web:settings_routing"))
    html = response.content.decode()
    team_row = re.search(rf'<tr id="team-{desk.team_l1.pk}">(.*?)</tr>', html, re.S).group(1)
    assert "Round robin" in team_row and "vip" in team_row
    assert re.search(r'<td class="count">3</td>', team_row)
    inbox_row = re.search(rf'<tr id="inbox-{desk.inbox.pk}">(.*?)</tr>', html, re.S).group(1)
    assert "Least loaded" in inbox_row
    assert re.search(r'<td class="count">1</td>', inbox_row)


def test_an_inbox_rule_for_conversations_without_a_team(client, desk):
    client.force_login(desk.carla)
    response = client.post(reverse("web:settings_routing_inbox", args=[desk.inbox.pk]),
                           {"strategy": "skills", "premium_segments": "", "include_away": ""})
    assert response.status_code == 302
    rule = AssignmentRule.objects.get(inbox=desk.inbox)
    assert (rule.strategy, rule.premium_segments, rule.include_away) == ("skills", [], False)


# --- agents ---------------------------------------------------------------------------------


def test_a_supervisor_edits_an_agents_skills_and_capacity(client, desk):
    do_update_agent(desk.ana.agent, capacity={"whatsapp": 5, "email": 2})
    open_conversation(desk, customer=desk.frank)
    conv.do_assign(Conversation.objects.get(), desk.ana, acting_user=desk.carla)
    client.force_login(desk.carla)
    url = reverse("web:settings_routing_agent", args=[desk.ana.pk])
    assert 'value="2"' in client.get(url).content.decode()

    response = client.post(url, {"status": "online", "tier": "2",
                                 "skills": "Language:ES, product : billing, channel:email",
                                 "capacity_email": "20", "capacity_webchat": "3",
                                 "capacity_any": "10"})
    assert response.status_code == 302
    agent = Agent.objects.get(user=desk.ana)
    assert agent.skills == ["channel:email", "language:es", "product:billing"]
    assert agent.capacity == {"email": 20, "webchat": 3, "*": 10, "whatsapp": 5}
    assert (agent.status, agent.tier) == ("online", 2)

    row = re.search(rf'<tr id="agent-{desk.ana.pk}">(.*?)</tr>',
                    client.get(reverse("web:settings_routing")).content.decode(), re.S).group(1)
    row = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
    assert "language:es" in row and "Online" in row
    assert "E-mail: 1 of 20" in row
    assert "WhatsApp: 0 of 5" in row

    # An empty capacity lifts the limit for that channel.
    client.post(url, {"status": "online", "tier": "2", "skills": "language:es",
                      "capacity_email": "", "capacity_webchat": "3", "capacity_any": ""})
    assert Agent.objects.get(user=desk.ana).capacity == {"webchat": 3, "whatsapp": 5}


def test_skills_must_be_tags_routing_understands(client, desk):
    client.force_login(desk.carla)
    response = client.post(reverse("web:settings_routing_agent", args=[desk.ana.pk]),
                           {"status": "offline", "tier": "1", "skills": "spanish, language:es",
                            "capacity_email": "", "capacity_webchat": "", "capacity_any": ""})
    assert response.status_code == 200
    assert "kind:value" in field_errors(response, "skills")
    assert Agent.objects.get(user=desk.ana).skills == []


# --- the status switch ----------------------------------------------------------------------


def test_the_status_switch_in_the_header(client, desk, django_capture_on_commit_callbacks):
    client.force_login(desk.ana)
    html = client.get(reverse("web:inbox")).content.decode()
    assert re.search(r'<option value="offline" selected>', html)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("web:agent_status"),
                               {"status": "away", "next": reverse("web:customers")})
    assert response["Location"] == reverse("web:customers")
    assert Agent.objects.get(user=desk.ana).status == "away"
    response = client.get(reverse("web:inbox"))
    assert re.search(r'<option value="away" selected>', response.content.decode())
    assert "Your status is now Away." in text_of(response)

    # Nonsense is refused; a foreign "next" is not followed.
    response = client.post(reverse("web:agent_status"),
                           {"status": "asleep", "next": "https://evil.example.com/"})
    assert response["Location"] == reverse("web:inbox")
    assert Agent.objects.get(user=desk.ana).status == "away"
    assert any("Unknown status" in m for m in flashes(client))


def test_coming_online_from_the_header_gets_queued_work(client, desk,
                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        do_set_assignment_rule(team=desk.team_l1, strategy="round_robin",
                               acting_user=desk.carla)
        waiting = open_conversation(desk, team=desk.team_l1)
    assert Conversation.objects.get(pk=waiting.pk).assignee_id is None
    client.force_login(desk.ana)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("web:agent_status"), {"status": "online"})
    assert Conversation.objects.get(pk=waiting.pk).assignee_id == desk.ana.pk


# --- the conversation page ------------------------------------------------------------------


@pytest.fixture
def ladder(desk):
    desk.team_l1.escalates_to = desk.team_l2
    desk.team_l1.save(update_fields=["escalates_to"])
    return desk


def test_the_page_loads_the_routing_panel_into_the_properties(client, ladder):
    conversation = open_conversation(ladder, team=ladder.team_l1)
    client.force_login(ladder.ana)
    page = client.get(reverse("web:conversation", args=[conversation.pk])).content.decode()
    panel_url = reverse("web:conversation_routing", args=[conversation.pk])
    assert f'hx-get="{panel_url}"' in page

    panel = client.get(panel_url, **HX)
    assert panel.status_code == 200
    assert "<html" not in panel.content.decode()
    text = text_of(panel)
    assert "Tier 1 · Soporte L1" in text
    assert "Escalate to tier 2" in text and "De-escalate" not in text
    assert "Waiting since" in text
    # Without script the same panel is a page of its own.
    assert "<html" in client.get(panel_url).content.decode()


def test_escalating_from_the_page_keeps_waiting_since(client, ladder,
                                                     django_capture_on_commit_callbacks):
    conversation = open_conversation(ladder, team=ladder.team_l1)
    conv.do_assign(conversation, ladder.ana, acting_user=ladder.ana)
    waiting_since = Conversation.objects.get(pk=conversation.pk).waiting_since
    assert waiting_since is not None
    client.force_login(ladder.ana)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("web:conversation_escalate", args=[conversation.pk]),
                               {"note": "Necesita un reembolso parcial", "from": "status=open"})
    assert response.status_code == 302
    assert response["Location"] == (reverse("web:conversation", args=[conversation.pk])
                                    + "?from=status%3Dopen")
    conversation.refresh_from_db()
    assert (conversation.tier, conversation.team_id) == (2, ladder.team_l2.pk)
    assert conversation.assignee_id is None  # ana (tier 1) let go of it
    assert conversation.waiting_since == waiting_since
    assert conversation.messages.filter(direction="note", text__contains="reembolso").exists()

    page = client.get(response["Location"])
    text = text_of(page)
    assert "Escalated to tier 2 (Soporte L2)." in text
    assert ("escalated the conversation from tier 1 (Soporte L1) to tier 2 (Soporte L2); "
            "unassigned (was Ana García); with a note") in text
    assert "moved the conversation from tier 1 to tier 2" in text

    panel = text_of(client.get(reverse("web:conversation_routing", args=[conversation.pk]),
                               **HX))
    figures = routing_figures(conversation)
    assert figures.escalations == 1
    assert "tier 1:" in panel and "tier 2:" in panel
    assert "(1 escalation)" in panel
    assert f"Transfers {figures.transfers}" in panel


def test_deescalating_at_the_first_tier_is_refused_with_a_message(client, ladder):
    conversation = open_conversation(ladder, team=ladder.team_l1)
    client.force_login(ladder.ana)
    response = client.post(reverse("web:conversation_deescalate", args=[conversation.pk]))
    assert response.status_code == 302
    assert any("already at the first tier" in m for m in flashes(client))
    assert Conversation.objects.get(pk=conversation.pk).tier == 1


def test_transfer_to_a_team_and_an_agent_from_the_page(client, ladder):
    conversation = open_conversation(ladder, team=ladder.team_l1)
    conv.do_assign(conversation, ladder.ana, acting_user=ladder.ana)
    client.force_login(ladder.ana)
    url = reverse("web:conversation_transfer", args=[conversation.pk])

    client.post(url, {"team": "", "agent": "", "note": ""})
    assert any("Choose the team or the agent" in m for m in flashes(client))

    response = client.post(url, {"team": str(ladder.team_l2.pk), "agent": str(ladder.beto.pk),
                                 "note": "Para ti, Beto"})
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert (conversation.team_id, conversation.assignee_id, conversation.tier) == (
        ladder.team_l2.pk, ladder.beto.pk, 2)
    text = text_of(client.get(response["Location"]))
    assert "Transferred to Beto Ruiz, tier 2 (Soporte L2)." in text
    assert ("transferred the conversation from Soporte L1, Ana García to Soporte L2, "
            "Beto Ruiz; with a note") in text


def test_routing_assignment_reads_well_on_the_timeline(client, desk):
    do_update_agent(desk.ana.agent, status="online", capacity={"email": 5})
    do_set_assignment_rule(team=desk.team_l1, strategy="round_robin", acting_user=desk.carla)
    conversation = open_conversation(desk, team=desk.team_l1)
    assert route(conversation.pk).agent_id == desk.ana.pk
    assert Event.objects.filter(conversation=conversation, kind=events.ASSIGNED).exists()
    client.force_login(desk.carla)
    text = text_of(client.get(reverse("web:conversation", args=[conversation.pk])))
    assert ("Mostrador assigned the conversation to Ana García by routing "
            "(Round robin; 1 of 5 on this channel)") in text


def test_the_panel_shows_time_in_each_tier(client, ladder):
    conversation = open_conversation(ladder, team=ladder.team_l1)
    earlier = timezone.now() - dt.timedelta(hours=3)
    Conversation.objects.filter(pk=conversation.pk).update(created_at=earlier)
    client.force_login(ladder.ana)
    panel = text_of(client.get(reverse("web:conversation_routing", args=[conversation.pk]),
                               **HX))
    assert "tier 1: 3 h" in panel
