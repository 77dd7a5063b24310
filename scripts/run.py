"""What `make run` runs: the app on this machine, with its worker and the Scripe sandbox.

The one-shot steps run in order (migrate, the cache table, the demo data once the sandbox
answers); then the sandbox, the django-q2 worker and the development server stay up until
Ctrl-C, SIGTERM or SIGHUP, or until one of them exits. Then every one of them stops, and this
returns only when no process it started is left.

It replaces a shell recipe with `trap 'kill 0' EXIT`, which left processes behind: dash runs
no EXIT trap on a signal, and the background jobs of a non-interactive shell ignore SIGINT.

Its processes count what they do in var/prometheus (emptied at each start), which /metrics
sums when METRICS_TOKEN is set.

Before it starts anything, it checks that the web server's port and the sandbox's are free; if
one is not, it says which, and the `make run PORT=… SANDBOX_PORT=…` that would work, and exits.

How each process is stopped:
- The steps and the development server stay in our process group, so Ctrl-C in the terminal
  reaches them as it reaches us (and `breakpoint()` in a view still has the terminal). When
  the stop comes another way (SIGTERM to us alone, or a service that died), they get SIGTERM.
- The sandbox and the worker run in process groups of their own and get SIGINT, to the whole
  group. That is the signal qcluster stops gracefully on: its sentinel and worker processes
  ignore SIGINT and are stopped by the cluster process, whereas SIGTERM to the group kills the
  sentinel outright and leaves the cluster process hanging.
- Whatever is still there after GRACE_SECONDS (or at a second Ctrl-C) gets SIGKILL: the
  process, or the whole group of a service.
- If this process is killed outright (SIGKILL, the OOM killer), nothing above runs. On Linux the
  kernel then sends each process it started the signal that stops it (PR_SET_PDEATHSIG); each
  stops what it started in turn: the autoreloader kills its server child, the cluster process
  its sentinel and workers (after at most --orphan-grace seconds of graceful stop, since the
  workers would first run every task they had already taken). Elsewhere such a kill may leave
  them running.
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRACE_SECONDS = 10.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


class Stop(Exception):
    """Time to stop everything: a signal came, or a process ended that should not have."""

    def __init__(self, reason: str, exit_code: int, advice: str = "") -> None:
        super().__init__(reason)
        self.exit_code = exit_code
        self.advice = advice  # what to do about it, said last


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    one_shot: bool  # a step, expected to end
    own_group: bool  # in a process group of its own, stopped with SIGINT to the group

    @property
    def stop_signal(self) -> int:
        return stop_signal(self.own_group)

    def alive(self) -> bool:
        if self.process.poll() is None:
            return True
        # The leader has gone; a service's group may still hold processes it started.
        return self.own_group and bool(live_members(self.process.pid))

    def signal(self, signum: int) -> None:
        try:
            if self.own_group:
                os.killpg(self.process.pid, signum)
            elif self.process.poll() is None:
                self.process.send_signal(signum)
        except ProcessLookupError:
            pass


def stop_signal(own_group: bool) -> int:
    """The signal that stops a child gracefully (see the module docstring for why)."""
    return signal.SIGINT if own_group else signal.SIGTERM


def live_members(pgid: int) -> list[int]:
    """The processes of a group that still run (zombies do not count: an orphaned zombie may
    never be reaped where PID 1 does not reap, and it does nothing)."""
    try:
        listing = subprocess.run(
            ["ps", "-A", "-o", "pid=,pgid=,stat="],  # noqa: S607 - ps from PATH, like a shell
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except FileNotFoundError:  # no ps: ask the kernel, which counts zombies too
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        return [pgid]
    members = []
    for line in listing.splitlines():
        pid, group, state = line.split(None, 2)
        if int(group) == pgid and not state.startswith("Z"):
            members.append(int(pid))
    return members


@dataclass(frozen=True)
class Port:
    number: int
    host: str
    serves: str  # what listens on it, for people
    variable: str  # the make variable that chooses it


def in_use(port: Port) -> bool:
    """Whether a server cannot listen on the port now because another one does. Binds the way
    the servers do (SO_REUSEADDR), so a port that a stopped server left in TIME_WAIT is free."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            port.host.strip("[]"), port.number, type=socket.SOCK_STREAM
        )[0]
    except socket.gaierror:
        return False  # not our question: the server will say what is wrong with the address
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            return error.errno == errno.EADDRINUSE
    return False


