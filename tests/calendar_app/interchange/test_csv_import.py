"""CSV import: a messy spreadsheet file previewed row by row, every rule of the slot form
applied to each row, nothing planned before the confirmation, all or nothing after it, and
the same file twice planning nothing new."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calendar_app.core.refusals import Refusal
from calendar_app.interchange import csv_import
from calendar_app.models import CsvImport, PlannedSlot
from calendar_app.planning import services

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def upload_url(team) -> str:
    return f"/import/{team.workspace.public_id}/"


def send(client, team, data, *, name="plan.csv"):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return client.post(upload_url(team), {"file": SimpleUploadedFile(name, data, "text/csv")})


def preview_of(client, team, data, **kwargs):
    """Uploads the file and follows to its preview page; (response, preview url)."""
    response = send(client, team, data, **kwargs)
    assert response.status_code == 302, response.content.decode()[:2000]
    return client.get(response["Location"]), response["Location"]


def rows_of(team, text, zone="Europe/Berlin"):
    import zoneinfo

    upload = CsvImport.objects.create(workspace=team.workspace, created_by=team.editor, text=text)
    projects = list(team.workspace.projects.all())
    return csv_import.import_preview(
        upload=upload, projects=projects, zone=zoneinfo.ZoneInfo(zone)
    ).rows


MESSY = (
    "\ufeffDate ; TIME;  Project ;Note Text;Language\r\n"
    '07.01.2027;09:00;Lena Fischer;"Three lessons from onboarding;\r\n'
    'second line ""quoted""";de\r\n'
    "2027-01-08;13:30:00;proj_01JSANDBOXPROJ000000000001;Short idea;\r\n"
    "\r\n"
    "9/1/2027;8:15;lena   fischer;Another idea;English\r\n"
)


def test_it_reads_a_messy_spreadsheet_file_and_plans_nothing_before_confirming(client, team):
    client.force_login(team.editor)
    page, _ = preview_of(client, team, MESSY)
    html = page.content.decode()
    assert page.status_code == 200
    assert "3 rows, 3 ready, 0 with problems" in html
    # Local times in the importer's zone (Berlin), the note's first line, the project.
    assert "Thu 7 Jan 2027, 09:00" in html
    assert "Fri 8 Jan 2027, 13:30" in html
    assert "Sat 9 Jan 2027, 08:15" in html
    assert "Three lessons from onboarding;" in html
    assert "second line" not in html
    assert "Lena Fischer" in html
    assert not PlannedSlot.objects.exists()


def test_confirming_plans_exactly_the_ticked_rows(client, team):
    client.force_login(team.editor)
    _, url = preview_of(client, team, MESSY)
    response = client.post(url, {"rows": ["1", "3"]})
    assert response.status_code == 302 and response["Location"] == "/slots/"
    slots = list(PlannedSlot.objects.order_by("scheduled_for"))
    assert [s.scheduled_for for s in slots] == [
        datetime(2027, 1, 7, 8, 0, tzinfo=UTC),
        datetime(2027, 1, 9, 7, 15, tzinfo=UTC),
    ]
    assert slots[0].note.text == 'Three lessons from onboarding;\r\nsecond line "quoted"'
    assert slots[0].note.language == "de"
    assert slots[1].note.language == "en"
    assert {s.created_by for s in slots} == {team.editor}
    assert all(s.status == "draft" and s.request_key.startswith("csv:") for s in slots)
    # The stored upload is gone once imported; a second confirm says so.
    assert not CsvImport.objects.exists()
    again = client.post(url, {"rows": ["1"]}, follow=True)
    assert "expired or was already imported" in again.content.decode()
    assert PlannedSlot.objects.count() == 2


