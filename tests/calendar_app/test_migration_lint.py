"""Migrations are checked for backward-incompatible operations (django-migration-linter) on
PostgreSQL, the production database, so that a rolling deploy never runs new code against an
old schema or the reverse. Shipped migrations the linter flags are listed, each with its
reason, in pyproject.toml's [tool.migration-lint.shipped]; any other flagged migration fails
here."""

from __future__ import annotations

import contextlib
import io
import tomllib

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django_migration_linter import MigrationLinter

from tests.support import ROOT

APPS = ["calendar_app", "scripe_integration"]


def _shipped() -> dict[str, str]:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["tool"]["migration-lint"]["shipped"]


class _Recorder(MigrationLinter):
    """The linter, keeping what it flags (`app.name` → the checks it failed) rather than
    printing it."""

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.flagged: dict[str, list[str]] = {}
        self._current = ""

    def print_linting_msg(self, app_label, migration_name, lint_result, message_type) -> None:
        self._current = f"{app_label}.{migration_name}"
        if lint_result == "ERR":
            self.flagged[self._current] = []

    def print_errors(self, errors) -> None:
        if self._current in self.flagged:
            self.flagged[self._current] += [f"{e.code}: {e.message}" for e in errors]


# Outside a transaction: SQLite's schema editor (sqlmigrate's) refuses to work inside one.
@pytest.mark.django_db(transaction=True)
def test_no_unlisted_migration_is_backward_incompatible():
    if connection.vendor != "postgresql":
        pytest.skip(
            "the linter judges PostgreSQL's SQL (SQLite rebuilds a table for every NOT NULL "
            "column, which reads as incompatible); .ci/run checks it on PostgreSQL"
        )
    linter = _Recorder(include_apps=APPS, no_cache=True, database=connection.alias)
    with contextlib.redirect_stdout(io.StringIO()):
        linter.lint_all_migrations()
    new = {name: issues for name, issues in linter.flagged.items() if name not in _shipped()}
    assert new == {}, (
        f"Backward-incompatible on {connection.vendor}: {new}. Make the change in steps "
        "(db_default for a NOT NULL column; a nullable column, then fill, then NOT NULL), or, "
        "for a migration that already shipped, list it with its reason in pyproject.toml."
    )


def test_every_listed_migration_exists(db):
    known = {f"{app}.{name}" for app, name in MigrationLoader(None).disk_migrations}
    assert set(_shipped()) <= known
