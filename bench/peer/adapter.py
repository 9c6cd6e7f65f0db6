"""Mostrador's adapter for the product-neutral peer harness (/work/shared/peer-bench).

    cd /work/shared/peer-bench
    /tmp/probe/bin/python workloads/ingest.py --adapter /work/main/bench/peer \
        --corpus /tmp/mostrador-bench/corpus-5000-42 --sizes 1000,5000 --repeats 3 \
        --spool /tmp/mostrador-bench/peer-spool

The harness loads this file by path (``--adapter DIR`` with an ``adapter.py`` in it), so
nothing is copied into the harness's folder. Every product operation runs as a ``mostrador``
subprocess (the interpreter in $MOSTRADOR_PYTHON, default the one running the harness) or
against ``mostrador serve`` on 127.0.0.1; the harness process never imports Django.

State lives in $MOSTRADOR_PEER_HOME (default /tmp/mostrador-bench/peer): ``var/`` is the
embedded data folder (SQLite database, attachments, task queue), ``boot.json`` the ids and the
token that reset() made.

How the contract maps onto Mostrador:
* tickets = conversations, followups = messages (every message, the first included, as the
  peer counts them), attachments = stored attachment files.
* ingest = ``mostrador mail import DIR --json`` (threads by Message-ID/References, stores
  attachments, indexes for search). The importer leaves the files where they are, so the
  harness's "files left in spool" is the whole spool and means nothing here.
* seed = the bench-only bulk loader (bench/bulkload.py --payloads): queue → inbox, assignee
  index → agent, open/reopened → open, resolved → solved, closed → closed, priority 1..5 →
  urgent..low.
* staff_login logs into /admin/login/ with Django's session, and also gives the client the
  administrator's bearer token: there is no agent UI list page yet, so the agent's list and
  search are the API requests an agent UI makes (``GET /api/v1/conversations``, 25 a page).
* result_count is the number of rows on the first page (≤ 25): the API's keyset pages do not
  count the whole result.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.common import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    BENCH,
    CACHE,
    PYTHON,
    REPO,
    Server,
    create_admin_and_token,
    log,
    mostrador,
    product_env,
    shell,
)

PAGE = 25  # rows on the peer's agent list page
COUNTS = r"""
import json
from mostrador.conversations.models import Attachment, Conversation, Message
print("COUNTS " + json.dumps({"tickets": Conversation.objects.count(),
                              "followups": Message.objects.count(),
                              "attachments": Attachment.objects.count()}))
