"""The conventions every resource shares: authentication, the error envelope, Idempotency-Key,
rate limits and ETags."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app.models import IdempotentRequest, PlannedSlot
from tests.calendar_app.api.conftest import Api

pytestmark = pytest.mark.django_db

POSTS = "/api/v1/posts/"


def _plan(team, text="An idea from the CRM.") -> dict:
    when = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    return {"projectId": team.project.scripe_id, "noteText": text, "scheduledFor": when.isoformat()}


# Authentication ---------------------------------------------------------------------------------


def test_without_a_token_it_is_a_401_in_the_envelope(team):
    answer = Api(None).get(POSTS)
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"].startswith("Bearer")
    assert answer.json()["error"]["code"] == "unauthenticated"


def test_a_session_is_not_a_token(team, client):
    client.force_login(team.editor)
    assert client.get(POSTS).status_code == 401


def test_an_unknown_token_is_a_401(team):
    answer = Api("scal_not-a-real-token").get(POSTS)
    assert answer.status_code == 401
    assert "unknown, revoked or expired" in answer.json()["error"]["message"]


def test_a_revoked_or_expired_token_is_a_401(team, time_machine):
    from calendar_app.accounts.tokens import token_revoke
    from tests.calendar_app.api.conftest import make_token

    revoked = make_token(team.editor, team.workspace)
    token_revoke(token=revoked.token)
    assert Api(revoked.secret).get(POSTS).status_code == 401
    expiring = make_token(team.editor, team.workspace, days=7)
    assert Api(expiring.secret).get(POSTS).status_code == 200
    time_machine.move_to(timezone.now() + timedelta(days=8))
    assert Api(expiring.secret).get(POSTS).status_code == 401


def test_an_address_that_is_not_the_apis_answers_the_envelope(editor_api):
    answer = editor_api.get("/api/v1/nothing-here/")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_a_wrong_method_is_a_405_in_the_envelope(team, editor_api):
    slot = team.slot(timezone.now() + timedelta(days=2))
    answer = editor_api.post(f"{POSTS}{slot.public_id}/")
    assert answer.status_code == 405
    assert answer.json()["error"]["code"] == "method_not_allowed"


def test_a_body_that_is_not_json_is_a_400(editor_api):
    answer = editor_api.client.post(
        POSTS, "{nope", content_type="application/json", headers=editor_api._headers(None)
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_json"


# Idempotency-Key ---------------------------------------------------------------------------------


def test_the_same_key_and_body_answers_the_first_answer_again(team, editor_api):
    headers = {"Idempotency-Key": "plan-42"}
    first = editor_api.post(POSTS, _plan(team), headers=headers)
    again = editor_api.post(POSTS, _plan(team), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first["Idempotent-Replayed"] == "false"
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert PlannedSlot.objects.count() == 1


def test_the_same_key_with_another_body_is_a_409_and_runs_nothing(team, editor_api):
    headers = {"Idempotency-Key": "plan-42"}
    editor_api.post(POSTS, _plan(team), headers=headers)
    answer = editor_api.post(POSTS, _plan(team, text="Something else."), headers=headers)
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "idempotency_key_conflict"
    assert PlannedSlot.objects.count() == 1


def test_a_key_is_per_token(team, editor_api, api_for):
    headers = {"Idempotency-Key": "plan-42"}
    editor_api.post(POSTS, _plan(team), headers=headers)
    assert api_for(team.manager).post(POSTS, _plan(team), headers=headers).status_code == 201
    assert PlannedSlot.objects.count() == 2


def test_a_key_is_free_again_after_a_day(team, editor_api, time_machine):
    headers = {"Idempotency-Key": "plan-42"}
    editor_api.post(POSTS, _plan(team), headers=headers)
    time_machine.move_to(timezone.now() + timedelta(hours=25))
    answer = editor_api.post(POSTS, _plan(team, text="Next day."), headers=headers)
    assert answer.status_code == 201
    assert answer["Idempotent-Replayed"] == "false"


def test_the_sweep_forgets_answers_past_their_day(team, editor_api, time_machine):
    from calendar_app import tasks

    editor_api.post(POSTS, _plan(team), headers={"Idempotency-Key": "plan-42"})
    assert tasks.sweep()["forgotten_idempotency_keys"] == 0
    time_machine.move_to(timezone.now() + timedelta(hours=25))
    assert tasks.sweep()["forgotten_idempotency_keys"] == 1
    assert not IdempotentRequest.objects.exists()


def test_a_refusal_is_replayed_too(team, editor_api):
    headers = {"Idempotency-Key": "bad-plan"}
    body = {**_plan(team), "noteText": ""}
    assert editor_api.post(POSTS, body, headers=headers).status_code == 422
    again = editor_api.post(POSTS, body, headers=headers)
    assert again.status_code == 422
    assert again["Idempotent-Replayed"] == "true"


def test_a_key_still_being_answered_is_a_409(team, editor_api):
    from calendar_app.models import ApiToken

    token = ApiToken.objects.get(user=team.editor)
    IdempotentRequest.objects.create(
        token=token,
        route=POSTS,
        key="in-flight",
        body_hash="x",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    from calendar_app.api.idempotency import body_hash

    IdempotentRequest.objects.filter(key="in-flight").update(body_hash=body_hash(_plan(team)))
    answer = editor_api.post(POSTS, _plan(team), headers={"Idempotency-Key": "in-flight"})
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "idempotency_key_in_use"


def test_a_malformed_key_is_ignored(team, editor_api):
    headers = {"Idempotency-Key": "not a key!"}
    editor_api.post(POSTS, _plan(team), headers=headers)
    editor_api.post(POSTS, _plan(team), headers=headers)
    assert PlannedSlot.objects.count() == 2
    assert not IdempotentRequest.objects.exists()


# Rate limits --------------------------------------------------------------------------------------


def test_every_answer_says_where_the_token_stands(editor_api, settings):
    settings.API_RATE_LIMIT = 5
    answer = editor_api.get(POSTS)
    assert answer["RateLimit-Limit"] == "5"
    assert answer["RateLimit-Remaining"] == "4"
    assert 1 <= int(answer["RateLimit-Reset"]) <= 60


def test_past_the_limit_it_is_a_429_with_retry_after(team, editor_api, api_for, settings):
    settings.API_RATE_LIMIT = 3
    for _ in range(3):
        assert editor_api.get(POSTS).status_code == 200
    answer = editor_api.get(POSTS)
    assert answer.status_code == 429
    assert answer.json()["error"]["code"] == "rate_limited"
    assert answer["RateLimit-Remaining"] == "0"
    assert 1 <= int(answer["Retry-After"]) <= 60
    # Another token has a limit of its own.
    assert api_for(team.manager).get(POSTS).status_code == 200


def test_the_limit_is_per_minute(editor_api, settings, time_machine):
    settings.API_RATE_LIMIT = 1
    time_machine.move_to(timezone.now().replace(second=1), tick=False)
    assert editor_api.get(POSTS).status_code == 200
    assert editor_api.get(POSTS).status_code == 429
    time_machine.move_to(timezone.now() + timedelta(minutes=1), tick=False)
    assert editor_api.get(POSTS).status_code == 200


# ETags ----------------------------------------------------------------------------------------


def test_a_read_carries_an_etag_and_answers_304_while_it_holds(team, editor_api):
    slot = team.slot(
        (timezone.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    )
    first = editor_api.get(f"{POSTS}{slot.public_id}/")
    etag = first["ETag"]
    again = editor_api.get(f"{POSTS}{slot.public_id}/", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    changing = editor_api.patch(f"{POSTS}{slot.public_id}/", {"noteText": "Changed."})
    assert changing.status_code == 200
    changed = editor_api.get(f"{POSTS}{slot.public_id}/", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_a_list_has_an_etag_too_and_a_weak_one_matches(team, editor_api):
    etag = editor_api.get(POSTS)["ETag"]
    assert editor_api.get(POSTS, headers={"If-None-Match": etag}).status_code == 304
    assert editor_api.get(POSTS, headers={"If-None-Match": f"W/{etag}"}).status_code == 304


def test_a_nul_character_is_refused_in_the_envelope_not_a_500(editor_api):
    in_query = editor_api.get(POSTS, {"q": "a\x00b"})
    assert in_query.status_code == 400
    assert in_query.json()["error"]["code"] == "invalid_request"
    in_path = editor_api.get("/api/v1/projects/proj%00x/")
    assert in_path.status_code == 404
    assert in_path.json()["error"]["code"] == "not_found"
