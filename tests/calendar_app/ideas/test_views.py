"""The ideas board's pages (#26): the view checklist (happy path, anonymous, outsider, wrong
method, bad input, HTMX fragment), drops from the panel, and constant query counts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from calendar_app.access import viewer_of
from calendar_app.ideas import services
from calendar_app.models import Idea, IdeaState, Label, PlannedSlot

NOW = datetime(2026, 10, 15, 10, 0, tzinfo=UTC)
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def add(team, text="Why we stopped posting daily", **fields):
    fields.setdefault("project", team.project)
    return services.idea_create(
        viewer=viewer_of(team.editor), workspace=team.workspace, text=text, **fields
    )


# the board -------------------------------------------------------------------------------------


def test_the_board_shows_a_column_per_state_and_the_list_the_same_ideas(client, team):
    add(team, "First idea")
    picked = add(team, "Second idea")
    services.idea_pick(viewer=viewer_of(team.editor), idea=picked)
    client.force_login(team.editor)
    page = client.get("/ideas/").content.decode()
    for column in ("New", "Picked", "Used", "Dismissed"):
        assert f'id="col-{column.lower()}"' in page
    assert "First idea" in page and "Second idea" in page
    assert 'data-idea-plan-url="/ideas/' in page
    listing = client.get("/ideas/?view=list").content.decode()
    assert "idea-table" in listing and "Second idea" in listing


def test_an_empty_board_says_what_it_is_for(client, team):
    client.force_login(team.editor)
    page = client.get("/ideas/").content.decode()
    assert "No ideas yet." in page and "Add an idea" in page


def test_the_navigation_links_to_the_board(client, team):
    client.force_login(team.editor)
    assert 'href="/ideas/"' in client.get("/").content.decode()


def test_the_board_sits_in_the_same_centred_column_as_sources_and_projects(client, team):
    client.force_login(team.editor)
    for url in ("/ideas/", "/ideas/?view=list", "/sources/", "/projects/"):
        assert '<main id="main" class="page">' in client.get(url).content.decode(), url


def test_the_board_asks_anonymous_people_to_log_in(client, team):
    response = client.get("/ideas/")
    assert response.status_code == 302 and "/login/" in response.url


def test_the_board_answers_only_get(client, team):
    client.force_login(team.editor)
    assert client.post("/ideas/").status_code == 405


def test_an_outsider_sees_none_of_the_workspaces_ideas(client, team):
    idea = add(team, "Secret plan")
    client.force_login(team.outsider)
    assert "Secret plan" not in client.get("/ideas/").content.decode()
    assert client.get(f"/ideas/{idea.public_id}/").status_code == 404
    assert client.post(f"/ideas/{idea.public_id}/plan/", {"date": "2026-10-20"}).status_code == 404
    assert client.post(f"/ideas/{idea.public_id}/state/", {"action": "pick"}).status_code == 404


def test_htmx_gets_only_the_board_fragment(client, team):
    add(team)
    client.force_login(team.editor)
    fragment = client.get("/ideas/", headers=HTMX).content.decode()
    assert fragment.lstrip().startswith('<section id="ideas-board"')
    assert "<html" not in fragment


def test_the_board_costs_the_same_for_one_idea_or_thirty(client, team, django_assert_num_queries):
    label = Label.objects.create(workspace=team.workspace, name="Launch")
    first = add(team, labels=[label])
    services.idea_plan(viewer=viewer_of(team.editor), idea=first, day=date(2026, 10, 20))
    client.force_login(team.editor)
    client.get("/ideas/")  # the session is read and cached once
    with django_assert_num_queries(11):
        client.get("/ideas/")
    for n in range(29):
        idea = add(team, f"Idea {n}", labels=[label])
        services.idea_plan(viewer=viewer_of(team.editor), idea=idea, day=date(2026, 10, 21))
    # session, user, memberships, profile (the zone), the filter's projects; the ideas, their
    # labels, their posts; the form's workspaces, projects and labels.
    for view in ("board", "list"):
        with django_assert_num_queries(11):
            assert client.get(f"/ideas/?view={view}").status_code == 200


# adding ----------------------------------------------------------------------------------------


def test_an_editor_adds_an_idea(client, team):
    client.force_login(team.editor)
    data = {"text": "A customer's question", "project": team.project.pk, "language": "en"}
    response = client.post("/ideas/add/", data)
    assert response.status_code == 302
    idea = Idea.objects.get()
    assert idea.text == "A customer's question" and idea.owner == team.editor


def test_bad_input_is_shown_next_to_the_field_and_nothing_is_saved(client, team):
    client.force_login(team.editor)
    response = client.post("/ideas/add/", {"text": "", "link": "ftp://x", "language": "en"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Give a web address starting with https:// or http://." in page
    assert Idea.objects.count() == 0
    fragment = client.post("/ideas/add/", {"text": "", "language": "en"}, headers=HTMX)
    assert fragment.status_code == 200
    assert fragment.content.decode().lstrip().startswith('<form id="idea-form"')
    assert "Write the idea, or give a link" in fragment.content.decode()


def test_adding_takes_post_only_and_a_login(client, team):
    assert client.post("/ideas/add/", {"text": "x"}).status_code == 302
    client.force_login(team.editor)
    assert client.get("/ideas/add/").status_code == 405
    client.force_login(team.outsider)  # an admin of another workspace adds there, not here
    client.post("/ideas/add/", {"text": "x", "project": team.project.pk, "language": "en"})
    assert not Idea.objects.filter(workspace=team.workspace).exists()


# an idea's page --------------------------------------------------------------------------------


def test_the_idea_page_lists_its_posts_and_the_post_page_names_the_idea(client, team):
    idea = add(team)
    slot = services.idea_plan(viewer=viewer_of(team.editor), idea=idea, day=date(2026, 10, 20))
    client.force_login(team.editor)
    page = client.get(f"/ideas/{idea.public_id}/").content.decode()
    assert f"/slots/{slot.public_id}/" in page and "Plan on this day" in page
    post = client.get(f"/slots/{slot.public_id}/").content.decode()
    assert f"/ideas/{idea.public_id}/" in post and "Planned from the idea" in post


def test_plan_on_a_past_day_shows_the_sentence_by_the_form_and_plans_nothing(client, team):
    idea = add(team)
    client.force_login(team.editor)
    response = client.post(
        f"/ideas/{idea.public_id}/plan/", {"date": "2026-10-14", "time": "10:00"}
    )
    assert response.status_code == 200
    assert "14 Oct 2026 has passed. Pick today or a later day." in response.content.decode()
    assert PlannedSlot.objects.count() == 0


def test_plan_on_a_day_plans_the_post_and_goes_to_it(client, team):
    idea = add(team)
    client.force_login(team.editor)
    response = client.post(
        f"/ideas/{idea.public_id}/plan/",
        {"date": "2026-10-20", "time": "11:15", "request_key": "b" * 32},
    )
    slot = PlannedSlot.objects.get()
    assert response.status_code == 302 and response.url == f"/slots/{slot.public_id}/"
    assert slot.scheduled_for == datetime(2026, 10, 20, 9, 15, tzinfo=UTC)


def test_a_drop_answers_with_a_toast_and_a_refused_one_with_its_sentence(client, team):
    idea = add(team)
    client.force_login(team.editor)
    response = client.post(f"/ideas/{idea.public_id}/plan/", {"date": "2026-10-20"}, headers=HTMX)
    assert response.status_code == 204
    assert "Planned for Tue 20 Oct, 09:00" in response.headers["HX-Trigger"]
    refused = client.post(f"/ideas/{idea.public_id}/plan/", {"date": "2026-10-01"}, headers=HTMX)
    assert refused.status_code == 422
    assert "1 Oct 2026 has passed" in refused.headers["HX-Trigger"]
    assert PlannedSlot.objects.count() == 1


def test_the_plan_and_state_addresses_take_post_only(client, team):
    idea = add(team)
    client.force_login(team.editor)
    for url in ("plan", "queue", "state"):
        assert client.get(f"/ideas/{idea.public_id}/{url}/").status_code == 405


def test_an_editor_cannot_dismiss_a_manager_can_and_restore(client, team):
    idea = add(team)
    client.force_login(team.editor)
    response = client.post(f"/ideas/{idea.public_id}/state/", {"action": "dismiss"}, headers=HTMX)
    assert response.status_code == 403
    client.force_login(team.manager)
    client.post(f"/ideas/{idea.public_id}/state/", {"action": "dismiss"})
    assert Idea.objects.get().state == IdeaState.DISMISSED
    client.post(f"/ideas/{idea.public_id}/state/", {"action": "restore"})
    assert Idea.objects.get().state == IdeaState.NEW


def test_the_idea_page_fragment_for_htmx(client, team):
    idea = add(team)
    client.force_login(team.editor)
    fragment = client.get(f"/ideas/{idea.public_id}/", headers=HTMX).content.decode()
    assert fragment.lstrip().startswith('<section id="idea-panel"')


def test_editing_with_bad_input_keeps_the_idea(client, team):
    idea = add(team)
    client.force_login(team.editor)
    response = client.post(f"/ideas/{idea.public_id}/", {"text": "", "link": "", "language": "en"})
    assert "Write the idea, or give a link" in response.content.decode()
    assert Idea.objects.get().text == "Why we stopped posting daily"


# the panel beside the calendar -----------------------------------------------------------------


def test_the_calendar_offers_the_panel_which_lists_plannable_ideas(client, team):
    add(team, "Waiting idea")
    dismissed = add(team, "Dismissed idea")
    services.idea_dismiss(viewer=viewer_of(team.manager), idea=dismissed)
    client.force_login(team.editor)
    assert 'hx-get="/ideas/panel/"' in client.get("/").content.decode()
    panel = client.get("/ideas/panel/", headers=HTMX).content.decode()
    assert "Waiting idea" in panel and "Dismissed idea" not in panel


def test_the_panel_costs_the_same_for_one_idea_or_thirty(client, team, django_assert_num_queries):
    add(team)
    client.force_login(team.editor)
    client.get("/ideas/panel/")
    with django_assert_num_queries(7):
        client.get("/ideas/panel/")
    for n in range(29):
        add(team, f"Idea {n}")
    # session, user, memberships, profile; the ideas, their labels, their posts.
    with django_assert_num_queries(7):
        assert client.get("/ideas/panel/").content.decode().count("idea-card") == 30


def test_a_drop_on_an_hour_of_the_week_takes_that_time(client, team):
    idea = add(team)
    client.force_login(team.editor)
    data = {"date": "2026-10-21", "time": "14:45"}
    client.post(f"/ideas/{idea.public_id}/plan/", data, headers=HTMX)
    assert PlannedSlot.objects.get().scheduled_for == datetime(2026, 10, 21, 12, 45, tzinfo=UTC)


def test_a_drop_on_a_queue_page_queues_the_idea_on_that_projects_queue(client, team):
    from calendar_app.models import Project, ScheduleTime

    other = Project.objects.create(workspace=team.workspace, scripe_id="proj_other", name="Other")
    ScheduleTime.objects.create(project=other, weekday=1, time=datetime(2000, 1, 1, 8).time())
    idea = add(team)
    client.force_login(team.editor)
    response = client.post(
        f"/ideas/{idea.public_id}/queue/", {"project": "proj_other"}, headers=HTMX
    )
    assert (
        response.status_code == 204
        and "Queued for Tue 20 Oct, 08:00" in response.headers["HX-Trigger"]
    )
    assert PlannedSlot.objects.get().project == other
    foreign = client.post(
        f"/ideas/{idea.public_id}/queue/", {"project": team.foreign_project.scripe_id}, headers=HTMX
    )
    assert foreign.status_code == 404  # another workspace's queue does not exist here


def test_the_queue_page_offers_the_panel_and_a_drop_zone(client, team):
    client.force_login(team.editor)
    page = client.get(f"/queue/{team.project.scripe_id}/").content.decode()
    assert "data-idea-queue-drop" in page
    assert f'hx-get="/ideas/panel/?project={team.project.scripe_id}"' in page


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/ideas/"),
        ("get", "/ideas/panel/"),
        ("post", "/ideas/add/"),
        ("get", "/ideas/{id}/"),
        ("post", "/ideas/{id}/plan/"),
        ("post", "/ideas/{id}/queue/"),
        ("post", "/ideas/{id}/state/"),
    ],
)
def test_every_ideas_address_asks_anonymous_people_to_log_in(client, team, method, path):
    idea = add(team)
    response = getattr(client, method)(path.format(id=idea.public_id), {"date": "2026-10-20"})
    assert response.status_code == 302 and "/login/" in response.url
    assert PlannedSlot.objects.count() == 0 and Idea.objects.get().state == IdeaState.NEW
