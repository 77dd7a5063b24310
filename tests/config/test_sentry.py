"""Error reports to Sentry (config/sentry.py): off without SENTRY_DSN, and no key, secret,
token, cookie or password in an event that leaves. Events are captured by a transport of
our own; nothing goes over the network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from calendar_app.core import request_id
from config.sentry import MASK, scrub_event, sentry_init

ROOT = Path(__file__).resolve().parents[2]
SCRIPE_KEY = "scripe_sk_live_4f9a8b7c6d5e4f3a2b1c"
OAUTH_TOKEN = "scripe_oat_Zx81kq_19aLm"
API_TOKEN = "scal_8hG2kPq0ZrT5vWx3yB7n"
WEBHOOK_SECRET = "whsec_0aB1cD2eF3gH4iJ5kL6m"
PASSWORD = "hunter2"
SECRETS = (SCRIPE_KEY, OAUTH_TOKEN, API_TOKEN, WEBHOOK_SECRET, PASSWORD, "abc.def-session")


class Captured(Transport):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[dict] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        if (event := envelope.get_event()) is not None:
            self.events.append(event)


@pytest.fixture
def captured() -> Captured:
    transport = Captured()
    sentry_init(
        dsn="https://public@sentry.example.invalid/1", environment="test", transport=transport
    )
    yield transport
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN: off again for the rest of the run


def sent(transport: Captured) -> str:
    sentry_sdk.flush()
    assert transport.events, "no event was sent"
    return json.dumps(transport.events)


def call_scripe_and_fail(api_key: str, webhook_secret: str, password: str) -> None:
    headers = {"Authorization": f"Bearer {OAUTH_TOKEN}"}  # noqa: F841 - a frame's local
    token = API_TOKEN  # noqa: F841
    raise RuntimeError(f"Scripe refused {api_key} (calendar token {API_TOKEN})")


def test_an_exceptions_frames_and_message_are_scrubbed(captured):
    token = request_id.bind("4f1c0e2a9b8d4c6e")
    try:
        call_scripe_and_fail(SCRIPE_KEY, WEBHOOK_SECRET, PASSWORD)
    except RuntimeError:
        sentry_sdk.capture_exception()
    finally:
        request_id.unbind(token)
    text = sent(captured)
    for secret in SECRETS:
        assert secret not in text, secret
    event = captured.events[0]
    frame = event["exception"]["values"][0]["stacktrace"]["frames"][-1]
    assert frame["function"] == "call_scripe_and_fail"  # the report is still useful
    assert frame["vars"]["api_key"] == MASK
    assert frame["vars"]["password"] == MASK
    assert "Scripe refused" in event["exception"]["values"][0]["value"]
    assert event["tags"]["request_id"] == "4f1c0e2a9b8d4c6e"  # leads to the log lines


def test_a_requests_headers_cookies_and_form_are_scrubbed(captured):
    sentry_sdk.capture_event(
        {
            "message": f"Webhook from Scripe failed with {WEBHOOK_SECRET}",
            "request": {
                "url": "https://calendar.example.com/settings/scripe/",
                "method": "POST",
                "headers": {
                    "Authorization": f"Bearer {API_TOKEN}",
                    "Cookie": "sessionid=abc.def-session; csrftoken=t0k3n",
                    "Scripe-Signature": "t=1,v1=deadbeef",
                    "User-Agent": "Firefox",
                },
                "cookies": {"sessionid": "abc.def-session"},
                "data": {"api_key": SCRIPE_KEY, "password": PASSWORD, "name": "Acme"},
            },
            "breadcrumbs": {
                "values": [{"message": f"POST /v1/posts/generations with {SCRIPE_KEY}"}]
            },
            "extra": {"secret_encrypted": "gAAAAABl", "note": f"token {OAUTH_TOKEN}"},
        }
    )
    text = sent(captured)
    for secret in (*SECRETS, "t0k3n", "deadbeef", "gAAAAABl"):
        assert secret not in text, secret
    request = captured.events[0]["request"]
    assert request["headers"]["User-Agent"] == "Firefox"  # what is not secret stays
    assert request["data"]["name"] == "Acme"
    assert request["headers"]["Authorization"] == MASK


def test_scrubbing_keeps_the_events_shape():
    event = {"tags": [["token", "x"], ["page", "week"]], "level": "error", "count": 3}
    assert scrub_event(event) == {
        "tags": [["token", MASK], ["page", "week"]],
        "level": "error",
        "count": 3,
    }


def test_without_a_dsn_sentry_is_off():
    code = "import django, sentry_sdk; django.setup(); print(sentry_sdk.get_client().is_active())"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SENTRY_DSN": "",
    }
    answer = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert answer.stdout.strip() == "False"
    env["SENTRY_DSN"] = "https://public@sentry.example.invalid/1"
    answer = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert answer.stdout.strip() == "True"
