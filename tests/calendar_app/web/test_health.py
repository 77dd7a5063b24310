from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.db import DatabaseError
from django_q.brokers import get_broker
from django_q.signing import SignedPackage
from django_q.status import Stat, Status

from scripe_integration.models import ScripeConnection


def report_cluster(cluster_id: str = "test-cluster") -> None:
    """Saves a cluster heartbeat exactly as a running django-q2 sentinel does."""
    status = Status(pid=4242, cluster_id=cluster_id)
    status.workers = [4243, 4244]
    broker = get_broker()
    broker.set_stat(Stat.get_key(cluster_id), SignedPackage.dumps(status, True), 3)


@pytest.fixture(autouse=True)
def _clean_stats():
    get_broker().cache.clear()
    yield
    get_broker().cache.clear()


@pytest.mark.django_db
def test_it_is_healthy_when_the_database_answers_and_a_cluster_reported(client):
    report_cluster()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["worker"] == {"ok": True, "clusters": 1, "workers": 2}


@pytest.mark.django_db
def test_it_names_the_worker_when_no_cluster_reported(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["worker"]
    assert body["checks"]["database"]["ok"] is True
    assert "no django-q2 cluster" in body["checks"]["worker"]["error"]


@pytest.mark.django_db
def test_it_names_the_database_when_it_does_not_answer(client, monkeypatch):
    report_cluster()

    class UnreachableDatabase:
        vendor = "postgresql"

        def cursor(self):
            raise DatabaseError("connection refused")

    monkeypatch.setattr("calendar_app.web.health.connection", UnreachableDatabase())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]
    assert response.json()["checks"]["database"] == {"ok": False, "error": "DatabaseError"}


@pytest.mark.django_db
def test_it_needs_no_login_and_refuses_post(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_it_says_every_scripe_answers_when_no_outage_is_recorded(client, team):
    report_cluster()
    body = client.get("/healthz").json()
    assert body["checks"]["scripe"] == {"ok": True, "reachable": True, "unreachable": []}


@pytest.fixture
def acme_outage(team, sandbox):
    """Acme's Scripe has not answered since 13:02 on 10 March."""
    sandbox.wire(team.workspace)
    since = datetime(2026, 3, 10, 13, 2, tzinfo=UTC)
    ScripeConnection.objects.filter(workspace=team.workspace).update(unreachable_since=since)
    return sandbox


@pytest.mark.django_db
def test_it_lists_a_scripe_that_does_not_answer_and_stays_healthy(client, team, acme_outage):
    sandbox = acme_outage
    report_cluster()
    client.force_login(team.admin)  # staff, admin of Acme: names and addresses too
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["failing"]) == ("ok", [])
    assert body["checks"]["scripe"] == {
        "ok": True,
        "reachable": False,
        "unreachable": [
            {
                "workspace": "Acme",
                "base_url": sandbox.base_url,
                "since": "2026-03-10T13:02:00+00:00",
            }
        ],
    }


@pytest.mark.django_db
def test_staff_learn_names_only_for_the_workspaces_they_administer(client, team, acme_outage):
    report_cluster()
    team.outsider.is_staff = True  # Globex's admin, staff too
    team.outsider.save()
    client.force_login(team.outsider)
    body = client.get("/healthz").json()
    assert body["checks"]["scripe"]["unreachable"] == [{"since": "2026-03-10T13:02:00+00:00"}]


@pytest.mark.django_db
def test_anyone_else_learns_that_and_since_when_but_not_whose_scripe(client, team, acme_outage):
    sandbox = acme_outage
    report_cluster()
    body = client.get("/healthz").json()
    assert body["checks"]["scripe"]["unreachable"] == [{"since": "2026-03-10T13:02:00+00:00"}]
    assert "Acme" not in json.dumps(body) and sandbox.base_url not in json.dumps(body)


@pytest.mark.django_db
def test_a_scripe_outage_does_not_hide_a_dead_worker(client, team, acme_outage):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["worker"]
