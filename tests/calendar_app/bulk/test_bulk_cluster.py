"""A 200-slot bulk action run by a real django-q2 cluster (a separate `qcluster` process on
the test database, as in production): the request returns at once with the run's progress,
the cluster does every slot, and the run's page follows it to the end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app.models import BulkItem, BulkRun, PlannedSlot
from tests.support import wait_for

# Real django-q2 clusters: one such test at a time, on one worker of a parallel run.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("processes")]


def test_a_cluster_moves_200_slots_and_the_page_shows_the_progress(client, team, clusters):
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    slots = [team.slot(start + timedelta(hours=n)) for n in range(200)]
    PlannedSlot.objects.filter(pk=slots[7].pk).update(status="in_review")  # one is refused
    client.force_login(team.editor)
    data = {"action": "move", "days": "1", "slot": [str(s.public_id) for s in slots]}
    response = client.post("/bulk/", data, HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 2s"' in response.content.decode()
    run = BulkRun.objects.get()
    clusters()
    wait_for(
        lambda: BulkRun.objects.filter(pk=run.pk, finished_at__isnull=False).exists(),
        90,
        "the cluster to finish the run",
    )
    items = BulkItem.objects.filter(run=run)
    assert items.filter(outcome="done").count() == 199
    assert items.get(slot=slots[7]).message == "The draft is waiting for review."
    page = client.get(f"/bulk/{run.public_id}/?poll=1", HTTP_HX_REQUEST="true")
    assert "Finished: 199 done · 1 refused." in page.content.decode()
    moved = PlannedSlot.objects.exclude(pk=slots[7].pk).order_by("scheduled_for")
    assert [s.scheduled_for for s in moved] == [
        s.scheduled_for + timedelta(days=1) for s in slots if s.pk != slots[7].pk
    ]
