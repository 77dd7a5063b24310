"""A filter chosen while its list is being refreshed (after a change, or by the live poll) is
the one that stays: it waits for the refresh and goes after it (hx-sync on both), rather than be
answered first and have the refresh put the unfiltered list back, or replace the element the
filter's answer was for."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app.models import PlannedSlot
from tests.browser.test_journeys import plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_filter_chosen_during_a_refresh_of_the_list_is_the_one_that_stays(journey):
    when = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    plan(journey.team, when, text="A post still to write.")
    failed = plan(journey.team, when + timedelta(hours=2), text="A post Scripe could not write.")
    PlannedSlot.objects.filter(pk=failed.pk).update(status="failed")
    page = journey.page_for(journey.team.manager)
    page.goto(f"{journey.url}/slots/")
    results = page.locator("#slot-results")
    results.locator("text=A post still to write.").wait_for()

    # A refresh of the list starts, and its answer is held back; so is anything after it.
    held, passing = [], []

    def hold(route):
        if passing:
            route.continue_()
        else:
            held.append(route)

    def until(condition):  # route handlers run when Playwright next hears from the page
        for _ in range(400):
            if condition():
                return
            page.wait_for_timeout(25)
        raise AssertionError("timed out")

    page.route("**/slots/?*", hold)
    page.evaluate("htmx.trigger(document.body, 'slots-changed')")
    until(lambda: len(held) == 1)

    # The person picks a status meanwhile. Sent at once (without hx-sync), the filter's answer
    # would be for the list the refresh then replaces, and be dropped: held until after the
    # refresh's here. With hx-sync the filter waits for the refresh and goes after it.
    page.select_option("#filter-status", "failed")
    sent = page.evaluate(
        "document.querySelector('form.filters').classList.contains('htmx-request')"
    )
    if sent:
        until(lambda: len(held) == 2)
    refresh, rest = held[0], held[1:]
    passing.append(True)  # what is sent from now on goes through
    with page.expect_response(lambda r: "status=failed" in r.url):
        with page.expect_response(lambda r: r.request is refresh.request):
            refresh.continue_()
        for route in rest:
            route.continue_()
    page.unroute("**/slots/?*")
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    results = page.locator("#slot-results")
    results.locator("text=A post Scripe could not write.").wait_for()
    assert "A post still to write." not in results.inner_text()

    # A refresh after that asks for the filtered list: the region's own address says so.
    with page.expect_response(lambda r: "status=failed" in r.url) as answer:
        page.evaluate("htmx.trigger(document.body, 'slots-changed')")
    assert answer.value.ok
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    assert "A post still to write." not in results.inner_text()
    assert page.input_value("#filter-status") == "failed"
