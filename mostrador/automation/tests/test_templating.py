"""Placeholders: the syntax, the default filter, the sandbox (nothing beyond the whitelisted
dict is reachable, values are never rendered twice), check_template's refusals, and the
context built from a real conversation in Spanish and English."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mostrador.automation.templating import (
    KNOWN_PLACEHOLDERS,
    check_template,
    is_known_path,
    placeholder_context,
    placeholders_in,
    render,
)
from mostrador.conversations import actions
from mostrador.conversations.queries import access_conversation
from mostrador.core.errors import ValidationFailed
from mostrador.customers.actions import do_add_identity, do_create_organisation

CONTEXT = {
    "customer": {"name": "Elena Martín", "first_name": "Elena", "last_name": "Martín",
                 "plan": "Oro", "attributes": {"plan": "Oro", "city": ""}},
    "conversation": {"id": "42", "status": "Open", "fields": {"order": "A-1001"}},
    "agent": {"name": "Ana García", "first_name": "Ana", "email": ""},
}


# --- rendering ------------------------------------------------------------------------------


@pytest.mark.parametrize(("template", "expected"), [
    ("Hola {{ customer.first_name }}, sobre #{{ conversation.id }}.",
     "Hola Elena, sobre #42."),
    ("{{customer.first_name}}-{{   agent.name   }}", "Elena-Ana García"),
    ("Plan {{ customer.plan }} = {{ customer.attributes.plan }}", "Plan Oro = Oro"),
    ("Pedido {{ conversation.fields.order }}", "Pedido A-1001"),
    ("Line one\n{{ agent.first_name }}\n", "Line one\nAna\n"),
    ("No placeholders, {single braces} and } alone.", "No placeholders, {single braces} and } "
                                                      "alone."),
])
def test_render_replaces_each_placeholder_with_its_value(template, expected):
    assert render(template, CONTEXT) == expected


def test_default_applies_to_unknown_and_empty_values_only():
    assert render('Hi {{ customer.nickname | default: "there" }}', CONTEXT) == "Hi there"
    assert render("{{ customer.attributes.city|default:'Madrid' }}", CONTEXT) == "Madrid"
    assert render('{{ customer.first_name | default: "there" }}', CONTEXT) == "Elena"
    # Quotes and braces inside the default text are kept.
    assert render(r'{{ agent.email | default: "say \"hi\" }}" }}', CONTEXT) == 'say "hi" }}'
    assert render("{{ agent.email | default: \"\" }}!", CONTEXT) == "!"


def test_unknown_paths_render_as_nothing():
    assert render("[{{ customer.shoe_size }}][{{ nobody.at_all }}][{{ agent }}]",
                  CONTEXT) == "[][][]"
    # A path that stops at a group (not a value) shows nothing either.
    assert render("[{{ customer.attributes }}][{{ conversation.fields }}]", CONTEXT) == "[][]"


@pytest.mark.parametrize("template", [
    "{{ customer.__class__ }}",
    "{{ customer.__class__.__mro__ }}",
    "{{ customer.attributes.__dict__ }}",
    "{{ conversation.customer.user.password }}",
    "{{ agent.__init__.__globals__ }}",
    "{{ customer.name.upper }}",
    "{{ customer.first_name.__len__ }}",
])
def test_nothing_beyond_the_dict_is_reachable(template):
    assert render(template, CONTEXT) == ""
    with pytest.raises(ValidationFailed) as refused:
        check_template(template)
    assert refused.value.field == "body"


def test_render_reaches_only_dicts_even_when_given_objects():
    class Sneaky:
        secret = "s3cret"

        def __getitem__(self, key):
            return "s3cret"

    context = {"customer": Sneaky(), "agent": {"name": Sneaky(), "email": ["x"]}}
    assert render("{{ customer.secret }}{{ agent.name }}{{ agent.email }}", context) == ""
    # Dict methods are not keys.
    assert render("{{ customer.attributes.items }}{{ customer.attributes.keys }}", CONTEXT) == ""


def test_values_are_not_rendered_again():
    context = {"customer": {"first_name": "{{ agent.name }}",
                            "attributes": {"note": "{{ customer.first_name }} }} {{"}},
               "agent": {"name": "Ana"}}
    assert render("Hola {{ customer.first_name }}", context) == "Hola {{ agent.name }}"
    assert render("{{ customer.attributes.note }}", context) == "{{ customer.first_name }} }} {{"


def test_malformed_tags_are_left_as_written():
    assert render("Hi {{ customer first_name }} and {{ oops", CONTEXT) == (
        "Hi {{ customer first_name }} and {{ oops")
    assert render("{{ customer.first_name | upcase }}", CONTEXT) == (
        "{{ customer.first_name | upcase }}")


def test_placeholders_in_lists_each_path_once_in_order():
    template = ("{{ agent.name }} {{ customer.first_name }} {{ agent.name | default: 'x' }} "
                "{{ broken  and {{ conversation.fields.order }}")
    assert placeholders_in(template) == ["agent.name", "customer.first_name",
                                         "conversation.fields.order"]
    assert placeholders_in("") == []


# --- checking -------------------------------------------------------------------------------


@pytest.mark.parametrize("template", [
    "",
    "Plain text with } and { braces",
    "Hola {{ customer.first_name }}, {{ conversation.status }} {{ agent.email }}",
    "{{ customer.plan }} {{ customer.attributes.fecha-de-compra }} {{ customer.attributes.año }}",
    "{{ conversation.fields.order_number | default: \"—\" }}",
    *[p.tag for p in KNOWN_PLACEHOLDERS],
])
def test_check_template_accepts_good_texts(template):
    check_template(template)


@pytest.mark.parametrize(("template", "words"), [
    ("Hola {{ customer.first_name", "not closed"),
    ("Hola\n\ncustomer.first_name }}", "Line 3 has a }} that closes nothing"),
    ("{{ customer first_name }}", "is not a placeholder"),
    ("{{ }}", "is not a placeholder"),
    ("{{ customer.first_name | upcase }}", "is not a placeholder"),
    ("{{ customer.first_name | default: there }}", "is not a placeholder"),
    ("{{ ticket.id }}", "Unknown placeholder ticket.id"),
    ("{{ conversation.secret }}", "Unknown placeholder"),
    ("{{ agent.password }}", "Unknown placeholder"),
    ("{{ customer.attributes }}", "Unknown placeholder"),
    ("{{ customer.attributes.a.b }}", "Unknown placeholder"),
    ("{{ conversation.fields }}", "Unknown placeholder"),
    ("{{ customer._private }}", "Unknown placeholder"),
])
def test_check_template_refuses_with_a_message_saying_what_to_fix(template, words):
    with pytest.raises(ValidationFailed) as refused:
        check_template(template)
    assert refused.value.field == "body"
    assert words in refused.value.message


def test_known_paths():
    assert all(is_known_path(p.path) for p in KNOWN_PLACEHOLDERS)
    assert is_known_path("customer.plan") and is_known_path("customer.attributes.plan")
    assert not is_known_path("customer") and not is_known_path("conversation.customer.name")


# --- the context of a real conversation -----------------------------------------------------


@pytest.fixture
def conversation(desk):
    organisation = do_create_organisation(name="Acme Ibérica")
    elena = desk.elena
    elena.language, elena.time_zone, elena.organisation = "es", "America/Mexico_City", organisation
    elena.attributes = {"plan": "Oro", "vip": True, "interests": ["envíos", "facturas"],
                        "name": "not the name", "address": {"city": "Madrid"},
                        "trap": "{{ agent.email }}"}
    elena.save()
    do_add_identity(elena, "phone", "+34 600 000 000")
    conversation = actions.do_create_conversation(
        inbox=desk.inbox, customer=elena, subject="Pedido retrasado", text="¿Dónde está?",
        custom_fields={"order": "A-1001", "amount": 42.5}, acting_user=None)
    # Created at 03:30 UTC on 2 March: still 1 March in Mexico City.
    conversation.created_at = dt.datetime(2026, 3, 2, 3, 30, tzinfo=dt.UTC)
    conversation.save(update_fields=["created_at"])
    actions.do_set_team(conversation, desk.team_l1, acting_user=desk.carla)
    actions.do_assign(conversation, desk.ana, acting_user=desk.carla)
    actions.do_change_priority(conversation, 4, acting_user=desk.carla)
    return access_conversation(desk.carla, conversation.pk)


def test_context_in_the_customers_language_and_time_zone(desk, conversation):
    context = placeholder_context(conversation, agent_user=desk.beto)
    customer, conv, agent = context["customer"], context["conversation"], context["agent"]
    assert (customer["name"], customer["first_name"], customer["last_name"]) == (
        "Elena Martín", "Elena", "Martín")
    assert (customer["email"], customer["phone"], customer["language"]) == (
        "elena.martin@correo.es", "+34600000000", "es")
    assert customer["organisation"] == "Acme Ibérica"
    # Attributes as text; a fixed key wins at customer.<key>; nested objects left out.
    assert customer["attributes"] == {"plan": "Oro", "vip": "sí", "name": "not the name",
                                      "interests": "envíos, facturas",
                                      "trap": "{{ agent.email }}"}
    assert (customer["plan"], customer["vip"]) == ("Oro", "sí")
    assert "address" not in customer
    assert conv == {"id": str(conversation.pk), "number": str(conversation.pk),
                    "subject": "Pedido retrasado", "status": "Abierta", "priority": "Urgente",
                    "channel": "Correo electrónico", "team": "Soporte L1",
                    "created_at": "1 de marzo de 2026",
                    "fields": {"order": "A-1001", "amount": "42.5"}}
    assert agent == {"name": "Beto Ruiz", "first_name": "Beto",
                     "email": "beto@desk.example.com"}
    text = render("Hola {{ customer.first_name }}, tu pedido {{ conversation.fields.order }} "
                  "({{ customer.trap }}) — {{ agent.name }}", context)
    assert text == "Hola Elena, tu pedido A-1001 ({{ agent.email }}) — Beto Ruiz"


def test_context_in_english_and_with_the_assignee_as_agent(desk, conversation):
    context = placeholder_context(conversation, language="en")
    assert context["conversation"]["status"] == "Open"
    assert context["conversation"]["priority"] == "Urgent"
    assert context["conversation"]["created_at"] == "March 1, 2026"
    assert context["customer"]["vip"] == "yes"
    # No agent given (an automatic reply): the assignee signs.
    assert context["agent"]["name"] == "Ana García"


def test_context_without_assignee_language_or_time_zone(desk):
    conversation = actions.do_create_conversation(
        inbox=desk.inbox, customer=desk.frank, subject="", text="Hello", acting_user=None)
    conversation.created_at = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)
    conversation.language = ""
    conversation.save(update_fields=["created_at", "language"])
    context = placeholder_context(access_conversation(desk.ana, conversation.pk))
    assert context["agent"] == {"name": "", "first_name": "", "email": ""}
    assert context["customer"]["organisation"] == "" and context["customer"]["phone"] == ""
    assert context["conversation"]["team"] == "" and context["conversation"]["fields"] == {}
    # The desk's time zone (Madrid: already 2 March) and language (English in the tests).
    assert context["conversation"]["created_at"] == "March 2, 2026"
    assert render('Hi {{ customer.first_name }}, {{ agent.name | default: "the team" }}',
                  context) == "Hi Frank, the team"


def test_context_costs_a_fixed_number_of_queries(desk, conversation):
    beto = get_user_model().objects.get(pk=desk.beto.pk)
    with CaptureQueriesContext(connection) as queries:
        placeholder_context(conversation, agent_user=beto)
    # Identities, the organisation, Beto's agent profile.
    assert len(queries) == 3
