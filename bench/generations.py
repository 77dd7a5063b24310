"""Generation throughput, Scripe calls per generation, pacing under a rate limit, recovery
from a killed cluster, and browser polling per page.

    .venv/bin/python bench/generations.py --slots 30 --workers 4 --generation-seconds 2-4
    .venv/bin/python bench/generations.py --slots 200 --workers 2 --generation-seconds 8-20 \
        --no-browser
    .venv/bin/python bench/generations.py --slots 200 --workers 2 --generation-seconds 8-20 \
        --rate-limit 120 --no-browser
    .venv/bin/python bench/generations.py --slots 60 --workers 2 --clusters 2 --kill-after 15 \
        --generation-seconds 8-20 --no-browser
    .venv/bin/python bench/generations.py --slots 60 --workers 2 --rate-limit 60 --no-browser \
        --metrics

Runs everything for real on this machine: the Scripe sandbox, a fresh SQLite database (or
DATABASE_URL's, with --database-url), django-q2 clusters (`manage.py qcluster`, each with
its dispatcher), and (when Chromium is installed) the web server with a headless browser
that keeps the day view open while the posts are written, counting its live requests.

The rate-limit floor is the time the limit allows for the calls the run made (calls ÷ limit
per minute); "inside Retry-After" counts requests that reached Scripe while a 429's
Retry-After was running. With --metrics, the clusters and a web server count into one
multiprocess folder and the bench prints the app's /metrics lines halfway and at the end.
With --kill-after, one cluster is SIGKILLed and the bench reports
the longest time a due step then waited before some worker took it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slots", type=int, default=30)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--generation-seconds", default="2-4")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument(
        "--rate-limit", type=int, default=0, help="Scripe requests per minute (default: none)"
    )
    parser.add_argument("--clusters", type=int, default=1, help="qcluster processes")
    parser.add_argument(
        "--kill-after", type=float, default=0, help="SIGKILL one cluster after this many seconds"
    )
    parser.add_argument(
        "--database-url", default="", help="a database to use instead of a fresh SQLite file"
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="the sandbox reports no progress"
    )
    parser.add_argument(
        "--estimate-reading",
        choices=["total", "remaining"],
        default="total",
        help="what the sandbox's estimatedCompletionMs means",
    )
    parser.add_argument(
        "--metrics", action="store_true", help="print the app's /metrics while it runs"
    )
    args = parser.parse_args()
    if args.kill_after and args.clusters < 2:
        parser.error("--kill-after needs --clusters 2 or more")

    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "Q_WORKERS": str(args.workers),
        "Q_LOG_LEVEL": "WARNING",
        "LOG_LEVEL": "WARNING",
        "SCRIPE_ALLOW_LOCAL_HOSTS": "true",  # the sandbox is on 127.0.0.1
        # Playwright's sync API runs an event loop in this thread; the ORM calls here are
        # still plain synchronous ones.
        "DJANGO_ALLOW_ASYNC_UNSAFE": "true",
    }
    env.pop("REDIS_URL", None)
    if args.metrics:
        env["PROMETHEUS_MULTIPROC_DIR"] = str(workdir / "prometheus")
        env["METRICS_TOKEN"] = secrets.token_urlsafe(16)
    os.environ.update(env)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from calendar_app.models import (
        GenerationJob,
        Membership,
        PlannedSlot,
        Project,
        SourceNote,
        Workspace,
    )
    from calendar_app.pipeline.generation import generation_request
    from calendar_app.planning.services import projects_sync
    from scripe_integration.sandbox import ALL_SCOPES, DEFAULT_TEST_KEY, Config, Sandbox
    from scripe_integration.sandbox.__main__ import seconds_range
    from scripe_integration.services import connection_for

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    sandbox = Sandbox(
        Config(
            keys={DEFAULT_TEST_KEY: ALL_SCOPES},
            generation_seconds=seconds_range(args.generation_seconds),
            failure_rate=0.0,
            rate_limit=args.rate_limit or 100_000,
            progress=not args.no_progress,
            estimate_reading=args.estimate_reading,
            spend_cap=100_000,
            seed=1,
            suggestions_per_project=0,
        )
    ).start()
    workspace = Workspace.objects.create(
        name="Bench", time_zone="UTC", require_two_factor_admins=False
    )
    connection = connection_for(workspace)
    connection.base_url = sandbox.base_url
    connection.set_key(DEFAULT_TEST_KEY)
    connection.save()
    projects_sync(workspace=workspace)
    project = Project.objects.filter(workspace=workspace, status="ACTIVE").first()
    user = get_user_model().objects.create_user("bench", password="bench")
    Membership.objects.create(user=user, workspace=workspace, role="editor")
    # Every slot on one day tomorrow, so the day view shows them all.
    start = (timezone.now() + timedelta(days=1)).replace(hour=6, minute=0, second=0)
    slots = []
    for i in range(args.slots):
        note = SourceNote.objects.create(
            workspace=workspace, text=f"Benchmark idea number {i}. It is short and clear."
        )
        slots.append(
            PlannedSlot.objects.create(
                workspace=workspace,
                project=project,
                note=note,
                scheduled_for=start + timedelta(minutes=i),
            )
        )
    calls_before = sandbox.state.stats()["requestsTotal"]
    sent, refusals = watch_sandbox(sandbox.state)

    clusters = [
        subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, start_new_session=True
        )
        for _ in range(args.clusters)
    ]
    processes = list(clusters)
    killed_at = None
    overdue: dict[int, float] = {}
    longest_overdue = 0.0
    browser = None
    port = None
    live_requests: list[float] = []
    try:
        if args.metrics or (not args.no_browser and shutil.which("chromium")):
            port = free_port()
            processes.append(
                subprocess.Popen(
                    [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        time.sleep(2)  # the cluster starts
        began = time.monotonic()
        for slot in slots:
            generation_request(slot=PlannedSlot.objects.get(pk=slot.pk), user=user)
        if port is not None and not args.no_browser and shutil.which("chromium"):
            # The editor looks at the week while the posts are being written.
            browser = open_calendar(port, start, live_requests)
        pending = {s.pk for s in slots}
        halfway_shown = False
        while pending:
            if args.metrics and not halfway_shown and len(pending) <= len(slots) // 2:
                halfway_shown = True
                print(f"/metrics halfway ({time.monotonic() - began:.1f} s):")
                print(metrics_lines(port, env["METRICS_TOKEN"]))
            if args.kill_after and killed_at is None and time.monotonic() - began > args.kill_after:
                os.killpg(clusters[0].pid, signal.SIGKILL)
                killed_at = time.monotonic()
            done = PlannedSlot.objects.filter(pk__in=pending).exclude(
                status__in=["queued", "generating"]
            )
            pending -= set(done.values_list("pk", flat=True))
            # How long each due step waits for a worker (after the kill, when there is one).
            now, clock = timezone.now(), time.monotonic()
            due = set(
                GenerationJob.objects.filter(
                    slot__workspace=workspace, finished=False, next_poll_at__lte=now
                ).values_list("pk", flat=True)
            )
            for pk in due:
                overdue.setdefault(pk, clock)
            for pk in set(overdue) - due:
                since = overdue.pop(pk)
                if killed_at is None or since >= killed_at - 30:
                    longest_overdue = max(longest_overdue, clock - since)
            if browser:
                # Lets Playwright deliver the page's request events as they happen.
                browser["page"].wait_for_timeout(250)
            else:
                time.sleep(0.25)
        elapsed = time.monotonic() - began
        if browser:
            browser["page"].wait_for_timeout(3000)  # the page sees the last states, then stops
        if args.metrics:
            time.sleep(1)  # the last task's counts are written when it returns
            print("/metrics at the end:")
            print(metrics_lines(port, env["METRICS_TOKEN"]))
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        if browser:
            browser["close"]()
        sandbox.stop()

    stats = sandbox.state.stats()
    jobs = GenerationJob.objects.filter(slot__workspace=workspace)
    n = len(slots)
    calls = stats["requestsTotal"] - calls_before
    print(f"slots                         {n}")
    print(f"clusters x workers            {args.clusters} x {args.workers}")
    print(f"sandbox generation time       {args.generation_seconds} s")
    progress = "none" if args.no_progress else "reported"
    print(f"sandbox progress, estimate    {progress}, {args.estimate_reading}")
    print(f"database                      {env['DATABASE_URL'].split(':')[0]}")
    print(f"wall time                     {elapsed:.1f} s")
    print(f"generations per minute        {n / elapsed * 60:.1f}")
    print(f"Scripe jobs created           {stats['jobsCreated']}")
    print(f"Scripe calls per generation   {calls / n:.2f}")
    if args.rate_limit:
        floor = calls / args.rate_limit * 60
        print(f"rate limit                    {args.rate_limit} requests/min")
        print(f"rate-limit floor              {floor:.1f} s ({elapsed / floor:.2f}x)")
    print(f"429s from Scripe              {len(refusals)}")
    print(f"requests inside Retry-After   {inside_holds(sent, refusals)}")
    if killed_at is not None:
        print(f"killed a cluster at           {killed_at - began:.1f} s")
    print(f"longest wait of a due step    {longest_overdue:.1f} s")
    print(f"  polls per generation        {sum(j.polls for j in jobs) / n:.2f}")
    print(f"ended in review               {PlannedSlot.objects.filter(status='in_review').count()}")
    if live_requests:
        span = live_requests[-1] - live_requests[0] if len(live_requests) > 1 else 1
        per_minute = (len(live_requests) - 1) / span * 60 if len(live_requests) > 1 else 0
        print(f"browser live requests         {len(live_requests)} in {span:.0f} s "
              f"({per_minute:.0f} per page per minute, for {n} cards)")  # fmt: skip
    else:
        print("browser live requests         not measured (no chromium, or --no-browser)")
    shutil.rmtree(workdir, ignore_errors=True)


def metrics_lines(port: int, token: str) -> str:
    """The app's own samples from /metrics (not its histogram buckets nor Django's)."""
    import httpx

    for _ in range(50):  # the web server may still be starting
        try:
            response = httpx.get(
                f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {token}"}
            )
            break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        return "  (the web server did not answer)"
    return "\n".join(
        f"  {line}"
        for line in response.text.splitlines()
        if line.startswith(("calendar_", "scripe_")) and "_bucket{" not in line
    )


def watch_sandbox(state) -> tuple[list[float], list[tuple[float, float]]]:
    """Records when each request reached the in-process sandbox, and each 429 it answered
    with the seconds it announced."""
    sent: list[float] = []
    refusals: list[tuple[float, float]] = []
    take = state.take_rate_slot

    def take_and_record():
        allowed, limit, remaining, reset = take()
        sent.append(time.monotonic())
        if not allowed:
            refusals.append((time.monotonic(), float(reset)))
        return allowed, limit, remaining, reset

    state.take_rate_slot = take_and_record
    return sent, refusals


def inside_holds(sent: list[float], refusals: list[tuple[float, float]]) -> int:
    """Requests that reached Scripe inside an announced Retry-After, except those already on
    their way (within a quarter second) when the 429 was answered."""
    return sum(1 for at in sent if any(r + 0.25 < at < r + wait - 0.05 for r, wait in refusals))


def open_calendar(port: int, start, live_requests: list[float]) -> dict:
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(
        executable_path=shutil.which("chromium"),
        args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )
    page = browser.new_page()
    page.on(
        "request",
        lambda r: live_requests.append(time.monotonic()) if "/slots/live/" in r.url else None,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(50):
        try:
            page.goto(f"{base}/accounts/login/")
            break
        except Exception:
            time.sleep(0.2)
    page.fill("#id_login", "bench")
    page.fill("#id_password", "bench")
    page.click("button[type=submit]")
    page.goto(f"{base}/calendar/day/{start:%Y-%m-%d}/")

    def close() -> None:
        browser.close()
        playwright.stop()

    return {"page": page, "close": close}


if __name__ == "__main__":
    main()
