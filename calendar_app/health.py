"""What /healthz checks: the database answers, and a django-q2 cluster has reported lately."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import DatabaseError, connection
from django_q.status import Stat


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


def run_checks() -> dict[str, Check]:
    return {"database": check_database(), "worker": check_worker()}
