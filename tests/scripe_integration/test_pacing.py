"""Pacing: when the next poll is due, and the rate limit one workspace's callers share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from scripe_integration import pacing
from scripe_integration.contract import ScripeError
from scripe_integration.plans import DOCUMENTED_RATE_LIMIT
from scripe_integration.services import HELD, connection_for, scripe_session

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def delay(**kwargs) -> float:
    options = {"accepted_at": T0, "progress": None, "stalled": False, "estimate_ms": 14_000}
    return pacing.next_poll_delay(**{**options, **kwargs})


# when to poll ---------------------------------------------------------------------------------


def test_the_first_poll_lands_when_the_estimate_says_done():
    assert delay(now=T0) == pytest.approx(14.25)


def test_an_estimate_that_stays_put_is_read_as_the_total_and_backed_off_after():
    # 16 s in, Scripe still says 14 s: the whole job's estimate, already past.
    assert delay(now=T0 + timedelta(seconds=16), previous_estimate_ms=14_000) == pytest.approx(
        16 * 0.25 + 0.25
    )


def test_an_estimate_that_shrinks_is_read_as_the_time_remaining():
    # 16 s in, Scripe now says 3 s, down from 14: that many seconds are left.
    later = delay(now=T0 + timedelta(seconds=16), estimate_ms=3_000, previous_estimate_ms=14_000)
    assert later == pytest.approx(3.25)


def test_without_progress_or_estimate_it_still_polls_within_bounds():
    for seconds in (0, 5, 20, 100, 600):
        wait = delay(now=T0 + timedelta(seconds=seconds), estimate_ms=None)
        assert pacing.MIN_POLL <= wait <= pacing.MAX_POLL


def test_a_hold_lasts_for_the_later_of_retry_after_and_a_used_up_window():
    now = T0
    assert pacing.seconds_on_hold(hold_until=None, remaining=3, reset_at=None, now=now) == 0
    hold = pacing.seconds_on_hold(
        hold_until=now + timedelta(seconds=5),
        remaining=0,
        reset_at=now + timedelta(seconds=8),
        now=now,
    )
    assert hold == 8
    # a window with calls left does not hold, whatever its reset time
    assert (
        pacing.seconds_on_hold(
            hold_until=None, remaining=2, reset_at=now + timedelta(seconds=30), now=now
        )
        == 0
    )


# the workspace's shared limit -------------------------------------------------------------------


@pytest.fixture
def connection(team, sandbox):
    sandbox.wire(team.workspace)
    return connection_for(team.workspace)


def test_a_429_holds_every_caller_of_the_workspace_for_its_retry_after(
    connection, sandbox, time_machine
):
    # The clock stands still, so what the second caller is told does not depend on how fast
    # a busy machine gets from the first call to the second.
    time_machine.move_to(timezone.now(), tick=False)
    sandbox.fault("GET /v1/projects", count=1, status=429, retryAfter=5)
    with pytest.raises(ScripeError, match="rate_limited"), scripe_session(connection) as scripe:
        scripe.list_projects()
    before = sandbox.stats()["requestsTotal"]
    # Another process, which never saw the 429, reads the hold right before its call.
    other = connection_for(connection.workspace)
    with pytest.raises(ScripeError) as held, scripe_session(other) as scripe:
        scripe.list_projects()
    assert held.value.code == HELD and held.value.retryable
    assert 4 < held.value.retry_after <= 5
    assert sandbox.stats()["requestsTotal"] == before  # nothing was sent


def test_an_older_answer_never_shortens_a_hold(connection):
    connection.hold(seconds=30)
    until = connection.hold_until
    connection.hold(seconds=2)  # a 429 answered earlier, stored later
    connection.refresh_from_db()
    assert connection.hold_until == until


def test_the_last_call_of_a_window_goes_to_one_caller(connection, sandbox):
    type(connection).objects.filter(pk=connection.pk).update(
        rate_limit=120,
        rate_limit_remaining=1,
        rate_limit_reset_at=timezone.now() + timedelta(seconds=30),
    )
    first, second = connection_for(connection.workspace), connection_for(connection.workspace)
    with scripe_session(first) as one, scripe_session(second) as two:
        one._before_send()  # takes the last call
        with pytest.raises(ScripeError) as held:
            two._before_send()
    assert held.value.code == HELD


def test_after_a_used_up_window_resets_calls_go_one_at_a_time(connection):
    past = timezone.now() - timedelta(seconds=1)
    type(connection).objects.filter(pk=connection.pk).update(
        rate_limit=60, rate_limit_remaining=0, rate_limit_reset_at=past
    )
    with scripe_session(connection) as one, scripe_session(connection) as two:
        one._before_send()  # the first waiter goes
        with pytest.raises(ScripeError) as held:
            two._before_send()  # the next waits one even share of the limit: 60/min → 1 s
    assert held.value.code == HELD
    assert 0.5 < held.value.retry_after <= 1.0


def test_fresh_headers_are_stored(connection, sandbox):
    with scripe_session(connection) as scripe:
        scripe.list_projects()
    connection.refresh_from_db()
    assert connection.rate_limit == 120 and connection.rate_limit_remaining == 119


def test_an_answer_to_an_earlier_request_never_gives_back_calls_taken_since(connection):
    """Two requests in flight: the answer of the one sent first may arrive last."""
    from scripe_integration.contract import RateLimit
    from scripe_integration.services import _note_answer

    now = timezone.now()
    type(connection).objects.filter(pk=connection.pk).update(
        rate_limit=120, rate_limit_remaining=5, rate_limit_seen_at=now
    )

    class Answered:
        last_status = 200

        def __init__(self, sent_at, remaining):
            self.last_rate_limit = RateLimit(
                limit=120,
                remaining=remaining,
                reset_seconds=30,
                seen_at=timezone.now(),
                sent_at=sent_at,
            )

    _note_answer(connection, Answered(now - timedelta(seconds=2), remaining=100))
    connection.refresh_from_db()
    assert connection.rate_limit_remaining == 5
    _note_answer(connection, Answered(now + timedelta(seconds=1), remaining=4))
    connection.refresh_from_db()
    assert connection.rate_limit_remaining == 4


def test_the_sync_may_spend_a_tenth_of_the_rate_limit_assuming_the_documented_one_until_told():
    assert pacing.sync_calls_per_minute(None) == DOCUMENTED_RATE_LIMIT / 10 == 12
    assert pacing.sync_calls_per_minute(60) == 6
    assert pacing.sync_calls_per_minute(1000) == 100
