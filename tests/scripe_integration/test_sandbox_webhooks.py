"""The sandbox's webhook endpoints and deliveries, over HTTP, to a real local receiver."""

from __future__ import annotations

import time

import httpx
import pytest

from scripe_integration.sandbox import ALL_SCOPES, DEFAULT_TEST_KEY
from scripe_integration.webhooks import (
    SIGNATURE_HEADER,
    WebhookVerificationError,
    parse_event,
    verify_webhook,
)
from tests.scripe_integration.sandbox_support import (
    COMPANY,
    PROJECT,
    Receiver,
    api_client,
    at,
    control,
    eventually,
    make_post,
)

POST_EVENTS = ["post.created", "post.updated", "post.scheduled", "post.unscheduled"]
FAST_RETRIES = (0.1, 0.2)


@pytest.fixture
def receiver():
    started = Receiver()
    yield started
    started.stop()


@pytest.fixture
def hooks(sandbox_factory):
    return sandbox_factory(webhook_retry_seconds=FAST_RETRIES, webhook_timeout=1.0)


@pytest.fixture
def api(hooks):
    with api_client(hooks) as http:
        yield http


def register(api, url: str, events=None, **extra) -> dict:
    body = {"name": "Calendar", "url": url, "events": events or POST_EVENTS, **extra}
    response = api.post("webhook-endpoints", json=body)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def deliveries(sandbox) -> list[dict]:
    return control(sandbox, "GET", "webhook-deliveries").json()["data"]


# endpoints --------------------------------------------------------------------------------------


def test_creating_an_endpoint_shows_its_secret_once(api, receiver):
    created = register(api, receiver.url, projectId=PROJECT)
    assert created["id"].startswith("whe_")
    assert created["secret"].startswith("whsec_") and len(created["secret"]) == 6 + 64
    assert created["secretLast4"] == created["secret"][-4:]
    assert (created["isActive"], created["disabledReason"]) == (True, None)
    assert (created["projectId"], created["events"], created["name"]) == (
        PROJECT,
        POST_EVENTS,
        "Calendar",
    )
    fetched = api.get(f"webhook-endpoints/{created['id']}").json()["data"]
    assert "secret" not in fetched
    assert fetched == {k: v for k, v in created.items() if k != "secret"}


def endpoint(url: str = "http://127.0.0.1:9/", events=("job.failed",), **extra) -> dict:
    return {"name": "n", "url": url, "events": list(events), **extra}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"url": "http://127.0.0.1:9/x", "events": ["post.updated"]}, 400, "invalid_request"),
        (endpoint(name="x" * 129), 400, "invalid_request"),
        (endpoint(events=[]), 400, "invalid_request"),
        (endpoint(events=["post.deleted"]), 400, "invalid_request"),
        (endpoint("not a url"), 400, "invalid_request"),
        (endpoint("https://10.0.0.5/hook"), 422, "ssrf_blocked"),
        (endpoint("https://192.168.1.10/"), 422, "ssrf_blocked"),
        (endpoint("https://169.254.169.254/"), 422, "ssrf_blocked"),
        (endpoint("https://100.64.0.1/"), 422, "ssrf_blocked"),
        (endpoint("http://93.184.216.34/hook"), 400, "invalid_request"),
        (endpoint(projectId="proj_nope"), 404, "not_found"),
    ],
)
def test_endpoint_input_is_validated(api, hooks, body, status, code):
    response = api.post("webhook-endpoints", json=body)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert hooks.stats()["webhookEndpoints"] == 0


def test_a_public_https_url_is_accepted(api):
    created = register(api, "https://93.184.216.34/hook", events=["knowledge.indexed"])
    assert created["url"] == "https://93.184.216.34/hook"


def test_the_contracts_rule_blocks_loopback_too_and_any_allows_private(sandbox_factory):
    body = {"name": "n", "url": "http://127.0.0.1:9/", "events": ["job.failed"]}
    with api_client(sandbox_factory(webhook_targets="public")) as strict:
        response = strict.post("webhook-endpoints", json=body)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "ssrf_blocked")
    with api_client(sandbox_factory(webhook_targets="any")) as lax:
        assert lax.post("webhook-endpoints", json={**body, "url": "http://10.0.0.5/"}).is_success


def test_endpoints_need_the_webhooks_manage_scope(sandbox_factory, receiver):
    scopes = tuple(s for s in ALL_SCOPES if s != "webhooks:manage")
    sandbox = sandbox_factory(keys={DEFAULT_TEST_KEY: scopes})
    with api_client(sandbox) as api:
        body = {"name": "n", "url": receiver.url, "events": ["job.failed"]}
        response = api.post("webhook-endpoints", json=body)
    assert (response.status_code, response.json()["error"]["code"]) == (403, "scope_missing")
    assert response.json()["error"]["details"] == {"required": ["webhooks:manage"]}