def test_pasted_text_works_like_a_file(client, team):
    client.force_login(team.editor)
    text = "date,time,project,note\n2027-01-12,09:00,Lena Fischer,Pasted idea\n"
    response = client.post(upload_url(team), {"text": text})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "1 row, 1 ready" in page and "Pasted idea" in page


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2027-01-12", (2027, 1, 12)),
        ("2027/01/12", (2027, 1, 12)),
        ("12.01.2027", (2027, 1, 12)),
        ("12/1/2027", (2027, 1, 12)),
        ("07/12/2027", (2027, 12, 7)),  # day first, always
        ("7-12-2027", (2027, 12, 7)),
    ],
)
def test_dates_are_iso_or_day_first(cell, expected):
    assert csv_import.parse_date(cell).timetuple()[:3] == expected


@pytest.mark.parametrize("cell", ["12/31/2027", "2027-13-01", "31.12.27", "46363", "tomorrow"])
def test_an_unreadable_date_says_what_is_expected(cell):
    with pytest.raises(ValueError, match=r"day first \(31\.12\.2026 or 31/12/2026\) or ISO"):
        csv_import.parse_date(cell)


def test_a_month_first_date_is_named_as_such():
    with pytest.raises(ValueError, match="looks month first"):
        csv_import.parse_date("12/31/2027")


def test_a_date_and_time_in_one_cell_is_read(team):
    (row,) = rows_of(team, "date,project,note\n2027-01-12 09:30:00,Lena Fischer,x\n")
    assert row.ok and row.when == datetime(2027, 1, 12, 8, 30, tzinfo=UTC)


def test_each_problem_is_said_in_words_on_its_row(team):
    text = "\n".join(
        [
            "date,time,project,note,language,labels,queue",
            "2027-01-12,09:00,Nobody Known,An idea,en,,",  # 1 unknown project
            "2026-11-30,09:00,Lena Fischer,An idea,en,,",  # 2 in the past
            "2027-03-28,02:30,Lena Fischer,An idea,en,,",  # 3 DST gap in Berlin
            "2027-01-12,09:00,Lena Fischer," + "y" * 100_001 + ",en,,",  # 4 too long
            "2027-01-12,09:00,Paused,An idea,en,,",  # 5 paused project
            "2027-01-12,09:07,Lena Fischer,An idea,en,,",  # 6 off the grid
            "2027-01-12,09:00,Lena Fischer,An idea,xx,,",  # 7 language
            "2027-01-12,,Lena Fischer,An idea,en,,yes",  # 8 queue without a time
            "2027-01-12,10:00,Lena Fischer,Queued too,en,,yes",  # 9 queue with a time
            "2027-01-12,11:00,Lena Fischer,Labelled,en,launch,",  # 10 labels
            "12/31/2027,09:00,Lena Fischer,An idea,en,,",  # 11 month first
            "2027-01-12,25:00,Lena Fischer,An idea,en,,",  # 12 bad time
            "2027-01-13,09:00,Lena Fischer,   ,en,,",  # 13 blank note
            "2027-01-12,10:00,Lena Fischer,Queued too,en,,",  # 14 duplicate of row 9
            "2029-01-12,09:00,Lena Fischer,Far away,en,,",  # 15 beyond 18 months
        ]
    )
    rows = rows_of(team, text)
    said = {row.number: " ".join(row.errors) for row in rows}
    assert "Unknown project “Nobody Known”" in said[1]
    assert "30 Nov 2026 has passed. Pick today or a later day." in said[2]
    assert "does not exist on 28 Mar 2027 in Europe/Berlin" in said[3]
    assert "100,001 characters long; the limit is 100,000" in said[4]
    assert "paused in Scripe" in said[5]
    assert "15-minute step" in said[6]
    assert "Pick one of the languages" in said[7]
    assert "Lena Fischer has no posting schedule" in said[8]
    assert rows[8].ok and rows[8].warnings == [
        "The row has a time, so it is planned then, not queued."
    ]
    assert "Unknown label “launch”" in said[10]
    assert "month first" in said[11]
    assert "24-hour HH:MM" in said[12]
    assert "Write the note" in said[13]
    assert said[14] == "This row is a duplicate of row 9 in this file."
    assert "within the next 18 months" in said[15]
    assert [row.number for row in rows if row.ok] == [9]


