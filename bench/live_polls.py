"""What one live poll costs the server: a week page with 100 in-flight cards asks what changed.

    .venv/bin/python bench/live_polls.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cal .venv/bin/python bench/live_polls.py

Runs with DEBUG off, on PostgreSQL when DATABASE_URL names it (in `<name>_bench`, dropped
afterwards), else on SQLite in a temporary directory, like bench/calendar_views.py. Prints the
median server time and the queries of a poll when nothing changed (goal: 5 ms or less, no
rendering), when a few cards changed, and, for comparison, when every in-flight card changed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import calendar_views as shared  # noqa: E402 - after the path it lives on


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cards", type=int, default=100, help="in-flight cards on the page")
    parser.add_argument("--polls", type=int, default=200, help="timed polls per case")
    args = parser.parse_args()

    workdir = shared.configure()
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from calendar_app.core.calendar_grid import week_start
    from calendar_app.models import PlannedSlot
    from calendar_app.planning.live import to_micros

    with shared.bench_database(workdir):
        today = timezone.localdate(timezone=shared.ZONE)
        monday = week_start(today)
        days = [monday + timedelta(days=i) for i in range(7)]
        # Busy: the in-flight cards, and as many settled ones around them.
        shared.STATUSES[:] = ["queued", "generating"]
        user = shared.populate("live", shared.spread(days, args.cards))
        shared.STATUSES[:] = ["draft", "in_review", "scheduled", "published"]
        other = shared.populate("settled", shared.spread(days, args.cards))
        from calendar_app.models import Membership

        Membership.objects.filter(user=other).update(user=user)
        client = Client()
        client.force_login(user)
        window = {"view": "calendar", "from": days[0].isoformat(), "to": days[-1].isoformat()}
        page = client.get(f"/calendar/week/{monday.isoformat()}/").content.decode()
        in_flight = page.count("data-in-flight")
        live = PlannedSlot.objects.filter(workspace__name="live").order_by("pk")
        pks = list(live.values_list("pk", flat=True))

        def poll(since: int):
            return client.get("/slots/live/", {"since": since, **window})

        def case(name: str, changed: int) -> None:
            timings, sizes = [], []
            for i in range(args.polls + 3):
                since = to_micros(timezone.now())
                if changed:
                    chosen = [pks[(i * changed + k) % len(pks)] for k in range(changed)]
                    PlannedSlot.objects.filter(pk__in=chosen).update(
                        updated_at=timezone.now() + timedelta(microseconds=1)
                    )
                began = time.perf_counter()
                response = poll(since)
                elapsed = (time.perf_counter() - began) * 1000
                if i >= 3:  # the first few warm the caches
                    timings.append(elapsed)
                    sizes.append(len(response.content))
                expected = 204 if not changed else 200
                assert response.status_code == expected, (name, response.status_code)
            with CaptureQueriesContext(connection) as queries:
                poll(to_micros(timezone.now()))
            print(
                f"  {name:26} median {statistics.median(timings):6.2f} ms  "
                f"p90 {sorted(timings)[int(len(timings) * 0.9)]:6.2f} ms  "
                f"{len(queries) if not changed else '-':>2} queries  "
                f"{statistics.median(sizes):7.0f} bytes"
            )

        print(
            f"{connection.vendor}, DEBUG={settings.DEBUG}: a week page showing "
            f"{in_flight} in-flight cards ({args.cards} in flight and {args.cards} settled "
            f"in the window), {args.polls} polls per case"
        )
        case("nothing changed", 0)
        case("3 cards changed", 3)
        case(f"all {args.cards} in flight changed", args.cards)


if __name__ == "__main__":
    main()
