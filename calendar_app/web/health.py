"""What /healthz checks: the database answers, and a django-q2 cluster has reported lately.

It also lists the workspaces whose Scripe has not answered lately, for information only: a
Scripe outage is not this app being down (generations wait and retry), so that entry is
always `ok` and never makes /healthz fail; `reachable` says whether every Scripe answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import DatabaseError, connection
from django_q.status import Stat

from scripe_integration.models import ScripeConnection


@dataclass
class Check:
    ok: bool
    detail: dict = field(default_factory=dict)


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return Check(ok=False, detail={"error": exc.__class__.__name__})
    return Check(ok=True, detail={"vendor": connection.vendor})


def check_worker() -> Check:
    """A cluster re-saves its stats every guard cycle with a 3-second expiry, so any stat
    still present means a cluster that was alive a few seconds ago."""
    try:
        clusters = Stat.get_all()
    except Exception as exc:  # any broker or cache fault means we cannot vouch for the worker
        return Check(ok=False, detail={"error": exc.__class__.__name__})
    if not clusters:
        return Check(ok=False, detail={"error": "no django-q2 cluster has reported recently"})
    return Check(
        ok=True,
        detail={"clusters": len(clusters), "workers": sum(len(s.workers) for s in clusters)},
    )


def check_scripe(*, named: frozenset[int] | None = frozenset()) -> Check:
    """Informational: which workspaces' Scripe has not answered, and since when. Always ok.
    /healthz is public, so a workspace's name and address are given only for the workspaces
    in `named` (None: all of them, for a superuser)."""
    try:
        down = list(
            ScripeConnection.objects.filter(unreachable_since__isnull=False)
            .select_related("workspace")
            .order_by("unreachable_since")
        )
    except DatabaseError as exc:  # the database check reports it; nothing to add here
        return Check(ok=True, detail={"reachable": None, "error": exc.__class__.__name__})
    unreachable = [
        {
            **(
                {"workspace": scripe.workspace.name, "base_url": scripe.base_url}
                if named is None or scripe.workspace_id in named
                else {}
            ),
            "since": scripe.unreachable_since.isoformat(),
        }
        for scripe in down
    ]
    return Check(ok=True, detail={"reachable": not unreachable, "unreachable": unreachable})


def run_checks(*, named: frozenset[int] | None = frozenset()) -> dict[str, Check]:
    database = check_database()
    # Without a database there is nothing to read (and no second connect timeout to wait for).
    scripe = (
        check_scripe(named=named) if database.ok else Check(ok=True, detail={"reachable": None})
    )
    return {"database": database, "worker": check_worker(), "scripe": scripe}
