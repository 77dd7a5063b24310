"""The production stack, built and run on this machine with podman (issue #29): the image from
docker/Dockerfile, two web and two worker containers, PostgreSQL, Redis and nginx from
docker/compose.yaml (with docker/compose.podman.yaml, which adds the Scripe sandbox). A person
logs in through nginx, plans a post and has it generated; one worker container is killed while
Scripe writes it, and the post still arrives, from exactly one generation job.

Marked `stack`. It needs podman that can run containers here and the images made by
`make image` (.ci/run makes them); without either it is skipped with the reason, so `make test`
stays fast on a machine where nobody built the image.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.stack, pytest.mark.xdist_group("stack")]

ROOT = Path(__file__).resolve().parents[1]
STACK = ROOT / "scripts" / "stack.sh"
# A project and a port of the test's own, so a stack started by hand (`make stack`) is untouched.
PROJECT = "calendar-stack-test"
PORT = int(os.getenv("STACK_TEST_PORT", "8089"))
ENV = {**os.environ, "STACK_PROJECT": PROJECT, "STACK_PORT": str(PORT)}


def stack(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(STACK), *args], env=ENV, capture_output=True, text=True, timeout=timeout
    )


def podman(*args: str) -> str:
    conf = {"CONTAINERS_CONF": str(ROOT / "docker" / "podman" / "containers.conf")}
    result = subprocess.run(
        ["podman", *args], env={**os.environ, **conf}, capture_output=True, text=True, check=True
    )
    return result.stdout


def container(service: str, number: int = 1) -> str:
    return f"{PROJECT}_{service}_{number}"


@pytest.fixture(scope="module")
def base_url():
    ready = stack("ready", timeout=120)
    if ready.returncode != 0:
        pytest.skip(f"podman cannot run the stack here: {ready.stdout.strip() or ready.stderr}")
    if stack("built", timeout=60).returncode != 0:
        pytest.skip(
            "the images are not built, or older than the code: run `make image` (.ci/run does)"
        )
    stack("down", timeout=300)
    try:
        up = stack("up")
        assert up.returncode == 0, up.stdout + up.stderr
        yield f"http://127.0.0.1:{PORT}"
    finally:
        stack("down", timeout=300)


class Browser:
    """An HTTP client that keeps the session's cookies itself: the stack runs with DEBUG off,
    so its cookies are Secure, which httpx's cookie jar would not send over plain http to
    127.0.0.1 (a browser does, to loopback)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies: dict[str, str] = {}
        self.http = httpx.Client(base_url=base_url, timeout=30)

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST":
            # Django checks the Origin of a form post against the trusted origins.
            headers.setdefault("Origin", self.base_url)
        response = self.http.request(method, path, headers=headers, **kwargs)
        for header in response.headers.get_list("set-cookie"):
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        if response.is_redirect:
            return self.request("GET", response.headers["location"])
        return response

    def get(self, path: str) -> httpx.Response:
        return self.request("GET", path)

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        return self.request("POST", path, data=data)


class FormFields(HTMLParser):
    """The fields a browser would send for the first form whose action matches: inputs with
    their values, checked boxes, each select's chosen (or first real) option, textareas."""

    def __init__(self, action: Callable[[str], bool]) -> None:
        super().__init__()
        self.action = action
        self.inside = self.done = False
        self.fields: dict[str, str] = {}
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.done:
            self.inside = self.action(a.get("action", ""))
        if not self.inside or (not a.get("name") and tag != "option"):
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                self.fields[a["name"]] = a.get("value", "on" if kind == "checkbox" else "")
        elif tag == "select":
            self.select = a["name"]
        elif tag == "option" and self.select:
            if "selected" in a or not self.fields.get(self.select):
                self.fields[self.select] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = a["name"]
            self.fields[a["name"]] = ""

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.fields[self.textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "form" and self.inside:
            self.inside, self.done = False, True


def form_fields(html: str, action: Callable[[str], bool]) -> dict[str, str]:
    parser = FormFields(action)
    parser.feed(html)
    assert parser.done, "no such form on the page"
    return parser.fields


def log_in(browser: Browser, username: str, password: str) -> None:
    """Through the public log-in form, as a person would: its CSRF token and fields, posted
    back. (One place to adapt when the form changes, e.g. to django-allauth's `login`.)"""
    page = browser.get("/accounts/login/")
    fields = form_fields(page.text, lambda action: "logout" not in action)
    names = set(fields)
    user_field = "login" if "login" in names else "username"
    fields.update({user_field: username, "password": password})
    home = browser.post(str(page.url.path), fields)
    assert home.status_code == 200 and "/accounts/login/" not in str(home.url), home.text[:500]


def sandbox_stats() -> dict:
    """The sandbox's own counters, read from inside the stack's network."""
    script = (
        "import urllib.request; "
        "print(urllib.request.urlopen('http://sandbox:8765/_sandbox/stats').read().decode())"
    )
    return json.loads(podman("exec", container("web"), "python", "-c", script))


def wait_for(condition: Callable[[], object], seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.5)
    raise AssertionError(f"waited {seconds:.0f} s for {what}")


def test_a_post_planned_through_nginx_is_written_once_though_a_worker_dies(base_url):
    browser = Browser(base_url)
    log_in(browser, "admin", "demo")
    page = browser.get("/slots/new/")
    fields = form_fields(page.text, lambda action: action.rstrip("/").endswith("/slots/new"))
    note = f"Stack test {uuid.uuid4().hex[:8]}: what a rolling deploy taught us"
    fields.update(
        {
            "note_text": note,
            "date": (date.today() + timedelta(days=3)).isoformat(),
            "time": "09:00",
            "generate_now": "on",
        }
    )
    before = sandbox_stats()
    planned = browser.post("/slots/new/", fields)
    assert planned.status_code == 200

    listing = browser.get(f"/slots/?q={note.split(':')[0]}")
    slot_id = re.search(r"/slots/([0-9a-f-]{36})/", listing.text)
    assert slot_id, "the planned post is not in the list"
    slot_url = f"/slots/{slot_id.group(1)}/"

    # Scripe has the job: the post is being written. Now one worker dies.
    wait_for(lambda: sandbox_stats()["jobsCreated"] > before["jobsCreated"], 60, "the job")
    podman("kill", container("worker", 1))

    def arrived() -> bool:
        html = browser.get(slot_url).text
        assert "badge-failed" not in html, "the generation failed"
        return "badge-in_review" in html

    wait_for(arrived, 240, "the draft to arrive")
    after = sandbox_stats()
    assert after["jobsCreated"] - before["jobsCreated"] == 1
    assert after["posts"] - before["posts"] == 1
    # The static files come hashed from whitenoise, through nginx.
    css = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', browser.get(slot_url).text)
    assert css, "no hashed stylesheet on the page"
    assert browser.get(css.group(1)).status_code == 200
