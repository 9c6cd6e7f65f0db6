"""Canned replies through their actions: who may create, change and delete shared and
personal ones, what each agent sees, shortcuts unique within that view, and rendering for a
conversation in the right language with the other one as fallback."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mostrador.accounts.actions import do_update_agent
from mostrador.automation.canned import (
    access_canned_replies,
    access_canned_reply,
    do_create_canned_reply,
    do_delete_canned_reply,
    do_update_canned_reply,
    render_canned_reply,
)
from mostrador.automation.models import CannedReply
from mostrador.conversations import actions
from mostrador.conversations.queries import access_conversation
from mostrador.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db

BOTH = {"es": "Hola {{ customer.first_name }}, te escribe {{ agent.first_name }}.",
        "en": "Hi {{ customer.first_name }}, {{ agent.first_name }} here."}


@pytest.fixture
def shared(desk) -> CannedReply:
    return do_create_canned_reply(title="Greeting", shortcut="hello", bodies=BOTH,
                                  acting_user=desk.carla)


@pytest.fixture
def anas(desk) -> CannedReply:
    return do_create_canned_reply(title="Ana's sign-off", shortcut="bye",
                                  bodies={"es": "Un saludo, Ana"}, owner=desk.ana,
                                  acting_user=desk.ana)


def conversation_of(desk, customer, *, language: str = ""):
    conversation = actions.do_create_conversation(
        inbox=desk.inbox, customer=customer, subject="Order", text="…", acting_user=None)
    conversation.language = language
    conversation.save(update_fields=["language"])
    return access_conversation(desk.ana, conversation.pk)


# --- creating -------------------------------------------------------------------------------


def test_supervisors_create_shared_replies_and_agents_personal_ones(desk, shared, anas):
    assert (shared.owner_id, shared.shortcut, shared.bodies) == (None, "hello", BOTH)
    assert anas.owner_id == desk.ana.pk and anas.bodies == {"es": "Un saludo, Ana"}
    do_create_canned_reply(title="Admin", bodies={"en": "x"}, acting_user=desk.diego)
    with pytest.raises(PermissionDenied) as refused:
        do_create_canned_reply(title="Mine for all", bodies={"en": "x"}, acting_user=desk.ana)
    assert refused.value.field == "shared"
    with pytest.raises(PermissionDenied):
        do_create_canned_reply(title="For Beto", bodies={"en": "x"}, owner=desk.beto,
                               acting_user=desk.carla)
    assert CannedReply.objects.count() == 3


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"title": "  "}, "title", "title"),
    ({"title": "x" * 151}, "title", "150"),
    ({"bodies": {}}, "bodies", "Spanish"),
    ({"bodies": {"es": "  ", "en": ""}}, "bodies", "Spanish"),
    ({"bodies": {"fr": "Bonjour"}}, "bodies", "fr"),
    ({"bodies": ["Hola"]}, "bodies", "es"),
    ({"bodies": {"es": 3}}, "bodies.es", "text"),
    ({"bodies": {"es": "Hola", "en": "Hi {{ customer.first_name"}}, "bodies.en", "not closed"),
    ({"bodies": {"es": "{{ customer.__class__ }}"}}, "bodies.es", "Unknown placeholder"),
    ({"shortcut": "two words"}, "shortcut", "one word"),
    ({"shortcut": "x" * 41}, "shortcut", "40"),
])
def test_what_is_refused_names_the_field(desk, changes, field, words):
    values = {"title": "Refund", "bodies": {"es": "Hola"}, **changes}
    with pytest.raises(ValidationFailed) as refused:
        do_create_canned_reply(**values, owner=desk.ana, acting_user=desk.ana)
    assert refused.value.field == field
    assert words in refused.value.message
    assert not CannedReply.objects.exists()


def test_title_shortcut_and_bodies_are_tidied(desk):
    reply = do_create_canned_reply(title="  Refund   sent ", shortcut=" /Refund-Sent ",
                                   bodies={"es": "\n Hola \n", "en": "  "}, owner=desk.ana,
                                   acting_user=desk.ana)
    reply.refresh_from_db()
    assert (reply.title, reply.shortcut, reply.bodies) == ("Refund sent", "refund-sent",
                                                          {"es": "Hola"})


def test_a_shortcut_is_unique_among_what_one_agent_sees(desk, shared, anas):
    # Beto may reuse Ana's personal shortcut: neither sees the other's.
    do_create_canned_reply(title="Beto's bye", shortcut="bye", bodies={"en": "Bye"},
                           owner=desk.beto, acting_user=desk.beto)
    # Nobody may take a shared one's, and a shared one may not take anyone's.
    with pytest.raises(Conflict) as taken:
        do_create_canned_reply(title="Hi", shortcut="/hello", bodies={"en": "Hi"},
                               owner=desk.beto, acting_user=desk.beto)
    assert taken.value.field == "shortcut" and "/hello" in taken.value.message
    with pytest.raises(Conflict):
        do_create_canned_reply(title="Bye for all", shortcut="bye", bodies={"en": "Bye"},
                               acting_user=desk.carla)
    # Her own again: refused; renaming a reply to its own shortcut is no clash.
    with pytest.raises(Conflict):
        do_create_canned_reply(title="Bye 2", shortcut="bye", bodies={"en": "Bye"},
                               owner=desk.ana, acting_user=desk.ana)
    do_update_canned_reply(anas, shortcut="bye", title="Renamed", acting_user=desk.ana)
    # No shortcut is no clash.
    for title in ("One", "Two"):
        do_create_canned_reply(title=title, bodies={"en": "x"}, owner=desk.ana,
                               acting_user=desk.ana)


# --- changing and deleting ------------------------------------------------------------------


def test_shared_replies_are_changed_by_supervisors_personal_ones_by_their_owner(
        desk, shared, anas):
    do_update_canned_reply(shared, title="Hello", acting_user=desk.diego)
    do_update_canned_reply(anas, bodies={"en": "Regards, Ana"}, acting_user=desk.ana)
    anas.refresh_from_db()
    assert anas.bodies == {"en": "Regards, Ana"}
    for user, reply in ((desk.ana, shared), (desk.beto, anas), (desk.carla, anas)):
        with pytest.raises(PermissionDenied):
            do_update_canned_reply(reply, title="Mine now", acting_user=user)
        with pytest.raises(PermissionDenied):
            do_delete_canned_reply(reply, acting_user=user)
    shared.refresh_from_db()
    assert shared.title == "Hello"
    do_delete_canned_reply(anas, acting_user=desk.ana)
    do_delete_canned_reply(shared, acting_user=desk.carla)
    assert not CannedReply.objects.exists()


def test_sharing_and_unsharing(desk, shared):
    carlas = do_create_canned_reply(title="Carla's", shortcut="mine", bodies={"en": "x"},
                                    owner=desk.carla, acting_user=desk.carla)
    do_update_canned_reply(carlas, shared=True, acting_user=desk.carla)
    carlas.refresh_from_db()
    assert carlas.owner_id is None
    do_update_canned_reply(shared, shared=False, acting_user=desk.carla)
    shared.refresh_from_db()
    assert shared.owner_id == desk.carla.pk
    anas = do_create_canned_reply(title="Ana's", bodies={"en": "x"}, owner=desk.ana,
                                  acting_user=desk.ana)
    with pytest.raises(PermissionDenied) as refused:
        do_update_canned_reply(anas, shared=True, acting_user=desk.ana)
    assert refused.value.field == "shared"
    # Sharing checks the shortcut against everyone's.
    do_create_canned_reply(title="Beto's", shortcut="beto", bodies={"en": "x"},
                           owner=desk.beto, acting_user=desk.beto)
    bis = do_create_canned_reply(title="Carla's beto", shortcut="beto", bodies={"en": "x"},
                                 owner=desk.carla, acting_user=desk.carla)
    with pytest.raises(Conflict):
        do_update_canned_reply(bis, shared=True, acting_user=desk.carla)


def test_an_update_that_fails_changes_nothing(desk, shared):
    with pytest.raises(ValidationFailed):
        do_update_canned_reply(shared, title="New title", bodies={"es": "{{ oops"},
                               acting_user=desk.carla)
    shared.refresh_from_db()
    assert (shared.title, shared.bodies) == ("Greeting", BOTH)


# --- reading --------------------------------------------------------------------------------


def test_each_agent_sees_the_shared_replies_and_their_own(desk, shared, anas):
    betos = do_create_canned_reply(title="Beto's", bodies={"en": "x"}, owner=desk.beto,
                                   acting_user=desk.beto)
    assert access_canned_replies(desk.ana) == [anas, shared]
    assert access_canned_replies(desk.beto) == [betos, shared]
    assert access_canned_replies(desk.carla) == [shared]
    assert access_canned_reply(desk.ana, anas.pk) == anas
    for pk in (betos.pk, betos.pk + 999):
        with pytest.raises(NotFound) as missing:
            access_canned_reply(desk.ana, pk)
        assert missing.value.message == f"Canned reply {pk} not found."
    desk.ana.is_active = False
    desk.ana.save()
    assert access_canned_replies(desk.ana) == []


def test_search_by_title_shortcut_and_body(desk, shared, anas):
    refund = do_create_canned_reply(
        title="Refund sent", shortcut="refund",
        bodies={"es": "Te hemos devuelto el importe.", "en": "We refunded the amount."},
        acting_user=desk.carla)
    assert access_canned_replies(desk.ana, q="REFUND") == [refund]
    assert access_canned_replies(desk.ana, q="saludo") == [anas]
    assert access_canned_replies(desk.ana, q="importe") == [refund]
    assert access_canned_replies(desk.ana, q="importe", language="en") == []
    assert access_canned_replies(desk.ana, q="amount", language="en") == [refund]
    assert access_canned_replies(desk.ana, q="/re") == [refund]
    assert access_canned_replies(desk.ana, q="/") == [anas, shared, refund]
    assert access_canned_replies(desk.beto, q="saludo") == []
    with pytest.raises(ValidationFailed) as refused:
        access_canned_replies(desk.ana, language="fr")
    assert refused.value.field == "language"


# --- rendering ------------------------------------------------------------------------------


def test_the_conversations_language_wins(desk, shared):
    conversation = conversation_of(desk, desk.frank, language="es")
    assert render_canned_reply(shared, conversation, acting_user=desk.ana) == (
        "Hola Frank, te escribe Ana.", "es")


def test_then_the_customers_then_the_agents_language(desk, shared):
    desk.elena.language = "es"
    desk.elena.save()
    elena = conversation_of(desk, desk.elena)
    assert render_canned_reply(shared, elena, acting_user=desk.ana)[1] == "es"
    frank = conversation_of(desk, desk.frank)  # nobody knows Frank's language
    do_update_agent(desk.ana.agent, language="es")
    desk.ana.agent.refresh_from_db()
    assert render_canned_reply(shared, frank, acting_user=desk.ana) == (
        "Hola Frank, te escribe Ana.", "es")
    do_update_agent(desk.beto.agent, language="en-GB")
    assert render_canned_reply(shared, frank, acting_user=desk.beto) == (
        "Hi Frank, Beto here.", "en")


def test_an_explicit_language_wins_and_a_missing_body_falls_back(desk, shared, anas):
    conversation = conversation_of(desk, desk.frank, language="en")
    assert render_canned_reply(shared, conversation, acting_user=desk.ana,
                               language="es") == ("Hola Frank, te escribe Ana.", "es")
    # Ana's sign-off has only a Spanish body: an English conversation gets it anyway.
    assert render_canned_reply(anas, conversation, acting_user=desk.ana) == (
        "Un saludo, Ana", "es")
    assert render_canned_reply(anas, conversation, acting_user=desk.ana, language="en")[1] == "es"
    with pytest.raises(ValidationFailed) as refused:
        render_canned_reply(shared, conversation, acting_user=desk.ana, language="de")
    assert refused.value.field == "language"


def test_rendering_fills_in_the_conversation_and_counts_the_use(desk):
    reply = do_create_canned_reply(
        title="Status", acting_user=desk.carla,
        bodies={"en": "#{{ conversation.number }} is {{ conversation.status }}; "
                      "order {{ conversation.fields.order | default: \"(none)\" }}, "
                      "plan {{ customer.plan | default: \"basic\" }}."})
    conversation = conversation_of(desk, desk.frank)
    text, _language = render_canned_reply(reply, conversation, acting_user=desk.ana)
    assert text == f"#{conversation.pk} is New; order (none), plan basic."
    # Two renders in flight count twice (F() in the UPDATE, not a read-modify-write).
    stale = CannedReply.objects.get(pk=reply.pk)
    render_canned_reply(stale, conversation, acting_user=desk.ana)
    render_canned_reply(stale, conversation, acting_user=desk.beto)
    reply.refresh_from_db()
    assert reply.used_count == 3


def test_rendering_costs_a_fixed_number_of_queries(desk, shared):
    conversation = conversation_of(desk, desk.frank, language="en")
    desk.ana.agent  # noqa: B018 - loaded, as a request's user has it
    with CaptureQueriesContext(connection) as queries:
        render_canned_reply(shared, conversation, acting_user=desk.ana)
    # The customer's identities, and the used_count UPDATE.
    assert len(queries) == 2