"""


class Adapter:
    name = "Mostrador"

    def __init__(self) -> None:
        self.home = Path(os.environ.get("MOSTRADOR_PEER_HOME", CACHE / "peer"))
        self.var = self.home / "var"
        self.boot_file = self.home / "boot.json"
        self._boot: dict | None = None

    def _env(self) -> dict[str, str]:
        return product_env(self.var)

    def versions(self) -> dict:
        code = ("import importlib.metadata as m, json, platform, sqlite3; print(json.dumps("
                "{p: m.version(p) for p in ['Django', 'django-ninja', 'pydantic', 'uvicorn', "
                "'huey', 'httpx']} | {'sqlite': sqlite3.sqlite_version, 'python': "
                "platform.python_version()}))")
        versions = json.loads(subprocess.run([PYTHON, "-c", code], capture_output=True,
                                             text=True, check=True).stdout)
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain"],
                               capture_output=True, text=True).stdout.strip()
        return {"mostrador": f"0.1.0 ({commit or 'no git'}{' + local changes' if dirty else ''})",
                **versions}

    # --- lifecycle -----------------------------------------------------------------------

    def reset(self) -> None:
        """Fresh embedded database: migrated, 12 agents, 4 teams, 3 e-mail inboxes (the first
        catches all addresses), tags, an administrator and a token."""
        shutil.rmtree(self.var, ignore_errors=True)
        self.var.mkdir(parents=True)
        env = self._env()
        mostrador(["migrate", "--noinput", "-v", "0"], env)
        out = subprocess.run([PYTHON, str(BENCH / "bulkload.py"), "--baseline-only"], cwd=REPO,
                             env=env, capture_output=True, text=True, check=True).stdout
        boot = json.loads(out.strip().splitlines()[-1])
        boot["token"] = create_admin_and_token(env)
        self.boot_file.write_text(json.dumps(boot))
        self._boot = boot

    def boot(self) -> dict:
        if self._boot is None:
            if not self.boot_file.exists():
                raise RuntimeError(f"{self.boot_file} missing: reset() first")
            self._boot = json.loads(self.boot_file.read_text())
        return self._boot

    def counts(self) -> dict:
        if not (self.var / "mostrador.sqlite3").exists():
            raise RuntimeError("no database yet")
        out = shell(COUNTS, self._env())
        return json.loads(next(x for x in out.splitlines() if x.startswith("COUNTS "))[7:])

    def seed(self, payloads: Path, skip: int, count: int) -> dict:
        self.boot()
        out = subprocess.run([PYTHON, str(BENCH / "bulkload.py"), "--payloads", str(payloads),
                              "--skip", str(skip), "--count", str(count)], cwd=REPO,
                             env=self._env(), capture_output=True, text=True, check=True).stdout
        loaded = json.loads(out.strip().splitlines()[-1])
        return {k: loaded[k] for k in ("conversations", "customers", "conversation_tags",
                                       "seconds")}

    # --- e-mail --------------------------------------------------------------------------

    def prepare_ingest(self, spool: Path) -> None:
        """Nothing to point: the import command takes the folder."""
        self.boot()

    def ingest(self, spool: Path) -> dict:
        result = mostrador(["mail", "import", str(spool), "--json"], self._env(), check=False)
        summary = None
        with contextlib.suppress(ValueError, IndexError):
            summary = json.loads(result.stdout.strip().splitlines()[-1])
        return {"command": "mostrador mail import DIR --json", "returncode": result.returncode,
                "summary": summary, "stderr_tail": result.stderr[-600:]}

    # --- server --------------------------------------------------------------------------

    @contextlib.contextmanager
    def server(self, workers: int = 2):
        with Server(self._env(), workers=workers, embedded=True) as server:
            log(f"mostrador serve --workers {workers} up at {server.base_url}")
            yield server.base_url

    # --- API -----------------------------------------------------------------------------

    def api_headers(self, auth: str = "token") -> dict:
        if auth != "token":
            raise NotImplementedError("the API takes bearer tokens only")
        return {"Authorization": f"Bearer {self.boot()['token']}"}

    _PRIORITY = {1: 4, 2: 3, 3: 2, 4: 1, 5: 1}  # 1 = critical there, 4 = urgent here

    def api_create_ticket(self, payload: dict):
        email = payload["submitter_email"]
        name = " ".join(p.capitalize() for p in email.split("@")[0].rstrip("0123456789")
                        .split("."))
        return "POST", "/api/v1/conversations", {
            "inbox": self.boot()["inboxes"][0], "customer_email": email, "customer_name": name,
            "subject": payload["title"], "text": payload["description"],
            "priority": self._PRIORITY[payload["priority"]]}

    @staticmethod
    def api_created_ok(response) -> bool:
        return response.status_code == 201

    # --- the agent's list ----------------------------------------------------------------

    def staff_login(self, client) -> None:
        page = client.get("/admin/login/")
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if found is None:
            raise RuntimeError(f"no login form at /admin/login/ (HTTP {page.status_code})")
        response = client.post("/admin/login/", data={
            "username": ADMIN_EMAIL, "password": ADMIN_PASSWORD,
            "csrfmiddlewaretoken": found.group(1), "next": "/admin/"},
            headers={"Referer": f"{client.base_url}/admin/login/"})
        if response.status_code != 302 or "sessionid" not in client.cookies:
            raise RuntimeError(f"admin login failed: HTTP {response.status_code}")
        client.headers["Authorization"] = f"Bearer {self.boot()['token']}"

    def list_requests(self, client) -> list:
        """The agent's default list: conversations waiting for the desk (new and open), most
        recent activity first, first page of 25."""
        query = urlencode({"status": "new,open", "limit": PAGE})
        return [("list_json_first_page", f"/api/v1/conversations?{query}")]

    def search_requests(self, client, keyword: str) -> list:
        """Full-text search over message text, every status, first page of 25."""
        query = urlencode({"q": keyword, "limit": PAGE})
        return [("search_json_first_page", f"/api/v1/conversations?{query}")]

    @staticmethod
    def result_count(name: str, response):
        if name.endswith("_json_first_page"):
            return len(response.json()["items"])
        return None