def ports_in_use(ports: list[Port]) -> tuple[str, str] | None:
    """None when every port is free; otherwise what is in use, and advice: the make command
    that would run on free ports instead (each taken one replaced by the next free one above)."""
    taken = [port for port in ports if in_use(port)]
    if not taken:
        return None
    chosen: dict[str, int | str] = {port.variable: port.number for port in ports}
    for port in taken:
        nearby = range(port.number + 1, min(port.number + 100, 65536))
        chosen[port.variable] = next(
            (
                number
                for number in nearby
                if number not in chosen.values() and not in_use(Port(number, port.host, "", ""))
            ),
            "…",  # none free nearby: a machine full of servers
        )
    names = " and ".join(f"{port.number} ({port.serves})" for port in taken)
    settings = " ".join(f"{variable}={number}" for variable, number in chosen.items())
    if len(taken) == 1:
        return f"port {names} is in use", f"Choose another: make run {settings}"
    return f"ports {names} are in use", f"Choose others: make run {settings}"


def dies_with_us(signum: int) -> Callable[[], None] | None:
    """A preexec_fn that has the kernel send the child `signum` when this process dies, however
    it dies; None where there is no PR_SET_PDEATHSIG (not Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: the child only calls it
    supervisor = os.getpid()

    def in_child() -> None:
        prctl(PR_SET_PDEATHSIG, signum)
        if os.getppid() != supervisor:  # we died between the fork and the prctl
            os._exit(1)

    return in_child


class Supervisor:
    def __init__(self, environment: dict[str, str]) -> None:
        self.environment = environment
        self.children: list[Child] = []
        self.signals = 0
        self.last_signal: int | None = None

    def _on_signal(self, signum: int, frame: object) -> None:
        # Only noted here; the loops below act on it.
        self.signals += 1
        self.last_signal = signum

    def _check(self) -> None:
        """Raises Stop when a signal came or a service (not a step) has ended."""
        if self.last_signal is not None:
            raise Stop(f"{signal.Signals(self.last_signal).name} received", 0)
        for child in self.children:
            code = None if child.one_shot else child.process.poll()
            if code is not None:
                raise Stop(f"{child.name} exited (exit code {code})", code or 1)

    def _start(
        self, name: str, argv: list[str], *, one_shot: bool, own_group: bool, port: Port | None
    ) -> Child:
        # Checked before anything started; again here, for a port taken while the steps ran.
        if port and (taken := ports_in_use([port])):
            problem, advice = taken
            raise Stop(problem, 1, advice)
        print(f"make run: {' '.join(argv[1:])}", file=sys.stderr, flush=True)
        process = subprocess.Popen(  # noqa: S603 - our own commands, no shell
            argv,
            cwd=ROOT,
            env=self.environment,
            process_group=0 if own_group else None,
            stdin=subprocess.DEVNULL if own_group else None,
            preexec_fn=dies_with_us(stop_signal(own_group)),
        )
        child = Child(name, process, one_shot, own_group)
        self.children.append(child)
        return child

    def step(self, name: str, argv: list[str]) -> None:
        """Runs a one-shot command to its end; a failure stops everything."""
        child = self._start(name, argv, one_shot=True, own_group=False, port=None)
        while child.process.poll() is None:
            self._check()
            time.sleep(0.1)
        if child.process.returncode != 0:
            raise Stop(f"{name} failed (exit code {child.process.returncode})", 1)
        self._check()

    def service(
        self, name: str, argv: list[str], *, port: Port | None = None, own_group: bool = True
    ) -> None:
        """Starts a process that runs until we stop it (on `port`, checked to be free)."""
        self._start(name, argv, one_shot=False, own_group=own_group, port=port)

    def pause(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._check()
            time.sleep(0.1)

    def watch(self) -> None:
        """Waits for a signal, or for a service to end by itself."""
        while True:
            self._check()
            time.sleep(0.2)

    def stop_all(self) -> None:
        """Stops the newest first (the web server before the worker, the worker before the
        sandbox it may still be talking to), each with a grace period, then SIGKILL."""
        signals_before = self.signals
        for child in reversed(self.children):
            if not child.alive():
                continue
            child.signal(child.stop_signal)
            deadline = time.monotonic() + GRACE_SECONDS
            while child.alive() and time.monotonic() < deadline:
                if self.signals > signals_before:
                    break  # asked twice: no more waiting
                time.sleep(0.1)
            if child.alive():
                print(f"make run: {child.name} did not stop; killing it", file=sys.stderr)
                child.signal(signal.SIGKILL)
                child.process.wait()

    def run(self, host: str, port: int, sandbox_port: int) -> int:
        web_port = Port(port, host, "web server", "PORT")
        # The sandbox listens on 127.0.0.1 whatever HOST says.
        scripe_port = Port(sandbox_port, "127.0.0.1", "Scripe sandbox", "SANDBOX_PORT")
        # Before anything starts: a second `make run` must not stop after its migrations with
        # a traceback from the server that could not listen.
        if taken := ports_in_use([web_port, scripe_port]):
            problem, advice = taken
            print(f"make run: {problem}, perhaps by another make run.\n{advice}", file=sys.stderr)
            return 1
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_signal)
        if folder := self.environment.get("PROMETHEUS_MULTIPROC_DIR"):
            # Counts start from zero with each run: the files of the last one are gone.
            shutil.rmtree(folder, ignore_errors=True)
            Path(folder).mkdir(parents=True, exist_ok=True)
        manage = [sys.executable, "manage.py"]
        exit_code = 0
        advice = ""
        try:
            self.step("migrate", [*manage, "migrate", "--noinput"])
            self.step("createcachetable", [*manage, "createcachetable"])
            sandbox = [sys.executable, "-m", "scripe_integration.sandbox"]
            # The sandbox keeps its posts across restarts, so yesterday's drafts can still be
            # approved today (SANDBOX_STATE_FILE moves it, e.g. for tests).
            state_file = self.environment.get("SANDBOX_STATE_FILE") or str(
                ROOT / "var" / "sandbox-state.json"
            )
            self.service(
                "sandbox",
                [
                    *sandbox,
                    *("--port", str(sandbox_port), "--seed", "1", "--quiet"),
                    *("--state-file", state_file),
                ],
                port=scripe_port,
            )
            self.step("seed_demo", [*manage, "seed_demo", "--wait-for-scripe", "10"])
            # Killed outright, we leave the worker's graceful stop a bounded time (qcluster.py).
            self.service("worker", [*manage, "qcluster", "--orphan-grace", "3"])
            self.pause(1)  # the worker's start-up lines before the banner
            base_url = self.environment["SCRIPE_API_BASE_URL"]
            print(
                f"\n  Scripe Calendar: http://{host}:{port}/   "
                "(logins: editor, manager, admin; password: demo)\n"
                f"  Scripe API:      {base_url}\n",
                flush=True,
            )
            self.service(
                "web server",
                [*manage, "runserver", f"{host}:{port}"],
                port=web_port,
                own_group=False,
            )
            self.watch()
        except Stop as stop:
            print(f"\nmake run: {stop}; stopping everything.", file=sys.stderr, flush=True)
            exit_code = stop.exit_code
            advice = stop.advice
        finally:
            self.stop_all()
        print("make run: stopped.", file=sys.stderr, flush=True)
        if advice:
            print(advice, file=sys.stderr, flush=True)
        return exit_code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1", help="web server address")
    parser.add_argument("--port", type=int, default=8000, help="web server port")
    parser.add_argument("--sandbox-port", type=int, default=8765, help="Scripe sandbox port")
    args = parser.parse_args(argv)
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # The app talks to the sandbox unless told to talk to another Scripe.
    environment.setdefault("SCRIPE_API_BASE_URL", f"http://127.0.0.1:{args.sandbox_port}/v1")
    # The sandbox is a local, plain-http address, which a production server refuses to call;
    # development allows local addresses (also for PUBLIC_BASE_URL=http://127.0.0.1:8000).
    environment.setdefault("SCRIPE_ALLOW_LOCAL_HOSTS", "true")
    # Links in notification email lead to this server, whatever port it runs on.
    environment.setdefault("EMAIL_LINK_BASE_URL", f"http://{args.host}:{args.port}")
    # The server and the worker write their counts here, and /metrics (with METRICS_TOKEN
    # set) sums them: prometheus_client's multiprocess mode.
    environment.setdefault("PROMETHEUS_MULTIPROC_DIR", str(ROOT / "var" / "prometheus"))
    return Supervisor(environment).run(args.host, args.port, args.sandbox_port)


if __name__ == "__main__":
    sys.exit(main())
