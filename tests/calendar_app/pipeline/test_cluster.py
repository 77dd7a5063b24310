"""The pipeline run by real django-q2 clusters (separate `qcluster` processes) against the
sandbox: duplicates and dead workers must never cost a second Scripe job."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app.models import GenerationJob, PlannedSlot
from tests.support import wait_for

# Real django-q2 clusters: one such test at a time, on one worker of a parallel run.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("processes")]


@pytest.fixture
def wired(team, sandbox_factory):
    sandbox = sandbox_factory(generation_seconds=(2, 3), queue_seconds=0.2)
    sandbox.wire(team.workspace)
    return sandbox


def statuses(slots) -> list[str]:
    return [PlannedSlot.objects.get(pk=s.pk).status for s in slots]


def test_a_cluster_writes_every_post_once_despite_double_clicks(client, team, wired, clusters):
    slots = [team.slot(timezone.now() + timedelta(days=2, hours=i)) for i in range(3)]
    clusters()
    client.force_login(team.editor)
    for slot in slots:
        for _ in range(2):  # every Generate is clicked twice
            response = client.post(
                f"/slots/{slot.public_id}/generate/", headers={"HX-Request": "true"}
            )
            assert response.status_code == 204
    wait_for(lambda: statuses(slots) == ["in_review"] * 3, 60, "three drafts")
    stats = wired.stats()
    assert stats["jobsCreated"] == 3
    assert stats["requests"]["POST /v1/posts/generations"] == 3


def test_a_killed_cluster_leaves_no_slot_behind_and_no_second_job(client, team, wired, clusters):
    slot = team.slot(timezone.now() + timedelta(days=2))
    first = clusters(GENERATION_LEASE_SECONDS="4")
    client.force_login(team.editor)
    client.post(f"/slots/{slot.public_id}/generate/", headers={"HX-Request": "true"})
    wait_for(lambda: wired.stats()["jobsCreated"] == 1, 30, "the job to reach Scripe")
    first.kill()
    killed = time.monotonic()
    assert statuses([slot]) != ["in_review"]  # Scripe is still writing
    # As if it died in the middle of the next step: its lease stays until it lapses.
    GenerationJob.objects.filter(slot=slot).update(
        lease_until=timezone.now() + timedelta(seconds=4)
    )
    clusters()  # the other cluster's dispatcher takes it on once the lease lapses
    wait_for(lambda: statuses([slot]) == ["in_review"], 60, "the draft")
    assert time.monotonic() - killed < 30
    assert wired.stats()["jobsCreated"] == 1
