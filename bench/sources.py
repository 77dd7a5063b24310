"""Sources (#26): a large upload streams through the web server and the worker without either
holding it, and sources waiting on Scripe cost no worker.

    .venv/bin/python bench/sources.py
    .venv/bin/python bench/sources.py --megabytes 200 --waiting 50 --ingest-seconds 40-45

Runs for real on this machine: the Scripe sandbox (in this process; it streams the PUT to
disk), a fresh SQLite database, `manage.py runserver` (the web process) and
`manage.py qcluster` with one worker (the worker processes, with the dispatcher).

1. An editor's browser-like client uploads a file of --megabytes to the Sources page (sent
   from disk in chunks); the worker then POSTs the upload, PUTs the file to the sandbox's
   presigned URL from disk and follows the ingest. Printed: the peak resident memory
   (VmHWM) of the web process and of each worker process, against the 150 MB goal.
2. --waiting sources are added at once with a long ingest; once every one is waiting on
   Scripe, the bench watches for 10 s: how many hold a lease (a worker busy with them), how
   many tasks wait in the queue, and the CPU the worker processes used meanwhile.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MB = 1024 * 1024
GOAL_MB = 150


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree(pid: int) -> list[int]:
    """The process and its descendants (django-q2's sentinel, monitor, pusher, workers)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            todo.extend(int(c) for c in children)
    return found


def peak_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process ever had, in MB."""
    with contextlib.suppress(OSError):
        status = Path(f"/proc/{pid}/status").read_text()
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        if match:
            return int(match[1]) / 1024
    return 0.0


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def write_file(path: Path, megabytes: int) -> None:
    block = bytes(range(256)) * 4096  # 1 MB
    with open(path, "wb") as out:
        for _ in range(megabytes):
            out.write(block)


def wait_for(check, seconds: float, what: str, every: float = 0.25) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(every)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--waiting", type=int, default=50)
    parser.add_argument("--ingest-seconds", default="40-45")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-sources-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "Q_WORKERS": "1",
        "Q_LOG_LEVEL": "WARNING",
        "LOG_LEVEL": "WARNING",
        "SCRIPE_ALLOW_LOCAL_HOSTS": "true",
        "SOURCE_UPLOAD_DIR": str(workdir / "sources"),
        "TMPDIR": str(workdir),
    }
    env.pop("REDIS_URL", None)
    os.environ.update(env)
    tempfile.tempdir = None  # TMPDIR, for this process too

    import django

    django.setup()
    import httpx
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from calendar_app.models import Membership, Project, Source, Workspace
    from calendar_app.planning.services import projects_sync
    from calendar_app.sources import services
    from scripe_integration.sandbox import ALL_SCOPES, DEFAULT_TEST_KEY, Config, Sandbox
    from scripe_integration.sandbox.__main__ import seconds_range
    from scripe_integration.services import connection_for

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    sandbox = Sandbox(
        Config(
            keys={DEFAULT_TEST_KEY: ALL_SCOPES},
            ingest_seconds=(3.0, 4.0),
            rate_limit=100_000,
            failure_rate=0.0,
            upload_dir=str(workdir / "scripe"),
            seed=1,
        )
    ).start()
    Path(workdir / "scripe").mkdir(exist_ok=True)
    workspace = Workspace.objects.create(
        name="Bench", time_zone="UTC", require_two_factor_admins=False
    )
    connection = connection_for(workspace)
    connection.base_url = sandbox.base_url
    connection.set_key(DEFAULT_TEST_KEY)
    connection.save()
    projects_sync(workspace=workspace)
    project = Project.objects.filter(workspace=workspace, status="ACTIVE").first()
    user = get_user_model().objects.create_user("bench", password="bench-password")
    Membership.objects.create(user=user, workspace=workspace, role="editor")

    port = free_port()
    web = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, start_new_session=True
    )
    big = workdir / "webinar.mp4"
    write_file(big, args.megabytes)
    try:
        base = f"http://127.0.0.1:{port}"
        http = httpx.Client(base_url=base, timeout=600)

        def up() -> bool:
            try:
                return http.get("/accounts/login/").status_code == 200
            except httpx.TransportError:
                return False

        wait_for(up, 30, "the web server")
        token = http.cookies.get("csrftoken")
        http.post(
            "/accounts/login/",
            data={"login": "bench", "password": "bench-password", "csrfmiddlewaretoken": token},
            headers={"Referer": f"{base}/accounts/login/"},
        )
        http.get("/sources/")
        token = http.cookies.get("csrftoken")

        # 1. A large upload, through the web process and the worker.
        began = time.monotonic()
        with open(big, "rb") as handle:
            response = http.post(
                "/sources/upload/",
                data={"project": str(project.pk), "csrfmiddlewaretoken": token},
                files={"file": ("webinar.mp4", handle, "video/mp4")},
                headers={"Referer": f"{base}/sources/"},
            )
        received = time.monotonic() - began
        if response.status_code != 302:
            raise SystemExit(f"the upload was answered {response.status_code}")
        source = Source.objects.get()
        wait_for(
            lambda: Source.objects.filter(pk=source.pk, finished=True).exists(), 600, "the ingest"
        )
        source.refresh_from_db()
        ingested = time.monotonic() - began
        web_peak = max(peak_mb(pid) for pid in tree(web.pid))
        worker_peaks = {pid: peak_mb(pid) for pid in tree(worker.pid)}

        # 2. Many sources waiting on Scripe.
        sandbox.state.config.ingest_seconds = seconds_range(args.ingest_seconds)
        for i in range(args.waiting):
            copy = workdir / f"memo-{i}.upload"
            copy.write_bytes(b"\0" * 64_000)
            services.source_create_file(
                user=user,
                project=project,
                name=f"memo-{i}.wav",
                size=copy.stat().st_size,
                temporary_path=str(copy),
            )
        files = Source.objects.filter(kind="file").exclude(pk=source.pk)
        wait_for(
            lambda: files.filter(status="ingesting").count() == args.waiting,
            120,
            "every source waiting on Scripe",
        )
        from django.db import connection as db
        from django.utils import timezone

        pids = tree(worker.pid)
        cpu_before = cpu_seconds(pids)
        leased, queued = 0, 0
        for _ in range(20):
            now = timezone.now()
            leased = max(leased, files.filter(lease_until__gt=now).count())
            with db.cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM django_q_ormq")
                queued = max(queued, cursor.fetchone()[0])
            time.sleep(0.5)
        worker_cpu = cpu_seconds(pids) - cpu_before
        still_waiting = files.filter(status="ingesting").count()
    finally:
        for process in (web, worker):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        sandbox.stop()

    print(f"upload size                     {args.megabytes} MB")
    print(f"received by the web process     {received:.1f} s")
    print(f"uploaded to Scripe and ingested {ingested:.1f} s after the upload began")
    print(f"source                          {source.status}, app's copy deleted: "
          f"{source.local_deleted_at is not None}")  # fmt: skip
    verdict = "under" if web_peak < GOAL_MB else "OVER"
    print(f"web process peak RSS            {web_peak:.0f} MB ({verdict} {GOAL_MB} MB)")
    for pid, peak in sorted(worker_peaks.items()):
        verdict = "under" if peak < GOAL_MB else "OVER"
        print(f"worker process {pid:<8} peak   {peak:.0f} MB ({verdict} {GOAL_MB} MB)")
    print(f"sources waiting on Scripe       {still_waiting} of {args.waiting}")
    print(f"  holding a worker (leased)     {leased} at most, sampled over 10 s")
    print(f"  tasks queued for a worker     {queued} at most")
    print(f"  worker CPU in those 10 s      {worker_cpu:.2f} s")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
