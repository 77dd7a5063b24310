from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from calendar_app.models import Profile

NOW = datetime(2026, 10, 15, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def login(client, user):
    client.force_login(user)
    return client


# month view ------------------------------------------------------------------------------------


def test_the_month_shows_cards_on_their_local_day_and_time(client, team):
    # 22:30 UTC on the 20th is 00:30 on the 21st in Berlin (summer time, UTC+2).
    team.slot(datetime(2026, 10, 20, 22, 30, tzinfo=UTC), text="Late night idea about hiring")
    html = login(client, team.editor).get("/calendar/2026/10/").content.decode()
    day = html.split('data-date="2026-10-21"')[1].split('data-date="2026-10-22"')[0]
    assert "00:30" in day
    assert "Late night idea about hiring" in day
    assert "Times in Europe/Berlin" in html


def test_the_root_url_is_the_current_month(client, team):
    html = login(client, team.editor).get("/").content.decode()
    assert "October 2026" in html


def test_anonymous_users_are_sent_to_login(client):
    response = client.get("/calendar/2026/10/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_outsider_never_sees_another_workspaces_slots(client, team):
    team.slot(datetime(2026, 10, 20, 9, 0, tzinfo=UTC), text="Acme secret plans")
    html = login(client, team.outsider).get("/calendar/2026/10/").content.decode()
    assert "Acme secret plans" not in html


def test_the_month_refuses_post(client, team):
    assert login(client, team.editor).post("/calendar/2026/10/").status_code == 405


def test_an_impossible_month_is_404(client, team):
    assert login(client, team.editor).get("/calendar/2026/13/").status_code == 404


def test_htmx_gets_only_the_calendar_fragment(client, team):
    response = login(client, team.editor).get("/calendar/2026/11/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="calendar"')
    assert "<html" not in html
    assert "November 2026" in html


def test_navigation_links_keep_the_project_filter(client, team):
    html = login(client, team.editor).get(f"/calendar/2026/10/?project={team.project.scripe_id}")
    html = html.content.decode()
    assert f'href="/calendar/2026/11/?project={team.project.scripe_id}"' in html
    assert f'href="/calendar/2026/9/?project={team.project.scripe_id}"' in html


def test_the_project_filter_hides_other_projects(client, team):
    other = team.project.__class__.objects.create(
        workspace=team.workspace, scripe_id="proj_other", name="Other"
    )
    team.slot(datetime(2026, 10, 20, 9, 0, tzinfo=UTC), text="Kept visible")
    team.slot(datetime(2026, 10, 20, 10, 0, tzinfo=UTC), project=other, text="Filtered away")
    html = login(client, team.editor).get(f"/calendar/2026/10/?project={team.project.scripe_id}")
    assert "Kept visible" in html.content.decode()
    assert "Filtered away" not in html.content.decode()


def test_a_busy_day_shows_a_handful_and_a_link_to_the_rest(client, team):
    for hour in range(6, 13):
        team.slot(datetime(2026, 10, 20, hour, 0, tzinfo=UTC))
    html = login(client, team.editor).get("/calendar/2026/10/").content.decode()
    assert "+3 more</a>" in html
    assert 'href="/calendar/day/2026-10-20/"' in html


def test_the_month_runs_a_constant_number_of_queries(client, team, django_assert_num_queries):
    login(client, team.editor)
    team.slot(datetime(2026, 10, 20, 9, 0, tzinfo=UTC))
    # session, user, memberships with workspaces, profile, projects, the workspaces' labels
    # (the filter), the slots with their notes' heads and current generation jobs (one
    # query, `selectors.card_rows`), and the cards' labels (one query, #15)
    with django_assert_num_queries(8):
        client.get("/calendar/2026/10/")
    for day in range(1, 29):
        team.slot(datetime(2026, 10, day, 12, 0, tzinfo=UTC) + timedelta(days=1))
    with django_assert_num_queries(8):
        response = client.get("/calendar/2026/10/")
    assert response.content.decode().count('class="slot-card') > 20


def test_a_managers_month_adds_only_the_review_badge(client, team, django_assert_num_queries):
    login(client, team.manager)
    team.slot(datetime(2026, 10, 20, 9, 0, tzinfo=UTC), status="in_review")
    # the editor's eight, and the count of drafts waiting for review
    with django_assert_num_queries(9):
        client.get("/calendar/2026/10/")
    for day in range(1, 29):
        team.slot(datetime(2026, 10, day, 12, 0, tzinfo=UTC), status="in_review")
    with django_assert_num_queries(9):
        html = client.get("/calendar/2026/10/").content.decode()
    assert 'data-review-count="29"' in html and ">29</span>" in html


# week and day views ----------------------------------------------------------------------------


def test_the_week_starts_on_monday_and_shows_every_card(client, team):
    for hour in range(6, 13):
        team.slot(datetime(2026, 10, 21, hour, 0, tzinfo=UTC))
    html = login(client, team.editor).get("/calendar/week/2026-10-22/").content.decode()
    assert "19 Oct – 25 Oct 2026" in html
    assert html.count('class="slot-card') == 7
    assert "more</a>" not in html


def test_the_week_across_the_dst_change_keeps_local_times(client, team):
    # Berlin leaves summer time on Sunday 25 October 2026: 09:00 local is 07:00 UTC before
    # and 08:00 UTC after.
    team.slot(datetime(2026, 10, 24, 7, 0, tzinfo=UTC), text="Saturday post")
    team.slot(datetime(2026, 10, 26, 8, 0, tzinfo=UTC), text="Monday post")
    html = login(client, team.editor).get("/calendar/week/2026-10-24/").content.decode()
    # The week is an hourly grid (#15): each card sits in its local hour's cell.
    saturday = html.split('data-date="2026-10-24" data-hour="9"')[1].split("</div>")[0]
    assert "09:00" in saturday and "Saturday post" in saturday
    monday_week = login(client, team.editor).get("/calendar/week/2026-10-26/").content.decode()
    monday = monday_week.split('data-date="2026-10-26" data-hour="9"')[1].split("</div>")[0]
    assert "09:00" in monday and "Monday post" in monday


def test_the_week_runs_a_constant_number_of_queries(client, team, django_assert_num_queries):
    login(client, team.editor)
    team.slot(datetime(2026, 10, 20, 9, 0, tzinfo=UTC))
    with django_assert_num_queries(9):
        client.get("/calendar/week/2026-10-19/")
    for hour in range(20):
        team.slot(datetime(2026, 10, 21, 0, 0, tzinfo=UTC) + timedelta(hours=hour * 3))
    with django_assert_num_queries(9):
        client.get("/calendar/week/2026-10-19/")


def test_a_bad_week_date_is_404(client, team):
    assert login(client, team.editor).get("/calendar/week/2026-02-30/").status_code == 404


def test_the_day_view_lists_every_slot_of_the_day(client, team):
    for hour in range(6, 13):
        team.slot(datetime(2026, 10, 20, hour, 0, tzinfo=UTC))
    html = login(client, team.editor).get("/calendar/day/2026-10-20/").content.decode()
    assert html.count('class="slot-card') == 7


# time zones ------------------------------------------------------------------------------------


def test_berlin_and_new_york_see_the_same_slot_at_their_own_times(client, team):
    team.slot(datetime(2026, 10, 20, 13, 0, tzinfo=UTC), text="One shared slot")
    Profile.objects.create(user=team.manager, time_zone="America/New_York")
    berlin = login(client, team.editor).get("/calendar/day/2026-10-20/").content.decode()
    new_york = login(client, team.manager).get("/calendar/day/2026-10-20/").content.decode()
    assert '<span class="slot-time">15:00</span>' in berlin
    assert '<span class="slot-time">09:00</span>' in new_york
    assert "Times in America/New_York" in new_york


# the calendar's card rows ------------------------------------------------------------------------


def test_calendar_rows_render_the_same_cards_as_the_slots_themselves(
    team, django_assert_num_queries
):
    """`selectors.card_rows` builds a page's slots from plain values; every card in every
    state must come out exactly as it does from the slot itself, and without a query."""
    import uuid

    from django.template.loader import get_template
    from django.utils import timezone

    from calendar_app.access import Viewer
    from calendar_app.models import GenerationJob, Membership, PlannedSlot
    from calendar_app.planning import selectors
    from calendar_app.templatetags.cards import CARD

    def job(slot, attempt=1, *, is_current=True, **fields):
        GenerationJob.objects.create(
            slot=slot,
            attempt=attempt,
            is_current=is_current,
            idempotency_key=uuid.uuid4().hex,
            **fields,
        )

    at = NOW + timedelta(days=1)
    started = NOW - timedelta(seconds=75)
    team.slot(at, text="A plain draft   with\n\n spaces " + "long " * 40)
    job(team.slot(at, status="queued"), submitted_at=None)
    job(
        team.slot(at, status="generating"),
        scripe_job_id="job_1",
        progress=0.42,
        progress_message="Writing the draft",
        submitted_at=started,
    )
    job(
        team.slot(at, status="queued"),
        scripe_job_id="job_2",
        retry_reason="rate limited",
        next_poll_at=NOW + timedelta(seconds=9),
        submitted_at=started,
    )
    job(team.slot(at, status="generating"), scripe_job_id="job_3", stalled=True)
    failed = team.slot(at, status="failed")
    job(failed, 1, is_current=False, error_message="An older reason.")
    job(failed, 2, error_message="Scripe's content policy flagged it.", completed_at=NOW)
    job(team.slot(at, status="in_review"), post_content="Text", completed_at=NOW)
    job(team.slot(at, status="draft"), error_message="Not shown on a draft.")
    for status, fields in [
        ("changes_requested", {"status_note": "Make it shorter."}),
        ("scheduled", {"scripe_warning": "Scripe did not publish it at its time."}),
        ("published", {"published_at": NOW - timedelta(hours=2)}),
        ("cancelled", {}),
        ("removed", {}),
        ("approving", {}),
        ("missed", {"status_note": "Its time passed."}),
    ]:
        slot = team.slot(at, status=status)
        PlannedSlot.objects.filter(pk=slot.pk).update(**fields)
    viewer = Viewer(team.editor, list(Membership.objects.filter(user=team.editor)))
    viewer.zone  # noqa: B018 - its query is not the cards'
    projects = list(selectors.visible_projects(viewer))
    day = at.date()
    slots = selectors.slots_between(viewer, day, day)
    rows = selectors.card_rows(viewer, day, day, projects=projects)
    assert [r.pk for r in rows] == [s.pk for s in slots] and len(rows) == 15
    partial = get_template(CARD)
    with timezone.override(viewer.zone):
        expected = [partial.render({"slot": slot}) for slot in slots]
        with django_assert_num_queries(0):
            shown = [partial.render({"slot": row}) for row in rows]
    for want, got in zip(expected, shown, strict=True):
        assert got == want
    assert "Retrying in 9 s." in "".join(shown) and "1 min 15 s" in "".join(shown)


def test_a_moment_is_read_to_the_microsecond(team):
    from calendar_app.models import PlannedSlot
    from calendar_app.planning.live import EpochMicros, from_micros, to_micros

    for moment in (
        datetime(2026, 10, 20, 22, 30, 5, 123456, tzinfo=UTC),
        datetime(2026, 10, 20, 22, 30, tzinfo=UTC),
        datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    ):
        slot = team.slot(moment)
        row = PlannedSlot.objects.annotate(micros=EpochMicros("scheduled_for")).get(pk=slot.pk)
        assert from_micros(row.micros) == moment
        assert row.micros == to_micros(moment)


# the review queue's list, cached like the cards ------------------------------------------------


def test_the_review_list_follows_the_selection_and_what_its_entries_show(client, team):
    """Its entries come from a cache (`cards.render_review_items`): the selection, a project's
    new name and a draft's new time must still show."""
    import re

    from calendar_app.models import PlannedSlot

    drafts = [
        team.slot(datetime(2026, 10, 20, 9 + i, 0, tzinfo=UTC), status="in_review")
        for i in range(3)
    ]

    def entries(url):
        html = client.get(url).content.decode()
        return re.findall(r'<li><a class="(review-item[^"]*)".*?</a></li>', html, re.S), html

    login(client, team.manager)
    classes, html = entries("/review/")
    assert classes == ["review-item review-item-on", "review-item", "review-item"]
    classes, html = entries(f"/review/?slot={drafts[1].public_id}")
    assert classes == ["review-item", "review-item review-item-on", "review-item"]
    assert html.count('aria-current="true"') == 1
    team.project.name = "Renamed by the sync"
    team.project.save()
    PlannedSlot.objects.filter(pk=drafts[2].pk).update(
        scheduled_for=datetime(2026, 10, 21, 14, 5, tzinfo=UTC)
    )
    classes, html = entries(f"/review/?slot={drafts[1].public_id}")
    assert html.count('<span class="review-item-project">Renamed by the sync</span>') == 3
    assert '<span class="review-item-when">Wed 21 Oct, 16:05</span>' in html


def test_the_review_list_shows_a_hundred_and_counts_the_rest(client, team):
    for i in range(103):
        team.slot(datetime(2026, 10, 20, 0, 0, tzinfo=UTC) + timedelta(minutes=i), status="missed")
    html = login(client, team.manager).get("/review/").content.decode()
    assert html.count("data-review-item") == 100
    assert "…and 3 more; filter by project or date." in html
    assert "(103 waiting)" in html


# the status filter and "At risk" (#18) ---------------------------------------------------------


def at_risk_and_not(team):
    """With no history, Scripe's usual time is 10 min and the usual review 4 h."""
    return {
        "risky": team.slot(NOW + timedelta(hours=2), text="Due soon and not written"),
        "waiting": team.slot(NOW + timedelta(hours=1), status="in_review", text="Review due"),
        "safe": team.slot(NOW + timedelta(days=3), text="Plenty of time"),
        "reviewed_in_time": team.slot(
            NOW + timedelta(days=2), status="in_review", text="Review can wait"
        ),
        "passed": team.slot(NOW - timedelta(hours=1), text="Already past"),
    }


@pytest.mark.parametrize("url", ["/calendar/2026/10/", "/calendar/week/2026-10-15/"])
def test_the_calendar_shows_only_posts_at_risk_when_asked(client, team, url):
    at_risk_and_not(team)
    html = login(client, team.editor).get(f"{url}?status=at_risk").content.decode()
    assert "Due soon and not written" in html and "Review due" in html
    for text in ("Plenty of time", "Review can wait", "Already past"):
        assert text not in html
    assert '<option value="at_risk" selected>At risk</option>' in html
    assert "2 posts at risk here" in html
    # Navigation keeps the filter; "Show every status" drops it and keeps the rest.
    assert "status=at_risk" in html.split('aria-label="Next')[0].rsplit("href=", 1)[1]
    everything = login(client, team.editor).get(url).content.decode()
    assert "Plenty of time" in everything and "posts at risk here" not in everything


def test_the_calendar_filters_by_a_status_and_ignores_one_it_does_not_know(client, team):
    at_risk_and_not(team)
    login(client, team.editor)
    html = client.get("/calendar/2026/10/?status=in_review").content.decode()
    assert "Review due" in html and "Review can wait" in html and "Plenty of time" not in html
    assert "2 posts here with the status “Ready for review”" in html
    html = client.get("/calendar/2026/10/?status=nonsense").content.decode()
    assert "Plenty of time" in html and "Review due" in html
    assert "posts here" not in html


def test_the_at_risk_filter_costs_the_same_for_one_post_or_thirty(
    client, team, django_assert_num_queries
):
    team.slot(NOW + timedelta(hours=2))
    login(client, team.editor)
    # session, user, memberships, profile; projects, labels, the usual generation and review
    # times, the cards, their labels; the review badge is for managers
    with django_assert_num_queries(10):
        client.get("/calendar/2026/10/?status=at_risk")
    for n in range(30):
        team.slot(NOW + timedelta(hours=1, minutes=n))
    with django_assert_num_queries(10):
        html = client.get("/calendar/2026/10/?status=at_risk").content.decode()
    assert "31 posts at risk here" in html


def test_the_live_poll_of_the_at_risk_calendar_drops_a_post_no_longer_at_risk(client, team):
    from django.utils import timezone

    from calendar_app.models import PlannedSlot
    from calendar_app.planning.live import to_micros

    slots = at_risk_and_not(team)
    login(client, team.editor)
    since = to_micros(timezone.now() - timedelta(seconds=1))
    # The risky draft was moved a week later; the waiting draft is still at risk.
    PlannedSlot.objects.filter(pk=slots["risky"].pk).update(
        scheduled_for=NOW + timedelta(days=7), updated_at=timezone.now()
    )
    PlannedSlot.objects.filter(pk=slots["waiting"].pk).update(updated_at=timezone.now())
    window = {"view": "calendar", "from": "2026-09-28", "to": "2026-11-08", "since": since}
    html = client.get("/slots/live/", {**window, "status": "at_risk"}).content.decode()
    assert f'data-live-gone="{slots["risky"].public_id}"' in html
    assert f'id="slot-{slots["waiting"].public_id}"' in html
    # Without the filter the moved draft is a card like any other.
    html = client.get("/slots/live/", window).content.decode()
    assert f'id="slot-{slots["risky"].public_id}"' in html


# switching between month and week ------------------------------------------------------------


def switch_link(html: str) -> str:
    return html.split('role="group" aria-label="View"')[1].split('href="')[1].split('"')[0]


@pytest.mark.parametrize(
    ("week", "month"),
    [
        ("2026-10-15", "/calendar/2026/10/"),  # today's week: today's month
        ("2026-09-28", "/calendar/2026/10/"),  # 28 Sep – 4 Oct: most of it is October
        ("2026-11-30", "/calendar/2026/12/"),  # 30 Nov – 6 Dec: most of it is December
    ],
)
def test_a_week_switches_to_the_month_it_belongs_to(client, team, week, month):
    html = login(client, team.editor).get(f"/calendar/week/{week}/").content.decode()
    assert switch_link(html) == month


def test_a_month_switches_to_todays_week_or_its_first(client, team):
    login(client, team.editor)
    assert switch_link(client.get("/calendar/2026/10/").content.decode()).startswith(
        "/calendar/week/2026-10-15/"
    )
    assert switch_link(client.get("/calendar/2026/11/").content.decode()).startswith(
        "/calendar/week/2026-11-01/"
    )


def test_the_weeks_hour_range_links_keep_the_filter(client, team):
    url = f"/calendar/week/2026-10-15/?project={team.project.scripe_id}&status=at_risk"
    html = login(client, team.editor).get(url).content.decode()
    query = f"project={team.project.scripe_id}&amp;status=at_risk"
    assert f'href="/calendar/week/2026-10-12/?{query}&amp;start=0&amp;end=24">Whole day' in html
    assert f'href="/calendar/week/2026-10-12/?{query}&amp;start=7&amp;end=21">07–21' in html
    plain = client.get("/calendar/week/2026-10-15/").content.decode()
    assert 'href="/calendar/week/2026-10-12/?start=0&amp;end=24">Whole day' in plain


def test_a_filtered_calendar_keeps_its_filter_in_what_it_asks_and_links(client, team):
    from calendar_app.models import Label

    launch = Label.objects.create(workspace=team.workspace, name="Launch")
    url = f"/calendar/2026/10/?project={team.project.scripe_id}&label={launch.public_id}"
    html = login(client, team.editor).get(f"{url}&status=at_risk").content.decode()
    # The live poll asks about the same posts.
    live_query = html.split('data-live-query="')[1].split('"')[0]
    assert "status=at_risk" in live_query and f"label={launch.public_id}" in live_query
    # "Show every status" drops only the status.
    note = html.split('class="filter-note"')[1].split("</p>")[0]
    link = note.split('href="')[1].split('"')[0].replace("&amp;", "&")
    assert link == url
    # The day pages of the month keep the whole filter.
    assert f'href="/calendar/day/2026-10-20/?project={team.project.scripe_id}&amp;' in html


def test_the_htmx_fragment_of_a_filtered_calendar_says_what_it_shows(client, team):
    at_risk_and_not(team)
    response = login(client, team.editor).get(
        "/calendar/2026/10/?status=at_risk", headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="calendar"') and "<html" not in html
    assert "2 posts at risk here" in html and "Plenty of time" not in html


def test_the_day_page_filters_like_its_month_and_refreshes_filtered(client, team):
    at_risk_and_not(team)  # two at risk today (15 Oct), one in review on the 17th
    html = login(client, team.editor).get("/calendar/day/2026-10-15/?status=at_risk")
    html = html.content.decode()
    assert "Due soon and not written" in html and "Already past" not in html
    assert "2 posts at risk here" in html
    assert 'hx-get="/calendar/day/2026-10-15/?status=at_risk"' in html
    assert 'href="/calendar/day/2026-10-15/">Show every status' in html


def test_posts_at_risk_in_each_of_the_viewers_workspaces_follow_their_own_rules(client, team):
    from calendar_app.models import Membership, Role

    # Globex has no review: only Scripe's usual 10 minutes count there.
    team.other_workspace.review_required = False
    team.other_workspace.save()
    Membership.objects.create(user=team.editor, workspace=team.other_workspace, role=Role.EDITOR)
    team.slot(NOW + timedelta(hours=2), text="Acme, review still to come")
    team.slot(NOW + timedelta(minutes=8), project=team.foreign_project, text="Globex, in 8 min")
    team.slot(NOW + timedelta(hours=2), project=team.foreign_project, text="Globex, in 2 h")
    html = login(client, team.editor).get("/calendar/2026/10/?status=at_risk").content.decode()
    assert "Acme, review still to come" in html and "Globex, in 8 min" in html
    assert "Globex, in 2 h" not in html


def test_a_live_poll_of_the_at_risk_calendar_costs_the_same_for_one_change_or_thirty(
    client, team, django_assert_num_queries
):
    from django.utils import timezone

    from calendar_app.models import PlannedSlot
    from calendar_app.planning.live import to_micros

    login(client, team.editor)
    window = {"view": "calendar", "from": "2026-09-28", "to": "2026-11-08", "status": "at_risk"}

    def changed(n) -> dict:
        since = to_micros(timezone.now() - timedelta(seconds=1))
        for i in range(n):
            team.slot(NOW + timedelta(hours=1, minutes=i))
        PlannedSlot.objects.update(updated_at=timezone.now())
        return {**window, "since": since}

    # session, user, memberships, profile; what changed; the usual generation and review
    # times; the changed cards at risk with their current attempts, their labels
    query = changed(1)
    with django_assert_num_queries(9):
        assert client.get("/slots/live/", query).status_code == 200
    query = changed(30)
    with django_assert_num_queries(9):
        html = client.get("/slots/live/", query).content.decode()
    assert html.count('class="slot-card') == 31


def test_a_filtered_week_offers_no_schedule_time_a_hidden_post_takes(client, team):
    from datetime import time

    from calendar_app.models import ScheduleTime

    ScheduleTime.objects.create(project=team.project, weekday=4, time=time(9))  # Fridays 09:00
    team.slot(datetime(2026, 10, 16, 7, 0, tzinfo=UTC))  # Friday 09:00 Berlin: not at risk
    login(client, team.editor)
    mark = "Posting schedule of Lena Fischer"
    assert mark not in client.get("/calendar/week/2026-10-15/").content.decode()
    filtered = client.get("/calendar/week/2026-10-15/?status=at_risk").content.decode()
    assert mark not in filtered and "An idea worth a post." not in filtered
