"""The Webhooks page: admins add, rotate, switch and delete endpoints and read the delivery
log; nobody else sees another workspace's endpoints."""

from __future__ import annotations

import pytest
from django.urls import reverse

from calendar_app.models import WebhookDelivery, WebhookEndpoint
from calendar_app.outbound import events, services


@pytest.fixture(autouse=True)
def _local(settings, monkeypatch):
    settings.OUTGOING_WEBHOOKS_ALLOW_LOCAL = True
    monkeypatch.setattr(events, "enqueue", lambda pks: None)


URL = "http://127.0.0.1:9/hooks"


@pytest.fixture
def endpoint(team):
    made, _ = services.endpoint_create(
        workspace=team.workspace, user=team.admin, url=URL, events=["post.planned"]
    )
    return made


def _add_url(team) -> str:
    return reverse("webhook_add", args=[team.workspace.public_id])


def _page(endpoint) -> str:
    return reverse("webhook_endpoint", args=[endpoint.public_id])


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(client, team):
    client.force_login(team.admin)
    answer = client.post(
        _add_url(team),
        {"url": URL, "description": "CRM", "events": ["post.planned", "post.published"]},
    )
    endpoint = WebhookEndpoint.objects.get()
    # Post-redirect-get: reloading the page with the secret registers nothing twice.
    assert (answer.status_code, answer["Location"]) == (302, _page(endpoint))
    assert endpoint.events == ["post.planned", "post.published"]
    secret = services.signing_secrets(endpoint)[0]
    shown = client.get(answer["Location"])
    assert secret in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    assert secret not in str(dict(client.session.items()))
    # Never again.
    assert secret not in client.get(_page(endpoint)).content.decode()
    assert secret not in client.get(reverse("webhooks")).content.decode()
    assert WebhookEndpoint.objects.count() == 1


def test_the_log_poll_does_not_take_the_secret_meant_for_the_page(client, team):
    client.force_login(team.admin)
    answer = client.post(_add_url(team), {"url": URL, "events": ["post.planned"]})
    secret = services.signing_secrets(WebhookEndpoint.objects.get())[0]
    polled = client.get(answer["Location"], headers={"HX-Request": "true"})
    assert secret not in polled.content.decode()
    assert secret in client.get(answer["Location"]).content.decode()


def test_the_add_address_opened_by_hand_leads_to_the_webhooks_page(client, team):
    client.force_login(team.admin)
    answer = client.get(_add_url(team))
    assert (answer.status_code, answer["Location"]) == (302, reverse("webhooks"))
    client.force_login(team.outsider)
    assert client.get(_add_url(team)).status_code == 404


def test_bad_input_is_shown_next_to_its_field_and_nothing_is_saved(client, team, settings):
    settings.OUTGOING_WEBHOOKS_ALLOW_LOCAL = False
    client.force_login(team.admin)
    answer = client.post(_add_url(team), {"url": URL, "events": []})
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "Use an https address on the public internet." in page
    assert "Choose at least one event from the list." in page
    assert not WebhookEndpoint.objects.exists()


def test_the_list_shows_the_admins_endpoints(client, team, endpoint, django_assert_num_queries):
    client.force_login(team.admin)
    client.get(reverse("webhooks"))  # the session's first request reads more
    # session, user, memberships, profile (the zone), endpoints, the navigation's review count
    with django_assert_num_queries(6):
        page = client.get(reverse("webhooks")).content.decode()
    assert URL in page


def test_non_admins_are_told_who_manages_webhooks(client, team, endpoint):
    client.force_login(team.manager)
    page = client.get(reverse("webhooks")).content.decode()
    assert "Only a workspace's admins manage its webhooks" in page
    assert URL not in page
    assert client.get(_page(endpoint)).status_code == 404
    assert client.post(_add_url(team), {"url": URL, "events": ["post.planned"]}).status_code == 403


