"""How the calendar views hold up in a busy workspace: time and queries per render.

    .venv/bin/python bench/calendar_views.py --slots 5000 --renders 20

Builds a fresh SQLite database with the given number of slots spread over a year, then
renders the month, week and list views through Django's test client.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slots", type=int, default=5000)
    parser.add_argument("--renders", type=int, default=20)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-calendar-"))
    os.environ.update(
        {
            "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
            "DJANGO_SETTINGS_MODULE": "calendar_app.settings",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from calendar_app.models import Membership, PlannedSlot, Project, SourceNote, Workspace

    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    workspace = Workspace.objects.create(name="Busy", time_zone="Europe/Berlin")
    projects = [
        Project.objects.create(workspace=workspace, scripe_id=f"proj_{i}", name=f"P{i}", colour=i)
        for i in range(5)
    ]
    user = get_user_model().objects.create_user("bench")
    Membership.objects.create(user=user, workspace=workspace, role="manager")
    note = SourceNote.objects.create(workspace=workspace, text="A planned idea.", author=user)
    start = timezone.now() - timedelta(days=180)
    step = timedelta(days=365) / args.slots
    PlannedSlot.objects.bulk_create(
        PlannedSlot(
            workspace=workspace,
            project=projects[i % 5],
            note=note,
            scheduled_for=start + step * i,
            status=["draft", "in_review", "scheduled", "failed"][i % 4],
        )
        for i in range(args.slots)
    )
    client = Client()
    client.force_login(user)
    today = timezone.localdate()
    views = {
        "month": f"/calendar/{today.year}/{today.month}/",
        "week": f"/calendar/week/{today.isoformat()}/",
        "list (page 5)": "/slots/?page=5",
        "review queue": "/review/",
    }
    print(f"{args.slots} slots over a year, {args.renders} renders per view")
    for name, url in views.items():
        timings = []
        for _ in range(args.renders):
            with CaptureQueriesContext(connection) as queries:
                began = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        cards = response.content.decode().count('class="slot-card')
        print(
            f"  {name:14} median {statistics.median(timings):6.1f} ms  "
            f"max {max(timings):6.1f} ms  {len(queries)} queries  {cards} cards"
        )
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
