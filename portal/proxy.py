"""Trusted reverse proxies: the client's address, scheme and host from X-Forwarded-* headers."""

from __future__ import annotations

import ipaddress

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.database import StartupError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse(value) -> int | tuple[Network, ...]:
    """Read ``PORTAL_TRUSTED_PROXIES``: a count of proxy hops, or proxy addresses and CIDRs.

    Nothing (the default) trusts no proxy: every X-Forwarded-* header is ignored.
    """
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise StartupError("PORTAL_TRUSTED_PROXIES must be a number of hops or addresses")
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        hops = int(value)
        if hops < 0:
            raise StartupError("PORTAL_TRUSTED_PROXIES must not be negative")
        return hops
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    networks = []
    for item in (str(i).strip() for i in items):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise StartupError(
                f"PORTAL_TRUSTED_PROXIES: {item!r} is not an address or a network"
            ) from None
    return tuple(networks)


def _is_address(text: str | None) -> bool:
    try:
        ipaddress.ip_address(text or "")
    except ValueError:
        return False
    return True


class TrustedProxies:
    """Apply Werkzeug's ProxyFix only to requests that a trusted proxy handed over.

    With a count N the last N hops are proxies: the client is the N-th address from the right
    of X-Forwarded-For. With addresses, REMOTE_ADDR must be one of them, and the client is the
    first address from the right that is not (a chain of trusted proxies is walked). Scheme,
    host and port are the nearest proxy's (the last value of X-Forwarded-Proto/-Host/-Port).
    A forwarded client that is not an IP address is ignored: limits and audit records key on it.
    """

    def __init__(self, wsgi_app, trusted: int | tuple[Network, ...]):
        self.wsgi_app = wsgi_app
        self.trusted = trusted
        self._fixes: dict[int, ProxyFix] = {}

    def _fix(self, hops: int) -> ProxyFix:
        fix = self._fixes.get(hops)
        if fix is None:
            fix = self._fixes[hops] = ProxyFix(
                self._checked, x_for=hops, x_proto=1, x_host=1, x_port=1, x_prefix=0
            )
        return fix

    def _checked(self, environ, start_response):
        if not _is_address(environ.get("REMOTE_ADDR")):
            environ["REMOTE_ADDR"] = environ["werkzeug.proxy_fix.orig"]["REMOTE_ADDR"]
        return self.wsgi_app(environ, start_response)

    def _trusts(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in net for net in self.trusted)

    def _hops(self, environ) -> int:
        if isinstance(self.trusted, int):
            return self.trusted
        if not self._trusts(environ.get("REMOTE_ADDR") or ""):
            return 0
        chain = [a for a in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        hops = 1
        # Skip the further proxies we trust; the first address we do not trust is the client.
        while hops < len(chain) and self._trusts(chain[-hops]):
            hops += 1
        return hops

    def __call__(self, environ, start_response):
        hops = self._hops(environ)
        if not hops:
            return self.wsgi_app(environ, start_response)
        return self._fix(hops)(environ, start_response)


def install(app: Flask) -> None:
    """Wrap the app in the proxy fix that ``PORTAL_TRUSTED_PROXIES`` asks for, if any."""
    trusted = parse(app.config.get("TRUSTED_PROXIES"))
    app.config["TRUSTED_PROXIES"] = trusted
    if trusted:
        app.wsgi_app = TrustedProxies(app.wsgi_app, trusted)
