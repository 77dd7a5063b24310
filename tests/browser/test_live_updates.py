"""An open page keeps up with other people's changes, without a reload: the heartbeat."""

from __future__ import annotations

import itertools
import time
from datetime import datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests.browser.conftest import JOURNEY_HEARTBEAT_SECONDS
from tests.browser.test_journeys import plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BERLIN = ZoneInfo("Europe/Berlin")


def test_another_users_changes_appear_on_an_open_page(journey):
    # 10:00 Berlin two days ahead: the colleague's post half an hour later is on the same day
    # whatever time the test runs (late in the evening it would fall on the next one).
    day = timezone.localtime(timezone.now() + timedelta(days=2), BERLIN).date()
    when = datetime.combine(day, clock(10, 0), tzinfo=BERLIN)
    slot = plan(journey.team, when, text="Planned before the page opened.")
    page = journey.page_for(journey.team.editor)
    page.goto(f"{journey.url}/calendar/day/{timezone.localtime(when, BERLIN):%Y-%m-%d}/")
    polls = []
    page.on("request", lambda r: "/slots/live/" in r.url and polls.append(time.monotonic()))
    navigations = []
    page.on(
        "framenavigated", lambda frame: frame == page.main_frame and navigations.append(frame.url)
    )
    page.locator(f"#slot-{slot.public_id}").wait_for()

    # Someone else plans a post on the same day and deletes the first one.
    newcomer = plan(journey.team, when + timedelta(minutes=30), text="Planned by a colleague.")
    slot.soft_delete()
    page.locator(f"#slot-{newcomer.public_id}").wait_for(timeout=30_000)  # one heartbeat
    page.locator(f"#slot-{slot.public_id}").wait_for(state="detached", timeout=30_000)
    assert "Planned by a colleague." in page.inner_text(".day-list")
    assert navigations == []
    # Nothing in flight: a heartbeat, not a poll every two seconds.
    assert polls
    gaps = [later - earlier for earlier, later in itertools.pairwise(polls)]
    assert all(gap > JOURNEY_HEARTBEAT_SECONDS - 1 for gap in gaps), gaps
