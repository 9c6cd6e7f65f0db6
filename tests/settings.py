"""Settings for the test suite: the product's own settings with a throw-away data folder and
tasks run in-line. ``DATABASE_URL`` and ``REDIS_URL`` still choose the backends, so the same
suite runs embedded (SQLite) and scaled out (PostgreSQL + Redis)."""

import os
import tempfile

os.environ.setdefault("MOSTRADOR_VAR_DIR", tempfile.mkdtemp(prefix="mostrador-test-"))
os.environ.setdefault("MOSTRADOR_TASKS_IMMEDIATE", "1")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")

from mostrador.settings import *  # noqa: F403
from mostrador.settings import MOSTRADOR, STATIC_ROOT, TASKS

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns (an error here) without it

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS["name"] = f"mostrador-test-{os.getpid()}"
MOSTRADOR["MAIL_DOMAIN"] = "desk.example.com"
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "root": {"handlers": [], "level": "CRITICAL"}}
# The product defaults to Spanish; tests read messages in English unless they switch.
LANGUAGE_CODE = "en"
