"""`make run` leaves nothing behind: the sandbox, the worker (the cluster process, its sentinel
and its workers) and the web server (the autoreloader and its child) all stop on SIGTERM to
its process group (a process manager, an IDE), on SIGINT to it (Ctrl-C in a terminal), and on
SIGTERM to the supervisor alone (what make passes on when it gets SIGTERM). When the supervisor
is killed outright, they stop too, and free their ports. A port already in use is named, with
how to choose another, before anything starts.

The stack runs for real, as `make run` starts it (scripts/run.py), on free ports and a SQLite
file of its own.
"""

from __future__ import annotations

import contextlib
import os
import re
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

from scripts.run import GRACE_SECONDS

ROOT = Path(__file__).resolve().parents[1]
PROC = Path("/proc")
# The supervisor stops its three services (web server, worker, sandbox) one after the other
# and gives each up to GRACE_SECONDS before it kills it: a wait shorter than all of that
# failed a stop that was slow on a busy machine but graceful, before the supervisor gave up.
STOP_SECONDS = 3 * GRACE_SECONDS + 15
# Once the supervisor is killed outright, the worker may take its --orphan-grace (3 s) and
# then its own stop; a busy machine can take several times that. A deadline, not a sleep.
ORPHAN_STOP_SECONDS = 30

pytestmark = [
    pytest.mark.skipif(
        not (PROC / "self" / "stat").exists(), reason="reads the process table from /proc (Linux)"
    ),
    # Whole stacks of processes: one test at a time, on one worker of a parallel run.
    pytest.mark.xdist_group("processes"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether a server could listen on the port now (as the servers bind: a port left in
    TIME_WAIT is free)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


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
        self.sandbox_port = free_port()
        self.log = tmp_path / "run.log"
        self.state_file = tmp_path / "sandbox-state.json"
        command = [sys.executable, "scripts/run.py", "--port", str(self.port)]
        with open(self.log, "wb") as output:
            self.process = subprocess.Popen(
                [*command, "--sandbox-port", str(self.sandbox_port)],
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

    def wait_until_serving(self, seconds: float = 240) -> None:
        """Until /healthz is 200: the web server answers and the worker has reported in. A
        deadline: on an idle machine that is ~30 s, but a full CI run once spent 65 s on a
        `migrate` with nothing to apply."""
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

    def wait_for_output(self, text: str, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.output():
            assert time.monotonic() < deadline, f"never said {text!r}:\n{self.output()}"
            time.sleep(0.1)

    def wait_until_all_gone(self, seconds: float = 20) -> dict[int, str]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            left = still_running(self.children)
            if not left and self.process.poll() is not None:
                break
            time.sleep(0.2)
        return still_running(self.children)

    def wait_until_ports_free(self, seconds: float = 5) -> list[int]:
        """The ports still in use after `seconds` (none, once every server has gone)."""
        deadline = time.monotonic() + seconds
        while True:
            taken = [p for p in (self.port, self.sandbox_port) if not port_is_free(p)]
            if not taken or time.monotonic() > deadline:
                return taken
            time.sleep(0.1)

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
    left = stack.wait_until_all_gone(STOP_SECONDS)
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


def assert_nothing_survives_the_supervisor(stack: Stack) -> None:
    """Once the supervisor has been killed, every process it started stops by itself within a
    few seconds (nobody is left to send them a signal), and the ports are free again."""
    left = stack.wait_until_all_gone(ORPHAN_STOP_SECONDS)
    assert not left, f"still running: {left}\n{stack.output()}"
    assert stack.process.returncode == -signal.SIGKILL
    assert not stack.wait_until_ports_free(seconds=10), stack.output()
    assert stack.state_file.exists()  # the sandbox still stopped cleanly and wrote its state


def test_sigkill_of_the_supervisor_alone_stops_every_process(stack):
    stack.wait_until_serving()
    assert stack.count("scripe_integration.sandbox") == 1
    assert stack.count("qcluster") >= 4
    assert stack.count("runserver") == 2
    os.kill(stack.process.pid, signal.SIGKILL)
    assert_nothing_survives_the_supervisor(stack)


def test_sigkill_of_the_process_group_while_it_stops_leaves_nothing_behind(stack):
    # A process manager's stop: SIGTERM to the group, then SIGKILL before the supervisor has
    # stopped the sandbox and the worker, which run in process groups of their own.
    stack.wait_until_serving()
    os.killpg(stack.process.pid, signal.SIGTERM)
    stack.wait_for_output("stopping everything")
    os.killpg(stack.process.pid, signal.SIGKILL)
    assert_nothing_survives_the_supervisor(stack)


@contextlib.contextmanager
def listening_on(port: int):
    """Another program's server on the port."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))
        server.listen()
        yield


def processes_mentioning(*ports: int) -> dict[int, str]:
    """Running processes whose command line names one of the ports (the sandbox's `--port N`,
    the development server's `127.0.0.1:N`)."""
    pattern = re.compile(r"\b(" + "|".join(str(p) for p in ports) + r")\b")
    return {
        pid: cmdline
        for pid, (_, state, _, cmdline) in process_table().items()
        if state != "Z" and pid != os.getpid() and pattern.search(cmdline)
    }


@pytest.mark.parametrize(
    ("taken", "variable", "serves"),
    [("web", "PORT", "web server"), ("sandbox", "SANDBOX_PORT", "Scripe sandbox")],
)
def test_a_port_in_use_is_named_with_how_to_choose_another_before_anything_starts(
    tmp_path, taken, variable, serves
):
    ports = {"web": free_port(), "sandbox": free_port()}
    database = tmp_path / "run.sqlite3"  # not there yet: migrate would create it
    command = [sys.executable, "scripts/run.py", "--port", str(ports["web"])]
    with listening_on(ports[taken]):
        finished = subprocess.run(
            [*command, "--sandbox-port", str(ports["sandbox"])],
            cwd=ROOT,
            env=environment(database),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
    output = finished.stdout + finished.stderr
    assert finished.returncode != 0
    assert "Traceback" not in output
    assert f"port {ports[taken]} ({serves}) is in use" in output
    # The command to run instead, with both ports, the taken one replaced by a free one.
    suggestion = re.search(r"make run PORT=(\d+) SANDBOX_PORT=(\d+)", output)
    assert suggestion, output
    suggested = dict(zip(["web", "sandbox"], map(int, suggestion.groups()), strict=True))
    assert suggested[taken] != ports[taken]
    assert port_is_free(suggested[taken])
    other = "sandbox" if taken == "web" else "web"
    assert suggested[other] == ports[other]
    # Nothing started, so nothing is left running.
    assert "make run: manage.py" not in output
    assert not database.exists()
    assert not processes_mentioning(*ports.values())
