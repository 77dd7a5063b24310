"""CSV export of the list view's filter: the fields a manager needs, in the workspace's zone,
streamed, with formulas neutralised; and it reads back through the importer."""

from __future__ import annotations

import csv
import io
import re
import uuid
import zoneinfo
from datetime import UTC, datetime

import pytest

from calendar_app.interchange import csv_import
from calendar_app.models import CsvImport, GenerationJob, PlannedSlot, Profile

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def exported(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


@pytest.fixture
def plan(team):
    draft = team.slot(datetime(2027, 1, 12, 8, 0, tzinfo=UTC), text="First line\nSecond line")
    review = team.slot(datetime(2027, 1, 13, 16, 30, tzinfo=UTC), status="in_review")
    GenerationJob.objects.create(
        slot=review,
        idempotency_key=uuid.uuid4().hex,
        post_id="post_42",
        post_title="A title",
        post_content="The post.\nWith two lines.",
    )
    foreign = team.slot(datetime(2027, 1, 12, 9, 0, tzinfo=UTC), project=team.foreign_project)
    return {"draft": draft, "review": review, "foreign": foreign}


def test_it_exports_every_field_a_manager_needs(client, team, plan):
    Profile.objects.create(user=team.manager, time_zone="Asia/Tokyo")  # the workspace's zone wins
    client.force_login(team.manager)
    response = client.get("/slots/export.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="scripe-calendar-posts-20261201-1900.csv"'
    )
    rows = exported(response)
    assert [r["key"] for r in rows] == [str(plan["draft"].public_id), str(plan["review"].public_id)]
    draft, review = rows
    assert draft["date"] == "2027-01-12" and draft["time"] == "09:00"
    assert draft["time zone"] == "Europe/Berlin"
    assert draft["workspace"] == "Acme"
    assert draft["project"] == "Lena Fischer"
    assert draft["project scripe id"] == "proj_01JSANDBOXPROJ000000000001"
    assert draft["status"] == "Draft"
    assert draft["note"] == "First line\nSecond line"
    assert draft["created by"] == "Erin"
    assert draft["created at"] == "2026-12-01 11:00:00"
    assert draft["post title"] == draft["post text"] == draft["scripe post id"] == ""
    assert review["time"] == "17:30"
    assert review["status"] == "Ready for review"
    assert review["post title"] == "A title"
    assert review["post text"] == "The post.\nWith two lines."
    assert review["scripe post id"] == "post_42"


def test_it_exports_what_the_filter_shows(client, team, plan):
    client.force_login(team.editor)
    rows = exported(client.get("/slots/export.csv", {"status": "in_review"}))
    assert [r["key"] for r in rows] == [str(plan["review"].public_id)]
    rows = exported(client.get("/slots/export.csv", {"q": "second line", "page": "3"}))
    assert [r["key"] for r in rows] == [str(plan["draft"].public_id)]
    rows = exported(client.get("/slots/export.csv", {"date_from": "2027-01-13"}))
    assert [r["key"] for r in rows] == [str(plan["review"].public_id)]


def listed(client, query: dict) -> list[str]:
    """The posts All posts shows for the filter, over all its pages, by public id."""
    ids, page = [], 1
    while True:
        html = client.get("/slots/", {**query, "page": page}).content.decode()
        ids += re.findall(r'<tr id="row-([0-9a-f-]{36})"', html)
        if f'page={page + 1}"' not in html and f"page={page + 1}&" not in html:
            return ids
        page += 1


def test_every_filter_of_all_posts_applies_to_its_export(client, team, plan):
    """The export is the list's rows, whatever the filter (#24: the label filter was left
    out, 16 rows exported where the list showed 1)."""
    from datetime import timedelta

    from calendar_app.models import Label

    soon = team.slot(NOW + timedelta(hours=2), text="Due soon, not written")  # at risk
    paused = team.slot(datetime(2027, 2, 3, 8, 0, tzinfo=UTC), project=team.paused)
    launch = Label.objects.create(workspace=team.workspace, name="Launch")
    launch.slots.add(plan["review"], paused)
    for i in range(30):  # past one page of the list
        team.slot(datetime(2027, 3, 1, 8, 0, tzinfo=UTC) + timedelta(hours=i), text=f"Filler {i}")
    client.force_login(team.editor)
    everything = listed(client, {})
    filters = [
        {"label": str(launch.public_id)},
        {"status": "in_review"},
        {"status": "at_risk"},
        {"project": str(team.paused.pk)},
        {"q": "filler"},
        {"date_from": "2027-01-13", "date_to": "2027-02-28"},
        {"date_to": "2027-01-12"},
        {"label": str(launch.public_id), "project": str(team.project.pk)},
    ]
    for query in filters:
        shown = listed(client, query)
        assert 0 < len(shown) < len(everything), query
        rows = exported(client.get("/slots/export.csv", query))
        assert [r["key"] for r in rows] == shown, query
    assert listed(client, {"status": "at_risk"}) == [str(soon.public_id)]
    assert exported(client.get("/slots/export.csv"))[-1]["key"] == everything[-1]
    assert len(everything) == 34


def test_deleted_slots_and_other_workspaces_stay_out(client, team, plan):
    PlannedSlot.objects.filter(pk=plan["draft"].pk).update(deleted_at=NOW)
    client.force_login(team.editor)
    assert [r["key"] for r in exported(client.get("/slots/export.csv"))] == [
        str(plan["review"].public_id)
    ]
    client.force_login(team.outsider)
    assert [r["key"] for r in exported(client.get("/slots/export.csv"))] == [
        str(plan["foreign"].public_id)
    ]


@pytest.mark.parametrize("text", ['=HYPERLINK("x")', "+1+2", "-3", "@SUM(A1)", "\tTab"])
def test_formulas_are_neutralised(client, team, text):
    team.slot(datetime(2027, 1, 12, 8, 0, tzinfo=UTC), text=text)
    client.force_login(team.editor)
    (row,) = exported(client.get("/slots/export.csv"))
    assert row["note"] == "'" + text


def test_a_bad_filter_is_refused_and_said(client, team, plan):
    client.force_login(team.editor)
    response = client.get("/slots/export.csv", {"date_from": "2027-02-01", "date_to": "2027-01-01"})
    assert response.status_code == 302
    assert response["Location"].startswith("/slots/?")
    response = client.get(
        "/slots/export.csv", {"date_from": "nonsense"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422


def test_the_button_beside_the_filter_sends_the_browser_to_the_download(client, team):
    client.force_login(team.editor)
    response = client.get(
        "/slots/export.csv", {"status": "draft", "page": "2"}, headers={"HX-Request": "true"}
    )
    assert response["HX-Redirect"] == "/slots/export.csv?status=draft"


def test_anonymous_and_wrong_methods(client, team):
    assert client.get("/slots/export.csv")["Location"].startswith("/accounts/login/")
    client.force_login(team.editor)
    assert client.post("/slots/export.csv").status_code == 405


def test_a_large_export_streams_in_a_few_queries(client, team, django_assert_max_num_queries):
    for day in range(1, 29):
        for hour in (8, 12, 16):
            team.slot(datetime(2027, 2, day, hour, 0, tzinfo=UTC))
    client.force_login(team.editor)
    response = client.get("/slots/export.csv")
    # session, user, memberships, profile; then the slots and their attempts per chunk.
    with django_assert_max_num_queries(8):
        rows = exported(response)
    assert len(rows) == 84


def test_an_export_reads_back_through_the_importer_as_the_same_plan(client, team, plan):
    client.force_login(team.editor)
    response = client.get("/slots/export.csv")
    data = b"".join(response.streaming_content)
    upload = CsvImport.objects.create(
        workspace=team.workspace, created_by=team.editor, text=csv_import.decode(data)
    )
    projects = list(team.workspace.projects.all())
    # Read by someone in another zone: the export's time zone column keeps the moments.
    preview = csv_import.import_preview(
        upload=upload, projects=projects, zone=zoneinfo.ZoneInfo("America/New_York")
    )
    assert "post text" in preview.ignored_columns
    draft, review = preview.rows
    assert draft.when == plan["draft"].scheduled_for
    assert review.when == plan["review"].scheduled_for
    assert draft.project == team.project
    assert draft.note_text == "First line\nSecond line"
    # Each row's key is its slot's id: importing the export again plans nothing twice.
    assert draft.errors == ["Already imported earlier: that post is in the calendar."]
    assert review.errors == draft.errors


def test_an_export_plans_the_same_slots_in_a_fresh_workspace(client, team, plan):
    client.force_login(team.editor)
    data = b"".join(client.get("/slots/export.csv").streaming_content)
    PlannedSlot.objects.all().delete()
    response = client.post(
        f"/import/{team.workspace.public_id}/", {"text": csv_import.decode(data)}
    )
    preview_url = response["Location"]
    assert client.post(preview_url, {"rows": ["1", "2"]}).status_code == 302
    slots = list(PlannedSlot.objects.order_by("scheduled_for"))
    assert [s.scheduled_for for s in slots] == [
        plan["draft"].scheduled_for,
        plan["review"].scheduled_for,
    ]
    assert [s.note.text for s in slots] == ["First line\nSecond line", "An idea worth a post."]


@pytest.fixture
def labelled(team, plan):
    from calendar_app.models import Label

    labels = {
        name: Label.objects.create(workspace=team.workspace, name=name, colour=colour)
        for name, colour in [("Launch", 2), ("Q1, 2027", 4), ("-Hiring", 1)]
    }
    plan["draft"].labels.add(labels["Launch"], labels["Q1, 2027"])
    plan["review"].labels.add(labels["-Hiring"])
    return labels


def test_each_row_carries_its_labels_by_name(client, team, plan, labelled):
    client.force_login(team.editor)
    draft, review = exported(client.get("/slots/export.csv"))
    assert draft["labels"] == "Launch, Q1, 2027"
    assert review["labels"] == "'-Hiring"  # a formula's first character is neutralised
    assert list(draft).index("labels") == list(draft).index("note") + 1


def test_an_export_plans_the_same_labels_in_a_fresh_workspace(client, team, plan, labelled):
    """QA: an export had no labels column, so an import of it lost every label."""
    client.force_login(team.editor)
    data = b"".join(client.get("/slots/export.csv").streaming_content)
    PlannedSlot.objects.all().delete()
    response = client.post(
        f"/import/{team.workspace.public_id}/", {"text": csv_import.decode(data)}
    )
    preview_url = response["Location"]
    page = client.get(preview_url).content.decode()
    assert "<th>Labels</th>" in page
    assert '<span class="label-chip label-c4">Q1, 2027</span>' in page
    assert client.post(preview_url, {"rows": ["1", "2"]}).status_code == 302
    draft, review = PlannedSlot.objects.order_by("scheduled_for")
    assert [label.name for label in draft.labels.all()] == ["Launch", "Q1, 2027"]
    assert [label.name for label in review.labels.all()] == ["-Hiring"]
