"""The insights page, its CSV downloads, the admins' spend gauge, the cost lines, and the
list's "At risk" filter: who may see them, and what they cost in queries."""

from __future__ import annotations

import csv
import html as html_text
import io
import re
from datetime import UTC, datetime, time, timedelta

import pytest

from calendar_app.models import GenerationJob, SlotEvent
from scripe_integration.services import connection_for
from tests.calendar_app.history import with_plan

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def login(client, user):
    client.force_login(user)
    return client


def some_history(team, n: int) -> None:
    """n slots over the weeks around now, each with a written attempt and a review."""
    for i in range(n):
        when = NOW + timedelta(days=i % 100 - 50, hours=i % 7)
        slot = team.slot(when, status=["draft", "published", "in_review", "failed"][i % 4])
        GenerationJob.objects.create(
            slot=slot,
            idempotency_key=f"key-{slot.pk}",
            finished=True,
            scripe_status="DONE",
            accepted_at=when - timedelta(days=2),
            completed_at=when - timedelta(days=2) + timedelta(seconds=10 + i % 30),
            submitted_at=when - timedelta(days=2),
        )
        ready = when - timedelta(days=1)
        SlotEvent.objects.create(slot=slot, kind="status", status="in_review", created_at=ready)
        SlotEvent.objects.create(
            slot=slot,
            kind="status",
            status="approving",
            actor=team.manager,
            created_at=ready + timedelta(hours=i % 5 + 1),
        )


def test_it_shows_every_chart_to_a_manager(client, team):
    some_history(team, 12)
    login(client, team.manager)
    response = client.get("/insights/")
    assert response.status_code == 200
    html = response.content.decode()
    for title in (
        "Scripe spend today",
        "At risk",
        "Posts per week by status",
        "Generations",
        "Review turnaround",
        "Planned and published per project",
    ):
        assert title in html
    assert html.count("<svg") >= 6
    assert html.count("<table") >= 5
    # Nothing inline for the Content-Security-Policy to refuse.
    assert "style=" not in html and "<script>" not in html
    assert 'href="/insights/"' in html  # the nav link


def test_an_admin_sees_it_too(client, team):
    login(client, team.admin)
    assert client.get("/insights/").status_code == 200


def test_an_editor_is_refused(client, team):
    login(client, team.editor)
    assert client.get("/insights/").status_code == 403
    assert client.get("/insights/posts.csv").status_code == 403
    assert 'href="/insights/"' not in client.get("/slots/").content.decode()


def test_anonymous_goes_to_log_in(client, team):
    response = client.get("/insights/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_outsider_sees_nothing_of_another_workspace(client, team):
    login(client, team.outsider)  # admin of Globex only
    response = client.get(f"/insights/?workspace={team.workspace.public_id}")
    assert response.status_code == 404
    response = client.get(f"/insights/posts.csv?project={team.project.scripe_id}")
    assert response.status_code == 404
    # Their own workspace shows, without the other's numbers.
    team.slot(NOW + timedelta(days=1))
    html = client.get("/insights/").content.decode()
    assert "Globex" in html and "Lena Fischer" not in html


def test_a_project_filter_narrows_the_page(client, team):
    team.slot(NOW + timedelta(days=1), project=team.paused)
    login(client, team.manager)
    response = client.get(f"/insights/?project={team.project.scripe_id}")
    assert response.status_code == 200
    table = response.context["posts"].table()
    assert sum(row[-1] for row in table.rows) == 0
    assert client.get("/insights/?project=nope").status_code == 404


def test_a_label_filter_narrows_the_page_and_names_its_workspace(client, team):
    from calendar_app.models import Label

    launch = Label.objects.create(workspace=team.workspace, name="Launch")
    launch.slots.add(team.slot(NOW + timedelta(days=1)))
    team.slot(NOW + timedelta(days=1))
    foreign = Label.objects.create(workspace=team.other_workspace, name="Theirs")
    login(client, team.manager)
    response = client.get(f"/insights/?label={launch.public_id}")
    assert response.status_code == 200
    assert sum(row[-1] for row in response.context["posts"].table().rows) == 1
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(f"/insights/posts.csv?label={launch.public_id}").content.decode()
            )
        )
    )
    assert sum(int(row[-1]) for row in rows[1:]) == 1
    assert client.get(f"/insights/?label={foreign.public_id}").status_code == 404


def test_it_only_answers_get(client, team):
    login(client, team.manager)
    assert client.post("/insights/").status_code == 405
    assert client.post("/insights/posts.csv").status_code == 405


