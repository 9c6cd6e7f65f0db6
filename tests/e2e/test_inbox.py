"""The inbox in a real browser: filters and pages update the list in place (and the address),
bulk actions, read marks, saved views, and the small-screen layout."""

from __future__ import annotations

import re
import uuid

import pytest

from mostrador.core.demo import ADMIN_EMAIL, DEMO_PASSWORD
from tests.e2e.conftest import CHROMIUM

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.xdist_group("e2e"),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} is missing: install Debian's chromium "
                              f"(make test does, with apt-get) to run the browser tests"),
]

ROWS = "#inbox-list tr.conversation-row"


@pytest.fixture(scope="module")
def api(live_desk):
    """Create conversations through the API, each test with its own word to find them by."""
    import httpx

    token = live_desk.mostrador("token", "create", "--user", ADMIN_EMAIL).strip()
    with httpx.Client(base_url=live_desk.url, timeout=30,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        inbox = client.get("/api/v1/inboxes").raise_for_status().json()["items"][0]["id"]

        def create(word: str, count: int, **extra) -> list[int]:
            ids = []
            for n in range(count):
                response = client.post("/api/v1/conversations", json={
                    "inbox": inbox, "customer_email": f"e2e-{word}-{n}@correo.example",
                    "customer_name": f"Cliente {n}", "subject": f"{word} consulta {n}",
                    "text": f"Hola, escribo por {word} número {n}.", **extra})
                ids.append(response.raise_for_status().json()["id"])
            return ids

        yield create


def sign_in(page, url: str, *, width: int = 1280, height: int = 900) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{url}/account/login/")
    page.fill("input[name=username]", ADMIN_EMAIL)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{url}/**")


def word() -> str:
    return "e2e" + uuid.uuid4().hex[:8]


def test_filters_and_sort_update_the_list_in_place(page, live_desk, api):
    token = word()
    api(token, 2, priority=4)
    api(token, 1, priority=1)
    sign_in(page, live_desk.url)
    page.goto(f"{live_desk.url}/?view=all")
    page.locator(ROWS).first.wait_for()
    page.evaluate("window.stillHere = true")  # gone if the page reloads

    page.fill("#id_q", token)
    page.press("#id_q", "Enter")
    page.wait_for_url(f"**q={token}**")
    page.wait_for_function("() => document.querySelectorAll("
                           "'#inbox-list tr.conversation-row').length === 3")

    page.select_option("#id_priority", "4")
    page.wait_for_url("**priority=4**")
    page.wait_for_function("() => document.querySelectorAll("
                           "'#inbox-list tr.conversation-row').length === 2")
    page.select_option("#id_order", "-priority")
    page.wait_for_url("**order=-priority**")
    assert page.evaluate("window.stillHere") is True
    assert re.search(r"\b2\b", page.locator("#inbox-status").inner_text())

    # The address is the view: opening it afresh shows the same list.
    page.goto(page.url)
    assert page.locator(ROWS).count() == 2


def test_older_link_loads_the_next_page_in_place(page, live_desk, api):
    api(word(), 30)  # with the demo's conversations, more than one page of "All"
    sign_in(page, live_desk.url)
    page.goto(f"{live_desk.url}/?view=all")
    first = page.locator(ROWS).first.get_attribute("data-conversation")
    assert page.locator(ROWS).count() == 50
    page.evaluate("window.stillHere = true")
    page.click("#inbox-list a[rel=next]")
    page.wait_for_url("**cursor=**")
    page.wait_for_function(f"() => !document.querySelector("
                           f"'#inbox-list tr[data-conversation=\"{first}\"]')")
    assert page.evaluate("window.stillHere") is True
    assert page.evaluate("document.activeElement.id") == "inbox-heading"
    page.go_back()
    page.locator(f'#inbox-list tr[data-conversation="{first}"]').wait_for()


def test_bulk_actions_and_read_marks(page, live_desk, api):
    token = word()
    ids = api(token, 3)
    sign_in(page, live_desk.url)
    page.goto(f"{live_desk.url}/?f=1&q={token}")
    rows = page.locator(ROWS)
    rows.nth(2).wait_for()
    assert rows.first.evaluate("row => row.classList.contains('unread')")

    page.check(f"#select-{ids[0]}")
    page.check(f"#select-{ids[1]}")
    assert "2" in page.locator("[data-selected-count]").inner_text()
    page.select_option("#id_set_status", "on_hold")
    page.click("button[name=action][value=status]")
    result = page.locator("#inbox-list .bulk-result")
    result.wait_for()
    assert result.evaluate("el => el === document.activeElement")
    for pk in ids[:2]:
        assert page.locator(f'tr[data-conversation="{pk}"] .badge.status-on_hold').count() == 1
    assert page.locator(f'tr[data-conversation="{ids[2]}"] .badge.status-new').count() == 1

    page.check("[data-select-all]")
    page.click("button[name=action][value=read]")
    page.wait_for_function("() => !document.querySelector('#inbox-list tr.unread')")
    page.check(f"#select-{ids[2]}")
    page.click("button[name=action][value=unread]")
    page.locator(f'tr.unread[data-conversation="{ids[2]}"]').wait_for()


def test_save_and_delete_a_view(page, live_desk, api):
    token = word()
    api(token, 1)
    sign_in(page, live_desk.url)
    page.goto(f"{live_desk.url}/?view=all")
    page.fill("#id_q", token)
    page.press("#id_q", "Enter")
    page.wait_for_url(f"**q={token}**")
    page.click("details.save-view > summary")
    page.fill("#save-view-name", f"Vista {token}")
    page.click(".save-view-form button[type=submit]")
    tab = page.locator(".inbox-tabs a[aria-current=page]")
    tab.wait_for()
    assert tab.inner_text() == f"Vista {token}"
    assert page.locator(ROWS).count() == 1

    page.click("form[action*='/delete/'] button[type=submit]")
    page.wait_for_url(f"{live_desk.url}/")
    assert page.locator(".inbox-tabs", has_text=f"Vista {token}").count() == 0


def test_small_screens_get_cards_and_folded_filters(page, live_desk, api):
    token = word()
    api(token, 2)
    sign_in(page, live_desk.url, width=375, height=760)
    page.goto(f"{live_desk.url}/?view=all")
    page.locator(ROWS).first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.evaluate("document.getElementById('inbox-filters').open") is False
    assert page.locator("#inbox-list thead").is_hidden()
    assert page.locator(ROWS).first.evaluate("row => getComputedStyle(row).display") == "flex"

    page.click("#inbox-filters > summary")
    page.fill("#id_q", token)
    page.press("#id_q", "Enter")
    page.wait_for_url(f"**q={token}**")
    page.wait_for_function("() => document.querySelectorAll("
                           "'#inbox-list tr.conversation-row').length === 2")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