def test_the_same_key_twice_in_a_file_is_refused(team):
    text = "date,time,project,note,key\n2027-01-12,09:00,Lena Fischer,A,k1\n"
    text += "2027-01-13,09:00,Lena Fischer,B,k1\n"
    rows = rows_of(team, text)
    assert rows[0].ok
    assert rows[1].errors == ["This row is the same key as row 1 in this file."]


def test_a_project_can_be_named_by_its_scripe_id_and_names_are_case_blind(team):
    text = "date,time,project,note\n2027-01-12,09:00,LENA  fischer,A\n"
    text += "2027-01-12,10:00,proj_01JSANDBOXPROJ000000000001,B\n"
    text += "2027-01-12,11:00,proj_globex,C\n"  # another workspace's project
    rows = rows_of(team, text)
    assert rows[0].project == rows[1].project == team.project
    assert "Unknown project" in rows[2].errors[0]


def test_importing_the_same_file_again_plans_nothing_new(client, team):
    client.force_login(team.editor)
    _, url = preview_of(client, team, MESSY)
    client.post(url, {"rows": ["1", "2", "3"]})
    assert PlannedSlot.objects.count() == 3
    page, url = preview_of(client, team, MESSY)
    html = page.content.decode()
    assert "3 rows, 0 ready, 3 with problems" in html
    assert html.count("Already imported earlier: that post is in the calendar.") == 3
    response = client.post(url, {"rows": ["1"]})
    assert response.status_code == 409
    assert PlannedSlot.objects.count() == 3


def test_a_row_whose_slot_was_deleted_needs_a_new_key(client, team):
    client.force_login(team.editor)
    _, url = preview_of(client, team, MESSY)
    client.post(url, {"rows": ["1"]})
    services.slot_delete(slot=PlannedSlot.objects.get())
    page, _ = preview_of(client, team, MESSY)
    assert "that post was deleted since. Give the row a new key" in page.content.decode()


def test_a_key_keeps_a_row_imported_once_even_when_its_text_changes(client, team):
    client.force_login(team.editor)
    first = "date,time,project,note,key\n2027-01-12,09:00,Lena Fischer,Draft one,row-1\n"
    _, url = preview_of(client, team, first)
    client.post(url, {"rows": ["1"]})
    page, _ = preview_of(client, team, first.replace("Draft one", "Draft two"))
    assert "Already imported earlier" in page.content.decode()


def test_the_import_is_all_or_nothing_when_a_row_is_refused_at_commit_time(
    client, team, time_machine
):
    client.force_login(team.editor)
    text = "date,time,project,note\n2027-01-12,09:00,Lena Fischer,A\n"
    text += "2026-12-01,12:00,Lena Fischer,B\n"  # 11:00 UTC: fine now, past by the confirm
    _, url = preview_of(client, team, text)
    time_machine.move_to(NOW + timedelta(hours=2), tick=False)
    response = client.post(url, {"rows": ["1", "2"]})
    html = response.content.decode()
    assert response.status_code == 409
    assert "Nothing was imported: row 2 (line 3) is refused: That time has passed" in html
    assert not PlannedSlot.objects.exists()
    # The preview is shown again, and row 1 can still be imported alone.
    assert "1 ready, 1 with problems" in html
    assert client.post(url, {"rows": ["1"]}).status_code == 302
    assert PlannedSlot.objects.count() == 1


def test_a_refusal_in_the_middle_of_the_import_undoes_the_rows_before_it(client, team, monkeypatch):
    client.force_login(team.editor)
    _, url = preview_of(client, team, MESSY)
    real = services.slot_create
    calls = []

    def second_refused(**fields):
        calls.append(fields)
        if len(calls) == 2:
            raise Refusal(fields={"project": "Scripe no longer lists this project."})
        return real(**fields)

    monkeypatch.setattr(services, "slot_create", second_refused)
    response = client.post(url, {"rows": ["1", "2", "3"]})
    assert response.status_code == 409
    assert "row 2 (line 4) is refused: Scripe no longer lists" in response.content.decode()
    assert not PlannedSlot.objects.exists()
    assert CsvImport.objects.count() == 1  # kept for another try


