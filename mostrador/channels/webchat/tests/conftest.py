import pytest

from mostrador.channels.webchat import availability
from mostrador.conversations.actions import do_create_inbox


@pytest.fixture(autouse=True)
def _fresh_availability():
    availability.forget()
    yield
    availability.forget()


@pytest.fixture
def chat_inbox(desk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return do_create_inbox(name="Chat", channel_kind="webchat", default_team=desk.team_l1,
                               config={"public_key": "wc_test_key",
                                       "allowed_origins": ["https://shop.example.com"],
                                       "topics": ["Pedidos", "Otro"]},
                               acting_user=desk.diego)
