"""Signed-in users with think time against gunicorn on PostgreSQL, DEBUG off, on loopback.

    .venv/bin/python bench/load.py --seconds 60

Phase 1 (--seconds): --users people, each signed in with a session of their own, load a page
every 5-10 s (the mix is printed) and, while cards on it are in flight, make the live poll the
page makes every 2 s. A writer thread plays the django-q2 worker: it keeps --in-flight slots
queued or generating, moves their progress every second and finishes them into review after
8-20 s, sending the next draft, so cards really change under the users' eyes.
Phase 2: the same mix of requests, closed loop without think time, at rising concurrency;
the plateau is the most the server sustains.

It prints requests, errors (any answer but the 200 a page gives or the 200/286 a poll gives),
p50/p95/p99 per kind of request and overall, and CPU use (machine, gunicorn, this client).

Setup: a PostgreSQL database of its own (--database-url; created if missing; users, projects
and the Scripe connection are reused, the month's slots are laid out afresh each run),
collectstatic (DEBUG off serves hashed files), gunicorn with the repository's
gunicorn.conf.py on 127.0.0.1:--port. Nothing here needs Scripe: pages only read the
database, and the writer stands in for the worker. Everything started is stopped on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import re
import resource
import secrets
import shlex
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from load_data import (
    BENCH_FERNET_KEY,
    PASSWORD,
    Writer,
    prepare,
)
from load_live import (
    LIVE_HEADERS,
    LIVE_STATUS,
    LivePage,
    live_poll,
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


# What a person opens, by weight. Only managers have a review queue: for editors its share is
# spread over the other pages.
MIX = {"month": 35, "week": 20, "list": 15, "slot": 15, "review": 15}
THINK = (5.0, 10.0)
PAGE_STATUS = {200}
STEPS = [1, 2, 4, 8, 16, 32]


# The live poll: bench/load_live.py.


# Statistics --------------------------------------------------------------------------------


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    errors: Counter = field(default_factory=Counter)

    def add(self, kind: str, status: int | str, ms: float, ok: bool) -> None:
        self.latencies[kind].append(ms)
        self.statuses[kind][status] += 1
        if not ok:
            self.errors[(kind, status)] += 1

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def all(self) -> list[float]:
        return [ms for values in self.latencies.values() for ms in values]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def report(stats: Stats, seconds: float) -> None:
    print(f"  {'kind':8} {'requests':>8} {'req/s':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    rows = [*sorted(stats.latencies.items()), ("overall", stats.all())]
    for kind, values in rows:
        print(
            f"  {kind:8} {len(values):8} {len(values) / seconds:6.1f} {percentile(values, 50):7.1f}"
            f" {percentile(values, 95):7.1f} {percentile(values, 99):7.1f}"
        )
    live = stats.statuses.get("live", Counter())
    if live:
        print(f"  live answers: {dict(sorted(live.items(), key=str))}")
    errors = sum(stats.errors.values())
    detail = ", ".join(f"{k} {s}: {n}" for (k, s), n in sorted(stats.errors.items(), key=str))
    print(f"  errors: {errors}" + (f" ({detail})" if detail else ""))


class Cpu:
    """CPU seconds used by the whole machine, gunicorn (master and workers), PostgreSQL (the
    whole server: other databases too) and this client. The rest is other work on the machine."""

    def __init__(self, gunicorn_pid: int) -> None:
        self.pid = gunicorn_pid
        self.tick = os.sysconf("SC_CLK_TCK")
        self.start = self.sample()

    def _proc(self, pid: int) -> tuple[str, int, float, float]:
        text = Path(f"/proc/{pid}/stat").read_text()
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        own = (int(fields[11]) + int(fields[12])) / self.tick
        children = (int(fields[13]) + int(fields[14])) / self.tick  # reaped ones
        return name, int(fields[1]), own, children

    def sample(self) -> tuple[float, ...]:
        parts = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        busy = (sum(parts) - parts[3] - parts[4]) / self.tick
        server = postgres = 0.0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                name, ppid, own, children = self._proc(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
            if int(entry.name) == self.pid:
                server += own + children
            elif ppid == self.pid:
                server += own
            elif name == "postgres":
                postgres += own + (children if ppid == 1 else 0)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return time.monotonic(), busy, server, postgres, usage.ru_utime + usage.ru_stime

    def line(self, requests: int) -> str:
        """Cores used by each part, and the server's CPU per request (gunicorn + PostgreSQL),
        which other work on the machine does not inflate as much as it does latency."""
        now = self.sample()
        wall, busy, server, postgres, own = (b - a for a, b in zip(self.start, now, strict=True))
        other = max(0.0, busy - server - postgres - own)
        per_request = (server + postgres) * 1000 / max(1, requests)
        return (
            f"CPU (cores): machine {busy / wall:.2f} of {os.cpu_count()}, gunicorn "
            f"{server / wall:.2f}, postgres {postgres / wall:.2f}, this client {own / wall:.2f}, "
            f"other work {other / wall:.2f}; server CPU {per_request:.1f} ms/request"
        )


# Data ----------------------------------------------------------------------------------------


def django_setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if found.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


# The server ------------------------------------------------------------------------------------


def server_env(database_url: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SCRIPE_KEY_ENCRYPTION_KEYS": BENCH_FERNET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SCRIPE_ALLOW_LOCAL_HOSTS": "true",  # its Scripe is a local sandbox address
        "LOG_LEVEL": "WARNING",
        "Q_LOG_LEVEL": "WARNING",
    }


def start_gunicorn(env: dict[str, str], port: int, extra: list[str], log: Path):
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
    )
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [
        str(gunicorn),
        "--config",
        str(ROOT / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        *extra,
        "config.wsgi:application",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn exited ({process.returncode}); see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.terminate()
    sys.exit(f"gunicorn did not answer on port {port} within 30 s; see {log}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# The users --------------------------------------------------------------------------------------


def set_cookies(response: httpx.Response, jar: dict[str, str]) -> None:
    # By hand: with DEBUG off the cookies are Secure, and a cookie jar keeps them off http://.
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]


@dataclass
class User:
    name: str
    role: str
    client: httpx.AsyncClient
    cookies: dict[str, str] = field(default_factory=dict)
    last_slots: list[str] = field(default_factory=list)
    live_page: LivePage | None = None  # the last page opened that polls

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {"Cookie": cookie, **(extra or {})}


async def log_in(user: User) -> None:
    page = await user.client.get("/accounts/login/")
    set_cookies(page, user.cookies)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = await user.client.post(
        "/accounts/login/",
        data={"login": user.name, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers=user.headers(),
    )
    set_cookies(answer, user.cookies)
    if answer.status_code != 302 or "sessionid" not in user.cookies:
        raise SystemExit(f"log-in of {user.name} failed: {answer.status_code}")


def mix_for(role: str) -> dict[str, float]:
    weights = {k: v for k, v in MIX.items() if k != "review" or role != "editor"}
    total = sum(weights.values())
    return {k: v / total for k, v in weights.items()}


def page_url(kind: str, user: User, data: dict, rng: random.Random) -> str:
    month, all_slots = data["month"], data["slots"]
    if kind == "month":
        return f"/calendar/{month.year}/{month.month}/"
    if kind == "week":
        day = month + timedelta(days=rng.randrange(28))
        return f"/calendar/week/{day.isoformat()}/"
    if kind == "list":
        choice = rng.random()
        if choice < 0.5:
            return f"/slots/?page={rng.randint(1, max(1, len(all_slots) // 25))}"
        if choice < 0.75:
            return "/slots/?status=draft"
        return f"/slots/?date_from={date.today().isoformat()}"
    if kind == "slot":
        # A card clicked on the page the user was looking at.
        return f"/slots/{rng.choice(user.last_slots or all_slots)}/"
    return "/review/"


async def timed(stats: Stats, kind: str, user: User, url: str, params=None, headers=None):
    began = time.perf_counter()
    try:
        response = await user.client.get(url, params=params, headers=user.headers(headers))
    except httpx.HTTPError as error:
        stats.add(kind, type(error).__name__, (time.perf_counter() - began) * 1000, ok=False)
        return None
    ms = (time.perf_counter() - began) * 1000
    expected = LIVE_STATUS if kind == "live" else PAGE_STATUS
    stats.add(kind, response.status_code, ms, ok=response.status_code in expected)
    set_cookies(response, user.cookies)
    return response


SLOT_ID = re.compile(r'data-slot="([0-9a-f-]{36})"')


async def open_page(stats: Stats, user: User, kind: str, url: str) -> LivePage | None:
    response = await timed(stats, kind, user, url)
    if response is None or response.status_code != 200:
        return None
    ids = SLOT_ID.findall(response.text)
    if ids:
        user.last_slots = ids
    page = LivePage.parse(url, response.text)
    if live_poll(page) is not None:
        user.live_page = page
    return page


async def poll_once(stats: Stats, user: User, page: LivePage) -> None:
    """One live poll, and the region's refresh when the answer makes it stale."""
    poll = live_poll(page)
    response = await timed(stats, "live", user, poll.path, poll.params, LIVE_HEADERS)
    if response is None or response.status_code not in LIVE_STATUS or not page.absorb(response):
        return
    # htmx's hx-get on the region: the page's fragment, swapped in place.
    headers = {"HX-Request": "true", "HX-Current-URL": page.url}
    response = await timed(stats, "refresh", user, page.refresh_url, None, headers)
    if response is not None and response.status_code == 200:
        page.refreshed(response.text)