def test_another_workspace_admin_gets_404(client, team, endpoint):
    client.force_login(team.outsider)
    assert client.get(_page(endpoint)).status_code == 404
    for name in ("webhook_rotate", "webhook_disable", "webhook_delete"):
        assert client.post(reverse(name, args=[endpoint.public_id])).status_code == 404
    assert client.post(_add_url(team), {"url": URL, "events": ["post.planned"]}).status_code == 404
    assert WebhookEndpoint.objects.get().is_active


def test_anonymous_people_are_sent_to_log_in(client, endpoint):
    for url in (reverse("webhooks"), _page(endpoint)):
        answer = client.get(url)
        assert answer.status_code == 302
        assert answer.url.startswith(reverse("login"))


def test_wrong_methods_are_refused(client, team, endpoint):
    client.force_login(team.admin)
    assert client.post(reverse("webhooks")).status_code == 405
    assert client.get(reverse("webhook_rotate", args=[endpoint.public_id])).status_code == 405
    assert client.delete(_add_url(team)).status_code == 405


def test_rotate_shows_the_new_secret_and_keeps_the_old_one_signing(client, team, endpoint):
    old = services.signing_secrets(endpoint)[0]
    client.force_login(team.admin)
    answer = client.post(reverse("webhook_rotate", args=[endpoint.public_id]))
    assert (answer.status_code, answer["Location"]) == (302, _page(endpoint))
    page = client.get(answer["Location"]).content.decode()
    endpoint.refresh_from_db()
    new, previous = services.signing_secrets(endpoint)
    assert (previous, new != old) == (old, True)
    assert new in page and old not in page


def test_turn_off_on_and_delete(client, team, endpoint):
    client.force_login(team.admin)
    client.post(reverse("webhook_disable", args=[endpoint.public_id]))
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    client.post(reverse("webhook_enable", args=[endpoint.public_id]))
    endpoint.refresh_from_db()
    assert endpoint.is_active
    answer = client.post(reverse("webhook_delete", args=[endpoint.public_id]))
    assert answer.url == reverse("webhooks")
    assert not WebhookEndpoint.objects.exists()


def test_saving_changes_and_refusing_bad_ones(client, team, endpoint):
    client.force_login(team.admin)
    client.post(_page(endpoint), {"url": URL, "events": ["post.published"], "description": "x"})
    endpoint.refresh_from_db()
    assert endpoint.events == ["post.published"]
    answer = client.post(_page(endpoint), {"url": URL, "events": []})
    assert "Choose at least one event" in answer.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.events == ["post.published"]


def test_the_log_and_its_htmx_fragment(client, team, endpoint, django_assert_num_queries):
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id="evt_1",
        event_type="post.planned",
        status=WebhookDelivery.Status.FAILED,
        attempts=3,
        response_status=500,
        response_head="Internal error",
        duration_ms=12,
    )
    client.force_login(team.admin)
    page = client.get(_page(endpoint)).content.decode()
    assert "HTTP 500" in page and "Internal error" in page and "Send again" in page
    # session, user, memberships, profile (the zone), endpoint, log
    with django_assert_num_queries(6):
        fragment = client.get(_page(endpoint), headers={"HX-Request": "true"}).content.decode()
    assert 'id="delivery-log"' in fragment
    assert "<html" not in fragment and "Change it" not in fragment


def test_send_again_from_the_log(client, team, endpoint):
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id="evt_1",
        event_type="post.planned",
        status=WebhookDelivery.Status.FAILED,
        attempts=1,
    )
    client.force_login(team.admin)
    client.post(reverse("webhook_delivery_again", args=[delivery.public_id]))
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING
    client.force_login(team.outsider)
    answer = client.post(reverse("webhook_delivery_again", args=[delivery.public_id]))
    assert answer.status_code == 404


def test_settings_links_admins_to_webhooks(client, team):
    client.force_login(team.admin)
    assert reverse("webhooks") in client.get(reverse("settings")).content.decode()
    client.force_login(team.editor)
    assert reverse("webhooks") not in client.get(reverse("settings")).content.decode()
