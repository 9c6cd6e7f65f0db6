"""A real Mostrador for the browser tests: ``mostrador serve`` in a subprocess with its own
data folder (SQLite, SQLite task queue, the embedded SMTP receiver on a free port), a tiny demo
desk, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying to reach Google's services,
# which this machine's closed network refuses many times a second.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
REPO = Path(__file__).resolve().parents[2]
# Variables of the test run that must not leak into the server: it chooses its own backends.
SCRUBBED = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "MOSTRADOR_TASKS_IMMEDIATE",
            "DJANGO_SETTINGS_MODULE", "DATABASE_TEST_NAME", "MOSTRADOR_VAR_DIR")


@dataclasses.dataclass(frozen=True)
class LiveDesk:
    url: str
    smtp_port: int
    var_dir: Path
    env: dict[str, str]

    def mostrador(self, *args: str) -> str:
        """Run a ``mostrador`` command against this desk; its standard output."""
        done = subprocess.run([sys.executable, "-m", "mostrador", *args], env=self.env,
                              cwd=REPO, capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise AssertionError(f"mostrador {' '.join(args)} failed:\n{done.stderr}")
        return done.stdout

    def shell_json(self, code: str, marker: str, **values: object) -> Any:
        """Run ``code`` in ``mostrador shell`` with ``values`` bound as variables, and read back
        the JSON it prints on the line that starts with ``marker``."""
        prefix = "".join(f"{name} = {value!r}\n" for name, value in values.items())
        out = self.mostrador("shell", "--no-imports", "-c", prefix + code)
        line = next(x for x in out.splitlines() if x.startswith(marker + " "))
        return json.loads(line[len(marker) + 1:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}:\n"
                                 f"{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"no answer from {url}/healthz after {timeout:.0f} s:\n"
                         f"{log.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def live_desk(tmp_path_factory) -> Iterator[LiveDesk]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (make test installs Debian's chromium)")
    var_dir = tmp_path_factory.mktemp("e2e-var")
    port, smtp_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update(MOSTRADOR_VAR_DIR=str(var_dir), MOSTRADOR_SMTPD_PORT=str(smtp_port),
               MOSTRADOR_SMTPD_HOST="127.0.0.1", LOG_LEVEL="WARNING")
    desk = LiveDesk(f"http://127.0.0.1:{port}", smtp_port, var_dir, env)
    desk.mostrador("migrate", "--noinput", "-v0")
    desk.mostrador("collectstatic", "--noinput", "-v0")
    desk.mostrador("seed_demo", "--conversations", "25", "--customers", "10")
    # The desk is open around the clock, so that no test depends on the hour it runs at (an
    # after-hours notice would add a message); tests about closed hours set their own calendar.
    desk.shell_json(
        "import json\nfrom mostrador.sla.actions import do_update_calendar\n"
        "from mostrador.sla.models import Calendar\n"
        "for calendar in Calendar.objects.filter(is_default=True):\n"
        "    do_update_calendar(calendar, weekly={d: [['00:00', '24:00']] for d in "
        "('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun')}, country='')\n"
        "print('OPEN', json.dumps(Calendar.objects.filter(is_default=True).count()))", "OPEN")
    log = var_dir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "mostrador", "serve", "--host", "127.0.0.1", "--port",
             str(port)], env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_healthy(desk.url, process, log, timeout=60)
        yield desk
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser(live_desk):
    # Module scope, not session: Playwright's sync API keeps an event loop on this thread, and
    # Django refuses database work from a thread with a running loop, so the browser must be
    # gone before this worker runs ordinary tests.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                             headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="es-ES")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
