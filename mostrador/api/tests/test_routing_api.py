"""Routing through the API: assignment rules, the queue, agents' routing profiles, the
escalation ladder, and conversations escalated, transferred and routed over HTTP."""

from __future__ import annotations

import pytest
from django.test import Client

from mostrador.accounts.actions import do_create_team
from mostrador.accounts.models import Agent, Team
from mostrador.api.tests.conftest import error, ok
from mostrador.conversations.models import Conversation, Message
from mostrador.routing.models import AssignmentRule


@pytest.fixture
def carla(client_for, desk):
    return client_for(desk.carla)


@pytest.fixture
def run_commits(django_capture_on_commit_callbacks):
    """Run what a request does after commit (routing) as a real one would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def open_conversation(api, desk, *, customer=None, team=None, priority=None,
                      text="Hola, necesito ayuda con mi pedido") -> dict:
    body = {"inbox": desk.inbox.pk, "customer": (customer or desk.elena).pk, "text": text,
            "subject": "Pedido"}
    if priority is not None:
        body["priority"] = priority
    created = ok(api.post("/conversations", body), 201)
    if team is not None:
        created = ok(api.patch(f"/conversations/{created['id']}", {"team": team.pk}))
    return created


def ref(obj, name: str | None = None) -> dict:
    return {"id": obj.pk, "name": name if name is not None else str(obj)}


# --- assignment rules -----------------------------------------------------------------------


def test_assignment_rules_of_teams_and_inboxes(carla, api, desk):
    team_rule = ok(carla.send("PUT", f"/teams/{desk.team_l2.pk}/assignment-rule", {
        "strategy": "round_robin", "premium_segments": ["vip", " vip ", "gold"]}))
    assert team_rule["team"] == ref(desk.team_l2) and team_rule["inbox"] is None
    assert (team_rule["strategy"], team_rule["premium_segments"], team_rule["include_away"]) \
        == ("round_robin", ["gold", "vip"], False)
    inbox_rule = ok(carla.send("PUT", f"/inboxes/{desk.inbox.pk}/assignment-rule", {
        "strategy": "least_loaded", "include_away": True}))
    assert inbox_rule["inbox"] == ref(desk.inbox) and inbox_rule["team"] is None
    assert (inbox_rule["strategy"], inbox_rule["include_away"]) == ("least_loaded", True)

    # Everyone reads the rules: teams' first, then inboxes'.
    assert ok(api.get("/routing/rules")) == {"items": [team_rule, inbox_rule],
                                             "next_cursor": None}

    # PUT replaces the whole rule: what is left out takes its default.
    replaced = ok(carla.send("PUT", f"/teams/{desk.team_l2.pk}/assignment-rule",
                             {"strategy": "skills"}))
    assert (replaced["id"], replaced["strategy"], replaced["premium_segments"]) == (
        team_rule["id"], "skills", [])

    assert carla.delete(f"/teams/{desk.team_l2.pk}/assignment-rule").status_code == 204
    assert error(carla.delete(f"/teams/{desk.team_l2.pk}/assignment-rule"),
                 404)["field"] == "rule"
    assert list(AssignmentRule.objects.values_list("inbox_id", "strategy")) == [
        (desk.inbox.pk, "least_loaded")]
    assert carla.delete(f"/inboxes/{desk.inbox.pk}/assignment-rule").status_code == 204
    assert ok(api.get("/routing/rules"))["items"] == []


def test_only_supervisors_change_rules_and_mistakes_name_the_field(api, carla, client_for,
                                                                     desk):
    team_path = f"/teams/{desk.team_l1.pk}/assignment-rule"
    for response in (api.send("PUT", team_path, {"strategy": "round_robin"}),
                     api.send("PUT", f"/inboxes/{desk.inbox.pk}/assignment-rule",
                              {"strategy": "round_robin"}),
                     api.delete(team_path)):
        assert "supervisors" in error(response, 403)["detail"]
    assert not AssignmentRule.objects.exists()

    body = error(carla.send("PUT", team_path, {"strategy": "lottery"}), 400)
    assert body["field"] == "strategy" and "round_robin" in body["detail"]
    assert error(carla.send("PUT", team_path, {}), 400)["field"] == "strategy"
    assert error(carla.send("PUT", team_path, {"strategy": "skills", "premium": ["vip"]}),
                 400)["field"] == "premium"
    assert error(carla.send("PUT", "/teams/999999/assignment-rule", {"strategy": "skills"}),
                 404)["field"] == "team"
    assert error(carla.send("PUT", "/inboxes/999999/assignment-rule", {"strategy": "skills"}),
                 404)["field"] == "inbox"
    assert not AssignmentRule.objects.exists()
    # Administrators may, as supervisors do.
    ok(client_for(desk.diego).send("PUT", team_path, {"strategy": "round_robin"}))


# --- the queue ------------------------------------------------------------------------------


def test_the_queue_serves_premium_customers_then_priority_then_the_longest_waiting(
        carla, api, desk):
    ok(carla.send("PUT", f"/teams/{desk.team_l1.pk}/assignment-rule",
                  {"strategy": "manual", "premium_segments": ["vip"]}))
    desk.frank.segments = ["vip"]
    desk.frank.save(update_fields=["segments"])
    oldest = open_conversation(api, desk, team=desk.team_l1)
    urgent = open_conversation(api, desk, team=desk.team_l1, priority=4)
    premium = open_conversation(api, desk, customer=desk.frank, team=desk.team_l1, priority=1)
    taken = open_conversation(api, desk, team=desk.team_l1)
    ok(api.patch(f"/conversations/{taken['id']}", {"assignee": "me"}))
    teamless = open_conversation(api, desk)

    queue = ok(api.get("/routing/queue", {"team": desk.team_l1.pk}))
    assert (queue["team"], queue["inbox"], queue["strategy"]) == (
        ref(desk.team_l1), None, "manual")
    assert [(c["id"], c["premium"], c["priority"]) for c in queue["items"]] == [
        (premium["id"], True, 1), (urgent["id"], False, 4), (oldest["id"], False, 2)]
    first = queue["items"][0]
    assert (first["number"], first["subject"]) == (premium["number"], "Pedido")
    assert first["waiting_since"] == premium["waiting_since"] is not None

    # The inbox's queue holds its conversations whose team has no rule of its own.
    inbox_queue = ok(api.get("/routing/queue", {"inbox": desk.inbox.pk}))
    assert (inbox_queue["inbox"], inbox_queue["strategy"]) == (ref(desk.inbox), "manual")
    assert [c["id"] for c in inbox_queue["items"]] == [teamless["id"]]
    assert [c["id"] for c in ok(api.get("/routing/queue", {"team": desk.team_l1.pk,
                                                           "limit": 1}))["items"]] == [
        premium["id"]]

    assert error(api.get("/routing/queue"), 400)["field"] == "team"
    assert error(api.get("/routing/queue", {"team": desk.team_l1.pk, "inbox": desk.inbox.pk}),
                 400)["field"] == "team"
    assert error(api.get("/routing/queue", {"team": 999999}), 404)["field"] == "team"
    assert error(api.get("/routing/queue", {"inbox": 999999}), 404)["field"] == "inbox"
    assert error(api.get("/routing/queue", {"team": desk.team_l1.pk, "limit": 0}),
                 400)["field"] == "limit"


# --- agents ---------------------------------------------------------------------------------


def test_agents_with_their_load_and_routing_profile(api, desk):
    first = open_conversation(api, desk)
    ok(api.patch(f"/conversations/{first['id']}", {"assignee": "me"}))
    solved = open_conversation(api, desk)
    ok(api.patch(f"/conversations/{solved['id']}", {"assignee": "me", "status": "solved"}))

    agents = ok(api.get("/agents"))["items"]
    assert [a["name"] for a in agents] == ["Ana García", "Beto Ruiz", "Carla Méndez",
                                           "Diego Torres"]
    ana = agents[0]
    assert ana == {
        "id": desk.ana.pk, "name": "Ana García", "email": "ana@desk.example.com",
        "role": "agent", "status": "offline", "tier": 1, "capacity": {}, "skills": [],
        "teams": [ref(desk.team_l1)], "load": {"email": 1}, "load_total": 1,
        "last_assigned_at": None}
    assert (agents[1]["tier"], agents[1]["load_total"], agents[1]["load"]) == (2, 0, {})
    assert ok(api.get(f"/agents/{desk.ana.pk}/routing")) == ana

    assert [a["id"] for a in ok(api.get("/agents", {"team": desk.team_l2.pk}))["items"]] == [
        desk.beto.pk]
    assert ok(api.get("/agents", {"status": "online"}))["items"] == []
    assert error(api.get("/agents", {"status": "busy"}), 400)["field"] == "status"
    assert error(api.get("/agents", {"team": 999999}), 404)["field"] == "team"
    assert error(api.get("/agents/999999/routing"), 404)["field"] == "user"


def test_agents_set_their_own_status_and_supervisors_the_rest(api, carla, desk):
    mine = f"/agents/{desk.ana.pk}/routing"
    assert ok(api.patch(mine, {"status": "away"}))["status"] == "away"
    for response in (api.patch(mine, {"tier": 2}),
                     api.patch(mine, {"status": "online", "skills": ["language:es"]}),
                     api.patch(f"/agents/{desk.beto.pk}/routing", {"status": "offline"})):
        assert "supervisors" in error(response, 403)["detail"]
    ana = Agent.objects.get(user=desk.ana)
    assert (ana.status, ana.tier, ana.skills) == ("away", 1, [])

    changed = ok(carla.patch(f"/agents/{desk.beto.pk}/routing", {
        "tier": 3, "status": "online",
        "skills": [" language:es", "product:billing", "language:es", "channel: email"],
        "capacity": {"email": 5, "*": 2, "webchat": None}}))
    assert (changed["tier"], changed["status"]) == (3, "online")
    assert changed["skills"] == ["channel:email", "language:es", "product:billing"]
    assert changed["capacity"] == {"*": 2, "email": 5}
    beto = Agent.objects.get(user=desk.beto)
    assert (beto.tier, beto.capacity) == (3, {"*": 2, "email": 5})

    path = f"/agents/{desk.beto.pk}/routing"
    assert error(carla.patch(path, {"tier": 4}), 400)["field"] == "tier"
    assert error(carla.patch(path, {"status": "busy"}), 400)["field"] == "status"
    assert error(carla.patch(path, {"tier": None}), 400)["field"] == "tier"
    body = error(carla.patch(path, {"skills": ["spanish"]}), 400)
    assert body["field"] == "skills" and "language:es" in body["detail"]
    assert error(carla.patch(path, {"capacity": {"email": -1}}), 400)["field"] == "capacity.email"
    assert error(carla.patch(path, {"capacity": {"E-mail": 3}}), 400)["field"] == "capacity"
    assert error(carla.patch(path, {"colour": "red"}), 400)["field"] == "colour"
    assert Agent.objects.get(user=desk.beto).tier == 3


def test_an_agent_coming_online_gets_the_waiting_conversation(api, carla, desk, run_commits):
    # Every write runs its after-commit work: one left pending would hold back routing's.
    with run_commits():
        ok(carla.send("PUT", f"/teams/{desk.team_l1.pk}/assignment-rule",
                      {"strategy": "round_robin"}))
        waiting = open_conversation(api, desk, team=desk.team_l1)
    assert Conversation.objects.get(pk=waiting["id"]).assignee_id is None  # ana is offline
    with run_commits():
        ok(api.patch(f"/agents/{desk.ana.pk}/routing", {"status": "online"}))
    assert Conversation.objects.get(pk=waiting["id"]).assignee_id == desk.ana.pk
    assert ok(api.get(f"/agents/{desk.ana.pk}/routing"))["load"] == {"email": 1}


# --- the ladder -----------------------------------------------------------------------------


def test_the_escalation_ladder_refuses_loops(api, carla, desk):
    l3 = do_create_team("Soporte L3", tier=3)
    l1_path, l2_path = f"/teams/{desk.team_l1.pk}/ladder", f"/teams/{desk.team_l2.pk}/ladder"
    assert ok(carla.send("PUT", l1_path, {"escalates_to": desk.team_l2.pk})) == {
        "id": desk.team_l1.pk, "name": "Soporte L1", "tier": 1,
        "escalates_to": ref(desk.team_l2), "escalated_from": []}
    l2 = ok(carla.send("PUT", l2_path, {"escalates_to": l3.pk}))
    assert (l2["escalates_to"], l2["escalated_from"]) == (ref(l3), [ref(desk.team_l1)])

    body = error(carla.send("PUT", f"/teams/{l3.pk}/ladder",
                            {"escalates_to": desk.team_l1.pk}), 400)
    assert body["field"] == "escalates_to" and "loop" in body["detail"]
    assert error(carla.send("PUT", l1_path, {"escalates_to": desk.team_l1.pk}),
                 400)["field"] == "escalates_to"
    assert error(carla.send("PUT", l1_path, {"escalates_to": 999999}),
                 400)["field"] == "escalates_to"
    assert error(carla.send("PUT", l1_path, {}), 400)["field"] == "escalates_to"
    assert error(carla.send("PUT", "/teams/999999/ladder", {"escalates_to": None}),
                 404)["field"] == "team"
    assert "supervisors" in error(api.send("PUT", l2_path, {"escalates_to": None}),
                                  403)["detail"]
    assert Team.objects.get(pk=l3.pk).escalates_to_id is None

    assert ok(carla.send("PUT", l2_path, {"escalates_to": None}))["escalates_to"] is None
    assert Team.objects.get(pk=desk.team_l2.pk).escalates_to_id is None
    # Without the rung above, L3 may now escalate to L1.
    assert ok(carla.send("PUT", f"/teams/{l3.pk}/ladder",
                         {"escalates_to": desk.team_l1.pk}))["escalates_to"] == ref(
        desk.team_l1)


# --- a conversation's routing ---------------------------------------------------------------


def test_escalating_keeps_the_waiting_time_and_routes_to_the_next_rung(
        api, carla, client_for, desk, run_commits):
    with run_commits():
        ok(carla.send("PUT", f"/teams/{desk.team_l1.pk}/ladder",
                      {"escalates_to": desk.team_l2.pk}))
        ok(carla.send("PUT", f"/teams/{desk.team_l2.pk}/assignment-rule",
                      {"strategy": "round_robin"}))
        ok(client_for(desk.beto).patch(f"/agents/{desk.beto.pk}/routing",
                                       {"status": "online"}))
        created = open_conversation(api, desk, team=desk.team_l1)
        ok(api.patch(f"/conversations/{created['id']}", {"assignee": "me"}))
    path = f"/conversations/{created['id']}"
    before = ok(api.get(f"{path}/routing"))
    assert (before["tier"], before["team"], before["assignee"]) == (
        1, ref(desk.team_l1), ref(desk.ana, "Ana García"))
    assert (before["transfers"], before["escalations"]) == (0, 0)
    assert before["waiting_since"] == created["waiting_since"] is not None

    with run_commits():
        escalated = ok(api.post(f"{path}/escalate",
                                {"note": "Necesita un reembolso parcial"}))
    assert (escalated["conversation"], escalated["tier"], escalated["team"]) == (
        created["id"], 2, ref(desk.team_l2))
    assert escalated["waiting_since"] == created["waiting_since"]
    # Ana (tier 1) let go of it; routing gave it to beto after the commit.
    assert escalated["assignee"] is None
    after = ok(api.get(f"{path}/routing"))
    assert after["assignee"] == ref(desk.beto, "Beto Ruiz")
    assert (after["tier"], after["escalations"], after["transfers"]) == (2, 1, 2)
    assert set(after["seconds_in_tier"]) == {"1", "2"}
    assert after["waiting_since"] == created["waiting_since"]
    assert Message.objects.filter(conversation_id=created["id"], direction="note",
                                  text="Necesita un reembolso parcial").exists()

    # Back down, without a note (no body at all).
    down = ok(client_for(desk.beto).post(f"{path}/deescalate"))
    assert (down["tier"], down["team"], down["waiting_since"]) == (
        1, ref(desk.team_l1), created["waiting_since"])
    assert error(api.post(f"{path}/deescalate", {}), 400)["field"] == "tier"

    Conversation.objects.filter(pk=created["id"]).update(tier=3)
    body = error(api.post(f"{path}/escalate", {}), 400)
    assert body["field"] == "tier" and "top tier" in body["detail"]
    assert error(api.post(f"{path}/escalate", {"notes": "x"}), 400)["field"] == "notes"


def test_transfers_to_a_team_or_an_agent(api, desk):
    created = open_conversation(api, desk, team=desk.team_l1)
    path = f"/conversations/{created['id']}"
    moved = ok(api.post(f"{path}/transfer", {"team": desk.team_l2.pk,
                                             "note": "Para facturación"}))
    assert (moved["team"], moved["tier"], moved["transfers"]) == (ref(desk.team_l2), 2, 1)
    handed = ok(api.post(f"{path}/transfer", {"agent": desk.beto.pk}))
    assert (handed["assignee"], handed["team"]) == (ref(desk.beto, "Beto Ruiz"),
                                                    ref(desk.team_l2))
    assert handed["waiting_since"] == created["waiting_since"]

    assert error(api.post(f"{path}/transfer", {}), 400)["field"] == "team"
    assert error(api.post(f"{path}/transfer", {"team": 999999}), 400)["field"] == "team"
    assert error(api.post(f"{path}/transfer", {"agent": 999999}), 400)["field"] == "agent"
    assert Conversation.objects.get(pk=created["id"]).assignee_id == desk.beto.pk


def test_routing_a_conversation_now(api, carla, desk):
    created = open_conversation(api, desk, team=desk.team_l1)
    path = f"/conversations/{created['id']}/route"
    assert ok(api.post(path)) == {"conversation": created["id"], "assignee": None,
                                  "reason": "manual", "strategy": "", "load": None,
                                  "capacity": None}
    ok(carla.send("PUT", f"/teams/{desk.team_l1.pk}/assignment-rule",
                  {"strategy": "least_loaded"}))
    assert ok(api.post(path))["reason"] == "no_agent_available"  # ana is offline
    ok(carla.patch(f"/agents/{desk.ana.pk}/routing", {"status": "online",
                                                       "capacity": {"email": 3}}))
    assert ok(api.post(path)) == {"conversation": created["id"],
                                  "assignee": ref(desk.ana, "Ana García"),
                                  "reason": "assigned_now", "strategy": "least_loaded",
                                  "load": 1, "capacity": 3}
    assert Conversation.objects.get(pk=created["id"]).assignee_id == desk.ana.pk
    assert ok(api.post(path))["reason"] == "assigned"


def test_conversations_that_are_not_there_are_404(api):
    for response in (api.get("/conversations/999999/routing"),
                     api.post("/conversations/999999/escalate"),
                     api.post("/conversations/999999/deescalate", {"note": "x"}),
                     api.post("/conversations/999999/transfer", {"team": 1}),
                     api.post("/conversations/999999/route")):
        assert error(response, 404)["field"] == "id"


def test_the_openapi_document_describes_the_routing_endpoints(db):
    paths = ok(Client().get("/api/v1/openapi.json"))["paths"]
    for path in ("/api/v1/routing/rules", "/api/v1/routing/queue", "/api/v1/agents",
                 "/api/v1/agents/{user_id}/routing", "/api/v1/teams/{team_id}/ladder",
                 "/api/v1/conversations/{conversation_id}/routing",
                 "/api/v1/conversations/{conversation_id}/escalate",
                 "/api/v1/conversations/{conversation_id}/deescalate",
                 "/api/v1/conversations/{conversation_id}/transfer",
                 "/api/v1/conversations/{conversation_id}/route"):
        assert path in paths, path
    for owner in ("teams/{team_id}", "inboxes/{inbox_id}"):
        assert set(paths[f"/api/v1/{owner}/assignment-rule"]) == {"put", "delete"}
    assert set(paths["/api/v1/agents/{user_id}/routing"]) == {"get", "patch"}


def test_lists_cost_the_same_queries_however_long(api, carla, desk,
                                                  django_assert_num_queries):
    ok(carla.send("PUT", f"/teams/{desk.team_l1.pk}/assignment-rule", {"strategy": "skills"}))
    ok(carla.send("PUT", f"/inboxes/{desk.inbox.pk}/assignment-rule", {"strategy": "skills"}))
    for _ in range(3):
        taken = open_conversation(api, desk, team=desk.team_l1)
        ok(api.patch(f"/conversations/{taken['id']}", {"assignee": "me"}))
        open_conversation(api, desk, team=desk.team_l1)
    # The token, the agents, their teams, their load.
    with django_assert_num_queries(4):
        assert len(ok(api.get("/agents"))["items"]) == 4
    with django_assert_num_queries(2):
        assert len(ok(api.get("/routing/rules"))["items"]) == 2
    # The token, the team, its rule, the queue, the rule again inside it, the rows.
    with django_assert_num_queries(6):
        assert len(ok(api.get("/routing/queue", {"team": desk.team_l1.pk}))["items"]) == 3