def test_the_confirmation_trusts_only_the_stored_file(client, team):
    client.force_login(team.editor)
    text = "date,time,project,note\n2027-01-12,09:00,Lena Fischer,Stored\n"
    text += "2020-01-12,09:00,Lena Fischer,Past\n"
    _, url = preview_of(client, team, text)
    # A refused row ticked by hand: nothing at all is planned.
    response = client.post(url, {"rows": ["1", "2"]})
    assert response.status_code == 409
    assert "row 2 (line 3) is refused" in response.content.decode()
    # A row that is not in the file.
    response = client.post(url, {"rows": ["1", "7"]})
    assert response.status_code == 422
    # Anything else the browser sends is not read: the stored text is what is planned.
    response = client.post(
        url, {"rows": ["1"], "text": "date,time,project,note\n2027-02-01,09:00,Paused,Evil\n"}
    )
    assert response.status_code == 302
    assert [s.note.text for s in PlannedSlot.objects.all()] == ["Stored"]


def test_no_rows_ticked_plans_nothing(client, team):
    client.force_login(team.editor)
    _, url = preview_of(client, team, MESSY)
    response = client.post(url, {})
    assert response.status_code == 422
    assert "Tick the rows to import." in response.content.decode()
    assert not PlannedSlot.objects.exists()


def test_someone_elses_or_an_expired_upload_cannot_be_confirmed(client, team, time_machine):
    client.force_login(team.editor)
    _, url = preview_of(client, team, MESSY)
    client.force_login(team.manager)
    response = client.post(url, {"rows": ["1"]}, follow=True)
    assert "expired or was already imported" in response.content.decode()
    client.force_login(team.editor)
    time_machine.move_to(NOW + timedelta(hours=3), tick=False)
    response = client.post(url, {"rows": ["1"]}, follow=True)
    assert "expired or was already imported" in response.content.decode()
    assert not PlannedSlot.objects.exists()


# The file as a whole ---------------------------------------------------------------------------


def test_a_file_that_is_not_utf8_is_refused_with_how_to_fix_it(client, team):
    client.force_login(team.editor)
    data = "date;time;project;note\n2027-01-12;09:00;Lena Fischer;Grüße\n".encode("latin-1")
    response = send(client, team, data)
    assert response.status_code == 422
    assert "not UTF-8 text" in response.content.decode()
    assert "CSV UTF-8" in response.content.decode()
    assert not CsvImport.objects.exists()


def test_utf16_is_named(client, team):
    client.force_login(team.editor)
    response = send(client, team, "date,time,project,note\n".encode("utf-16"))
    assert "UTF-16" in response.content.decode()


def test_a_nul_in_the_file_is_refused(client, team):
    client.force_login(team.editor)
    response = send(client, team, "date,time,project,note\n2027-01-12,09:00,Lena Fischer,a\x00b\n")
    assert response.status_code == 422
    assert "NUL character" in response.content.decode()
    assert not CsvImport.objects.exists()


def test_missing_columns_are_named(client, team):
    client.force_login(team.editor)
    response = send(client, team, "when,project,text\n2027-01-12,Lena Fischer,a\n")
    html = response.content.decode()
    assert response.status_code == 422
    assert "missing: date" in html and "Found: when, project, text" in html


def test_a_file_over_the_size_limit_is_refused(client, team, monkeypatch):
    monkeypatch.setattr(csv_import, "MAX_BYTES", 100)
    client.force_login(team.editor)
    response = send(client, team, "date,time,project,note\n" + "x" * 200)
    assert response.status_code == 422
    assert "the limit is 100 bytes" in response.content.decode()