@pytest.mark.parametrize(
    ("chart", "header"),
    [
        ("posts", "Week of"),
        ("outcomes", "Week of"),
        ("review", "Manager"),
        ("projects", "Project"),
        ("spend", "Hour (UTC)"),
        ("at-risk", "Time (UTC)"),
    ],
)
def test_each_chart_downloads_as_csv(client, team, chart, header):
    some_history(team, 8)
    team.slot(NOW + timedelta(hours=1), text="=HYPERLINK(evil)")
    login(client, team.manager)
    response = client.get(f"/insights/{chart}.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"insights-{chart}-2026-06-10.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == header
    assert not any(cell.startswith("=") for row in rows for cell in row)


def test_the_posts_csv_has_the_tables_numbers(client, team):
    team.slot(NOW + timedelta(hours=30), status="published")
    login(client, team.manager)
    rows = list(csv.reader(io.StringIO(client.get("/insights/posts.csv").content.decode())))
    assert ["2026-06-08", "0", "0", "0", "0", "1", "0", "0", "1"] in rows
    assert len(rows) == 1 + 17


def test_an_unknown_chart_is_404(client, team):
    login(client, team.manager)
    assert client.get("/insights/nothing.csv").status_code == 404


def test_the_page_costs_the_same_whatever_the_data(client, team, django_assert_num_queries):
    # session, user, memberships, profile; posts 1; outcomes 3; review 3; projects 3 (the
    # projects, their weeks, their posting schedules); spend 1; at risk 3 (usual generation,
    # usual review, the lane); the project and label pickers; the review badge
    login(client, team.manager)
    some_history(team, 2)
    with django_assert_num_queries(21):
        client.get("/insights/")
    some_history(team, 60)
    with django_assert_num_queries(21):
        client.get("/insights/")


def test_a_first_week_of_generations_draws_its_times(client, team):
    slot = team.slot(NOW + timedelta(days=1))
    GenerationJob.objects.create(
        slot=slot,
        idempotency_key="only",
        finished=True,
        scripe_status="DONE",
        accepted_at=NOW - timedelta(hours=1),
        completed_at=NOW - timedelta(hours=1) + timedelta(seconds=42),
    )
    html = login(client, team.manager).get("/insights/").content.decode()
    # One week is a point, not a line: a dot for the median and one for the p90.
    assert html.count('<circle class="dot-median"') == 1
    assert html.count('<circle class="dot-p90"') == 1
    assert "median 42 s (1 written)" in html
    assert "Week of 8 Jun · Written: 1" in html  # its bar


def test_before_the_cap_is_known_there_is_no_burn_down(client, team):
    html = login(client, team.manager).get("/insights/").content.decode()
    assert "The daily cap is not known until Scripe names the plan" in html
    assert "chart-spend" not in html
    connection = connection_for(team.workspace)
    connection.plan = "SOLO"
    connection.save()
    html = client.get("/insights/").content.decode()
    assert "chart-spend" in html and "is not known until" not in html
    assert "Nothing spent yet today; the daily cap is 500 ¢ (Solo plan)." in html


def test_a_week_with_fewer_posts_planned_than_the_schedule_is_marked(client, team):
    from calendar_app.planning.queue import schedule_set

    schedule_set(project=team.project, schedule=[(0, time(9)), (3, time(9))])
    team.slot(datetime(2026, 6, 11, 7, tzinfo=UTC))  # Thursday 09:00 in Berlin
    team.slot(datetime(2026, 6, 15, 7, tzinfo=UTC))
    team.slot(datetime(2026, 6, 18, 7, tzinfo=UTC))
    html = login(client, team.manager).get("/insights/").content.decode()
    assert "Lena Fischer, week of 8 Jun: 1 planned, 0 published, 2 on the schedule" in html
    assert "Lena Fischer, week of 15 Jun: 2 planned, 0 published, 2 on the schedule" in html
    # Of this week and the 8 ahead, all but the week of 15 June have fewer than 2 planned;
    # the 8 weeks past are held against today's schedule, but not marked short.
    assert html.count('class="target target-short"') == 8
    assert html.count('class="target"') == 9
    # A label's posts are some of the project's: no schedule line to hold them against.
    from calendar_app.models import Label

    launch = Label.objects.create(workspace=team.workspace, name="Launch")
    html = client.get(f"/insights/?label={launch.public_id}").content.decode()
    assert 'class="target' not in html


def test_the_admin_shows_todays_spend_as_insights_counts_it(client, team):
    connection = connection_for(team.workspace)
    connection.plan = "SOLO"
    connection.save()
    slot = team.slot(NOW + timedelta(days=1))
    GenerationJob.objects.create(
        slot=slot, idempotency_key="a", is_current=False, accepted_at=NOW - timedelta(hours=1)
    )
    # Sent and not answered yet: Scripe may well charge it.
    GenerationJob.objects.create(
        slot=slot, idempotency_key="b", attempt=2, submitted_at=NOW - timedelta(minutes=1)
    )
    team.admin.is_superuser = True
    team.admin.save()
    login(client, team.admin)
    html = client.get(f"/admin/calendar_app/workspace/{team.workspace.pk}/change/").content
    assert "About 10 ¢ of the 500 ¢ daily cap (Solo plan): 2 generations." in html.decode()
    insights_page = client.get("/insights/").content.decode()
    assert "About 10 ¢ of the 500 ¢ daily cap (Solo plan): 2 generations." in insights_page


def test_the_gauge_is_for_admins(client, team, django_assert_num_queries):
    with_plan(team)
    login(client, team.admin)
    assert 'hx-get="/insights/gauge/"' in client.get("/slots/").content.decode()
    # session, user, memberships, profile, today's spend
    with django_assert_num_queries(5):
        html = client.get("/insights/gauge/").content.decode()
    assert "<meter" in html and "Acme" in html
    login(client, team.manager)
    assert 'hx-get="/insights/gauge/"' not in client.get("/slots/").content.decode()
    assert client.get("/insights/gauge/").content == b""


def test_the_slot_page_shows_what_a_generation_costs(client, team):
    slot = team.slot(NOW + timedelta(days=2))
    login(client, team.editor)
    html = client.get(f"/slots/{slot.public_id}/").content.decode()
    assert "Estimated cost: about 5 ¢" in html


def test_the_list_filters_at_risk_slots_in_constant_queries(
    client, team, django_assert_num_queries
):
    risky = team.slot(NOW + timedelta(hours=2), text="Due soon and not written")
    team.slot(NOW + timedelta(days=3), text="Plenty of time")
    login(client, team.editor)
    # the list's 10 (with the bulk bar's labels, the rows' labels and the label filter's,
    # #15), and the usual generation and review times
    with django_assert_num_queries(12):
        html = client.get("/slots/?status=at_risk").content.decode()
    assert "Due soon and not written" in html and "Plenty of time" not in html
    assert '<option value="at_risk" selected>At risk</option>' in html
    for i in range(30):
        team.slot(NOW + timedelta(hours=1, minutes=i))
    with django_assert_num_queries(12):
        client.get("/slots/?status=at_risk")
    assert risky.public_id


def test_an_admin_sets_auto_generation_on_the_workspace_in_the_admin(client, team):
    team.admin.is_superuser = True
    team.admin.save()
    login(client, team.admin)
    url = f"/admin/calendar_app/workspace/{team.workspace.pk}/change/"
    html = client.get(url).content.decode()
    assert 'name="auto_generate_hours"' in html


def gauge_text(client) -> str:
    html = client.get("/insights/gauge/").content.decode()
    return html_text.unescape(re.search(r'"spend-gauge-text">([^<]*)</span>', html).group(1))


def spent_today(team, generations: int) -> None:
    slot = team.slot(NOW + timedelta(days=2))
    for n in range(generations):
        GenerationJob.objects.create(
            slot=slot,
            attempt=n + 1,
            idempotency_key=f"spent-{slot.pk}-{n}",
            is_current=False,
            accepted_at=NOW - timedelta(minutes=n + 1),
        )


def test_the_gauge_says_what_was_spent_while_the_cap_is_unknown(client, team):
    """QA: 45 ¢ spent before the key was verified read "0%", a share of a cap nobody knew."""
    spent_today(team, 9)
    login(client, team.admin)
    html = client.get("/insights/gauge/").content.decode()
    assert gauge_text(client) == "45 ¢"
    assert "<meter" not in html and "0%" not in html
    assert "About 45 ¢: 9 generations. The daily cap is not known" in html


def test_the_gauge_says_a_share_of_a_known_cap_that_some_spend_never_rounds_to_0(client, team):
    with_plan(team)  # Advanced: a 2000 ¢ cap
    login(client, team.admin)
    assert gauge_text(client) == "0%"
    spent_today(team, 1)  # 5 ¢: 0.25 %
    assert gauge_text(client) == "<1%"
    spent_today(team, 8)  # 45 ¢: 2.25 %
    html = client.get("/insights/gauge/").content.decode()
    assert gauge_text(client) == "2%" and 'value="2.25"' in html
    # It asks again while the page stays open.
    assert 'hx-get="/insights/gauge/" hx-trigger="every 60s"' in html
