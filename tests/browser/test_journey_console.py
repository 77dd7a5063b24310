"""The journeys' own guard: a console warning fails a journey as an error does (#24)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_console_warning_or_error_is_a_problem_of_the_journey(journey):
    page = journey.page_for(journey.team.editor)
    page.evaluate("console.warn('a warning from the page')")
    page.evaluate("console.error('an error from the page')")
    page.evaluate("console.info('words for the curious')")
    assert journey.problems == [
        "console warning: a warning from the page",
        "console error: an error from the page",
    ]
    journey.problems.clear()  # seen: the journey itself passes
