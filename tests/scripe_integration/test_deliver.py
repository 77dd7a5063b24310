"""`client.deliver`: one POST of a webhook body under the destination rule, reporting what
came back without raising."""

from __future__ import annotations

import httpx

from scripe_integration import client
from scripe_integration.webhooks import signature_header, verify_webhook


def _answering(handler) -> httpx.MockTransport:
    return httpx.MockTransport(handler)


def test_it_keeps_only_the_answers_first_lines():
    long = "\n".join(f"line {n} " + "x" * 300 for n in range(50)).encode()
    answer = client.deliver(
        "https://hooks.example.com/",
        b"{}",
        {},
        transport=_answering(lambda request: httpx.Response(500, content=long)),
    )
    assert answer.status == 500 and not answer.ok
    assert len(answer.head) <= client.DELIVERY_HEAD_CHARS
    assert answer.head.startswith("line 0 ")


def test_it_sends_the_bytes_and_headers_given_and_follows_no_redirect():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/"})

    answer = client.deliver(
        "https://hooks.example.com/in",
        b'{"id":"evt_1"}',
        {"Calendar-Signature": "t=1,v1=ab"},
        transport=_answering(handler),
    )
    assert answer.status == 302 and not answer.ok
    assert len(seen) == 1
    assert seen[0].content == b'{"id":"evt_1"}'
    assert seen[0].headers["Calendar-Signature"] == "t=1,v1=ab"


def test_a_timeout_is_an_answer_without_a_status():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    answer = client.deliver("https://hooks.example.com/", b"{}", {}, transport=_answering(handler))
    assert answer.status is None
    assert answer.error == "No answer in time (ReadTimeout)."


def test_a_private_address_is_refused_before_connecting():
    answer = client.deliver("https://10.0.0.7/hooks", b"{}", {})
    assert answer.status is None
    assert answer.error == "Could not connect: Use an https address on the public internet"


def test_a_header_with_two_secrets_verifies_with_either():
    header = signature_header(["whsec_new", "whsec_old"], b"{}", 1_700_000_000)
    assert header.startswith("t=1700000000,v1=") and header.count("v1=") == 2
    for secret in ("whsec_new", "whsec_old"):
        verify_webhook(secret, b"{}", header, now=1_700_000_000)
