"""The calendar with the keyboard alone (#30), in Chromium: a manager plans a post from the
month, moves it to the next day, has Scripe (the sandbox) write it and approves it, pressing
only Tab, Enter, M, the arrow keys and typing; each step a screen reader would need to hear
is said in the page's live region."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app.models import PlannedSlot
from tests.browser.test_journeys import local
from tests.support import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


FOCUSED = """([selector, text]) => {
  const active = document.activeElement;
  return active.matches(selector) && (text === null || active.textContent.trim() === text);
}"""


def tab_to(page, selector: str, text: str | None = None, most: int = 250) -> None:
    """Presses Tab until the focused element matches `selector` (and says `text`), as a
    keyboard user does."""
    for _ in range(most):
        if page.evaluate(FOCUSED, [selector, text]):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{most} presses of Tab never reached {selector} {text or ''}")


def announced(page, text: str) -> None:
    """Waits until the live region says `text` (it is visually hidden, so not "visible")."""
    try:
        page.wait_for_function(
            "(text) => document.getElementById('announcer').textContent.includes(text)",
            arg=text,
            timeout=20_000,
        )
    except Exception:
        said = page.evaluate("document.getElementById('announcer').textContent")
        raise AssertionError(f"the live region says {said!r}, not {text!r}") from None


@pytest.mark.sandbox(generation_seconds=(0.5, 1))
def test_a_manager_plans_moves_generates_and_approves_with_the_keyboard(journey):
    # Real time: the cluster that runs the generation keeps the real clock too.
    zone = journey.team.workspace.zone
    day = timezone.localtime(timezone.now(), zone).date() + timedelta(days=1)
    next_day = day + timedelta(days=1)
    page = journey.page_for(journey.team.manager)
    keys = page.keyboard
    if not page.locator(f".day[data-date='{next_day}']").count():  # tomorrow ends the month's grid
        tab_to(page, "[aria-label='Next month']")
        keys.press("Enter")
        page.locator(f".day[data-date='{next_day}']").wait_for()
        if not page.locator(f".day[data-date='{day}']").count():  # the new month starts after it
            day, next_day = next_day, next_day + timedelta(days=1)

    # Plan: tomorrow's "+", the form in the dialog, its first field focused.
    # The days' "+" links are one Tab stop (today's); the arrow keys go from day to day.
    tab_to(page, ".day-add")
    assert page.evaluate("document.querySelectorAll('.day-add[tabindex=\"0\"]').length") == 1
    for _ in range(40):
        if page.evaluate(
            "(d) => document.activeElement.closest('.day')?.dataset.date === d", str(day)
        ):
            break
        keys.press("ArrowRight")
    keys.press("Enter")
    page.wait_for_selector("dialog[open] #slot-form")
    assert page.evaluate("document.activeElement.id") == "id_project"
    keys.type("Lena")
    assert page.locator("#id_project option:checked").inner_text() == "Lena Fischer"
    tab_to(page, "#id_note_text")
    keys.type("What a year of weekly posts taught us.")
    tab_to(page, "dialog button[type=submit]", "Plan post")
    keys.press("Enter")
    page.wait_for_selector("dialog[open]", state="detached")
    slot = PlannedSlot.objects.get()
    when = timezone.localtime(slot.scheduled_for, zone)
    card = page.locator(f"#slot-{slot.public_id}")
    assert card.locator("xpath=ancestor::*[@data-date][1]").get_attribute("data-date") == str(day)

    # Move: M on the card, the right arrow to the next day, Enter; then told where it went.
    tab_to(page, f"#slot-{slot.public_id} .slot-open")
    keys.press("m")
    announced(page, "Picked up “What a year of weekly posts taught us.”")
    keys.press("ArrowRight")
    keys.press("Enter")
    place = f"{next_day:%A} {next_day.day} {next_day:%B %Y}, {when:%H:%M}"
    announced(page, f"Moved “What a year of weekly posts taught us.” to {place}.")
    wait_for(
        lambda: PlannedSlot.objects.get().scheduled_for == local(next_day, when.hour, when.minute),
        10,
        "the post to be on the next day",
    )
    # The card on its new day is the calendar's refresh. ("networkidle" said nothing here: it
    # had been reached before the move, so it passed at once.)
    page.locator(f".day[data-date='{next_day}'] #slot-{slot.public_id}").wait_for()
    # Focus stayed on the card through the refresh. A locator waits: a second refresh (the
    # live poll's) may still be on its way, and focus is put back right after each.
    page.locator(f".day[data-date='{next_day}'] #slot-{slot.public_id} .slot-open:focus").wait_for()

    # Generate: open the card, Tab to Generate; the card's new status is said when it changes.
    keys.press("Enter")
    page.wait_for_selector("dialog[open] .slot-status")
    tab_to(page, "dialog button[type=submit]", "Generate")
    keys.press("Enter")
    page.wait_for_selector("dialog[open]", state="detached")
    announced(page, "“What a year of weekly posts taught us.”: Ready for review.")

    # Review and approve: the menu's Review link, then the decision bar's button.
    tab_to(page, "nav a[href='/review/']")
    keys.press("Enter")
    page.locator("#review-panel").wait_for()
    tab_to(page, "button", "Approve and schedule")
    keys.press("Enter")
    page.locator("#toasts >> text=Approved: scheduled in Scripe.").wait_for()
    wait_for(lambda: PlannedSlot.objects.get().status == "scheduled", 10, "the post approved")


@pytest.mark.sandbox(generation_seconds=(0.3, 0.5))
def test_the_queue_is_reordered_and_an_idea_planned_with_the_keyboard(journey):
    from datetime import time

    from calendar_app.access import viewer_of
    from calendar_app.ideas.services import idea_create
    from calendar_app.models import Project
    from calendar_app.planning import queue

    team = journey.team
    project = Project.objects.get(workspace=team.workspace, name="Lena Fischer")
    queue.schedule_set(project=project, schedule=[(d, time(9)) for d in range(7)])
    first, second = (
        queue.queue_add(
            user=team.manager, project=project, note_text=text, note=None, language="en"
        ).slot
        for text in ("Queued first.", "Queued second.")
    )
    times = (first.scheduled_for, second.scheduled_for)
    page = journey.page_for(team.manager)
    keys = page.keyboard

    # The queue: M on the first queued post, down to the second, Enter swaps their times.
    page.goto(f"{journey.url}/queue/{project.scripe_id}/")
    tab_to(page, f"[data-slot-id='{first.public_id}']")
    keys.press("m")
    announced(page, "Picked up “Queued first.”")
    keys.press("ArrowDown")
    announced(page, "Queued second.")
    keys.press("Enter")
    announced(page, "Moved “Queued first.” to ")
    first.refresh_from_db()
    second.refresh_from_db()
    wait_for(
        lambda: PlannedSlot.objects.get(pk=first.pk).scheduled_for == times[1],
        10,
        "the queued posts to swap",
    )
    assert PlannedSlot.objects.get(pk=second.pk).scheduled_for == times[0]

    # The ideas panel of the calendar: M on an idea, the arrow keys to a day, Enter plans it.
    idea = idea_create(
        viewer=viewer_of(team.manager),
        workspace=team.workspace,
        text="Why we stopped posting daily",
        project=project,
    )
    day = timezone.localtime(timezone.now(), team.workspace.zone).date() + timedelta(days=1)
    page.goto(f"{journey.url}/calendar/{day.year}/{day.month}/")
    tab_to(page, f".ideas-panel #idea-{idea.public_id} a")
    keys.press("m")
    announced(page, "Picked up “Why we stopped posting daily”")
    for _ in range(45):
        if page.evaluate(
            "(d) => document.querySelector('.drop-target')?.dataset.date === d", str(day)
        ):
            break
        keys.press("ArrowRight")
    keys.press("Enter")
    announced(page, f"Planned “Why we stopped posting daily” on {day:%A} {day.day} {day:%B %Y}.")
    page.locator(f".day[data-date='{day}'] .slot-card").wait_for()
    assert PlannedSlot.objects.filter(idea=idea).count() == 1
