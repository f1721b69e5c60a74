"""The Mobizon adapter against a local fake of its API: the request it sends, each answer."""

from __future__ import annotations

import socket

import pytest

from portal import sms
from tests.portal.fake_sms import API_KEY, FakeMobizon


@pytest.fixture
def mobizon():
    with FakeMobizon() as server:
        yield server


def _gateway(server, **kw) -> sms.MobizonGateway:
    return sms.MobizonGateway(url=server.url, api_key=API_KEY, timeout=5, **kw)


def test_sms_adapter_sends_mobizons_request_and_returns_the_message_id(mobizon):
    message_id = _gateway(mobizon, sender="AKIMAT").send("+77011234567", "Ауысым ертең 09:00")
    assert message_id == "5001"
    (request,) = mobizon.requests
    assert request["path"] == "/service/message/sendsmsmessage"
    assert request["query"] == {"output": "json", "api": "v1", "apiKey": API_KEY}
    assert request["content_type"].startswith("application/x-www-form-urlencoded")
    # Mobizon takes the number without "+", the text in UTF-8 and the sender's alpha name.
    assert request["form"] == {
        "recipient": "77011234567",
        "text": "Ауысым ертең 09:00",
        "from": "AKIMAT",
    }


def test_sms_adapter_raises_rejected_for_a_refusal_and_unavailable_for_an_outage(mobizon):
    mobizon.answers = [
        (200, {"code": 1, "data": {"recipient": "invalid"}, "message": "Неверный номер"}),
        (503, {"code": 999, "message": "maintenance"}),
        (401, {"code": 8, "message": "Access denied"}),
        (200, {"code": 0, "data": {}, "message": ""}),
    ]
    gateway = _gateway(mobizon)
    with pytest.raises(sms.SmsRejected, match="code 1: Неверный номер"):
        gateway.send("+77011234567", "x")
    with pytest.raises(sms.SmsUnavailable) as outage:
        gateway.send("+77011234567", "x")
    # Transient for the job runtime: RQ runs the delivery again.
    from portal.jobs.registry import transient

    assert transient(outage.value)
    with pytest.raises(sms.SmsRejected):
        gateway.send("+77011234567", "x")
    with pytest.raises(sms.SmsUnavailable, match="without an id"):
        gateway.send("+77011234567", "x")
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(sms.SmsUnavailable, match="unreachable"):
        sms.MobizonGateway(url=f"http://127.0.0.1:{port}/x", api_key=API_KEY, timeout=2).send(
            "+77011234567", "x"
        )


def test_sms_is_off_without_an_api_key():
    class App:
        config = {"SMS_URL": "http://127.0.0.1:9/x", "SMS_API_KEY": ""}

    assert sms.gateway(App()) is None
    App.config = {"SMS_API_KEY": "k"}
    assert sms.gateway(App()).url == sms.MOBIZON_URL
    with pytest.raises(ValueError):
        sms.MobizonGateway(url="file:///etc/passwd", api_key="k")
