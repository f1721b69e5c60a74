"""Text messages: the gateway interface, and its adapter for Mobizon's HTTP API (mobizon.kz).

A gateway's ``send(phone, text)`` returns the provider's message id or raises: ``SmsRejected``
when the provider refused the message (a wrong number, the key, the balance; trying again
would fail the same way), ``SmsUnavailable`` when it could not be reached or failed on its
side (the outbox job tries again later). Without ``SMS_API_KEY`` there is no gateway and the
SMS channel is off: nothing pretends to send.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Protocol

from flask import Flask

MOBIZON_URL = "https://api.mobizon.kz/service/message/sendsmsmessage"
TIMEOUT = 15  # seconds; an RQ mail job is given 120


class SmsError(Exception):
    """A message was not sent."""


class SmsRejected(SmsError):
    """The provider refused the message; sending it again would be refused again."""


class SmsUnavailable(SmsError, ConnectionError):
    """The provider could not be reached or failed on its side; a later try may pass.

    A ConnectionError, so the job runtime counts it as transient and RQ runs the job again.
    """


class SmsGateway(Protocol):
    def send(self, phone: str, text: str) -> str:
        """Send ``text`` to ``phone`` (+7XXXXXXXXXX); return the provider's message id."""


class MobizonGateway:
    """Mobizon's ``message/sendSmsMessage``: a form POST, the key in the query, JSON back.

    The answer is ``{"code": 0, "data": {"messageId": …}, "message": ""}`` when the message
    is accepted; any other code is a refusal with its reason in ``message``.
    """

    def __init__(self, *, url: str, api_key: str, sender: str | None = None, timeout=TIMEOUT):
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"SMS_URL must be an http(s) address, not {url!r}")
        self.url = url
        self.api_key = api_key
        self.sender = sender
        self.timeout = timeout

    def send(self, phone: str, text: str) -> str:
        query = urllib.parse.urlencode({"output": "json", "api": "v1", "apiKey": self.api_key})
        fields = {"recipient": phone.lstrip("+"), "text": text}
        if self.sender:
            fields["from"] = self.sender
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            f"{self.url}?{query}",
            data=urllib.parse.urlencode(fields).encode("utf-8"),
            headers={
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "Accept": "application/json",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310  # nosec B310 (scheme checked in __init__)
                raw = response.read()
        except urllib.error.HTTPError as exc:
            exc.close()  # it holds the answer's connection
            if exc.code >= 500 or exc.code == 429:
                raise SmsUnavailable(f"Mobizon answered HTTP {exc.code}") from None
            raise SmsRejected(f"Mobizon answered HTTP {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsUnavailable(f"Mobizon unreachable: {exc}") from None
        try:
            answer = json.loads(raw)
            code = int(answer["code"])
        except (ValueError, KeyError, TypeError):
            raise SmsUnavailable("Mobizon answered something that is not its JSON") from None
        if code != 0:
            raise SmsRejected(f"Mobizon code {code}: {answer.get('message') or ''}".strip())
        message_id = (answer.get("data") or {}).get("messageId")
        if not message_id:
            raise SmsUnavailable("Mobizon accepted the message without an id")
        return str(message_id)


def gateway(app: Flask) -> SmsGateway | None:
    """Return the configured gateway, or None when SMS is off (no ``SMS_API_KEY``)."""
    key = str(app.config.get("SMS_API_KEY") or "").strip()
    if not key:
        return None
    return MobizonGateway(
        url=str(app.config.get("SMS_URL") or MOBIZON_URL),
        api_key=key,
        sender=str(app.config.get("SMS_SENDER") or "").strip() or None,
    )
