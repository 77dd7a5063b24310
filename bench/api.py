"""50 REST API clients against gunicorn on PostgreSQL, beside 50 signed-in people on the HTML
pages, in one run:

    .venv/bin/python bench/api.py --seconds 20

Phase 1, the API: --clients clients, each with a personal access token of its own (read and
plan) of an editor of the load bench's workspace, in a closed loop without think time: four
lists of posts (`GET /api/v1/posts/?limit=50`, a page of 50, every other one following the
first page's `nextCursor`) for each post planned (`POST /api/v1/posts/`, with an
Idempotency-Key, at a free quarter hour months ahead). Phase 2, the pages: as many signed-in
people, in the same closed loop, opening the All posts list (`/slots/`) and the month.

It prints requests, requests/s and p50/p95/p99 per kind and overall for each phase, errors
(any answer but the 200 a list or page gives and the 201 a plan gives), and where the CPU
went. The rate limit is lifted for the run (API_RATE_LIMIT): it measures the server, not the
limit. The database, data and server are bench/load.py's (`calload`, 300 posts this month,
gunicorn with gunicorn.conf.py, DEBUG off); the posts planned here go with the next run's
fresh layout.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shlex
import socket
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from load import (
    Cpu,
    Stats,
    User,
    django_setup,
    ensure_database,
    log_in,
    percentile,
    report,
    server_env,
    start_gunicorn,
    stop,
)
from load_data import WORKSPACE, ZONE, prepare

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LISTS_PER_PLAN = 4
PAGE = 50
OK = {"list": {200}, "plan": {201}, "list page": {200}, "month": {200}}


def tokens_for(users: list[tuple[str, str]], count: int) -> tuple[list[str], str]:
    """A token (read, plan) for each of `count` clients, from the bench's editors in turn,
    and the Scripe id of a project to plan for."""
    from django.contrib.auth import get_user_model

    from calendar_app.access import viewer_of
    from calendar_app.accounts.tokens import token_create
    from calendar_app.models import ApiToken, Project, Workspace

    workspace = Workspace.objects.get(name=WORKSPACE)
    ApiToken.objects.filter(workspace=workspace, name="API bench").delete()
    editors = [name for name, role in users if role == "editor"]
    secrets = []
    for index in range(count):
        user = get_user_model().objects.get(username=editors[index % len(editors)])
        made = token_create(
            viewer=viewer_of(user),
            workspace=workspace,
            name="API bench",
            scopes=["read", "plan"],
            expires_in_days=7,
        )
        secrets.append(made.secret)
    project = Project.objects.filter(workspace=workspace).order_by("scripe_id").first()
    return secrets, project.scripe_id


def new_post(project_id: str, rng: random.Random, now: datetime | None = None) -> dict:
    """A post to plan: a quarter hour 2-12 months ahead (local), so plans never collide with
    the month the pages show, nor with the planning rules' lead time."""
    now = now or datetime.now(ZONE)
    day = now.date() + timedelta(days=rng.randint(60, 360))
    minutes = rng.randrange(8 * 4, 18 * 4) * 15
    when = datetime(day.year, day.month, day.day, tzinfo=ZONE) + timedelta(minutes=minutes)
    return {
        "projectId": project_id,
        "noteText": f"API bench: an idea planned by a script ({rng.randrange(10**6)}).",
        "language": "en",
        "scheduledFor": when.isoformat(),
    }


async def api_client(
    client: httpx.AsyncClient, secret: str, project_id: str, stats: Stats, deadline: float, rng
) -> None:
    """Lists and plans in a closed loop until `deadline` (the loop's clock)."""
    loop = asyncio.get_running_loop()
    headers = {"Authorization": f"Bearer {secret}"}
    cursor = None
    turn = 0
    while loop.time() < deadline:
        turn += 1
        began = time.perf_counter()
        try:
            if turn % (LISTS_PER_PLAN + 1) == 0:
                kind = "plan"
                response = await client.post(
                    "/api/v1/posts/",
                    json=new_post(project_id, rng),
                    headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                )
            else:
                kind = "list"
                params = {"limit": PAGE, **({"cursor": cursor} if cursor else {})}
                response = await client.get("/api/v1/posts/", params=params, headers=headers)
                if response.status_code == 200:
                    # Every other list follows the first page, as a client paging through.
                    following = response.json().get("nextCursor")
                    cursor = following if cursor is None else None
        except httpx.HTTPError as error:
            stats.add(kind, type(error).__name__, (time.perf_counter() - began) * 1000, ok=False)
            continue
        ms = (time.perf_counter() - began) * 1000
        stats.add(kind, response.status_code, ms, ok=response.status_code in OK[kind])


