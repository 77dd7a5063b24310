"""The ideas board in Chromium (#26): add an idea, drag it from the calendar's Ideas panel
onto a day of the month, see the post there, feed a second post from it on an hour of the
week, see the idea under "Used"; then take one of
Scripe's suggestions with "Plan on…", the keyboard's way."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app.models import Idea, PlannedSlot, Project
from calendar_app.pipeline.suggestions import suggestions_read

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.sandbox(suggestions_per_project=1, generation_seconds=(0.3, 0.5))
def test_an_idea_dragged_onto_a_day_becomes_a_post_and_a_suggestion_is_taken(journey):
    team = journey.team
    project = Project.objects.filter(workspace=team.workspace, status="ACTIVE").order_by("pk")[0]
    page = journey.page_for(team.editor)

    # Add an idea on the board.
    page.click("nav >> text=Ideas")
    page.wait_for_url(f"{journey.url}/ideas/")
    page.locator("text=No ideas yet.").wait_for()
    page.click("#idea-form button[type=submit]")  # nothing written: a sentence, not a 500
    page.locator("#idea-form .field-error", has_text="Write the idea").wait_for()
    page.fill("#add-text", "Why we stopped posting every day")
    page.select_option("#add-project", label=project.name)
    page.click("#idea-form button[type=submit]")
    page.locator("#toasts >> text=Idea added.").wait_for()
    card = page.locator(".idea-column-new .idea-card")
    card.filter(has_text="Why we stopped posting every day").wait_for()
    idea = Idea.objects.get(text="Why we stopped posting every day")

    # Drag it from the calendar's panel onto a day three days ahead.
    day = timezone.localdate(timezone=team.workspace.zone) + timedelta(days=3)
    page.goto(f"{journey.url}/calendar/{day.year}/{day.month}/")
    source = f".ideas-panel #idea-{idea.public_id}"
    page.locator(source).wait_for()
    page.drag_and_drop(source, f".day[data-date='{day}']")
    page.locator("#toasts >> text=Planned for").wait_for()
    page.locator(f".day[data-date='{day}'] .slot-card").wait_for()
    slot = PlannedSlot.objects.get(idea=idea)
    assert slot.note.text == "Why we stopped posting every day"
    assert timezone.localtime(slot.scheduled_for, team.workspace.zone).date() == day

    # The same idea feeds a second post: dropped on an hour of the week, it takes that hour.
    page.goto(f"{journey.url}/calendar/week/{day}/")
    page.locator(source).wait_for()
    page.drag_and_drop(source, f".hour-cell[data-date='{day}'][data-hour='14']")
    page.locator(f".hour-cell[data-date='{day}'][data-hour='14'] .slot-card").wait_for()
    assert PlannedSlot.objects.filter(idea=idea).count() == 2

    # On the board it is now under "Used", with its post.
    page.goto(f"{journey.url}/ideas/")
    page.locator(".idea-column-used .idea-card", has_text="Why we stopped").wait_for()
    page.click(f"#idea-{idea.public_id} a")
    page.locator(f"a[href='/slots/{slot.public_id}/']").wait_for()

    # Scripe's suggestion, read as the sweep reads it, taken with "Plan on…".
    suggestions_read(project=project)
    suggestion = Idea.objects.exclude(scripe_post_id="").get(project=project)
    page.goto(f"{journey.url}/ideas/")
    scripes = page.locator(".idea-scripe", has_text=suggestion.headline)
    scripes.locator("text=Scripe's suggestion").wait_for()
    scripes.locator("a").first.click()
    page.fill("#plan-date", (day + timedelta(days=1)).isoformat())
    page.fill("#plan-time", "10:30")
    page.click("text=Plan on this day")
    page.wait_for_url(f"{journey.url}/slots/*/")
    page.locator("text=Planned from the idea").wait_for()
    taken = PlannedSlot.objects.get(idea=suggestion)
    assert suggestion.text in taken.note.text
