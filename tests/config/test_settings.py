from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "config" / "settings.py"


def load_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict:
    names = ("DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS")
    for name in (*names, "SCRIPE_KEY_ENCRYPTION_KEYS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


def test_it_defaults_to_an_sqlite_file_in_wal_mode(monkeypatch):
    s = load_settings(monkeypatch)
    db = s["DATABASES"]["default"]
    # Django's backend, wrapped by django-prometheus to count queries for /metrics.
    assert db["ENGINE"] == "django_prometheus.db.backends.sqlite3"
    assert str(db["NAME"]).endswith("var/calendar.sqlite3")
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert db["OPTIONS"]["timeout"] >= 5


def test_it_reads_a_postgres_url(monkeypatch):
    s = load_settings(monkeypatch, DATABASE_URL="postgres://app:s3cret@db.internal:6543/cal")
    db = s["DATABASES"]["default"]
    assert db["ENGINE"] == "django_prometheus.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "app",
        "s3cret",
        "db.internal",
        6543,
        "cal",
    )


def test_it_reads_a_postgres_url_without_password(monkeypatch):
    s = load_settings(monkeypatch, DATABASE_URL="postgresql://postgres@127.0.0.1:5432/calendar")
    db = s["DATABASES"]["default"]
    assert db["ENGINE"] == "django_prometheus.db.backends.postgresql"
    assert (db["USER"], db["HOST"], db["NAME"]) == ("postgres", "127.0.0.1", "calendar")


def test_it_reads_an_sqlite_url(monkeypatch, tmp_path):
    s = load_settings(monkeypatch, DATABASE_URL=f"sqlite:///{tmp_path}/other.sqlite3")
    db = s["DATABASES"]["default"]
    assert db["NAME"] == f"{tmp_path}/other.sqlite3"
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_it_refuses_an_unsupported_database(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="sqlite:// or postgres://"):
        load_settings(monkeypatch, DATABASE_URL="mysql://root@127.0.0.1/cal")


def test_it_refuses_the_default_secret_key_in_production(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        load_settings(monkeypatch, DEBUG="False")


PRODUCTION = {"DEBUG": "false", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "cal.example"}
FERNET_KEY = "q6dh3W6wN1v4mQF2mNn5Yq9Xh8zH2h3o1oG8lKcYH3s="


def test_it_refuses_the_development_encryption_key_in_production(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="SCRIPE_KEY_ENCRYPTION_KEYS"):
        load_settings(monkeypatch, **PRODUCTION)


def test_production_mode_hardens_cookies_and_headers(monkeypatch):
    s = load_settings(monkeypatch, **PRODUCTION, SCRIPE_KEY_ENCRYPTION_KEYS=FERNET_KEY)
    assert s["DEBUG"] is False
    assert s["ALLOWED_HOSTS"] == ["cal.example"]
    assert s["SESSION_COOKIE_SECURE"] and s["CSRF_COOKIE_SECURE"]
    assert s["SECURE_HSTS_SECONDS"] >= 31536000
    assert s["SECURE_CONTENT_TYPE_NOSNIFF"]
    assert "script-src 'self'" in s["CONTENT_SECURITY_POLICY"]
    assert "unsafe-inline" not in s["CONTENT_SECURITY_POLICY"]
    assert s["STORAGES"]["staticfiles"]["BACKEND"] == "config.storage.StaticModulesStorage"


def test_django_q_uses_the_orm_broker_without_redis(monkeypatch):
    s = load_settings(monkeypatch)
    assert s["Q_CLUSTER"]["orm"] == "default"
    assert "redis" not in s["Q_CLUSTER"]


def test_django_q_uses_redis_when_redis_url_is_set(monkeypatch):
    s = load_settings(monkeypatch, REDIS_URL="redis://127.0.0.1:6379/3")
    assert s["Q_CLUSTER"]["redis"] == "redis://127.0.0.1:6379/3"
    assert "orm" not in s["Q_CLUSTER"]
    assert s["Q_CLUSTER"]["timeout"] < s["Q_CLUSTER"]["retry"]


def test_local_hosts_are_refused_unless_a_setting_allows_them(monkeypatch):
    def allowed(**env: str) -> bool:
        for name in ("SCRIPE_ALLOW_LOCAL_HOSTS", "SCRIPE_WEBHOOKS_ALLOW_LOCAL"):
            monkeypatch.delenv(name, raising=False)
        return load_settings(monkeypatch, **env)["SCRIPE_ALLOW_LOCAL_HOSTS"]

    assert allowed() is False
    assert allowed(SCRIPE_ALLOW_LOCAL_HOSTS="true") is True
    # Its old name, from when it covered webhooks only, still turns it on.
    assert allowed(SCRIPE_WEBHOOKS_ALLOW_LOCAL="true") is True
    assert allowed(SCRIPE_WEBHOOKS_ALLOW_LOCAL="true", SCRIPE_ALLOW_LOCAL_HOSTS="false") is False


def test_scripe_base_url_defaults_to_real_scripe(monkeypatch):
    assert load_settings(monkeypatch)["SCRIPE_API_BASE_URL"] == "https://api.scripe.io/v1"
    s = load_settings(monkeypatch, SCRIPE_API_BASE_URL="http://127.0.0.1:8765/v1")
    assert s["SCRIPE_API_BASE_URL"] == "http://127.0.0.1:8765/v1"


def test_it_reads_the_log_in_limits(monkeypatch):
    monkeypatch.delenv("LOGIN_FAILURE_LIMIT", raising=False)
    monkeypatch.delenv("LOGIN_ADDRESS_FAILURE_LIMIT", raising=False)
    s = load_settings(monkeypatch)
    assert (s["AXES_FAILURE_LIMIT"], s["LOGIN_ADDRESS_FAILURE_LIMIT"]) == (5, 30)
    s = load_settings(monkeypatch, LOGIN_FAILURE_LIMIT="7", LOGIN_ADDRESS_FAILURE_LIMIT="50")
    assert (s["AXES_FAILURE_LIMIT"], s["LOGIN_ADDRESS_FAILURE_LIMIT"]) == (7, 50)


def test_it_reads_how_often_open_pages_ask_what_changed(monkeypatch):
    monkeypatch.delenv("LIVE_POLL_SECONDS", raising=False)
    monkeypatch.delenv("LIVE_HEARTBEAT_SECONDS", raising=False)
    s = load_settings(monkeypatch)
    assert (s["LIVE_POLL_SECONDS"], s["LIVE_HEARTBEAT_SECONDS"]) == (2, 20)
    s = load_settings(monkeypatch, LIVE_POLL_SECONDS="3", LIVE_HEARTBEAT_SECONDS="60")
    assert (s["LIVE_POLL_SECONDS"], s["LIVE_HEARTBEAT_SECONDS"]) == (3, 60)
