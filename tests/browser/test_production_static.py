"""The browser code as production serves it: DEBUG off, `collectstatic` as the image runs it,
gunicorn with the repository's config and WhiteNoise. Chromium loads app.js and every module
it imports under its hashed name, and they run under the Content-Security-Policy."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request

import pytest

from tests.support import ROOT, wait_for
from tests.test_make_run import free_port

pytestmark = pytest.mark.browser


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def production(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.browser.production_settings",
        "TEST_STATIC_ROOT": str(tmp_path / "static"),
        "DEBUG": "False",
        "SECRET_KEY": "x" * 50,
        "SCRIPE_KEY_ENCRYPTION_KEYS": "q6dh3W6wN1v4mQF2mNn5Yq9Xh8zH2h3o1oG8lKcYH3s=",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "WEB_CONCURRENCY": "1",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: answers(f"{url}/accounts/login/"), 30, "gunicorn to answer")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_the_hashed_modules_load_and_run(production, browser):
    page = browser.new_page()
    problems, scripts = [], []
    page.on("console", lambda m: m.type in ("error", "warning") and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "response",
        lambda r: "/static/js/" in r.url and scripts.append((r.url.rsplit("/", 1)[1], r.status)),
    )
    page.goto(f"{production}/accounts/login/")
    # toasts.js answers the `toast` event a view's HX-Trigger sends: the modules ran.
    page.evaluate(
        "document.body.dispatchEvent(new CustomEvent('toast', {detail: {message: 'Hello'}}))"
    )
    page.locator("#toasts >> text=Hello").wait_for()
    names = {re.sub(r"\.[0-9a-f]{12}\.js$", ".js", name) for name, _ in scripts}
    modules = {p.name for p in (ROOT / "static" / "js").glob("*.js")}
    assert names == modules
    unhashed = [
        (name, status)
        for name, status in scripts
        if status != 200 or not re.search(r"\.[0-9a-f]{12}\.js$", name)
    ]
    assert unhashed == []
    assert problems == []
    page.close()
