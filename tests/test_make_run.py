"""`make run` leaves nothing behind: the sandbox, the worker (the cluster process, its sentinel
and its workers) and the web server (the autoreloader and its child) all stop on SIGTERM to
its process group (a process manager, an IDE), on SIGINT to it (Ctrl-C in a terminal), and on
SIGTERM to the supervisor alone (what make passes on when it gets SIGTERM).

The stack runs for real, as `make run` starts it (scripts/run.py), on free ports and a SQLite
file of its own.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROC = Path("/proc")

pytestmark = pytest.mark.skipif(
    not (PROC / "self" / "stat").exists(), reason="reads the process table from /proc (Linux)"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(database: Path) -> dict[str, str]:
    # Only what make run itself would see: no broker, Scripe or log settings from outside.
    ignored = {
        *("REDIS_URL", "SCRIPE_API_BASE_URL", "SCRIPE_ALLOW_LOCAL_HOSTS"),
        *("LOG_LEVEL", "Q_LOG_LEVEL", "Q_WORKERS"),
    }
    env = {k: v for k, v in os.environ.items() if k not in ignored}
    env["DATABASE_URL"] = f"sqlite:///{database}"
    # The sandbox's state next to the database, not in the developer's var/.
    env["SANDBOX_STATE_FILE"] = str(database.with_name("sandbox-state.json"))
    return env


def process_table() -> dict[int, tuple[int, str, int, str]]:
    """pid -> (parent pid, state, start time, command line), from /proc."""
    table = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        table[int(entry.name)] = (int(fields[1]), fields[0], int(fields[19]), cmdline)
    return table


def descendants(root: int) -> dict[int, tuple[int, str]]:
    """Every process below `root`: pid -> (start time, command line)."""
    table = process_table()
    found: dict[int, tuple[int, str]] = {}
    parents = [root]
    while parents:
        parent = parents.pop()
        for pid, (ppid, _, started, cmdline) in table.items():
            if ppid == parent and pid not in found:
                found[pid] = (started, cmdline)
                parents.append(pid)
    return found


def still_running(processes: dict[int, tuple[int, str]]) -> dict[int, str]:
    """Those of `processes` that still run (the same process, not a reused pid; a zombie
    runs nothing)."""
    table = process_table()
    return {
        pid: cmdline
        for pid, (started, cmdline) in processes.items()
        if pid in table and table[pid][2] == started and table[pid][1] != "Z"
    }


@pytest.fixture(scope="module")
def prepared_database(tmp_path_factory) -> Path:
    """A migrated SQLite file with the demo logins, which each test copies, so that its start-up
    is that of a second `make run`: quick, with no passwords to hash."""
    database = tmp_path_factory.mktemp("make-run") / "prepared.sqlite3"
    env = environment(database)
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            # No Scripe here: the projects come from the sandbox that make run starts.
            env={**env, "SCRIPE_API_BASE_URL": "http://127.0.0.1:9/v1"},
            capture_output=True,
            check=True,
            timeout=120,
        )
    return database


class Stack:
    """scripts/run.py in a process group of its own, as make runs it in a terminal."""

    def __init__(self, tmp_path: Path, prepared_database: Path) -> None:
        database = tmp_path / "run.sqlite3"
        shutil.copy(prepared_database, database)
        self.port = free_port()
        self.log = tmp_path / "run.log"
        self.state_file = tmp_path / "sandbox-state.json"
        command = [sys.executable, "scripts/run.py", "--port", str(self.port)]
        with open(self.log, "wb") as output:
            self.process = subprocess.Popen(
                [*command, "--sandbox-port", str(free_port())],
                cwd=ROOT,
                env=environment(database),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                process_group=0,
            )
        self.children: dict[int, tuple[int, str]] = {}

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_until_serving(self, seconds: float = 40) -> None:
        """Until /healthz is 200: the web server answers and the worker has reported in."""
        url = f"http://127.0.0.1:{self.port}/healthz"
        deadline = time.monotonic() + seconds
        while True:
            assert self.process.poll() is None, f"make run ended early:\n{self.output()}"
            self.children.update(descendants(self.process.pid))
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            assert time.monotonic() < deadline, f"never healthy:\n{self.output()}"
            time.sleep(0.3)
        self.children.update(descendants(self.process.pid))

    def count(self, word: str) -> int:
        return sum(word in cmdline for _, cmdline in self.children.values())

    def wait_until_all_gone(self, seconds: float = 20) -> dict[int, str]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            left = still_running(self.children)
            if not left and self.process.poll() is not None:
                break
            time.sleep(0.2)
        return still_running(self.children)

    def kill_leftovers(self) -> None:
        for pid in [self.process.pid, *still_running(self.children)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def stack(tmp_path, prepared_database):
    started = Stack(tmp_path, prepared_database)
    yield started
    started.kill_leftovers()


def assert_everything_stops(stack: Stack, send) -> None:
    stack.wait_until_serving()
    assert stack.count("scripe_integration.sandbox") == 1
    assert stack.count("qcluster") >= 4  # the cluster, its sentinel and two workers at least
    assert stack.count("runserver") == 2  # the autoreloader and the server it runs
    send()
    left = stack.wait_until_all_gone()
    assert not left, f"still running: {left}\n{stack.output()}"
    assert stack.process.returncode == 0, stack.output()
    output = stack.output()
    assert "has stopped." in output  # django-q2's own words: the worker stopped gracefully
    assert "did not stop; killing it" not in output
    assert stack.state_file.exists()  # the sandbox wrote its state as it stopped


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_the_process_group_stops_every_process(stack, signum):
    assert_everything_stops(stack, lambda: os.killpg(stack.process.pid, signum))


def test_sigterm_to_the_supervisor_alone_stops_every_process(stack):
    assert_everything_stops(stack, lambda: os.kill(stack.process.pid, signal.SIGTERM))
