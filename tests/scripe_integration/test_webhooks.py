"""Verifying a webhook delivery: signature, secrets, timestamps; reading the event."""

from __future__ import annotations

import json
import time

import pytest

from scripe_integration.sandbox.delivery import SIGNATURE_HEADER as SANDBOX_HEADER
from scripe_integration.sandbox.delivery import sign as sandbox_sign
from scripe_integration.webhooks import (
    SIGNATURE_HEADER,
    WebhookVerificationError,
    parse_event,
    signature,
    verify_webhook,
)

SECRET = "whsec_" + "ab" * 32
BODY = json.dumps(
    {
        "id": "evt_01ABC",
        "type": "post.scheduled",
        "createdAt": "2026-05-15T08:21:00.000Z",
        "workspaceId": "org_1",
        "data": {"object": {"id": "post_1", "status": "scheduled", "extra": {"new": True}}},
    }
).encode()


def refusal(*args, **kwargs) -> str:
    with pytest.raises(WebhookVerificationError) as info:
        verify_webhook(*args, **kwargs)
    return info.value.reason


def test_it_accepts_what_the_sandbox_signs():
    now = int(time.time())
    assert SIGNATURE_HEADER == SANDBOX_HEADER
    assert sandbox_sign(SECRET, BODY, now) == signature(SECRET, BODY, now)
    assert verify_webhook(SECRET, BODY, signature(SECRET, BODY, now)) == now


def test_it_refuses_a_tampered_body_or_another_secret():
    header = signature(SECRET, BODY, int(time.time()))
    assert refusal(SECRET, BODY.replace(b"scheduled", b"published"), header) == "bad_signature"
    assert refusal("whsec_" + "cd" * 32, BODY, header) == "bad_signature"


def test_it_refuses_an_old_or_future_timestamp_beyond_the_tolerance():
    now = time.time()
    old = signature(SECRET, BODY, int(now) - 301)
    future = signature(SECRET, BODY, int(now) + 301)
    assert refusal(SECRET, BODY, old, now=now) == "too_old"
    assert refusal(SECRET, BODY, future, now=now) == "too_old"
    assert verify_webhook(SECRET, BODY, old, tolerance=600, now=now)


def test_a_timestamp_edited_in_the_header_breaks_the_signature():
    now = int(time.time())
    old = signature(SECRET, BODY, now - 1000)
    replayed = old.replace(f"t={now - 1000}", f"t={now}")
    assert refusal(SECRET, BODY, replayed) == "bad_signature"


@pytest.mark.parametrize("header", [None, ""])
def test_it_refuses_a_missing_header(header):
    assert refusal(SECRET, BODY, header) == "missing_header"


@pytest.mark.parametrize("header", ["v1=abc", "t=now,v1=abc", "t=1700000000", "garbage"])
def test_it_refuses_a_malformed_header(header):
    assert refusal(SECRET, BODY, header) == "malformed_header"


def test_during_a_rotation_either_secret_verifies():
    new = "whsec_" + "ef" * 32
    header = signature(new, BODY, int(time.time()))
    assert verify_webhook([SECRET, new], BODY, header)
    assert refusal([], BODY, header) == "no_secret"


def test_any_of_several_signatures_may_match():
    now = int(time.time())
    header = f"t={now},v1={'0' * 64},v1={signature(SECRET, BODY, now).split('v1=')[1]}"
    assert verify_webhook(SECRET, BODY, header) == now


def test_it_wants_the_raw_bytes():
    with pytest.raises(TypeError):
        verify_webhook(SECRET, BODY.decode(), signature(SECRET, BODY, int(time.time())))


def test_an_event_is_read_with_its_post_and_unknown_fields_are_ignored():
    event = parse_event(BODY)
    assert (event.id, event.type, event.workspace_id) == ("evt_01ABC", "post.scheduled", "org_1")
    assert event.created_at.year == 2026
    assert (event.post.id, event.post.status) == ("post_1", "scheduled")
    assert event.job is None


def test_an_event_whose_data_is_the_object_itself_is_read_the_same():
    # The contract does not pin the envelope: `{"data": <object>}` is the API's own.
    bare = json.loads(BODY)
    bare["data"] = bare["data"]["object"]
    event = parse_event(json.dumps(bare).encode())
    assert (event.id, event.type) == ("evt_01ABC", "post.scheduled")
    assert (event.post.id, event.post.status) == ("post_1", "scheduled")


def test_unknown_fields_at_the_top_and_inside_either_envelope_are_ignored():
    extra = {"livemode": False, "apiVersion": "2026-08-01", "attempt": {"n": 2}}
    post = {"id": "post_1", "status": "draft", "object": "post", "labels": ["x"]}
    wrapped = {"id": "evt_1", "type": "post.updated", **extra, "data": {"object": post, "x": 1}}
    bare = {"id": "evt_1", "type": "post.updated", **extra, "data": post}
    for body in (wrapped, bare):
        event = parse_event(json.dumps(body).encode())
        # A resource's own "object" field (a string) does not make it an envelope.
        assert (event.post.id, event.post.status) == ("post_1", "draft")
    job = {"id": "job_1", "type": "job.completed", "data": {"id": "job_a1", "status": "DONE"}}
    assert parse_event(json.dumps(job).encode()).job.id == "job_a1"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'"evt_1"',
        b'{"id": "evt_1"}',
        b'{"id": 1, "type": "x", "data": {"object": {}}}',
        b'{"id": "evt_1", "type": "post.updated"}',
        b'{"id": "evt_1", "type": "post.updated", "data": ["post_1"]}',
        b'{"id": "evt_1", "type": "post.updated", "data": "post_1"}',
        b'{"id": "evt_1", "type": "post.updated", "data": {"object": {"status": "draft"}}}',
        b'{"id": "evt_1", "type": "post.updated", "data": {"status": "draft"}}',
        b'{"id": "evt_1", "type": "post.updated", "data": {"id": 7}}',
    ],
)
def test_a_body_of_another_shape_is_a_value_error(body):
    with pytest.raises(ValueError, match="not a Scripe webhook event"):
        parse_event(body)
