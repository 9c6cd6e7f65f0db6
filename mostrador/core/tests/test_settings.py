"""Settings read from the environment: database URLs, the generated secret key, bad values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from mostrador.settings import database_from_url

REPO = Path(__file__).resolve().parents[3]


def test_sqlite_urls_name_a_relative_or_absolute_file():
    relative = database_from_url("sqlite:///data/desk.sqlite3")
    assert relative["ENGINE"] == "django.db.backends.sqlite3"
    assert relative["NAME"] == "data/desk.sqlite3"
    assert database_from_url("sqlite:////srv/mostrador/desk.sqlite3")["NAME"] == (
        "/srv/mostrador/desk.sqlite3")
    # WAL and an immediate write lock, so readers go on while one writer writes.
    assert relative["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in relative["OPTIONS"]["init_command"]


def test_a_bare_sqlite_url_keeps_the_database_in_the_data_folder(settings):
    assert database_from_url("sqlite://")["NAME"] == str(settings.VAR_DIR / "mostrador.sqlite3")


def test_postgres_urls_carry_credentials_host_port_and_options():
    config = database_from_url(
        "postgres://desk:p%40ss%2Fword@db.internal:6432/mostrador_prod?sslmode=require")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == (
        "mostrador_prod", "desk", "p@ss/word")
    assert (config["HOST"], config["PORT"]) == ("db.internal", "6432")
    assert config["OPTIONS"] == {"sslmode": "require"}
    assert config["CONN_HEALTH_CHECKS"] is True
    bare = database_from_url("postgresql://localhost")
    assert (bare["NAME"], bare["USER"], bare["PORT"]) == ("mostrador", "", "")


@pytest.mark.parametrize("url", ["mysql://root@localhost/desk", "redis://localhost:6379/0",
                                 "desk.sqlite3"])
def test_an_unsupported_database_url_says_which_ones_work(url):
    with pytest.raises(ImproperlyConfigured) as raised:
        database_from_url(url)
    message = str(raised.value)
    assert "DATABASE_URL" in message
    assert "sqlite:///" in message and "postgres://" in message


def _settings_in_fresh_process(var_dir: Path, **env: str) -> subprocess.CompletedProcess:
    """Import the product's settings the way ``mostrador`` does, in a clean process."""
    environment = {k: v for k, v in os.environ.items()
                   if k not in {"SECRET_KEY", "DATABASE_URL", "REDIS_URL"}}
    environment.update(MOSTRADOR_VAR_DIR=str(var_dir), **env)
    return subprocess.run(
        [sys.executable, "-c", "from mostrador import settings; print(settings.SECRET_KEY)"],
        cwd=REPO, env=environment, capture_output=True, text=True, timeout=60)


def test_the_secret_key_is_generated_once_in_the_data_folder_and_reused(tmp_path):
    var_dir = tmp_path / "var"
    first = _settings_in_fresh_process(var_dir)
    assert first.returncode == 0, first.stderr
    key_file = var_dir / "secret_key"
    assert first.stdout.strip() == key_file.read_text().strip()
    assert len(first.stdout.strip()) >= 50
    assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only
    second = _settings_in_fresh_process(var_dir)
    assert second.stdout == first.stdout
    given = _settings_in_fresh_process(var_dir, SECRET_KEY="from-the-environment")
    assert given.stdout.strip() == "from-the-environment"


def test_a_number_setting_that_is_not_a_number_is_named(tmp_path):
    broken = _settings_in_fresh_process(tmp_path, MOSTRADOR_SMTPD_PORT="twenty-five")
    assert broken.returncode != 0
    assert "MOSTRADOR_SMTPD_PORT must be a whole number, not 'twenty-five'" in broken.stderr
