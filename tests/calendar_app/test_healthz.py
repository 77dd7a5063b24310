from __future__ import annotations

import pytest
from django.db import DatabaseError
from django_q.brokers import get_broker
from django_q.signing import SignedPackage
from django_q.status import Stat, Status


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

    monkeypatch.setattr("calendar_app.health.connection", UnreachableDatabase())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]
    assert response.json()["checks"]["database"] == {"ok": False, "error": "DatabaseError"}


@pytest.mark.django_db
def test_it_needs_no_login_and_refuses_post(client):
    assert client.post("/healthz").status_code == 405
