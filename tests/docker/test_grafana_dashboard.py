"""The Grafana dashboard (docker/grafana/calendar-dashboard.json): valid against Grafana's
dashboard schema (tests/docker/grafana-dashboard.schema.json, written down from Grafana's
documentation), its panels laid out without overlap, and every metric a panel queries served
at /metrics."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "docker" / "grafana" / "calendar-dashboard.json"
SCHEMA = Path(__file__).with_name("grafana-dashboard.schema.json")
TOKEN = "dashboard-test-token"

# PromQL words that look like names but are not metrics.
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless"}


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def queried_metrics(expr: str) -> set[str]:
    """The metric names a PromQL expression selects."""
    expr = re.sub(r'"[^"]*"', "", expr)  # label values
    expr = re.sub(r"\b(?:by|without)\s*\([^)]*\)", "", expr)  # grouping labels
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", expr):
        rest = expr[match.end() :].lstrip()
        if rest.startswith("(") or match.group() in KEYWORDS:
            continue  # a function or an operator
        names.add(match.group())
    return names


def panels(dashboard: dict) -> list[dict]:
    return [panel for panel in dashboard["panels"] if panel["type"] != "row"]


def test_the_schema_is_a_valid_json_schema():
    Draft202012Validator.check_schema(json.loads(SCHEMA.read_text()))


def test_the_dashboard_is_valid_against_grafanas_schema(dashboard):
    validator = Draft202012Validator(json.loads(SCHEMA.read_text()))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(dashboard)]
    assert not errors, "\n".join(errors)


def test_the_schema_refuses_what_grafana_would(dashboard):
    validator = Draft202012Validator(json.loads(SCHEMA.read_text()))
    broken = json.loads(json.dumps(dashboard))
    del broken["schemaVersion"]
    broken["panels"][1]["gridPos"]["w"] = 30
    del broken["panels"][2]["targets"][0]["refId"]
    assert len(list(validator.iter_errors(broken))) == 3


def test_panels_have_unique_ids_and_do_not_overlap(dashboard):
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    taken: dict[tuple[int, int], str] = {}
    for panel in dashboard["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in taken, f"{panel['title']} overlaps {taken[(x, y)]}"
                taken[(x, y)] = panel["title"]


def test_the_panels_cover_what_operators_watch(dashboard):
    queried = {
        name
        for panel in panels(dashboard)
        for t in panel["targets"]
        for name in queried_metrics(t["expr"])
    }
    for name in (
        "calendar_generations_total",
        "calendar_generation_click_to_draft_seconds_bucket",
        "scripe_calls_total",
        "scripe_rate_limited_total",
        "scripe_held_seconds_total",
        "calendar_generation_attempts_due",
        "calendar_generation_oldest_due_seconds",
        "calendar_sync_lag_seconds",
        "calendar_scripe_webhooks_received_total",
        "calendar_webhook_deliveries_total",
        "calendar_emails_total",
        "django_http_responses_total_by_status_total",
        "django_db_execute_total",
    ):
        assert name in queried, name


def test_every_metric_a_panel_queries_is_served(dashboard, client, settings, db):
    settings.METRICS_TOKEN = TOKEN
    settings.PROMETHEUS_MULTIPROC_DIR = ""
    client.get("/accounts/login/")  # a request, so the per-view request metrics have samples
    body = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).content.decode()
    served = set(re.findall(r"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{| )", body, re.M))
    families = dict(re.findall(r"^# TYPE (\S+) (\S+)$", body, re.M))
    # A labelled metric that has counted nothing yet has its TYPE line but no sample (a
    # counter's TYPE line names it with _total; a histogram's without its suffixes).
    for family, kind in families.items():
        served.add(family)
        if kind == "histogram":
            served |= {family + suffix for suffix in ("_bucket", "_count", "_sum")}
    for panel in panels(dashboard):
        for target in panel["targets"]:
            missing = queried_metrics(target["expr"]) - served
            assert not missing, f"{panel['title']}: {missing} not in /metrics"