def test_a_file_over_the_row_limit_is_refused(client, team, monkeypatch):
    monkeypatch.setattr(csv_import, "MAX_ROWS", 2)
    client.force_login(team.editor)
    text = "date,time,project,note\n" + "2027-01-12,09:00,Lena Fischer,a\n" * 3
    response = send(client, team, text)
    assert response.status_code == 422
    assert "more than 2 rows" in response.content.decode()


def test_a_broken_quote_is_refused_readably(client, team):
    client.force_login(team.editor)
    response = send(client, team, 'date,time,project,note\n2027-01-12,09:00,Lena,"open\n')
    assert response.status_code in (302, 422)  # csv reads an unclosed quote to the end


def test_neither_or_both_sources_is_refused(client, team):
    client.force_login(team.editor)
    assert client.post(upload_url(team), {}).status_code == 422
    response = client.post(
        upload_url(team),
        {"text": "a", "file": SimpleUploadedFile("a.csv", b"date", "text/csv")},
    )
    assert "not both" in response.content.decode()


def test_the_template_downloads_and_reads_back(client, team):
    client.force_login(team.editor)
    response = client.get("/import/template.csv")
    assert response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    page, _ = preview_of(client, team, response.content)
    assert "2 rows, 2 ready" in page.content.decode()


def test_the_preview_does_not_query_per_row(team, django_assert_num_queries):
    import zoneinfo

    projects = list(team.workspace.projects.all())
    zone = zoneinfo.ZoneInfo("Europe/Berlin")
    for count in (3, 300):
        lines = [
            f"2027-01-{1 + i % 28:02d},{i % 24:02d}:00,Lena Fischer,Idea {i}" for i in range(count)
        ]
        text = "date,time,project,note\n" + "\n".join(lines)
        upload = CsvImport.objects.create(
            workspace=team.workspace, created_by=team.editor, text=text
        )
        # Two queries: the workspace's labels, and the slots these rows' keys planned before.
        with django_assert_num_queries(2):
            preview = csv_import.import_preview(upload=upload, projects=projects, zone=zone)
        assert len(preview.ready) == count


# Who may ---------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_log_in(client, team):
    assert client.get(upload_url(team))["Location"].startswith("/accounts/login/")
    assert client.get("/import/")["Location"].startswith("/accounts/login/")


def test_an_outsider_gets_404(client, team):
    client.force_login(team.editor)
    _, url = preview_of(client, team, MESSY)
    client.force_login(team.outsider)
    assert client.get(upload_url(team)).status_code == 404
    assert send(client, team, MESSY).status_code == 404
    assert client.get(url).status_code == 404
    assert client.post(url, {"rows": ["1"]}).status_code == 404
    assert not PlannedSlot.objects.exists()


def test_wrong_methods_are_405(client, team):
    client.force_login(team.editor)
    assert client.put(upload_url(team)).status_code == 405
    assert client.post("/import/").status_code == 405
    assert client.post("/import/template.csv").status_code == 405


def test_the_import_link_leads_to_the_one_workspace(client, team):
    client.force_login(team.manager)
    assert client.get("/import/")["Location"] == upload_url(team)
    page = client.get(upload_url(team))
    assert page.status_code == 200 and "Import posts into Acme" in page.content.decode()


def test_the_list_page_links_to_import_and_export(client, team):
    client.force_login(team.editor)
    html = client.get("/slots/?status=draft").content.decode()
    assert 'href="/import/"' in html
    assert 'href="/slots/export.csv?status=draft"' in html


# Anything at all -------------------------------------------------------------------------------

cell = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
    st.sampled_from(
        ["2027-01-12", "12.01.2027", "09:00", "Lena Fischer", "Paused", '"a\nb"', ";", ","]
    ),
)
csv_text = st.builds(
    lambda rows, sep: "\n".join(sep.join(row) for row in rows),
    st.lists(st.lists(cell, max_size=6), max_size=6),
    st.sampled_from([",", ";"]),
)
header = st.sampled_from(["date,time,project,note\n", "Date;Time;Project;Note\n", "", "\ufeff"])
any_bytes = st.one_of(
    st.binary(max_size=200),
    st.builds(lambda h, body: (h + body).encode("utf-8"), header, csv_text),
)