async def person(user, stats, deadline, data, rng: random.Random) -> None:
    """Open a page, make its live polls while reading it, open the next 5-10 s later."""
    mix = mix_for(user.role)
    loop = asyncio.get_running_loop()
    await asyncio.sleep(rng.uniform(0, THINK[1]))  # people do not all arrive at once
    while loop.time() < deadline:
        kind = rng.choices(list(mix), list(mix.values()))[0]
        page = await open_page(stats, user, kind, page_url(kind, user, data, rng))
        loaded = loop.time()
        leave = min(loaded + rng.uniform(*THINK), deadline)
        last = loaded
        while page is not None and (poll := live_poll(page)) is not None:
            # live.js checks every 500 ms whether a poll is due (LIVE_MS or HEARTBEAT_MS).
            due = loaded + 0.5 * math.ceil((last + poll.every - 0.1 - loaded) / 0.5)
            if due >= leave:
                break
            await asyncio.sleep(due - loop.time())
            last = loop.time()
            await poll_once(stats, user, page)
        await asyncio.sleep(max(0.0, leave - loop.time()))


async def closed_loop(users, managers, stats, seconds, shares, data, rng) -> None:
    """Each of `users` sends its next request as soon as the last one is answered, in the
    shares phase 1 measured: a page (an editor's share of the review queue goes with a
    manager's session), or the live poll of the last page it opened that polls."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    kinds = [k for k in shares if k != "refresh"]  # refreshes follow from the polls
    weights = [shares[k] for k in kinds]

    async def one(user: User) -> None:
        while loop.time() < deadline:
            kind = rng.choices(kinds, weights)[0]
            if kind == "live":
                if user.live_page is None:
                    kind = "month"
                else:
                    await poll_once(stats, user, user.live_page)
                    continue
            if kind == "review" and user.role == "editor":
                await open_page(stats, rng.choice(managers), kind, "/review/")
            else:
                await open_page(stats, user, kind, page_url(kind, user, data, rng))

    await asyncio.gather(*(one(u) for u in users))


async def run(args, data, gunicorn: subprocess.Popen) -> None:
    base = f"http://127.0.0.1:{args.port}"
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    users = [
        User(name, role, httpx.AsyncClient(base_url=base, timeout=30, limits=limits))
        for name, role in data["users"]
    ]
    rng = random.Random(args.seed)
    try:
        began = time.monotonic()
        sem = asyncio.Semaphore(4)

        async def guarded(user: User) -> None:
            async with sem:
                await log_in(user)

        await asyncio.gather(*(guarded(u) for u in users))
        print(f"{len(users)} users signed in, one session each ({time.monotonic() - began:.1f} s)")

        warm = Stats()
        for user in users[:: max(1, len(users) // 10)]:
            for kind in MIX:
                if kind != "review" or user.role != "editor":
                    await open_page(warm, user, kind, page_url(kind, user, data, rng))

        shares = Counter()
        for user in users:
            for kind, share in mix_for(user.role).items():
                shares[kind] += share / len(users)
        print(
            f"\nPhase 1: {len(users)} users for {args.seconds:.0f} s, a page every "
            f"{THINK[0]:.0f}-{THINK[1]:.0f} s after the last one loaded, the live poll every 2 s "
            f"while the page has cards in flight; {args.in_flight} slots in flight at any time."
        )
        print(
            "  page mix: "
            + ", ".join(f"{k} {v:.0%}" for k, v in shares.items())
            + f" (editors: {', '.join(f'{k} {v:.0%}' for k, v in mix_for('editor').items())})"
        )
        writer = Writer(args.in_flight)
        writer.start()
        await asyncio.sleep(1.5)
        stats = Stats()
        cpu = Cpu(gunicorn.pid)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + args.seconds
        started = loop.time()
        await asyncio.gather(
            *(person(u, stats, deadline, data, random.Random(rng.random())) for u in users)
        )
        elapsed = loop.time() - started
        line = cpu.line(stats.requests)
        writer.stopping.set()
        print(f"  {stats.requests} requests in {elapsed:.1f} s; {writer.finished} posts written")
        report(stats, elapsed)
        print(f"  {line}")
        overall95 = percentile(stats.all(), 95)
        errors = sum(stats.errors.values())
        verdict = "met" if errors == 0 and overall95 <= 150 else "NOT met"
        print(f"  goal (0 errors, p95 <= 150 ms): {verdict}")
        writer.join(timeout=5)

        if args.step_seconds <= 0:
            return
        counts = {k: len(v) for k, v in stats.latencies.items()}
        total = sum(counts.values()) or 1
        mix = {k: n / total for k, n in counts.items()}
        print(
            "\nPhase 2: the same mix by request ("
            + ", ".join(f"{k} {v:.0%}" for k, v in mix.items())
            + f"), closed loop, no think time, {args.step_seconds:.0f} s per step"
        )
        print(
            f"  {'users':>5} {'req/s':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6}"
        )
        writer = Writer(args.in_flight)
        writer.start()
        best = (0.0, 0, float("nan"))
        steps = [n for n in STEPS if n <= len(users)]
        managers = [u for u in users if u.role != "editor"]
        under_goal = 0.0
        for n in steps:
            step = Stats()
            cpu = Cpu(gunicorn.pid)
            began = loop.time()
            await closed_loop(users[:n], managers, step, args.step_seconds, mix, data, rng)
            took = loop.time() - began
            values = step.all()
            rate = len(values) / took
            p95 = percentile(values, 95)
            errors = sum(step.errors.values())
            print(
                f"  {n:5} {rate:6.1f} {percentile(values, 50):7.1f} {p95:7.1f} "
                f"{percentile(values, 99):7.1f} {errors:6}  {cpu.line(len(values))}"
            )
            if errors == 0 and rate > best[0]:
                best = (rate, n, p95)
            if errors == 0 and p95 <= 150:
                under_goal = max(under_goal, rate)
        writer.stopping.set()
        writer.join(timeout=5)
        print(
            f"  plateau: {best[0]:.1f} requests/s (at {best[1]} concurrent, p95 {best[2]:.0f} ms);"
            f" with p95 <= 150 ms: {under_goal:.1f} requests/s"
        )
    finally:
        await asyncio.gather(*(u.client.aclose() for u in users))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60, help="phase 1 length (60)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--slots", type=int, default=300, help="posts in this month (300)")
    parser.add_argument("--in-flight", type=int, default=20, help="slots being written (20)")
    parser.add_argument(
        "--step-seconds", type=float, default=8, help="each phase 2 step (8; 0 skips phase 2)"
    )
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/calload")
    parser.add_argument(
        "--gunicorn-args",
        default="",
        help='more gunicorn options, e.g. "--workers 5 --worker-class sync"',
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url must be a PostgreSQL URL")

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", args.port)) == 0:
            parser.error(f"something already listens on 127.0.0.1:{args.port}; pick another --port")
    env = server_env(args.database_url)
    ensure_database(args.database_url)
    django_setup(env)
    data = prepare(args.users, args.slots)
    log = ROOT / "var" / "load-gunicorn.log"
    log.parent.mkdir(exist_ok=True)
    gunicorn = start_gunicorn(env, args.port, shlex.split(args.gunicorn_args), log)
    try:
        print(
            f"gunicorn on 127.0.0.1:{args.port} (gunicorn.conf.py {args.gunicorn_args}); "
            f"log in {log.relative_to(ROOT)}"
        )
        asyncio.run(run(args, data, gunicorn))
    finally:
        stop(gunicorn)


if __name__ == "__main__":
    main()
