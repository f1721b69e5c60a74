"""Settings read from the environment inside the app factory, with the embedded defaults."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

ENVIRONMENTS = ("production", "development")


def _database_url(instance: Path) -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{instance / 'portal.sqlite3'}"
    # Heroku-style, bare and psycopg2 PostgreSQL URLs all use psycopg 3, the driver installed.
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if not url.startswith(("postgresql+psycopg://", "sqlite:")):
        from portal.database import StartupError

        scheme = url.split(":", 1)[0]
        raise StartupError(
            f"DATABASE_URL must name PostgreSQL (postgresql://…) or SQLite (sqlite:///…), "
            f"not {scheme}:"
        )
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
    Only the embedded SQLite portal outside production may generate its own, kept under
    instance/ like the secret key: processes sharing a server database must share the keys,
    or one host could not open what another sealed.
    """
    keys, index = app_config.get("DATA_KEYS"), app_config.get("INDEX_KEY")
    if keys and index:
        return str(keys), str(index)
    server = not str(app_config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite")
    if server or is_production(app_config):
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


def _truthy(value) -> bool:
    # PORTAL_* values arrive JSON-parsed by from_prefixed_env (1, true) or as raw text ("on").
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def is_production(config) -> bool:
    """Tell whether the settings are a production's (``PORTAL_ENV``, resolved by ``settle``)."""
    return config.get("ENV") == "production"


def _environment(config) -> str:
    explicit = str(config.get("ENV") or "").strip().lower()
    if explicit:
        if explicit not in ENVIRONMENTS:
            from portal.database import StartupError

            raise StartupError(f"PORTAL_ENV must be production or development, not {explicit!r}")
        return explicit
    # A server database means a deployment; test suites and the embedded SQLite demo do not.
    if config.get("TESTING") or str(config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        return "development"
    return "production"


def settle(config, instance: Path) -> None:
    """Resolve the settings that depend on the environment; refuse an incomplete production.

    Runs after every source of settings (environment, ``PORTAL_*``, the factory's argument)
    and before any service is reached, so that a wrong setting is the one line printed.
    """
    from portal.database import StartupError

    config["ENV"] = env = _environment(config)
    production = env == "production"
    for name in ("DEMO_MFA_WAIVER", "HSTS_INCLUDE_SUBDOMAINS", "HSTS_PRELOAD"):
        config[name] = _truthy(config.get(name, False))
    secret = config.get("SECRET_KEY")
    if production and len(str(secret or "")) < 32:
        raise StartupError(
            "Set SECRET_KEY to at least 32 random characters, the same on every process "
            "(e.g. python3 -c 'import secrets; print(secrets.token_hex(32))')"
        )
    if not secret:
        config["SECRET_KEY"] = _instance_secret(instance)
    base = str(config.get("PUBLIC_BASE_URL") or "").strip()
    if not base:
        if production:
            raise StartupError(
                "Set PORTAL_PUBLIC_BASE_URL to the portal's public address "
                "(e.g. https://portal.example.kz/): links in e-mails use it"
            )
        base = "http://localhost/"
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise StartupError(f"PORTAL_PUBLIC_BASE_URL must be an http(s) address, not {base!r}")
    config["PUBLIC_BASE_URL"] = base
    if production and config["DEMO_MFA_WAIVER"]:
        raise StartupError("PORTAL_DEMO_MFA_WAIVER is for the demo only: unset it in production")
    from portal.proxy import parse

    config["TRUSTED_PROXIES"] = parse(config.get("TRUSTED_PROXIES"))
    hsts = config.get("HSTS")
    # On in production; elsewhere only where cookies are Secure (a demo over plain HTTP is not).
    config["HSTS"] = _truthy(hsts) if hsts is not None else (production or secure_cookies(config))
    try:
        config["HSTS_MAX_AGE"] = int(config.get("HSTS_MAX_AGE", 31536000))
    except (TypeError, ValueError):
        config["HSTS_MAX_AGE"] = -1
    if config["HSTS_MAX_AGE"] < 0:
        raise StartupError("PORTAL_HSTS_MAX_AGE must be a number of seconds")
    if config["HSTS_PRELOAD"] and not (
        config["HSTS_INCLUDE_SUBDOMAINS"] and config["HSTS_MAX_AGE"] >= 31536000
    ):
        raise StartupError(
            "PORTAL_HSTS_PRELOAD needs PORTAL_HSTS_INCLUDE_SUBDOMAINS and a "
            "PORTAL_HSTS_MAX_AGE of at least 31536000"
        )


def secure_cookies(config) -> bool:
    """Tell whether the session cookie is sent only over HTTPS."""
    return bool(config.get("SESSION_COOKIE_SECURE"))


def build_config(instance: Path) -> dict:
    """Return the configuration from the environment; nothing is read at import time."""
    instance.mkdir(parents=True, exist_ok=True)
    secure = _flag("PORTAL_SECURE_COOKIES", True)
    return {
        "SQLALCHEMY_DATABASE_URI": _database_url(instance),
        "REDIS_URL": os.environ.get("REDIS_URL", "").strip() or None,
        # Generated under instance/ by settle() only outside production.
        "SECRET_KEY": os.environ.get("SECRET_KEY") or None,
        "ENV": os.environ.get("PORTAL_ENV", "").strip() or None,
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
        # None: settle() decides (on in production); PORTAL_HSTS overrides.
        "HSTS": None,
        # Cookies without Secure travel in clear: every page says the connection is not secure.
        "INSECURE_COOKIES_BANNER": not secure,
    }