@pytest.mark.django_db
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=any_bytes, rows=st.lists(st.integers(-3, 12).map(str), max_size=4))
def test_an_arbitrary_file_never_fails_and_never_plans_without_a_confirmation(
    client, team, data, rows
):
    client.force_login(team.editor)
    response = send(client, team, data)
    assert response.status_code in (302, 422)
    pasted = client.post(upload_url(team), {"text": data.decode("utf-8", "replace")})
    assert pasted.status_code in (302, 422)
    if response.status_code == 302:
        page = client.get(response["Location"])
        assert page.status_code == 200
        assert not PlannedSlot.objects.exists()
        confirmed = client.post(response["Location"], {"rows": rows})
        assert confirmed.status_code < 500
        if confirmed.status_code != 302:
            assert not PlannedSlot.objects.exists()
    PlannedSlot.objects.all().delete()


def test_labels_are_read_by_name_whichever_separator_and_a_name_may_hold_one(team):
    from calendar_app.models import Label

    for name in ("Launch", "Hiring", "Q1, 2027", "Q1"):
        Label.objects.create(workspace=team.workspace, name=name)
    cells = {
        "launch; HIRING": ["Hiring", "Launch"],
        "Launch | q1,  2027": ["Launch", "Q1, 2027"],  # the longest name that fits
        "Q1,Launch": ["Launch", "Q1"],
        "Launch,,": ["Launch"],
    }
    text = "date,time,project,note,labels\n" + "\n".join(
        f'2027-01-{12 + n},09:00,Lena Fischer,Idea {n},"{cell}"' for n, cell in enumerate(cells)
    )
    rows = rows_of(team, text)
    assert all(row.ok for row in rows), [row.errors for row in rows]
    assert [sorted(label.name for label in row.labels) for row in rows] == list(cells.values())
    (unknown,) = rows_of(
        team, 'date,time,project,note,labels\n2027-01-12,09:00,Lena Fischer,X,"Launch, Q2"'
    )
    assert unknown.errors[0].startswith("Unknown label “Q2”")


def test_queued_rows_take_the_next_free_schedule_times_and_labels_apply(client, team):
    """#15 meets #16: a row may say "queue" instead of a time; labels are named."""
    from datetime import time as clock

    from calendar_app.models import Label
    from calendar_app.planning import queue

    queue.schedule_set(project=team.project, schedule=[(1, clock(9)), (3, clock(9))])  # Tu, Th
    Label.objects.create(workspace=team.workspace, name="Launch")
    text = "\n".join(
        [
            "project,note,queue,labels",
            "Lena Fischer,First in the queue,yes,launch",
            "Lena Fischer,Second in the queue,yes,",
        ]
    )
    rows = rows_of(team, text)
    assert all(row.ok and row.queued for row in rows), [row.errors for row in rows]
    client.force_login(team.editor)
    _, url = preview_of(client, team, text)
    assert client.post(url, {"rows": ["1", "2"]}).status_code == 302
    first, second = PlannedSlot.objects.order_by("scheduled_for")
    berlin = team.workspace.zone
    # Tuesday 09:00 has passed (it is Tuesday 11:00): Thursday, then next Tuesday.
    assert [s.scheduled_for.astimezone(berlin).weekday() for s in (first, second)] == [3, 1]
    assert [s.note.text for s in (first, second)] == ["First in the queue", "Second in the queue"]
    assert {s.scheduled_for.astimezone(berlin).time() for s in (first, second)} == {clock(9)}
    assert [label.name for label in first.labels.all()] == ["Launch"]
    # The same file again plans nothing new, whatever times the queue would give now.
    _, url = preview_of(client, team, text)
    again = client.get(url).content.decode()
    assert again.count("Already imported earlier") == 2
