"""Browser journeys: Playwright drives Debian's Chromium against a live server, with the
Scripe sandbox and a real django-q2 cluster on free ports."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta

import pytest

from tests.support import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = ROOT / "var" / "screenshots"
SKIP_REASON = (
    "browser journeys skipped: Chromium is not installed "
    "(apt-get install chromium; `playwright install` cannot download browsers here)"
)
# pytest-playwright's sync API runs an event loop in the test thread; the ORM calls the tests
# make to set up data are ordinary synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_report_header(config) -> str:
    if CHROMIUM:
        return f"browser journeys: {CHROMIUM}; screenshots in {SCREENSHOTS}"
    return SKIP_REASON


def pytest_collection_modifyitems(config, items) -> None:
    if CHROMIUM:
        return
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


def pytest_terminal_summary(terminalreporter) -> None:
    if CHROMIUM and SCREENSHOTS.exists():
        terminalreporter.write_line(f"Browser journey screenshots: {SCREENSHOTS}")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    }


def next_wednesday() -> datetime:
    """A fixed weekday a few days ahead: the journeys plan around it, and it is in the future
    so the browser, which keeps the real time, accepts the session cookie."""
    now = datetime.now(UTC)
    days = (2 - now.weekday()) % 7 or 7
    return (now + timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)


class Journey:
    """What a journey needs: the app's URL, its people and the sandbox, pages that record
    console errors and warnings and failed requests, and a screenshot of the last screen."""

    def __init__(self, browser, live_server, team, sandbox, name: str) -> None:
        self.browser = browser
        self.url = live_server.url
        self.team = team
        self.sandbox = sandbox
        self.name = name
        self.problems: list[str] = []
        self.allowed_statuses: set[int] = set()
        self.pages = []

    def page_for(self, user, **context_options):
        """A page in a browser context of its own, logged in as `user`; None is a guest
        with no account (a client opening a review link)."""
        context = self.browser.new_context(
            viewport={"width": 1300, "height": 950}, **context_options
        )
        page = context.new_page()
        # A deadline on a condition, over as soon as it holds: long enough for a machine running
        # six workers on two cores, where a POST's answer once took more than 20 s.
        page.set_default_timeout(45_000)
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on(
            "requestfailed",
            self._request_failed,
        )
        page.on(
            "response",
            lambda r: (
                r.status >= 400
                and r.status not in self.allowed_statuses
                and self.problems.append(f"HTTP {r.status}: {r.request.method} {r.url}")
            ),
        )
        self.pages.append(page)
        if user is None:
            return page
        page.goto(f"{self.url}/accounts/login/")
        page.fill("#id_login", user.username)
        page.fill("#id_password", "pw")
        page.click("button[type=submit]")
        page.wait_for_url(f"{self.url}/")
        return page

    def _console(self, message) -> None:
        # A warning counts as much as an error: the browser and htmx warn of what the page
        # asks for and does not get (a policy refusal, an attribute that finds nothing).
        if message.type not in ("error", "warning"):
            return
        # Chromium logs every 4xx as a console error; a refusal the journey expects (say a
        # bad drop's 409) is the app answering, not failing.
        expected = any(f"status of {status} " in message.text for status in self.allowed_statuses)
        if not (expected and message.text.startswith("Failed to load resource")):
            self.problems.append(f"console {message.type}: {message.text}")

    def _request_failed(self, request) -> None:
        # ERR_ABORTED is the browser cancelling a request because the journey moved on (a
        # navigation while the old page's favicon still loads), not the app failing.
        if request.failure != "net::ERR_ABORTED":
            self.problems.append(f"failed: {request.method} {request.url} {request.failure}")

    def finish(self) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        if self.pages:
            # caret="initial": hiding the caret injects a style, which our CSP rightly refuses.
            self.pages[-1].screenshot(path=SCREENSHOTS / f"{self.name}.png", caret="initial")
        for page in self.pages:
            page.context.close()
        assert self.problems == [], "\n".join(self.problems)


# A page with nothing in flight asks what changed every LIVE_HEARTBEAT_SECONDS (20 s in
# production): the journeys wait for that on pages other people change, so they shorten it,
# still well apart from the 2 s of a page with something in flight.
JOURNEY_HEARTBEAT_SECONDS = 5


@pytest.fixture
def journey(request, browser, live_server, team, sandbox_factory, clusters, settings):
    from calendar_app.planning.services import projects_sync

    settings.LIVE_HEARTBEAT_SECONDS = JOURNEY_HEARTBEAT_SECONDS

    # By default jobs run long enough for the card to be seen running, past the 5 s the
    # submit waits; @pytest.mark.sandbox(...) changes that for journeys that only need drafts.
    marker = request.node.get_closest_marker("sandbox")
    options = {
        "generation_seconds": (9, 10),  # a window of seconds in which it is seen running
        "queue_seconds": 0.3,
        **(marker.kwargs if marker else {}),
    }
    sandbox = sandbox_factory(**options).wire(team.workspace)
    team.project.delete()
    projects_sync(workspace=team.workspace)
    clusters()
    journey = Journey(browser, live_server, team, sandbox, request.node.name)
    yield journey
    journey.finish()
