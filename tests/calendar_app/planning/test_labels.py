"""Labels (#15): the workspace's list (managers keep it), labels on slots through the slot
service, and the pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from calendar_app.core.refusals import Refusal
from calendar_app.models import Label, PlannedSlot
from calendar_app.planning import labels as label_services
from calendar_app.planning import services

NOW = datetime(2026, 10, 15, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def plan(team, **overrides) -> dict:
    fields = {
        "project": team.project,
        "note_text": "Fewer meetings, more shipped posts.",
        "note": None,
        "language": "en",
        "day": datetime(2026, 10, 20).date(),
        "clock": datetime(2026, 10, 20, 9, 30).time(),
    }
    return {**fields, **overrides}


# the service ------------------------------------------------------------------------------------


def test_label_names_are_unique_in_a_workspace_whatever_their_case(team):
    label_services.label_create(workspace=team.workspace, name="Launch", colour=2)
    with pytest.raises(Refusal) as refused:
        label_services.label_create(workspace=team.workspace, name=" launch ", colour=1)
    assert "already" in refused.value.fields["name"]
    # Another workspace may use the name.
    label_services.label_create(workspace=team.other_workspace, name="Launch", colour=1)


def test_it_refuses_an_empty_name_and_an_unknown_colour(team):
    with pytest.raises(Refusal) as refused:
        label_services.label_create(workspace=team.workspace, name="  ", colour=42)
    assert set(refused.value.fields) == {"name", "colour"}
    assert not Label.objects.exists()


def test_a_slot_is_planned_with_its_labels(team):
    launch = Label.objects.create(workspace=team.workspace, name="Launch")
    hiring = Label.objects.create(workspace=team.workspace, name="Hiring", colour=3)
    slot = services.slot_create(
        user=team.editor, zone=team.workspace.zone, **plan(team, labels=[launch, hiring])
    )
    assert set(slot.labels.all()) == {launch, hiring}


def test_it_refuses_another_workspaces_label_and_plans_nothing(team):
    foreign = Label.objects.create(workspace=team.other_workspace, name="Globex")
    with pytest.raises(Refusal) as refused:
        services.slot_create(
            user=team.editor, zone=team.workspace.zone, **plan(team, labels=[foreign])
        )
    assert "labels" in refused.value.fields
    assert not PlannedSlot.objects.exists()


def test_an_edit_without_labels_keeps_them_and_with_labels_replaces_them(team):
    launch = Label.objects.create(workspace=team.workspace, name="Launch")
    hiring = Label.objects.create(workspace=team.workspace, name="Hiring")
    slot = services.slot_create(
        user=team.editor, zone=team.workspace.zone, **plan(team, labels=[launch])
    )
    services.slot_update(slot=slot, user=team.editor, zone=team.workspace.zone, **plan(team))
    assert list(slot.labels.all()) == [launch]
    services.slot_update(
        slot=slot, user=team.editor, zone=team.workspace.zone, **plan(team, labels=[hiring])
    )
    assert list(slot.labels.all()) == [hiring]


# the slot form ----------------------------------------------------------------------------------


def form(team, **overrides) -> dict:
    data = {
        "project": team.project.pk,
        "note_text": "Fewer meetings, more shipped posts.",
        "language": "en",
        "date": "2026-10-20",
        "time": "09:30",
        "labels_shown": "True",
    }
    return {**data, **overrides}


def test_the_form_sets_labels_and_the_edit_form_shows_them_ticked(client, team):
    launch = Label.objects.create(workspace=team.workspace, name="Launch")
    Label.objects.create(workspace=team.workspace, name="Hiring")
    client.force_login(team.editor)
    assert client.post("/slots/new/", form(team, labels=[launch.pk])).status_code == 302
    slot = PlannedSlot.objects.get()
    assert list(slot.labels.all()) == [launch]
    html = client.get(f"/slots/{slot.public_id}/edit/").content.decode()
    ticked = html.split(f'name="labels" value="{launch.pk}"')[1].split(">")[0]
    assert "checked" in ticked
    hiring_box = html.split("Hiring")[0].rsplit("<input", 1)[1]
    assert "checked" not in hiring_box
    # Unticking every box clears them.
    client.post(f"/slots/{slot.public_id}/edit/", form(team))
    assert not slot.labels.exists()


def test_the_form_shows_a_foreign_label_as_a_problem_and_saves_nothing(client, team):
    foreign = Label.objects.create(workspace=team.other_workspace, name="Globex")
    client.force_login(team.editor)
    response = client.post("/slots/new/", form(team, labels=[foreign.pk]))
    assert response.status_code == 200 and not PlannedSlot.objects.exists()
    assert "labels" in response.context["form"].errors


# the labels page --------------------------------------------------------------------------------


def test_a_manager_adds_renames_and_deletes_a_label(client, team):
    client.force_login(team.manager)
    response = client.post(
        f"/labels/add/{team.workspace.public_id}/", {"name": "Launch", "colour": "2"}
    )
    assert response.status_code == 302
    label = Label.objects.get()
    assert (label.name, label.colour, label.workspace) == ("Launch", 2, team.workspace)
    assert "Launch" in client.get("/labels/").content.decode()
    client.post(f"/labels/{label.public_id}/", {"name": "Big launch", "colour": "4"})
    label.refresh_from_db()
    assert (label.name, label.colour) == ("Big launch", 4)
    client.post(f"/labels/{label.public_id}/delete/")
    assert not Label.objects.exists()


def test_a_bad_name_is_shown_on_the_form_and_nothing_is_saved(client, team):
    client.force_login(team.manager)
    response = client.post(f"/labels/add/{team.workspace.public_id}/", {"name": "", "colour": "1"})
    assert response.status_code == 200 and "Name the label." in response.content.decode()
    assert not Label.objects.exists()


def test_editors_see_labels_but_may_not_change_them(client, team):
    label = Label.objects.create(workspace=team.workspace, name="Launch")
    client.force_login(team.editor)
    assert "Launch" in client.get("/labels/").content.decode()
    assert client.post(f"/labels/add/{team.workspace.public_id}/", {"name": "X"}).status_code == 403
    assert client.post(f"/labels/{label.public_id}/delete/").status_code == 403
    assert Label.objects.count() == 1


def test_outsiders_get_404_and_anonymous_users_the_login(client, team):
    label = Label.objects.create(workspace=team.workspace, name="Launch")
    assert client.get("/labels/")["Location"].startswith("/accounts/login/")
    client.force_login(team.outsider)
    assert "Launch" not in client.get("/labels/").content.decode()
    assert client.post(f"/labels/{label.public_id}/delete/").status_code == 404
    assert client.post(f"/labels/add/{team.workspace.public_id}/", {"name": "X"}).status_code == 404


def test_the_label_actions_take_only_post(client, team):
    label = Label.objects.create(workspace=team.workspace, name="Launch")
    client.force_login(team.manager)
    assert client.get(f"/labels/{label.public_id}/delete/").status_code == 405
    assert client.post("/labels/").status_code == 405


def test_an_htmx_label_change_answers_with_a_toast(client, team):
    label = Label.objects.create(workspace=team.workspace, name="Launch")
    client.force_login(team.manager)
    response = client.post(
        f"/labels/{label.public_id}/",
        {"name": "Renamed", "colour": "1"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204 and "toast" in response["HX-Trigger"]


def test_renaming_or_deleting_a_label_marks_its_slots_changed_for_open_pages(team, time_machine):
    from datetime import timedelta

    label = Label.objects.create(workspace=team.workspace, name="Launch")
    tagged = team.slot(NOW + timedelta(days=5))
    other = team.slot(NOW + timedelta(days=6))
    tagged.labels.add(label)
    time_machine.move_to(NOW + timedelta(minutes=1), tick=False)
    label_services.label_update(label=label, name="Big launch", colour=2)
    tagged.refresh_from_db(), other.refresh_from_db()
    assert tagged.updated_at == NOW + timedelta(minutes=1) and other.updated_at < tagged.updated_at
    time_machine.move_to(NOW + timedelta(minutes=2), tick=False)
    label_services.label_delete(label=label)
    tagged.refresh_from_db()
    assert tagged.updated_at == NOW + timedelta(minutes=2) and not tagged.labels.exists()


# labels on cards and rows, and the filters ------------------------------------------------------


def test_cards_and_list_rows_show_their_labels_and_a_rename_shows_at_once(client, team):
    from datetime import timedelta

    label = Label.objects.create(workspace=team.workspace, name="Launch", colour=3)
    slot = team.slot(NOW + timedelta(days=5))
    slot.labels.add(label)
    client.force_login(team.editor)
    month = client.get("/calendar/2026/10/").content.decode()
    card = month.split(f'id="slot-{slot.public_id}"')[1].split("</article>")[0]
    assert '<span class="label-chip label-c3">Launch</span>' in card
    assert (
        '<span class="label-chip label-c3">Launch</span>' in client.get("/slots/").content.decode()
    )
    label_services.label_update(label=label, name="Big launch", colour=1)  # no slot touched
    month = client.get("/calendar/2026/10/").content.decode()
    assert '<span class="label-chip label-c1">Big launch</span>' in month


def test_the_calendar_and_the_list_filter_by_label_and_project_together(client, team):
    from datetime import timedelta

    from calendar_app.models import Project

    other = Project.objects.create(workspace=team.workspace, scripe_id="proj_b", name="B page")
    launch = Label.objects.create(workspace=team.workspace, name="Launch")
    both = team.slot(NOW + timedelta(days=5), text="Launch on Lena")
    other_project = team.slot(NOW + timedelta(days=5), project=other, text="Launch on B")
    team.slot(NOW + timedelta(days=5), text="No label")
    both.labels.add(launch)
    other_project.labels.add(launch)
    client.force_login(team.editor)
    url = f"/calendar/2026/10/?label={launch.public_id}&project={team.project.scripe_id}"
    html = client.get(url).content.decode()
    assert "Launch on Lena" in html and "Launch on B" not in html and "No label" not in html
    html = client.get(f"/slots/?label={launch.public_id}").content.decode()
    assert "Launch on Lena" in html and "Launch on B" in html and "No label" not in html
    html = client.get(f"/slots/?label={launch.public_id}&project={other.pk}").content.decode()
    assert "Launch on B" in html and "Launch on Lena" not in html


def test_a_label_filter_costs_the_same_for_one_post_or_thirty(client, team):
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    launch = Label.objects.create(workspace=team.workspace, name="Launch")
    team.slot(NOW + timedelta(days=5)).labels.add(launch)
    client.force_login(team.editor)
    pages = [f"/calendar/2026/10/?label={launch.public_id}", f"/slots/?label={launch.public_id}"]

    def queries(url) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    before = [queries(url) for url in pages]
    for n in range(29):
        team.slot(NOW + timedelta(days=1 + n % 14, hours=n)).labels.add(launch)
    assert [queries(url) for url in pages] == before
    assert client.get(pages[0]).content.decode().count('class="label-chip') >= 20


def test_the_review_queue_filters_by_label(client, team):
    from datetime import timedelta

    launch = Label.objects.create(workspace=team.workspace, name="Launch")
    tagged = team.slot(NOW + timedelta(days=2), status="in_review", text="Tagged draft")
    team.slot(NOW + timedelta(days=3), status="in_review", text="Other draft")
    tagged.labels.add(launch)
    client.force_login(team.manager)
    html = client.get("/review/").content.decode()
    assert "(2 waiting)" in html and f'<option value="{launch.public_id}"' in html
    html = client.get(f"/review/?label={launch.public_id}").content.decode()
    assert "(1 waiting)" in html
    assert client.get("/review/?label=not-a-label").status_code == 200  # filters nothing


def test_the_live_poll_of_a_page_filtered_by_label_sends_only_its_cards(client, team):
    from datetime import timedelta

    from django.utils import timezone

    from calendar_app.models import PlannedSlot
    from calendar_app.planning.live import to_micros

    launch = Label.objects.create(workspace=team.workspace, name="Launch")
    tagged = team.slot(NOW + timedelta(days=2), text="Tagged")
    other = team.slot(NOW + timedelta(days=2, hours=1), text="Untagged")
    tagged.labels.add(launch)
    client.force_login(team.editor)
    since = to_micros(timezone.now() - timedelta(seconds=1))
    PlannedSlot.objects.filter(pk__in=[tagged.pk, other.pk]).update(updated_at=timezone.now())
    window = {"view": "calendar", "from": "2026-10-15", "to": "2026-10-21", "since": since}
    html = client.get("/slots/live/", {**window, "label": str(launch.public_id)}).content.decode()
    assert f'id="slot-{tagged.public_id}"' in html and f'id="slot-{other.public_id}"' not in html
    assert client.get("/slots/live/", {**window, "label": "nonsense"}).status_code < 500
