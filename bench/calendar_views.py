"""How the calendar views hold up as a window fills: server time per render of the month,
week, list and review views with 10 and with 300 posts in the window they show.

    .venv/bin/python bench/calendar_views.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cal .venv/bin/python bench/calendar_views.py
    .venv/bin/python bench/calendar_views.py --renders 50 --profile month
    SORT=tottime .venv/bin/python bench/calendar_views.py --profile week --profile-size 10

Runs with DEBUG off, as production does. With a PostgreSQL DATABASE_URL it creates (and
drops afterwards) the database `<name>_bench` on that server; otherwise a SQLite file in a
temporary directory. Every view and size gets a workspace and a manager of its own, whose
posts are in every state a card shows (in flight with progress, failed with a reason, in
review with a draft...). Each render goes through the whole stack with Django's test client;
the times printed are medians of the wall time (what the issue's goals are about: a month of
300 posts in 40 ms or less, and a 300/10 ratio of 2.0 or less for every view) and of this
process's CPU time (database time excluded; steadier than wall time on a busy machine).
On PostgreSQL the new rows are analyzed before they are read, as autovacuum does on a live
database (`--no-analyze` reads them with the planner's guesses). The last line, `floor`, is a
signed-in request that renders nothing: what every page pays before its own work.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = (10, 300)
ZONE = ZoneInfo("Europe/Berlin")
# Every state a card can be in, so every branch of the templates is paid for.
STATUSES = [
    "draft",
    "queued",
    "generating",
    "in_review",
    "scheduled",
    "failed",
    "changes_requested",
    "published",
]


def configure(prefix: str = "bench-calendar-") -> Path:
    """Environment for a production-like run; returns a scratch directory."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    from cryptography.fernet import Fernet

    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "False",
            "SECRET_KEY": uuid.uuid4().hex * 2,
            "SCRIPE_KEY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "testserver",
            "LOG_LEVEL": "WARNING",
        }
    )
    return workdir