async def page_client(user: User, month: str, stats: Stats, deadline: float, rng) -> None:
    loop = asyncio.get_running_loop()
    while loop.time() < deadline:
        kind, url = rng.choice([("list page", "/slots/"), ("month", month)])
        began = time.perf_counter()
        try:
            response = await user.client.get(url, headers=user.headers())
        except httpx.HTTPError as error:
            stats.add(kind, type(error).__name__, (time.perf_counter() - began) * 1000, ok=False)
            continue
        ms = (time.perf_counter() - began) * 1000
        stats.add(kind, response.status_code, ms, ok=response.status_code in OK[kind])


def summary(name: str, stats: Stats, seconds: float) -> str:
    values = stats.all()
    errors = sum(stats.errors.values())
    return (
        f"  {name:6} {len(values) / seconds:6.1f} req/s, p50 {percentile(values, 50):.0f} ms, "
        f"p95 {percentile(values, 95):.0f} ms, p99 {percentile(values, 99):.0f} ms, "
        f"{errors} errors"
    )


async def run(args, data, secrets: list[str], project_id: str, gunicorn) -> None:
    base = f"http://127.0.0.1:{args.port}"
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    rng = random.Random(args.seed)
    loop = asyncio.get_running_loop()
    clients = [httpx.AsyncClient(base_url=base, timeout=30, limits=limits) for _ in secrets]
    people = [
        User(name, role, httpx.AsyncClient(base_url=base, timeout=30, limits=limits))
        for name, role in data["users"][: args.clients]
    ]
    try:
        for client, secret in zip(clients[:5], secrets, strict=False):  # warm every worker
            await client.get("/api/v1/posts/", headers={"Authorization": f"Bearer {secret}"})
        print(
            f"\nPhase 1, the API: {len(clients)} clients for {args.seconds:.0f} s, closed loop, "
            f"{LISTS_PER_PLAN} lists of {PAGE} posts for each post planned"
        )
        api = Stats()
        cpu = Cpu(gunicorn.pid)
        began = loop.time()
        deadline = began + args.seconds
        await asyncio.gather(
            *(
                api_client(c, s, project_id, api, deadline, random.Random(rng.random()))
                for c, s in zip(clients, secrets, strict=True)
            )
        )
        api_seconds = loop.time() - began
        report(api, api_seconds)
        print(f"  {cpu.line(api.requests)}")

        sem = asyncio.Semaphore(4)

        async def signed_in(user: User) -> None:
            async with sem:
                await log_in(user)

        await asyncio.gather(*(signed_in(p) for p in people))
        month = f"/calendar/{data['month'].year}/{data['month'].month}/"
        print(
            f"\nPhase 2, the pages: {len(people)} signed-in people for {args.seconds:.0f} s, "
            "closed loop, the All posts list and the month, half each"
        )
        pages = Stats()
        cpu = Cpu(gunicorn.pid)
        began = loop.time()
        deadline = began + args.seconds
        await asyncio.gather(
            *(page_client(p, month, pages, deadline, random.Random(rng.random())) for p in people)
        )
        page_seconds = loop.time() - began
        report(pages, page_seconds)
        print(f"  {cpu.line(pages.requests)}")
        print("\nSide by side (same server, same data, same concurrency):")
        print(summary("API", api, api_seconds))
        print(summary("pages", pages, page_seconds))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients), *(p.client.aclose() for p in people))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20, help="each phase (20)")
    parser.add_argument("--clients", type=int, default=50, help="API clients, and people (50)")
    parser.add_argument("--slots", type=int, default=300, help="posts in this month (300)")
    parser.add_argument("--port", type=int, default=8201)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/calload")
    parser.add_argument("--gunicorn-args", default="", help="more gunicorn options")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url must be a PostgreSQL URL")
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", args.port)) == 0:
            parser.error(f"something already listens on 127.0.0.1:{args.port}; pick another --port")
    env = {**server_env(args.database_url), "API_RATE_LIMIT": "1000000"}
    ensure_database(args.database_url)
    django_setup(env)
    data = prepare(max(args.clients, 10), args.slots)
    from django.core.management import call_command

    call_command("createcachetable", verbosity=0)  # the rate limit's counts, without Redis
    secrets, project_id = tokens_for(data["users"], args.clients)
    log = ROOT / "var" / "api-gunicorn.log"
    log.parent.mkdir(exist_ok=True)
    gunicorn = start_gunicorn(env, args.port, shlex.split(args.gunicorn_args), log)
    try:
        print(f"gunicorn on 127.0.0.1:{args.port}; log in {log.relative_to(ROOT)}")
        asyncio.run(run(args, data, secrets, project_id, gunicorn))
    finally:
        stop(gunicorn)


if __name__ == "__main__":
    main()
