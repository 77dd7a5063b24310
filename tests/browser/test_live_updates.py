"""An open page keeps up with other people's changes, without a reload: the heartbeat."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from calendar_app.models import GenerationJob
from tests.browser.conftest import JOURNEY_HEARTBEAT_SECONDS
from tests.browser.test_journeys import plan
from tests.support import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BERLIN = ZoneInfo("Europe/Berlin")

# When the page sent each live poll, in seconds by the page's own clock. A `request` handler
# in the test runs only when the test next talks to Playwright, so on a busy machine two polls
# seconds apart could be handed to it together and look simultaneous.
POLLS_SENT = """(after) => performance.getEntriesByType("resource")
    .filter((entry) => entry.name.includes("/slots/live/") && entry.startTime >= after)
    .map((entry) => entry.startTime / 1000)"""


def polls_sent(page, after: float = 0) -> list[float]:
    """The live polls the page has sent (and had answered) since `after` ms of its clock."""
    return page.evaluate(POLLS_SENT, after)


def test_another_users_changes_appear_on_an_open_page(journey):
    # 10:00 Berlin two days ahead: the colleague's post half an hour later is on the same day
    # whatever time the test runs (late in the evening it would fall on the next one).
    day = timezone.localtime(timezone.now() + timedelta(days=2), BERLIN).date()
    when = datetime.combine(day, clock(10, 0), tzinfo=BERLIN)
    slot = plan(journey.team, when, text="Planned before the page opened.")
    page = journey.page_for(journey.team.editor)
    page.goto(f"{journey.url}/calendar/day/{timezone.localtime(when, BERLIN):%Y-%m-%d}/")
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
    polls = polls_sent(page)
    assert polls
    gaps = [later - earlier for earlier, later in itertools.pairwise(polls)]
    assert all(gap > JOURNEY_HEARTBEAT_SECONDS - 1 for gap in gaps), gaps


# Scripe keeps the job QUEUED for 5 s (Cancel is offered), then writes for 3 to 4 s.
@pytest.mark.sandbox(queue_seconds=5, generation_seconds=(3, 4))
def test_a_posts_own_page_shows_each_action_at_once_and_follows_the_generation(journey, settings):
    """QA: on /slots/<id>/ opened as a page, Generate said "Sent to Scripe." but the panel
    showed Draft with an active Generate button until the next heartbeat, and the Activity
    "Nothing yet." until a reload. Each action now shows at once (well within a heartbeat),
    and the page then follows the generation every LIVE_POLL_SECONDS, its trail too."""
    team = journey.team
    # A heartbeat of a minute: an update that comes within `at_once` came with the action, not
    # with a heartbeat, however busy the machine (half a 5 s heartbeat failed under load).
    settings.LIVE_HEARTBEAT_SECONDS = 60
    slot = plan(team, timezone.now() + timedelta(days=2), text="A post followed on its page.")
    page = journey.page_for(team.editor)
    page.goto(f"{journey.url}/slots/{slot.public_id}/")
    panel = page.locator(f"#slot-status-{slot.public_id}")
    trail = page.locator(f"#trail-{slot.public_id}")
    assert "Nothing yet." in trail.inner_text()
    at_once = 15_000  # a heartbeat (60 s here) would be far too late

    # Generate: queued at once, its Generate button gone, the trail says who sent it. Scripe
    # keeps the job queued meanwhile, so the cancel below is one Scripe still takes.
    journey.sandbox.queue_for(60)
    panel.get_by_role("button", name="Generate").click()
    page.locator("#toasts >> text=Sent to Scripe.").wait_for()
    panel.locator(".badge-queued, .badge-generating").wait_for(timeout=at_once)
    trail.locator("li", has_text="Sent to Scripe.").wait_for(timeout=at_once)
    assert panel.get_by_role("button", name="Generate").count() == 0

    # Cancel while Scripe has not started: cancelled at once, with Retry. (While the request
    # is on its way to Scripe, a cancel is told to wait a moment: wait until it has arrived.)
    wait_for(
        lambda: (
            GenerationJob.objects.filter(slot=slot, is_current=True)
            .exclude(scripe_job_id="")
            .exists()
        ),
        10,
        "the request to reach Scripe",
    )
    # The cancel goes to Scripe before it answers, so on a busy machine its answer alone can
    # take half a heartbeat: "at once" is counted from the answer, which tells the page that
    # the slots changed.
    with page.expect_response(
        lambda r: r.url.endswith(f"/slots/{slot.public_id}/cancel/") and r.request.method == "POST"
    ) as answered:
        panel.get_by_role("button", name="Cancel generation").click()
    assert "slots-changed" in (answered.value.headers.get("hx-trigger") or "")
    panel.locator(".badge-cancelled").wait_for(timeout=at_once)
    trail.locator(".badge-cancelled").wait_for(timeout=at_once)

    # Retry: queued again at once; then the page follows Scripe, polling while in flight.
    journey.sandbox.queue_for(0.3)
    retried = page.evaluate("performance.now()")
    panel.get_by_role("button", name="Retry").click()
    panel.locator(".badge-queued, .badge-generating").wait_for(timeout=at_once)
    page.locator(f"#slot-status-{slot.public_id} progress").wait_for(timeout=10_000)
    page.locator(f"#slot-status-{slot.public_id} .badge-in_review").wait_for(timeout=20_000)
    trail.locator(".badge-in_review").wait_for(timeout=at_once)
    assert "Ready for review" in trail.inner_text()
    slot.refresh_from_db()
    assert slot.status == "in_review"
    # In flight, it asked every LIVE_POLL_SECONDS (2 s), not once a heartbeat (a slow answer
    # may hold one poll back, since a page has one out at a time: the median says it).
    polls = polls_sent(page, after=retried)
    gaps = sorted(later - earlier for earlier, later in itertools.pairwise(polls))
    assert len(polls) >= 3 and gaps[len(gaps) // 2] < JOURNEY_HEARTBEAT_SECONDS - 1, gaps