@contextlib.contextmanager
def bench_database(workdir: Path):
    """The run's own migrated database: `<name>_bench` on PostgreSQL (created, and dropped
    at the end), else the scratch SQLite file. Static URLs are plain: the manifest would
    need collectstatic, and costs the same per page. Yields whether it is PostgreSQL; the
    scratch directory goes at the end."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    postgres = connection.vendor == "postgresql"
    old_name = connection.settings_dict["NAME"]
    if postgres:
        connection.settings_dict["TEST"]["NAME"] = f"{old_name}_bench"
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    else:
        call_command("migrate", verbosity=0)
    try:
        yield postgres
    finally:
        if postgres:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        shutil.rmtree(workdir, ignore_errors=True)


def local(day: date, minutes: int) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=ZONE) + timedelta(minutes=minutes)


def spread(days: list[date], n: int) -> list[datetime]:
    """n times over the given local days, a few each day between 08:00 and 18:00."""
    per_day = -(-n // len(days))
    step = max(15, 600 // per_day // 15 * 15)
    return [local(days[i % len(days)], 8 * 60 + step * (i // len(days))) for i in range(n)]


def populate(name: str, times: list[datetime], *, review: bool = False):
    """A workspace with a manager and one post at each time; returns the manager."""
    from django.contrib.auth import get_user_model

    from calendar_app.models import (
        GenerationJob,
        Membership,
        PlannedSlot,
        Project,
        SourceNote,
        Workspace,
    )

    workspace = Workspace.objects.create(name=name, time_zone=ZONE.key)
    projects = [
        Project.objects.create(
            workspace=workspace, scripe_id=f"proj_{name}_{i}", name=f"Project {i}", colour=i
        )
        for i in range(5)
    ]
    user = get_user_model().objects.create_user(f"bench-{name}")
    Membership.objects.create(user=user, workspace=workspace, role="manager")
    notes = SourceNote.objects.bulk_create(
        SourceNote(
            workspace=workspace,
            author=user,
            text=f"Idea {i}: what we learnt shipping the onboarding rewrite, in three steps. " * 3,
        )
        for i in range(len(times))
    )
    statuses = [
        ("in_review" if i % 5 else "missed") if review else STATUSES[i % len(STATUSES)]
        for i in range(len(times))
    ]
    slots = PlannedSlot.objects.bulk_create(
        PlannedSlot(
            workspace=workspace,
            project=projects[i % 5],
            note=notes[i],
            scheduled_for=when,
            status=status,
            status_note="Make it shorter." if status == "changes_requested" else "",
        )
        for i, (when, status) in enumerate(zip(times, statuses, strict=True))
    )
    now = datetime.now(tz=ZONE)
    GenerationJob.objects.bulk_create(
        GenerationJob(
            slot=slot,
            idempotency_key=uuid.uuid4().hex,
            scripe_job_id=f"job_{uuid.uuid4().hex[:12]}",
            scripe_status="RUNNING" if slot.status == "generating" else "DONE",
            progress=0.4 if slot.status == "generating" else None,
            progress_message="Writing the draft" if slot.status == "generating" else "",
            submitted_at=now - timedelta(seconds=30),
            accepted_at=now - timedelta(seconds=30),
            completed_at=None if slot.status in ("queued", "generating") else now,
            finished=slot.status not in ("queued", "generating"),
            error_message="Scripe's content policy flagged it." if slot.status == "failed" else "",
            post_title="A title" if slot.status != "failed" else "",
            post_content="A written draft.\n\nWith two paragraphs." * 5,
        )
        for slot in slots
        if slot.status != "draft"
    )
    return user


def scenarios(today: date) -> dict[str, tuple[str, list[date]]]:
    """Per view: its URL and the days its window shows."""
    from calendar_app.core.calendar_grid import month_weeks, week_start

    month_days = [
        d for w in month_weeks(today.year, today.month) for d in w if d.month == today.month
    ]
    monday = week_start(today)
    week_days = [monday + timedelta(days=i) for i in range(7)]
    return {
        "month": (f"/calendar/{today.year}/{today.month}/", month_days),
        "week": (f"/calendar/week/{monday.isoformat()}/", week_days),
        "list": ("/slots/", month_days),
        "review": ("/review/", month_days),
    }


def measure(client, url: str, renders: int) -> tuple[float, float, int, str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm the template and URL caches
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    timings, cpu = [], []
    for _ in range(renders):
        began, began_cpu = time.perf_counter(), time.process_time()
        client.get(url)
        timings.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(url).content.decode()
    return statistics.median(timings), statistics.median(cpu), len(queries), html


def measure_floor(client, renders: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, cpu = [], []
    for i in range(renders + 3):
        began, began_cpu = time.perf_counter(), time.process_time()
        response = client.get("/slots/live/")
        if i >= 3:  # the first few warm up
            timings.append((time.perf_counter() - began) * 1000)
            cpu.append((time.process_time() - began_cpu) * 1000)
    assert response.status_code == 204, response.status_code
    with CaptureQueriesContext(connection) as queries:
        client.get("/slots/live/")
    return statistics.median(timings), statistics.median(cpu), len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=30, help="timed renders per view and size")
    parser.add_argument(
        "--no-analyze", action="store_true", help="PostgreSQL: leave the new rows unanalyzed"
    )
    parser.add_argument(
        "--profile", choices=["month", "week", "list", "review"], help="cProfile one view"
    )
    parser.add_argument(
        "--profile-size", type=int, choices=SIZES, default=SIZES[-1], help="the size to profile"
    )
    args = parser.parse_args()

    workdir = configure()
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no STATIC_ROOT
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    with bench_database(workdir) as postgres:
        today = timezone.localdate(timezone=ZONE)
        print(
            f"{connection.vendor}, DEBUG={settings.DEBUG}, {args.renders} renders per case, "
            f"median server time (ms)"
        )
        print(
            f"  {'':8} {'server time (wall)':^27}   {'of it, CPU of this process':^24}"
            f"\n  {'view':8} {'10 posts':>9} {'300 posts':>10} {'ratio':>6}   "
            f"{'10':>7} {'300':>8} {'ratio':>6}   queries   shown"
        )
        for view, (url, days) in scenarios(today).items():
            row = {}
            for n in SIZES:
                user = populate(f"{view}{n}", spread(days, n), review=view == "review")
                if postgres and not args.no_analyze:
                    # Table statistics, as autovacuum keeps them on a live database (within
                    # a minute of a bulk insert); without them the planner guesses one row.
                    with connection.cursor() as cursor:
                        cursor.execute("ANALYZE")
                client = Client()
                client.force_login(user)
                median, cpu, queries, html = measure(client, url, args.renders)
                shown = html.count('class="slot-card') + html.count('class="slot-row-state')
                shown += html.count("data-review-item")
                row[n] = (median, cpu, queries, shown)
                if args.profile == view and n == args.profile_size:
                    profiler = cProfile.Profile()
                    profiler.enable()
                    for _ in range(args.renders):
                        client.get(url)
                    profiler.disable()
                    profile = pstats.Stats(profiler).sort_stats(
                        os.environ.get("SORT", "cumulative")
                    )
            (t10, c10, q10, s10), (t300, c300, q300, s300) = row[10], row[300]
            print(
                f"  {view:8} {t10:9.1f} {t300:10.1f} {t300 / t10:6.2f}   "
                f"{c10:7.1f} {c300:8.1f} {c300 / c10:6.2f}   {q10:>3}/{q300:<3}   {s10}/{s300}"
            )
        # The floor under every page: a signed-in request that the view answers at once
        # (the live poll without a baseline: 204), i.e. middleware, session, user and viewer.
        floor, floor_cpu, floor_queries = measure_floor(client, args.renders)
        print(
            f"  {'floor':8} {floor:9.1f} {'':10} {'':6}   {floor_cpu:7.1f} {'':8} {'':6}   "
            f"{floor_queries:>3}      (a signed-in request that renders nothing: /slots/live/)"
        )
        if args.profile:
            print(
                f"\ncProfile of {args.renders} renders of {args.profile} "
                f"with {args.profile_size} posts:"
            )
            profile.print_stats(35)
            if os.environ.get("CALLERS"):  # who calls the functions matching this pattern
                profile.print_callers(os.environ["CALLERS"])


if __name__ == "__main__":
    main()
