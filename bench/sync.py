"""Scripe calls the sync makes per 100 followed posts, and per minute of sweeps.

    .venv/bin/python bench/sync.py --posts 100 --projects 3 --other-posts 300
    .venv/bin/python bench/sync.py --posts 500 --projects 20 --other-posts 300 --sweep-minutes 10

Runs for real on this machine: the Scripe sandbox and a fresh SQLite database. It has Scripe
write and schedule `--posts` posts spread over `--projects` projects (plus `--other-posts`
posts the calendar does not follow, as another tool in the same Scripe workspace would
make), then reads them all back twice: once with nothing changed, once after a tenth of
them were moved, edited, unscheduled or deleted in Scripe's dashboard.

With `--sweep-minutes N` it first runs the every-minute sweep (`calendar_app.tasks.sweep`)
N times, a minute apart on a clock moved by time-machine, with nothing changed and no
webhooks, against the sandbox at Scripe's documented rate limit (120 a minute), and prints
the Scripe calls each minute made: what polling costs to show any change within 2 minutes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--projects", type=int, default=3)
    parser.add_argument("--other-posts", type=int, default=300)
    parser.add_argument("--sweep-minutes", type=int, default=0)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    os.environ.update(
        {
            "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "LOG_LEVEL": "WARNING",
            "Q_LOG_LEVEL": "WARNING",
            "SCRIPE_ALLOW_LOCAL_HOSTS": "true",  # the sandbox is on 127.0.0.1
        }
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from calendar_app.models import GenerationJob, PlannedSlot, Project, SourceNote, Workspace
    from calendar_app.pipeline.generation import generation_request, generations_advance
    from calendar_app.pipeline.sync import scripe_sync
    from calendar_app.planning.services import projects_sync
    from scripe_integration.sandbox import ALL_SCOPES, DEFAULT_TEST_KEY, Config, Sandbox
    from scripe_integration.services import connection_for

    call_command("migrate", verbosity=0)
    sandbox = Sandbox(
        Config(
            keys={DEFAULT_TEST_KEY: ALL_SCOPES},
            generation_seconds=(0.05, 0.1),
            queue_seconds=0.0,
            failure_rate=0.0,
            rate_limit=1_000_000,
            spend_cap=1_000_000,
            seed=3,
            suggestions_per_project=0,
            extra_projects=max(0, args.projects - 3),
        )
    ).start()
    try:
        # Direct scheduling: each generation schedules its post in Scripe.
        workspace = Workspace.objects.create(name="Bench", time_zone="UTC", review_required=False)
        connection = connection_for(workspace)
        connection.base_url = sandbox.base_url
        connection.set_key(DEFAULT_TEST_KEY)
        connection.save()
        projects_sync(workspace=workspace)
        projects = list(Project.objects.filter(workspace=workspace, status="ACTIVE"))
        projects = projects[: args.projects]
        start = timezone.now() + timedelta(days=2)
        with sandbox_client(sandbox, DEFAULT_TEST_KEY) as scripe:
            for i in range(args.other_posts):  # not ours: another tool's drafts
                scripe.generate_post(
                    projects[i % len(projects)].scripe_id,
                    f"Someone else's idea {i}.",
                    idempotency_key=f"other-{i}",
                )
        slots = []
        for i in range(args.posts):
            note = SourceNote.objects.create(workspace=workspace, text=f"Followed idea {i}.")
            slots.append(
                PlannedSlot.objects.create(
                    workspace=workspace,
                    project=projects[i % len(projects)],
                    note=note,
                    scheduled_for=start + timedelta(hours=i),
                )
            )
        ids = [generation_request(slot=slot).pk for slot in slots]
        deadline = time.monotonic() + 120
        while GenerationJob.objects.filter(pk__in=ids, finished=False).exists():
            assert time.monotonic() < deadline, "the posts were not written in time"
            GenerationJob.objects.filter(pk__in=ids, finished=False).update(
                next_poll_at=timezone.now()
            )
            generations_advance(ids)
            time.sleep(0.2)
        followed = PlannedSlot.objects.filter(workspace=workspace, status="scheduled").count()
        per_minute = sweep_minutes(sandbox, connection, args.sweep_minutes)

        calls_before = sandbox.state.stats()["requestsTotal"]
        began = time.perf_counter()
        quiet = scripe_sync(workspace=workspace)
        quiet_seconds = time.perf_counter() - began
        quiet_calls = sandbox.state.stats()["requestsTotal"] - calls_before

        changed = change_a_tenth(sandbox, slots, start)
        calls_before = sandbox.state.stats()["requestsTotal"]
        busy = scripe_sync(workspace=workspace)
        busy_calls = sandbox.state.stats()["requestsTotal"] - calls_before
    finally:
        sandbox.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    per_100 = 100 / max(followed, 1)
    print(f"followed posts                 {followed} over {len(projects)} projects")
    print(f"other posts in those projects  {args.other_posts}")
    quiet_rate = quiet_calls * per_100
    busy_rate = busy_calls * per_100
    print(f"nothing changed                {quiet_calls} calls ({quiet_rate:.1f} per 100), "
          f"{quiet_seconds:.2f} s")  # fmt: skip
    print(f"  said                         {quiet.sentence()}")
    print(f"a tenth changed in Scripe      {changed} posts; {busy_calls} calls "
          f"({busy_rate:.1f} per 100)")  # fmt: skip
    print(f"  changes seen                 {len(busy.changes)}")
    if per_minute:
        from scripe_integration.pacing import sync_calls_per_minute

        average = sum(per_minute) / len(per_minute)
        print(f"sweeps, nothing changed        {args.sweep_minutes} minutes: "
              f"{' '.join(map(str, per_minute))} calls")  # fmt: skip
        print(f"  per minute                   {average:.1f} on average, {max(per_minute)} at "
              f"most; allowed {sync_calls_per_minute(120):.0f} (a tenth of 120)")  # fmt: skip


def sweep_minutes(sandbox, connection, minutes: int) -> list[int]:
    """Scripe calls of each of `minutes` sweeps a minute apart, nothing changed. The clock
    starts an hour on, so the setup's calls have left Scripe's window, and the rate limit is
    the documented one, unknown to the app until Scripe's first answer says it."""
    if not minutes:
        return []
    import time_machine
    from django.utils import timezone

    from calendar_app import tasks
    from calendar_app.models import Project

    sandbox.state.config.rate_limit = 120
    connection.__class__.objects.filter(pk=connection.pk).update(
        rate_limit=None, rate_limit_remaining=None, rate_limit_reset_at=None
    )
    Project.objects.update(posts_synced_at=None)  # as if the sweep had never read them
    calls = []
    with time_machine.travel(timezone.now() + timedelta(hours=1), tick=False) as clock:
        for _ in range(minutes):
            before = sandbox.state.stats()["requestsTotal"]
            tasks.sweep()
            calls.append(sandbox.state.stats()["requestsTotal"] - before)
            clock.shift(timedelta(minutes=1))
    return calls


def sandbox_client(sandbox, key):
    from scripe_integration.client import ScripeClient

    return ScripeClient(sandbox.base_url, key, allow_local_hosts=True)


def change_a_tenth(sandbox, slots, start) -> int:
    """Moves, edits, unschedules and deletes a tenth of the posts "in Scripe's dashboard"."""
    import httpx

    changed = 0
    for i, slot in enumerate(slots[:: max(1, len(slots) // (len(slots) // 10 or 1))]):
        slot.refresh_from_db()
        post_id = slot.current_job.post_id
        url = f"{sandbox.root_url}/_sandbox/posts/{post_id}"
        kind = i % 4
        if kind == 0:
            later = (start + timedelta(days=30, hours=i)).isoformat().replace("+00:00", "Z")
            httpx.patch(url, json={"scheduledAt": later}).raise_for_status()
        elif kind == 1:
            httpx.patch(url, json={"content": f"Edited by hand {i}."}).raise_for_status()
        elif kind == 2:
            httpx.patch(url, json={"scheduledAt": None}).raise_for_status()
        else:
            httpx.delete(url).raise_for_status()
        changed += 1
    return changed


if __name__ == "__main__":
    main()
