"""The insights page with a year of data: server time per render for a workspace of 20
projects with about three posts a week each over the past year and the next two months,
every post with its attempts (written, failed, cancelled) and its review decisions.

    .venv/bin/python bench/insights.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cal .venv/bin/python bench/insights.py
    .venv/bin/python bench/insights.py --projects 20 --per-week 3 --renders 20

Runs with DEBUG off. With a PostgreSQL DATABASE_URL it creates (and drops afterwards) the
database `<name>_bench` on that server; otherwise a SQLite file in a temporary directory.
Prints the rows it made, then the median wall time of the whole page (through Django's test
client, with its session and middleware), its queries, and each chart's own time.

`build_workspace` is also what the README's screenshot is made from
(tests/browser/test_insights_screenshot.py).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import calendar_views as shared  # noqa: E402 - after the path it lives on

PROJECT_NAMES = [
    "Lena Fischer",
    "Acme Robotics",
    "Jonas Weber",
    "Mara Keller",
    "Northwind Labs",
    "Tom Richter",
    "Greenfield Energy",
    "Sofia Braun",
    "Helix Health",
    "Paul Wagner",
    "Orbit Logistics",
    "Nina Hoffmann",
    "Quantum Finance",
    "Lukas Schulz",
    "Bright Schools",
    "Eva Neumann",
    "Atlas Build",
    "Felix Krüger",
    "Nova Media",
    "Clara Wolf",
]
FAILURES = ["provider_error", "content_policy", "source_unusable", "spend_cap_exceeded"]


def build_workspace(
    name: str,
    *,
    projects: int = 20,
    weeks_back: int = 52,
    weeks_ahead: int = 9,
    per_week: int = 3,
    managers: int = 3,
    zone: str = "Europe/Berlin",
    plan: str = "ADVANCED",
    today_generations: int = 0,
    now: datetime | None = None,
    seed: int = 7,
):
    """A workspace as a team that has used the calendar for a while: per project about
    `per_week` posts a week from `weeks_back` weeks ago to `weeks_ahead` ahead, the past ones
    mostly published (some rejected, missed, failed), the near future in review, being
    written or scheduled, further out drafts; each written post with one or two attempts
    (Scripe taking 8-40 s, now and then minutes) and a manager's decision hours after the
    draft was ready. Bulk inserts; returns (workspace, the managers)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from calendar_app.models import (
        GenerationJob,
        Membership,
        PlannedSlot,
        Project,
        ScheduleTime,
        SlotEvent,
        SourceNote,
        Workspace,
    )
    from scripe_integration.services import connection_for

    rng = random.Random(seed)
    now = now or timezone.now()
    # Its admins log in by password alone (the docs screenshot, the bench): no second factor.
    workspace = Workspace.objects.create(name=name, time_zone=zone, require_two_factor_admins=False)
    connection = connection_for(workspace)
    connection.plan = plan
    connection.save()
    User = get_user_model()
    people = []
    for n, first in enumerate(["Max", "Nora", "Ben", "Ida", "Jan"][:managers]):
        user = User.objects.create_user(f"{name.lower().replace(' ', '-')}-{first.lower()}")
        user.first_name, user.last_name = first, ["Manager", "Berg", "Koch", "Lang", "Roth"][n]
        user.save()
        Membership.objects.create(user=user, workspace=workspace, role="manager")
        people.append(user)
    project_rows = Project.objects.bulk_create(
        Project(
            workspace=workspace,
            scripe_id=f"proj_{uuid.uuid4().hex[:20]}",
            name=PROJECT_NAMES[i % len(PROJECT_NAMES)]
            + ("" if i < len(PROJECT_NAMES) else f" {i}"),
            colour=i % 8,
        )
        for i in range(projects)
    )
    # Most projects have a posting schedule (#15) of about `per_week` weekday times.
    clocks = [dtime(9), dtime(12, 30), dtime(17)]
    ScheduleTime.objects.bulk_create(
        ScheduleTime(project=project, weekday=day, time=rng.choice(clocks))
        for project in project_rows
        if rng.random() < 0.8
        for day in sorted(rng.sample(range(7 if per_week > 5 else 5), min(per_week, 7)))
    )
    plans = []  # (project, time)
    start = now - timedelta(weeks=weeks_back)
    for project in project_rows:
        pace = per_week * rng.uniform(0.6, 1.4)
        when = start + timedelta(hours=rng.uniform(0, 48))
        while when < now + timedelta(weeks=weeks_ahead):
            plans.append((project, when.replace(minute=rng.choice([0, 15, 30, 45]), second=0)))
            when += timedelta(days=7 / pace * rng.uniform(0.5, 1.5))
    notes = SourceNote.objects.bulk_create(
        SourceNote(
            workspace=workspace,
            author=people[0],
            text=f"Idea {i}: what we learnt this week, and what we would do differently.",
        )
        for i in range(len(plans))
    )

    def status_for(when: datetime) -> str:
        ahead = when - now
        if ahead < -timedelta(days=2):
            return rng.choices(
                ["published", "rejected", "missed", "failed", "cancelled"], [88, 4, 3, 4, 1]
            )[0]
        if ahead < timedelta(0):
            return rng.choice(["published", "published", "scheduled", "missed"])
        if ahead < timedelta(hours=6):
            return rng.choice(["in_review", "draft", "generating", "scheduled", "failed"])
        if ahead < timedelta(days=4):
            return rng.choice(["scheduled", "in_review", "draft", "queued", "changes_requested"])
        if ahead < timedelta(days=14):
            return rng.choice(["scheduled", "draft", "draft", "in_review"])
        return "draft"

    slots = PlannedSlot.objects.bulk_create(
        PlannedSlot(
            workspace=workspace,
            project=project,
            note=note,
            scheduled_for=when,
            status=status_for(when),
            created_by=people[0],
        )
        for (project, when), note in zip(plans, notes, strict=True)
    )
    jobs, events = [], []
    for slot in slots:
        if slot.status == "draft":
            continue
        ready = slot.scheduled_for - timedelta(hours=rng.uniform(6, 96))
        if slot.status == "queued":
            continue
        attempts = 2 if rng.random() < 0.12 or slot.status == "failed" else 1
        for attempt in range(1, attempts + 1):
            accepted = ready - timedelta(minutes=(attempts - attempt) * 90 + 1)
            accepted = min(accepted, now - timedelta(minutes=2))
            took = timedelta(seconds=rng.uniform(8, 40) * (6 if rng.random() < 0.03 else 1))
            last = attempt == attempts
            failed = (slot.status == "failed" and last) or (not last and rng.random() < 0.7)
            cancelled = slot.status == "cancelled" and last
            running = slot.status == "generating" and last
            job = GenerationJob(
                slot=slot,
                attempt=attempt,
                is_current=last,
                idempotency_key=uuid.uuid4().hex,
                submitted_at=accepted,
                accepted_at=accepted,
                finished=not running,
                scripe_status=(
                    "RUNNING"
                    if running
                    else "FAILED"
                    if failed
                    else "CANCELLED"
                    if cancelled
                    else "DONE"
                ),
                completed_at=None if running else accepted + took,
                error_code=rng.choice(FAILURES) if failed else "",
                post_title="" if failed or cancelled or running else f"Post {slot.pk}",
            )
            jobs.append(job)
        if slot.status in ("failed", "cancelled", "generating", "queued"):
            continue
        events.append(SlotEvent(slot=slot, kind="status", status="in_review", created_at=ready))
        if slot.status in ("published", "scheduled", "rejected", "changes_requested"):
            manager = rng.choices(people, [5, 3, 2, 1, 1][: len(people)])[0]
            decided = ready + timedelta(
                hours=rng.lognormvariate(0.8, 0.9) * (1.6 if manager is people[-1] else 1)
            )
            decided = min(decided, now - timedelta(minutes=1))
            decision = {"rejected": "rejected", "changes_requested": "queued"}.get(
                slot.status, "approving"
            )
            events.append(
                SlotEvent(
                    slot=slot, kind="status", status=decision, actor=manager, created_at=decided
                )
            )
        elif slot.status == "missed":
            events.append(
                SlotEvent(slot=slot, kind="status", status="missed", created_at=slot.scheduled_for)
            )
    GenerationJob.objects.bulk_create(jobs, batch_size=2000)
    SlotEvent.objects.bulk_create(events, batch_size=2000)
    made = add_todays_generations(workspace, today_generations, now=now, seed=seed)
    counts = {"slots": len(slots), "attempts": len(jobs) + made, "events": len(events)}
    return workspace, people, counts


