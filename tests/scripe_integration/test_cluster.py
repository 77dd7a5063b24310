"""The pipeline run by real django-q2 clusters (separate `qcluster` processes) against the
sandbox: duplicates and dead workers must never cost a second Scripe job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from calendar_app.models import PlannedSlot
from scripe_integration.generation import generations_sweep
from scripe_integration.services import connection_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def database_url() -> str:
    """The test database, as a URL the cluster processes can open."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        if "memory" in str(db["NAME"]) or db["NAME"] == ":memory:":
            pytest.skip("the SQLite test database is in memory; a cluster cannot share it")
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Cluster:
    def __init__(self, **env: str) -> None:
        environment = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "Q_WORKERS": "2",
            "Q_LOG_LEVEL": "WARNING",
            **env,
        }
        environment.pop("REDIS_URL", None)
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=environment,
            start_new_session=True,  # its own process group, so a kill takes the workers too
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def kill(self) -> None:
        """SIGKILL the whole cluster: no cleanup, as when a machine dies."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        # The test is over; a graceful stop would only wait for idle workers.
        if self.process.poll() is None:
            self.kill()


@pytest.fixture
def clusters():
    started: list[Cluster] = []

    def start(**env) -> Cluster:
        cluster = Cluster(**env)
        started.append(cluster)
        return cluster

    yield start
    for cluster in started:
        cluster.stop()


@pytest.fixture
def wired(team, sandbox_factory):
    sandbox = sandbox_factory(generation_seconds=(2, 3), queue_seconds=0.2)
    scripe = connection_for(team.workspace)
    scripe.base_url = sandbox.base_url
    scripe.set_key(sandbox.key)
    scripe.save()
    return sandbox


def wait_for(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


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
    # A short lease so the dead worker's claim lapses within the test.
    first = clusters(GENERATION_LEASE_SECONDS="4")
    client.force_login(team.editor)
    client.post(f"/slots/{slot.public_id}/generate/", headers={"HX-Request": "true"})
    wait_for(lambda: wired.stats()["jobsCreated"] == 1, 30, "the job to reach Scripe")
    first.kill()
    assert statuses([slot]) != ["in_review"]  # it died mid-task
    clusters()
    time.sleep(4.5)  # the dead worker's lease lapses
    assert generations_sweep() == 1  # what the scheduled sweep does every minute
    wait_for(lambda: statuses([slot]) == ["in_review"], 60, "the draft")
    assert wired.stats()["jobsCreated"] == 1
