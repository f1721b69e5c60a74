"""Settings read from the environment inside the app factory, with the embedded defaults."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path


def _database_url(instance: Path) -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{instance / 'portal.sqlite3'}"
    # Heroku-style and bare PostgreSQL URLs use psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _instance_secret(instance: Path) -> str:
    """Return the secret key kept under instance/, generating it on first use."""
    path = instance / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def data_keys(app_config: dict, instance: Path) -> tuple[str, str]:
    """Return (data keys, index key) for sealing personal data (core.sealing).

    From ``PORTAL_DATA_KEYS`` and ``PORTAL_INDEX_KEY`` (read into DATA_KEYS and INDEX_KEY).
    Only the embedded SQLite portal may generate its own, kept under instance/ like the secret
    key: processes sharing a server database must share the keys, or one host could not open
    what another sealed.
    """
    keys, index = app_config.get("DATA_KEYS"), app_config.get("INDEX_KEY")
    if keys and index:
        return str(keys), str(index)
    if not str(app_config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        from portal.database import StartupError

        raise StartupError(
            "Set PORTAL_DATA_KEYS and PORTAL_INDEX_KEY (see `flask --app wsgi keys new`): "
            "personal data is sealed with them"
        )
    from core.sealing import new_key

    path = instance / "data_keys"
    if not path.exists():
        # Written aside and linked into place: a second process starting at the same moment
        # reads the whole file or makes its own attempt, never a half-written one.
        draft = instance / f"data_keys.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"k1:{new_key()}\n{new_key()}\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    stored_keys, stored_index = path.read_text().split()
    return str(keys or stored_keys), str(index or stored_index)


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def build_config(instance: Path) -> dict:
    """Return the configuration from the environment; nothing is read at import time."""
    instance.mkdir(parents=True, exist_ok=True)
    secure = _flag("PORTAL_SECURE_COOKIES", True)
    return {
        "SQLALCHEMY_DATABASE_URI": _database_url(instance),
        "REDIS_URL": os.environ.get("REDIS_URL", "").strip() or None,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or _instance_secret(instance),
        "RQ_QUEUE_PREFIX": os.environ.get("PORTAL_RQ_QUEUE_PREFIX", "portal"),
        "CHECK_SERVICES": True,
        # __Host- cookies need Secure; a plain-HTTP deployment behind no TLS must opt out.
        "SESSION_COOKIE_NAME": "__Host-session" if secure else "portal-session",
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_PATH": "/",
        "SESSION_COOKIE_DOMAIN": None,
        "PERMANENT_SESSION_LIFETIME": dt.timedelta(hours=8),
        "REMEMBER_COOKIE_NAME": "__Host-remember" if secure else "portal-remember",
        "REMEMBER_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": dt.timedelta(days=7),
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": 3600,
        "BABEL_DEFAULT_LOCALE": "kk",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Almaty",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "HSTS": secure,
        # Cookies without Secure travel in clear: every page says the connection is not secure.
        "INSECURE_COOKIES_BANNER": not secure,
    }
