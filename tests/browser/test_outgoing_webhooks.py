"""Outgoing webhooks in Chromium (#27): an admin finds the Webhooks page from Settings, adds
an endpoint and copies its secret (shown once), a post is planned, and a real qcluster
delivers it to a receiver the test runs; the delivery shows in the endpoint's log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app.models import Project, WebhookEndpoint
from calendar_app.planning.services import slot_create
from scripe_integration.webhooks import verify_webhook
from tests.support import Receiver, wait_for


@pytest.fixture
def receiver():
    started = Receiver()
    yield started
    started.stop()


@pytest.mark.browser
def test_an_admin_adds_an_endpoint_and_sees_a_planned_post_delivered(journey, receiver, settings):
    settings.OUTGOING_WEBHOOKS_ALLOW_LOCAL = True
    team = journey.team
    page = journey.page_for(team.admin)

    page.goto(f"{journey.url}/settings/")
    page.locator("#webhooks").get_by_role("link", name="Webhooks").click()
    page.get_by_role("heading", name="Webhooks", exact=True).wait_for()

    add = page.locator("form.webhook-add").first
    # The add form stands apart from the endpoints' table above it.
    table = page.locator(".webhook-group table").first.bounding_box()
    heading = add.get_by_role("heading", name="Add an endpoint").bounding_box()
    assert heading["y"] - (table["y"] + table["height"]) >= 16
    add.get_by_label("Address").fill(receiver.url)
    add.get_by_label("Description").fill("Our CRM")
    add.get_by_label("post.planned: A post is planned").check()
    add.get_by_role("button", name="Add endpoint").click()

    secret = page.locator("#webhook-secret").input_value()
    assert secret.startswith("whsec_")
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["post.planned"]

    # Shown once: a reload of the endpoint's page (the form was redirected there) does not
    # show it again, nor register a second endpoint.
    assert page.url.endswith(f"/webhooks/{endpoint.public_id}/")
    page.reload()
    page.get_by_text("Nothing sent yet.").wait_for()
    assert page.locator("#webhook-secret").count() == 0
    assert WebhookEndpoint.objects.count() == 1

    # The add address opened by hand is the Webhooks page, not a bare 405.
    page.goto(f"{journey.url}/webhooks/add/{team.workspace.public_id}/")
    page.get_by_role("heading", name="Webhooks", exact=True).wait_for()
    page.goto(f"{journey.url}/webhooks/{endpoint.public_id}/")

    project = Project.objects.get(workspace=team.workspace, name="Lena Fischer")
    day = (timezone.localtime(timezone.now(), team.workspace.zone) + timedelta(days=3)).date()
    slot = slot_create(
        user=team.editor,
        zone=team.workspace.zone,
        project=project,
        note_text="Webhooks are live.",
        note=None,
        language="en",
        day=day,
        clock=timezone.datetime(2000, 1, 1, 10, 0).time(),
    )
    wait_for(lambda: receiver.requests, 30, "the receiver to get the delivery")
    headers, body = receiver.requests[0]
    verify_webhook(secret, body, headers["Calendar-Signature"])
    assert str(slot.public_id).encode() in body

    page.reload()
    row = page.locator("#delivery-log tbody tr").first
    row.get_by_text("post.planned").wait_for()
    row.get_by_text("Delivered · HTTP 200").wait_for()
    assert row.get_by_role("button", name="Send again").count() == 1