def add_todays_generations(workspace, count: int, *, now: datetime, seed: int = 7) -> int:
    """`count` more generations Scripe accepted today (UTC), spread over the hours so far,
    as extra attempts of posts further ahead: the spend burn-down's line."""
    from calendar_app.models import GenerationJob, PlannedSlot

    rng = random.Random(seed)
    midnight = datetime.combine(now.astimezone(UTC).date(), datetime.min.time(), tzinfo=UTC)
    elapsed = (now - midnight).total_seconds()
    slots = list(PlannedSlot.objects.filter(workspace=workspace).order_by("-scheduled_for"))
    jobs = []
    for n in range(count if slots else 0):
        at = midnight + timedelta(seconds=elapsed * (n + rng.random()) / count)
        jobs.append(
            GenerationJob(
                slot=slots[n % len(slots)],
                attempt=20 + n // len(slots),
                is_current=False,
                idempotency_key=uuid.uuid4().hex,
                submitted_at=at,
                accepted_at=at,
                completed_at=min(now, at + timedelta(seconds=rng.uniform(8, 30))),
                finished=True,
                scripe_status="DONE",
            )
        )
    GenerationJob.objects.bulk_create(jobs, batch_size=2000)
    return len(jobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=20)
    parser.add_argument("--per-week", type=int, default=3, help="posts a week per project")
    parser.add_argument("--renders", type=int, default=20, help="timed renders of the page")
    args = parser.parse_args()

    workdir = shared.configure("bench-insights-")
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from calendar_app.insights import selectors as insights
    from calendar_app.pipeline.spend import spend_today

    with shared.bench_database(workdir) as postgres:
        began = time.perf_counter()
        workspace, people, made = build_workspace(
            "Bench", projects=args.projects, per_week=args.per_week, today_generations=40
        )
        # Another workspace of the same size, so every query has to pick its rows out.
        build_workspace("Other", projects=args.projects, per_week=args.per_week, seed=8)
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(
            f"{connection.vendor}: {args.projects} projects, {made['slots']:,} posts, "
            f"{made['attempts']:,} attempts, {made['events']:,} trail entries in the workspace "
            f"(and as many in another), built in {time.perf_counter() - began:.1f} s"
        )
        client = Client()
        client.force_login(people[0])
        for _ in range(3):
            assert client.get("/insights/").status_code == 200
        timings = []
        for _ in range(args.renders):
            began = time.perf_counter()
            client.get("/insights/")
            timings.append((time.perf_counter() - began) * 1000)
        with CaptureQueriesContext(connection) as queries:
            client.get("/insights/")
        print(
            f"  /insights/: median {statistics.median(timings):.0f} ms, max "
            f"{max(timings):.0f} ms over {args.renders} renders, {len(queries)} queries"
        )
        scope = insights.Scope(workspace, workspace.zone)
        today = timezone.localdate(timezone=workspace.zone)
        charts = {
            "posts per week": lambda: insights.posts_by_week(scope, today=today),
            "generations": lambda: insights.generation_outcomes(scope, today=today),
            "review turnaround": lambda: insights.review_turnaround(scope, today=today),
            "planned/published": lambda: insights.planned_vs_published(scope, today=today),
            "spend today": lambda: spend_today([workspace]),
            "at risk": lambda: insights.at_risk_slots(scope),
        }
        for name, chart in charts.items():
            runs = []
            for _ in range(args.renders):
                began = time.perf_counter()
                chart()
                runs.append((time.perf_counter() - began) * 1000)
            print(f"    {name:18} {statistics.median(runs):6.1f} ms")


if __name__ == "__main__":
    main()