def test_an_endpoint_is_updated_by_patch(api, receiver):
    created = register(api, receiver.url)
    changes = {
        "name": "Renamed",
        "events": ["job.completed"],
        "isActive": False,
        "projectId": COMPANY,
    }
    updated = api.patch(f"webhook-endpoints/{created['id']}", json=changes).json()["data"]
    assert (updated["name"], updated["events"], updated["isActive"], updated["projectId"]) == (
        "Renamed",
        ["job.completed"],
        False,
        COMPANY,
    )
    assert "secret" not in updated and updated["updatedAt"] >= created["updatedAt"]
    cleared = api.patch(f"webhook-endpoints/{created['id']}", json={"projectId": None})
    assert cleared.json()["data"]["projectId"] is None
    bad = api.patch(f"webhook-endpoints/{created['id']}", json={"isActive": "yes"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_request")
    missing = api.get("webhook-endpoints/whe_missing")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")


# deliveries -------------------------------------------------------------------------------------


def test_a_schedule_change_is_delivered_signed_and_verifies(api, hooks, receiver):
    endpoint = register(api, receiver.url)
    post = make_post(api)
    api.patch(f"posts/{post['id']}", json={"scheduledFor": at(3600)})

    eventually(lambda: "post.scheduled" in receiver.types())
    (request,) = [r for r in receiver.requests if b'"post.scheduled"' in r["body"]]
    header = request["headers"][SIGNATURE_HEADER]
    assert verify_webhook(endpoint["secret"], request["body"], header) > 0
    event = parse_event(request["body"])
    assert event.id.startswith("evt_") and event.type == "post.scheduled"
    assert event.post.id == post["id"] and event.post.status == "scheduled"
    assert request["headers"]["Content-Type"] == "application/json"

    tampered = request["body"].replace(b'"scheduled"', b'"published"')
    with pytest.raises(WebhookVerificationError) as refused:
        verify_webhook(endpoint["secret"], tampered, header)
    assert refused.value.reason == "bad_signature"
    with pytest.raises(WebhookVerificationError) as late:
        verify_webhook(endpoint["secret"], request["body"], header, now=time.time() + 301)
    assert late.value.reason == "too_old"


def test_post_events_follow_what_happened(api, hooks, receiver):
    register(api, receiver.url)
    post = make_post(api)  # post.created
    api.patch(f"posts/{post['id']}", json={"scheduledFor": at(3600)})  # updated, scheduled
    api.patch(f"posts/{post['id']}", json={"title": "Only the title"})  # updated
    api.patch(f"posts/{post['id']}", json={"scheduledFor": None})  # updated, unscheduled
    control(hooks, "PATCH", f"posts/{post['id']}", content="From the dashboard")  # updated
    control(hooks, "PATCH", f"posts/{post['id']}", scheduledAt=at(7200))  # updated, scheduled
    control(hooks, "PATCH", f"posts/{post['id']}", scheduledAt=at(9000))  # updated, scheduled
    control(hooks, "PATCH", f"posts/{post['id']}", scheduledAt=None)  # updated, unscheduled
    control(hooks, "DELETE", f"posts/{post['id']}")  # nothing: the contract names no event

    expected = [
        "post.created",
        *["post.updated", "post.scheduled", "post.updated", "post.updated", "post.unscheduled"],
        *["post.updated", "post.updated", "post.scheduled", "post.updated", "post.scheduled"],
        *["post.updated", "post.unscheduled"],
    ]
    eventually(lambda: len(receiver.requests) >= len(expected))
    time.sleep(0.3)
    events = sorted(receiver.events(), key=lambda e: (e["createdAt"], e["id"]))
    assert sorted(e["type"] for e in events) == sorted(expected)
    assert len({e["id"] for e in events}) == len(expected)
    assert all(e["data"]["object"]["id"] == post["id"] for e in events)


def test_the_clock_publishes_and_announces_with_nobody_asking(api, hooks, receiver):
    register(api, receiver.url, events=["post.updated", "job.completed", "job.failed"])
    post = make_post(api)
    api.patch(f"posts/{post['id']}", json={"scheduledFor": at(0.5)})
    hooks.fail_next_jobs(1, "content_policy")
    api.post("posts/generations", json={"projectId": PROJECT, "source": {"text": "Doomed."}})
    requests_before = hooks.stats()["requestsTotal"]

    published = eventually(
        lambda: [
            e
            for e in receiver.events()
            if e["type"] == "post.updated" and e["data"]["object"]["status"] == "published"
        ],
        seconds=5,
    )
    failed = eventually(lambda: [e for e in receiver.events() if e["type"] == "job.failed"])
    assert published[0]["data"]["object"]["publishedAt"] is not None
    assert failed[0]["data"]["object"]["errorCode"] == "content_policy"
    assert "job.completed" in receiver.types()  # the first generation's
    assert hooks.stats()["requestsTotal"] == requests_before  # no /v1 call meanwhile


def test_a_failed_publish_sends_nothing(api, hooks, receiver):
    register(api, receiver.url, events=["post.updated"])
    post = make_post(api, project=COMPANY)
    api.patch(f"posts/{post['id']}", json={"scheduledFor": at(0.3)})
    hooks.patch_project(COMPANY, linkedinConnected=False)
    eventually(lambda: api.get(f"posts/{post['id']}").json()["data"]["publishError"])
    time.sleep(0.3)
    assert receiver.types() == ["post.updated"]  # the PATCH's, nothing since


def test_a_delivery_is_retried_after_a_500_with_the_same_event_id(api, hooks):
    receiver = Receiver(statuses=[500, 503])
    try:
        endpoint = register(api, receiver.url, events=["post.updated"])
        post = make_post(api)
        api.patch(f"posts/{post['id']}", json={"title": "Retried"})
        eventually(lambda: len(receiver.requests) == 3)
        time.sleep(0.3)
        assert len(receiver.requests) == 3
    finally:
        receiver.stop()
    ids = {parse_event(r["body"]).id for r in receiver.requests}
    assert len(ids) == 1
    for request in receiver.requests:
        verify_webhook(endpoint["secret"], request["body"], request["headers"][SIGNATURE_HEADER])
    gaps = [
        b["at"] - a["at"] for a, b in zip(receiver.requests, receiver.requests[1:], strict=False)
    ]
    assert gaps[0] >= FAST_RETRIES[0] - 0.02 and gaps[1] >= FAST_RETRIES[1] - 0.02

    (delivery,) = deliveries(hooks)
    assert delivery["status"] == "delivered"
    assert delivery["eventId"] in ids and delivery["endpointId"] == endpoint["id"]
    assert [a["statusCode"] for a in delivery["attempts"]] == [500, 503, 200]


def test_a_delivery_that_never_succeeds_fails_after_the_last_retry(api, hooks):
    receiver = Receiver(statuses=[500] * 10)
    try:
        register(api, receiver.url, events=["post.updated"])
        post = make_post(api)
        api.patch(f"posts/{post['id']}", json={"title": "Never"})
        delivery = eventually(lambda: [d for d in deliveries(hooks) if d["status"] == "failed"])[0]
    finally:
        receiver.stop()
    assert len(delivery["attempts"]) == 1 + len(FAST_RETRIES)
    assert delivery["nextAttemptAt"] is None


def test_an_unreachable_receiver_is_retried_too(api, hooks):
    register(api, "http://127.0.0.1:9/nobody-listens", events=["post.updated"])
    post = make_post(api)
    api.patch(f"posts/{post['id']}", json={"title": "Nobody"})
    delivery = eventually(lambda: [d for d in deliveries(hooks) if d["status"] == "failed"])[0]
    assert [a["statusCode"] for a in delivery["attempts"]] == [None, None, None]
    assert all(a["error"] for a in delivery["attempts"])


def test_only_active_endpoints_for_the_objects_project_receive(api, hooks, receiver):
    other = Receiver()
    try:
        register(api, receiver.url, events=["post.updated"], projectId=COMPANY)
        inactive = register(api, other.url, events=["post.updated"])
        api.patch(f"webhook-endpoints/{inactive['id']}", json={"isActive": False})
        lena, acme = make_post(api), make_post(api, project=COMPANY)
        api.patch(f"posts/{lena['id']}", json={"title": "Lena's"})
        api.patch(f"posts/{acme['id']}", json={"title": "Acme's"})
        eventually(lambda: receiver.requests)
        time.sleep(0.3)
        assert [e["data"]["object"]["id"] for e in receiver.events()] == [acme["id"]]
        assert other.requests == []
    finally:
        other.stop()


def test_rotating_the_secret_signs_later_deliveries_with_the_new_one(api, hooks, receiver):
    endpoint = register(api, receiver.url, events=["post.updated"])
    headers = {"Idempotency-Key": "rotate-once"}
    rotated = api.post(f"webhook-endpoints/{endpoint['id']}/rotate-secret", headers=headers)
    again = api.post(f"webhook-endpoints/{endpoint['id']}/rotate-secret", headers=headers)
    assert rotated.status_code == again.status_code == 200
    new = again.json()["data"]
    assert "Idempotent-Replayed" not in again.headers  # every call mints a secret
    assert len({endpoint["secret"], rotated.json()["data"]["secret"], new["secret"]}) == 3
    assert new["secretLast4"] == new["secret"][-4:]

    post = make_post(api)
    api.patch(f"posts/{post['id']}", json={"title": "After the rotation"})
    eventually(lambda: receiver.requests)
    request = receiver.requests[0]
    header = request["headers"][SIGNATURE_HEADER]
    verify_webhook(new["secret"], request["body"], header)
    verify_webhook([endpoint["secret"], new["secret"]], request["body"], header)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(endpoint["secret"], request["body"], header)
    missing = httpx.post(f"{hooks.base_url}/webhook-endpoints/whe_missing/rotate-secret")
    assert missing.status_code == 401  # no key: refused before the lookup
