"""What the console shows: each record once, a refused request in one line, and django-q2 at
its own level (`settings.LOGGING`, `config/log_filters.py`)."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def console(logger_name: str) -> Iterator[io.StringIO]:
    """What every console handler a record of `logger_name` reaches prints, in one buffer.

    Walks the logger and its ancestors as propagation does, and points each plain
    StreamHandler (ours and Django's own; not pytest's capture handlers) at the buffer, so a
    record printed twice shows up twice.
    """
    buffer = io.StringIO()
    swapped = []
    logger: logging.Logger | None = logging.getLogger(logger_name)
    while logger is not None:
        for handler in logger.handlers:
            if type(handler) is logging.StreamHandler:
                swapped.append((handler, handler.setStream(buffer)))
        logger = logger.parent if logger.propagate else None
    try:
        yield buffer
    finally:
        for handler, stream in swapped:
            handler.setStream(stream)


@pytest.fixture
def debug(settings):
    # `make run` runs with DEBUG on, where Django's own console handler prints too.
    settings.DEBUG = True


def test_a_403_from_a_view_prints_one_line_without_traceback(client, team, debug):
    client.force_login(team.editor)
    with console("django.request") as output:
        response = client.post(f"/projects/sync/{team.workspace.public_id}/")
    assert response.status_code == 403
    lines = output.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].endswith(
        f"WARNING django.request: Forbidden (Permission denied): "
        f"/projects/sync/{team.workspace.public_id}/"
    )


def test_a_500_keeps_its_traceback(debug):
    try:
        raise RuntimeError("the database went away")
    except RuntimeError:
        with console("django.request") as output:
            logging.getLogger("django.request").error(
                "Internal Server Error: %s", "/", exc_info=True, extra={"status_code": 500}
            )
    printed = output.getvalue()
    assert "ERROR django.request: Internal Server Error: /" in printed
    assert "Traceback (most recent call last)" in printed
    assert "RuntimeError: the database went away" in printed
    assert printed.count("Internal Server Error") == 1


def test_a_django_warning_prints_once(debug):
    with console("django.template") as output:
        logging.getLogger("django.template").warning("a template went wrong")
    assert output.getvalue().count("a template went wrong") == 1


def run_configured(code: str, **env: str) -> subprocess.CompletedProcess:
    """Runs `code` in a fresh Python after django.setup(), with the environment given."""
    environment = {k: v for k, v in os.environ.items() if k not in ("LOG_LEVEL", "Q_LOG_LEVEL")}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    script = "import django, logging\ndjango.setup()\n" + code
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


DJANGO_Q_LOGS = """
from django_q.conf import logger
print(logging.getLevelName(logger.getEffectiveLevel()))
logger.debug("q debug line")
logger.info("q info line")
logger.warning("q warning line")
logging.getLogger("calendar_app").info("app info line")
"""


def test_django_q_honours_q_log_level_above_the_app_level():
    result = run_configured(DJANGO_Q_LOGS, LOG_LEVEL="INFO", Q_LOG_LEVEL="WARNING")
    assert result.stdout.strip() == "WARNING"
    assert "q info line" not in result.stderr
    assert result.stderr.count("WARNING django-q: q warning line") == 1
    assert result.stderr.count("app info line") == 1


def test_django_q_honours_q_log_level_below_the_app_level():
    result = run_configured(DJANGO_Q_LOGS, LOG_LEVEL="WARNING", Q_LOG_LEVEL="DEBUG")
    assert result.stdout.strip() == "DEBUG"
    assert result.stderr.count("DEBUG django-q: q debug line") == 1
    assert result.stderr.count("q warning line") == 1
    assert "app info line" not in result.stderr
