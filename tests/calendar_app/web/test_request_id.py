"""The request id (calendar_app/core/request_id.py, RequestIdMiddleware): returned on every
response, taken from the trusted proxy's X-Request-ID, on every log line of the request in
both log formats, and carried into the django-q2 task the request enqueued."""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from django.utils.module_loading import import_string

from config.log_filters import RequestIdFilter
from tests.support import wait_for

ROOT = Path(__file__).resolve().parents[3]


@contextmanager
def log_lines(logger_name: str, log_format: str) -> Iterator[io.StringIO]:
    """What a console handler configured as settings.LOGGING's, in `log_format`, prints for
    the logger's records."""
    config = dict(django_settings.LOGGING["formatters"][log_format])
    factory = import_string(config.pop("()")) if "()" in config else logging.Formatter
    if "format" in config:
        config["fmt"] = config.pop("format")
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(factory(**config))
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        yield buffer
    finally:
        logger.removeHandler(handler)


def forbidden(client, team, **headers):
    """A refused request: Django logs one WARNING line for it."""
    client.force_login(team.editor)
    response = client.post(f"/projects/sync/{team.workspace.public_id}/", headers=headers)
    assert response.status_code == 403
    return response


def test_every_response_has_a_fresh_request_id(client, db):
    first = client.get("/accounts/login/")["X-Request-ID"]
    second = client.get("/accounts/login/")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second


def test_without_a_trusted_proxy_a_clients_id_is_not_taken(client, settings, db):
    settings.TRUSTED_PROXY_COUNT = 0
    response = client.get("/accounts/login/", headers={"X-Request-ID": "chosen-by-a-client"})
    assert response["X-Request-ID"] != "chosen-by-a-client"


def test_behind_the_proxy_its_id_is_used(client, settings, db):
    settings.TRUSTED_PROXY_COUNT = 1
    given = uuid.uuid4().hex
    assert client.get("/accounts/login/", headers={"X-Request-ID": given})["X-Request-ID"] == given


@pytest.mark.parametrize("forged", ["two words", "short", "x" * 200, "a\u00e9" * 8])
def test_an_id_that_could_break_a_log_line_is_replaced(client, settings, db, forged):
    settings.TRUSTED_PROXY_COUNT = 1
    answered = client.get("/accounts/login/", headers={"X-Request-ID": forged})["X-Request-ID"]
    assert answered != forged and re.fullmatch(r"[0-9a-f]{32}", answered)


def test_a_json_log_line_of_the_request_carries_its_id(client, team, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    given = uuid.uuid4().hex
    with log_lines("django.request", "json") as output:
        response = forbidden(client, team, **{"X-Request-ID": given})
    assert response["X-Request-ID"] == given
    lines = output.getvalue().splitlines()
    assert len(lines) == 1  # one JSON object a line, one line an event
    event = json.loads(lines[0])
    assert event["request_id"] == given
    assert event["level"] == "WARNING"
    assert event["logger"] == "django.request"
    assert event["message"].startswith("Forbidden")
    assert event["status_code"] == 403
    assert "time" in event


def test_a_plain_log_line_names_the_id_too(client, team):
    with log_lines("django.request", "plain") as output:
        response = forbidden(client, team)
    assert f"[{response['X-Request-ID']}] WARNING django.request: Forbidden" in output.getvalue()


def test_a_log_line_outside_any_request_says_so(client, db):
    with log_lines("calendar_app.test", "json") as output:
        logging.getLogger("calendar_app.test").warning("no request here")
    assert json.loads(output.getvalue())["request_id"] == "-"


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("processes")  # a real django-q2 cluster, as in test_cluster.py
def test_the_task_a_request_enqueued_logs_with_its_id(
    client, team, sandbox_factory, clusters, settings
):
    sandbox_factory(queue_seconds=0.2).wire(team.workspace)
    settings.TRUSTED_PROXY_COUNT = 1
    given = uuid.uuid4().hex
    log = ROOT / "var" / "cluster.log"
    start = log.stat().st_size if log.exists() else 0
    clusters(LOG_FORMAT="json")
    slot = team.slot(timezone.now() + timedelta(days=2))
    client.force_login(team.editor)
    response = client.post(
        f"/slots/{slot.public_id}/generate/",
        headers={"HX-Request": "true", "X-Request-ID": given},
    )
    assert response.status_code == 204

    def task_lines() -> list[dict]:
        with open(log, "rb") as file:
            file.seek(start)
            text = file.read().decode(errors="replace")
        return [json.loads(line) for line in text.splitlines() if given in line]

    wait_for(lambda: any("sent to Scripe" in e["message"] for e in task_lines()), 60, "the task")
    sent = next(e for e in task_lines() if "sent to Scripe" in e["message"])
    assert sent["request_id"] == given
    assert sent["logger"] == "calendar_app.pipeline.generation"
    assert sent["slot"] == slot.pk
