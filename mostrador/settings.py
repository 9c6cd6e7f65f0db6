"""Settings, read from the environment with safe defaults for the embedded mode.

Embedded (nothing set): SQLite in ``./var/``, tasks in a SQLite queue consumed inside the server
process, in-memory channel layer, outbound mail written to ``./var/outbox/`` unless an SMTP
relay is configured. Scaled out: ``DATABASE_URL=postgres://…`` and ``REDIS_URL=redis://…``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("MOSTRADOR_VAR_DIR", Path.cwd() / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from exc


def _secret_key() -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    # Generated once and kept beside the data, so sessions and tokens survive restarts.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def database_from_url(url: str) -> dict:
    """``sqlite:///relative/or//absolute.db`` or ``postgres://user:pass@host:port/name``."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if scheme == "sqlite":
        name = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        return sqlite_database(Path(name) if name else VAR_DIR / "mostrador.sqlite3")
    if scheme in {"postgres", "postgresql", "pgsql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")) or "mostrador",
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            # 0 by default: under ASGI Django runs each request's database work in a fresh
            # thread, and a kept connection would outlive its thread until the server runs out
            # of connections. Put a pooler (PgBouncer) in front for connection reuse.
            "CONN_MAX_AGE": _env_int("DATABASE_CONN_MAX_AGE", 0),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
            "TEST": {"NAME": os.environ.get("DATABASE_TEST_NAME") or None},
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL scheme {scheme!r} is not supported; use sqlite:///path or postgres://…"
    )


def sqlite_database(path: Path) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            # WAL lets readers go on while one writer writes; IMMEDIATE takes the write lock at
            # BEGIN so two writers queue on busy_timeout instead of failing on lock upgrade.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA cache_size=-64000; PRAGMA temp_store=MEMORY;"
            ),
        },
        "TEST": {"NAME": os.environ.get("DATABASE_TEST_NAME") or None},
    }


SECRET_KEY = _secret_key()
DEBUG = _env_bool("DEBUG", False)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "*").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "ninja",
    "mostrador.core",
    "mostrador.accounts",
    "mostrador.customers",
    "mostrador.conversations",
    "mostrador.sla",
    # Triggers run before routing so that a trigger's team or tier is routed at once.
    "mostrador.automation",
    # The bot answers before routing: a conversation it answered waits for the customer.
    "mostrador.bot",
    "mostrador.routing",
    "mostrador.knowledge",
    "mostrador.portal",
    "mostrador.channels.email",
    "mostrador.channels.webchat",
    "mostrador.realtime",
    "mostrador.api",
    "mostrador.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mostrador.web.account.middleware.AgentPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "mostrador.urls"
ASGI_APPLICATION = "mostrador.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
DATABASES = {
    "default": database_from_url(DATABASE_URL)
    if DATABASE_URL
    else sqlite_database(VAR_DIR / "mostrador.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # No socket timeout: a consumer's receive blocks on Redis for as long as it waits
            # for a frame, and redis-py's own default (5 s) would cut it off; the pool is sized
            # for one process's open websockets rather than redis-py's default of 100.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": None,
                                  "socket_connect_timeout": 5, "max_connections": 10_000}],
                       "prefix": "mostrador:ws"},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL, "KEY_PREFIX": "mostrador"}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Background tasks (see mostrador/core/tasks.py).
TASKS = {
    "name": os.environ.get("MOSTRADOR_TASK_QUEUE", "mostrador"),
    "redis_url": REDIS_URL,
    "sqlite_path": str(VAR_DIR / "tasks.sqlite3"),
    # Run tasks inline, in the caller, after commit (tests and one-shot commands).
    "immediate": _env_bool("MOSTRADOR_TASKS_IMMEDIATE", False),
    "workers": _env_int("MOSTRADOR_WORKERS", 2),
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:inbox"
MAILERS = {"default": {"BACKEND": "mostrador.core.mail.EmailBackend"}}
DEFAULT_FROM_EMAIL = os.environ.get("MOSTRADOR_FROM_EMAIL", "Mostrador <mostrador@localhost>")

LANGUAGE_CODE = "es"
LANGUAGES = [("es", _("Spanish")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Madrid")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Request size limits: API bodies and form posts.
DATA_UPLOAD_MAX_MEMORY_SIZE = _env_int("MOSTRADOR_MAX_REQUEST_BYTES", 10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# E-mail channel.
MOSTRADOR = {
    # Public base URL, used in links sent to customers.
    "BASE_URL": os.environ.get("MOSTRADOR_BASE_URL", "http://127.0.0.1:8000"),
    # Domain of our outbound Message-IDs.
    "MAIL_DOMAIN": os.environ.get("MOSTRADOR_MAIL_DOMAIN", "mostrador.localhost"),
    "MAX_ATTACHMENT_BYTES": _env_int("MOSTRADOR_MAX_ATTACHMENT_BYTES", 25 * 1024 * 1024),
    "MAX_MESSAGE_BYTES": _env_int("MOSTRADOR_MAX_MESSAGE_BYTES", 50 * 1024 * 1024),
    "SMTPD_HOST": os.environ.get("MOSTRADOR_SMTPD_HOST", "127.0.0.1"),
    "SMTPD_PORT": _env_int("MOSTRADOR_SMTPD_PORT", 2525),
    # A customer reply to a conversation solved longer ago than this opens a follow-up.
    "REOPEN_WINDOW_DAYS": _env_int("MOSTRADOR_REOPEN_WINDOW_DAYS", 14),
    # Outbound relay used by inboxes without their own SMTP settings; empty: write to OUTBOX_DIR.
    "SMTP_URL": os.environ.get("MOSTRADOR_SMTP_URL", ""),
    "OUTBOX_DIR": str(VAR_DIR / "outbox"),
    "DELIVERY_MAX_ATTEMPTS": _env_int("MOSTRADOR_DELIVERY_MAX_ATTEMPTS", 8),
    "API_PAGE_MAX": 200,
}

# The help center's request form opens conversations in this inbox (an id); unset: the first
# active e-mail inbox.
MOSTRADOR_HELP_CENTER_INBOX = _env_int("MOSTRADOR_HELP_CENTER_INBOX", 0) or None

# Outbound webhooks: a subscription whose receiver failed this many attempts in a row is turned
# off (0: never).
WEBHOOK_DISABLE_AFTER = _env_int("MOSTRADOR_WEBHOOK_DISABLE_AFTER", 15)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "huey": {"level": "WARNING"},
        "mail.log": {"level": "WARNING"},
    },
}
