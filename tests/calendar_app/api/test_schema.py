"""The API against its own OpenAPI schema, property-based (Schemathesis): every operation,
with generated paths, queries, headers and bodies, answers no 5xx, and every answer (errors
included) matches what the schema says. In-process, through the WSGI app, with a token that
may do everything an admin may. Schemathesis's coverage phase tries each field's edges
(empty, null, too long, wrong type); a few random examples an operation after that keep the
run to seconds."""

from __future__ import annotations

from datetime import timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings

from calendar_app.accounts.tokens import scopes_allowed
from calendar_app.models import Label
from tests.calendar_app.api.conftest import make_token


@pytest.fixture
def api_schema(db, settings, tmp_path):
    settings.API_RATE_LIMIT = 100_000
    settings.SOURCE_UPLOAD_DIR = str(tmp_path / "sources")
    # As Django's test client does: the end of a request must not close the test's database
    # connection (its transaction holds the test's rows).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(team) -> str:
    # Something to find: a post, a label, a project (the team's).
    when = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    team.slot(when)
    Label.objects.create(workspace=team.workspace, name="Launch")
    return make_token(team.admin, team.workspace, scopes=scopes_allowed("admin")).secret


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_every_operation_keeps_to_its_schema(case, admin_token):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {admin_token}"},
        # A request the schema allows may still break a rule the schema cannot say (a time in
        # the past, an id of nothing, a blank label name): that is a 4xx by design.
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
    )
