"""Journey 14 (#17): a manager approves three long drafts in a row. Each next draft opens at
its top with its heading focused and announced, the decision bar stays in view while the
draft is read, and the Review count in the menu goes down at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app.models import GenerationJob, PlannedSlot
from calendar_app.pipeline.generation import generation_request
from tests.browser.test_journeys import plan
from tests.support import generation_finish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG = "\n\n".join(
    f"Paragraph {n}: what we learned from hiring slowly, and why it paid off for the team."
    for n in range(1, 25)
)


def long_draft(team, when) -> PlannedSlot:
    slot = plan(team, when, text="Why we hire slowly.")
    job = generation_request(slot=slot)
    generation_finish(job.pk)
    # Long enough to scroll past the fold, and within LinkedIn's 3,000 characters.
    GenerationJob.objects.filter(pk=job.pk).update(post_content=LONG)
    return PlannedSlot.objects.get(pk=slot.pk)


@pytest.mark.sandbox(generation_seconds=(0.3, 0.6))
def test_14_a_manager_approves_three_drafts_and_each_opens_at_its_top(journey):
    team = journey.team
    start = timezone.now() + timedelta(days=2)
    slots = [long_draft(team, start + timedelta(hours=i)) for i in range(4)]
    page = journey.page_for(team.manager)
    page.goto(f"{journey.url}/review/")
    assert page.get_attribute("#review-count", "data-review-count") == "4"

    for i in range(3):
        panel = page.locator("#review-panel")
        assert panel.get_attribute("data-slot") == str(slots[i].public_id)
        # Read to the middle of the draft: the decision bar stays in view.
        page.evaluate("window.scrollTo(0, document.body.scrollHeight / 2)")
        approve = page.get_by_role("button", name="Approve and schedule")
        box = approve.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 950
        # Approve from the bottom of the page, where the old bug left the next draft.
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        approve.click()
        page.locator(f'#review-panel[data-slot="{slots[i + 1].public_id}"]').wait_for()
        # A locator, not wait_for_function: polling a string would need eval, which our
        # Content-Security-Policy refuses (as it should).
        page.locator("#review-heading:focus").wait_for()
        top = page.evaluate("document.getElementById('review-panel').getBoundingClientRect().top")
        heading = page.evaluate(
            "document.getElementById('review-heading').getBoundingClientRect().top"
        )
        assert 0 <= top < 100, f"draft {i + 2} opened {top}px from the top"
        assert 0 <= heading < 200
        local = timezone.localtime(slots[i + 1].scheduled_for, team.workspace.zone)
        said = page.inner_text("#review-announcer")
        assert said == f"Now reviewing: Lena Fischer, {local.day} {local:%b}"
        # The menu's count follows at once, without waiting for the live poll.
        assert page.get_attribute("#review-count", "data-review-count") == str(3 - i)
        assert PlannedSlot.objects.get(pk=slots[i].pk).status == "scheduled"
