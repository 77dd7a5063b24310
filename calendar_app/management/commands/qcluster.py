"""`manage.py qcluster`: django-q2's cluster, plus the generation dispatcher in its main
process (which otherwise only waits for the cluster to stop).

The dispatcher hands generation steps to the cluster when they are due, so no worker sleeps
while Scripe writes. Every cluster runs one; they share the work through conditional UPDATEs,
and if a cluster dies the others pick up its attempts once their leases lapse. This command
overrides django-q2's own (calendar_app comes before django_q in INSTALLED_APPS), the way
staticfiles overrides runserver, so the documented way to start a worker starts both.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

from django.conf import settings
from django.db import close_old_connections
from django_q.cluster import Cluster
from django_q.management.commands.qcluster import Command as ClusterCommand

from calendar_app.pipeline.dispatch import generations_dispatch, seconds_until_due

logger = logging.getLogger(__name__)

# The dispatcher looks again after at most this long, and never more often than MIN_SLEEP.
MAX_SLEEP = 2.0
MIN_SLEEP = 0.25


class Command(ClusterCommand):
    help = "Starts a django-q2 cluster and the dispatcher that hands it due generation steps."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--orphan-grace",
            type=float,
            default=None,
            metavar="SECONDS",
            help="If the process that started this one dies, stop gracefully for at most this "
            "long, then kill the cluster's process group (`make run` sets it).",
        )

    def handle(self, *args, **options):
        settings.SECRET_KEY  # noqa: B018 - as django-q2's command: signing needs it
        if options.get("cluster_name"):
            os.environ["Q_CLUSTER_NAME"] = options["cluster_name"]
        if options.get("orphan_grace") is not None:
            stop_hard_when_orphaned(options["orphan_grace"])
        cluster = Cluster()
        cluster.start()
        if options.get("run_once"):
            cluster.stop()
            return
        dispatch_while(lambda: cluster.sentinel is not None and cluster.sentinel.is_alive())


def stop_hard_when_orphaned(grace: float) -> None:
    """Once our parent is gone, give the graceful stop `grace` seconds, then SIGKILL our
    process group (the sentinel and workers with us).

    The graceful stop (the parent-death signal `make run` asks the kernel for) runs every task
    the workers have already taken off the broker before they read their poison pill, which can
    take minutes; with nobody left to wait for us, that would leave a worker running after the
    supervisor was killed. Tasks survive a kill by design (leases lapse, retries are
    idempotent). Only a group leader does this: killing a group we merely belong to would take
    others with us."""
    if os.getpgid(0) != os.getpid():
        return
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        time.sleep(grace)
        os.killpg(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


def dispatch_while(alive) -> None:
    """Dispatches until the cluster stops. It must outlive any failure (the database or the
    broker away for a while): nothing restarts it while the cluster's workers run on."""
    failures = 0
    while alive():
        close_old_connections()
        try:
            generations_dispatch()
            due = seconds_until_due()
            failures = 0
        except Exception:
            failures += 1
            logger.exception("the generation dispatcher failed; trying again")
            due = min(30.0, MAX_SLEEP * 2**failures)
            time.sleep(due)
            continue
        time.sleep(min(MAX_SLEEP, max(MIN_SLEEP, MAX_SLEEP if due is None else due)))
