"""The restore drill (#29): the README's backup and restore for PostgreSQL, done. A database
with a workspace in it is dumped with `pg_dump -Fc`, dropped, restored with `pg_restore`, and
the app, started on the restored database, serves the same month page.

It works on a database of its own (`<test database>_restore_drill`), never on the one the
suite runs on. On SQLite there is nothing to drill: skipped, saying so."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from django.db import connection

from tests.support import ROOT, database_url

# The app in a process of its own, on the database DATABASE_URL names: the month page's
# calendar as a logged-in person sees it.
RENDER = """
import sys
import django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
client = Client()
client.force_login(get_user_model().objects.get(username=sys.argv[1]))
answer = client.get(sys.argv[2], headers={"HX-Request": "true"})
assert answer.status_code == 200, answer.status_code
sys.stdout.write(answer.content.decode())
"""


def _pg_env() -> dict[str, str]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "PGHOST": db["HOST"] or "127.0.0.1",
        "PGPORT": str(db["PORT"] or 5432),
        "PGUSER": db["USER"],
    }
    if db["PASSWORD"]:
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def _run(*command: str) -> None:
    subprocess.run(command, check=True, env=_pg_env(), capture_output=True, timeout=120)


def _month_page(url: str, username: str, path: str) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "ALLOWED_HOSTS": "testserver",
    }
    env.pop("REDIS_URL", None)  # no shared cache between the two databases' pages
    done = subprocess.run(
        [sys.executable, "-c", RENDER, username, path],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # The moment the page was rendered (its live updates' starting point) is not content.
    return re.sub(r'data-live-since="\d+"', "", done.stdout)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_dumped_dropped_and_restored_database_serves_the_same_calendar(team, filled, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip(f"the restore drill needs PostgreSQL; the suite runs on {connection.vendor}")
    suite_db = connection.settings_dict["NAME"]
    drill = f"{suite_db}_restore_drill"
    drill_url = database_url().rsplit("/", 1)[0] + f"/{drill}"
    when = filled.slots[0].scheduled_for
    path = f"/calendar/{when.year}/{when.month}/"

    # The database to lose: a copy of the suite's, so the drill never touches the suite's own.
    seed = tmp_path / "seed.dump"
    _run("pg_dump", "-Fc", "-f", str(seed), suite_db)
    _run("dropdb", "--if-exists", drill)
    _run("createdb", drill)
    _run("pg_restore", "--no-owner", "-d", drill, str(seed))
    before = _month_page(drill_url, team.editor.username, path)
    assert str(filled.slots[0].public_id) in before

    try:
        # The drill, as the README says: dump, drop, restore.
        backup = tmp_path / "calendar.dump"
        _run("pg_dump", "-Fc", "-f", str(backup), drill)
        _run("dropdb", drill)
        _run("createdb", drill)
        _run("pg_restore", "--no-owner", "-d", drill, str(backup))

        after = _month_page(drill_url, team.editor.username, path)
    finally:
        _run("dropdb", "--if-exists", drill)
    assert after == before
