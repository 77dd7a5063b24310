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

    def handle(self, *args, **options):
        settings.SECRET_KEY  # noqa: B018 - as django-q2's command: signing needs it
        if options.get("cluster_name"):
            os.environ["Q_CLUSTER_NAME"] = options["cluster_name"]
        cluster = Cluster()
        cluster.start()
        if options.get("run_once"):
            cluster.stop()
            return
        dispatch_while(lambda: cluster.sentinel is not None and cluster.sentinel.is_alive())


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
