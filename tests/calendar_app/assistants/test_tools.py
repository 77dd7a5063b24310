"""The MCP server as an assistant meets it: a real session of the `mcp` SDK's streamable HTTP
client against the app served over HTTP (the live server), with a personal access token."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.utils import timezone
from mcp.shared.exceptions import MCPError

from calendar_app.models import PlannedSlot, SlotEvent, Workspace
from calendar_app.review.services import draft_save
from tests.calendar_app.assistants.conftest import assistant, error_of, result_of, run_session
from tests.support import written_draft

TOOLS = {
    "list_posts",
    "show_post",
    "plan_post",
    "add_to_queue",
    "generate_post",
    "list_review_queue",
    "approve_post",
    "request_changes",
    "list_projects",
    "list_labels",
}


def _ahead(days: int = 3):
    when = timezone.now() + timedelta(days=days)
    return when.replace(minute=0, second=0, microsecond=0)


def test_an_assistant_lists_the_tools_plans_a_post_and_reads_it_back(live_server, team, token_for):
    secret = token_for(team.editor)
    when = _ahead()

    async def session():
        async with assistant(live_server, secret) as client:
            listed = await client.list_tools()
            planned = result_of(
                await client.call_tool(
                    "plan_post",
                    {
                        "project_id": team.project.scripe_id,
                        "note_text": "Why our team writes every post twice.",
                        "scheduled_for": when.isoformat(),
                    },
                )
            )
            shown = result_of(await client.call_tool("show_post", {"post_id": planned["id"]}))
            day = when.astimezone(team.workspace.zone).date().isoformat()
            posts = result_of(
                await client.call_tool("list_posts", {"date_from": day, "date_to": day})
            )
            return listed, planned, shown, posts

    listed, planned, shown, posts = run_session(session)

    assert {tool.name for tool in listed.tools} == TOOLS
    assert shown == planned
    assert planned["status"] == "draft"
    assert planned["note"]["text"] == "Why our team writes every post twice."
    assert planned["scheduledFor"] == when.astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert [post["id"] for post in posts["posts"]] == [planned["id"]]
    slot = PlannedSlot.objects.get(public_id=planned["id"])
    assert slot.created_by == team.editor
    assert SlotEvent.objects.get(slot=slot).who == "Erin via MCP (Claude)"


def test_a_refusal_comes_back_as_a_tool_error_with_the_pages_sentence(live_server, team, token_for):
    secret = token_for(team.editor)

    async def session():
        async with assistant(live_server, secret) as client:
            return await client.call_tool(
                "plan_post",
                {
                    "project_id": team.project.scripe_id,
                    "note_text": "",
                    "scheduled_for": _ahead().isoformat(),
                },
            )

    assert error_of(run_session(session)) == "Write the note Scripe should turn into a post."
    assert not PlannedSlot.objects.exists()


def test_a_bad_token_is_refused_before_any_tool(live_server, team):
    answers: list[int] = []

    async def session():
        async with assistant(live_server, "scal_not-a-token", answers=answers) as client:
            await client.list_tools()

    with pytest.raises(ExceptionGroup) as raised:
        run_session(session)
    assert raised.group_contains(MCPError, depth=None)
    # The probe for the newest protocol and the handshake that follows it: both refused.
    assert answers and set(answers) == {401}


def test_a_read_only_token_cannot_plan(live_server, team, token_for):
    secret = token_for(team.editor, scopes=["read"])

    async def session():
        async with assistant(live_server, secret) as client:
            planned = await client.call_tool(
                "add_to_queue",
                {"project_id": team.project.scripe_id, "note_text": "An idea."},
            )
            projects = await client.call_tool("list_projects", {})
            return planned, projects

    planned, projects = run_session(session)
    assert error_of(planned) == (
        "This token lacks the plan scope; make a token with it in Settings → API tokens."
    )
    assert team.project.scripe_id in {p["id"] for p in result_of(projects)["projects"]}
    assert not PlannedSlot.objects.exists()


def test_another_workspaces_post_is_not_found(live_server, team, token_for):
    theirs = team.slot(_ahead(), project=team.foreign_project)
    secret = token_for(team.editor)

    async def session():
        async with assistant(live_server, secret) as client:
            shown = await client.call_tool("show_post", {"post_id": str(theirs.public_id)})
            generated = await client.call_tool("generate_post", {"post_id": str(theirs.public_id)})
            return shown, generated

    shown, generated = run_session(session)
    assert error_of(shown) == "No such post."
    assert error_of(generated) == "No such post."
    theirs.refresh_from_db()
    assert theirs.status == "draft"


def test_arguments_that_do_not_fit_the_schema_are_refused(live_server, team, token_for):
    secret = token_for(team.editor)

    async def session():
        async with assistant(live_server, secret) as client:
            return await client.call_tool("show_post", {"post_id": "not-a-uuid"})

    answer = run_session(session)
    assert answer.is_error
    assert "post_id" in answer.content[0].text


def test_no_self_approval_holds_through_approve(live_server, team, wired, token_for):
    Workspace.objects.filter(pk=team.workspace.pk).update(no_self_approval=True)
    slot = written_draft(team)
    draft_save(slot=slot, user=team.manager, title="Hiring", content="Our hiring story, edited.")
    by_the_editor_of_it = token_for(team.manager)
    by_another = token_for(team.admin)
    post_id = str(slot.public_id)

    async def session():
        async with assistant(live_server, by_the_editor_of_it) as client:
            queue = result_of(await client.call_tool("list_review_queue", {}))
            refused = await client.call_tool("approve_post", {"post_id": post_id})
        async with assistant(live_server, by_another) as client:
            approved = await client.call_tool("approve_post", {"post_id": post_id})
        return queue, refused, approved

    queue, refused, approved = run_session(session)
    assert [draft["id"] for draft in queue["drafts"]] == [post_id]
    assert error_of(refused) == (
        "This workspace asks for a second pair of eyes: you edited this draft, so another "
        "manager (or the client, through a review link) approves it."
    )
    approved = result_of(approved)
    assert approved["message"] == "Approved: scheduled in Scripe."
    assert approved["post"]["status"] == "scheduled"
    assert approved["post"]["draft"]["content"] == "Our hiring story, edited."


def test_the_review_tools_need_the_review_scope(live_server, team, wired, token_for):
    slot = written_draft(team)
    secret = token_for(team.manager, scopes=["read", "plan"])

    async def session():
        async with assistant(live_server, secret) as client:
            listed = await client.call_tool("list_review_queue", {})
            sent_back = await client.call_tool(
                "request_changes", {"post_id": str(slot.public_id), "comment": "Shorter."}
            )
            return listed, sent_back

    listed, sent_back = run_session(session)
    lacks = "This token lacks the review scope; make a token with it in Settings → API tokens."
    assert error_of(listed) == lacks
    assert error_of(sent_back) == lacks
    slot.refresh_from_db()
    assert slot.status == "in_review"


def test_a_manager_sends_a_draft_back_with_a_comment(live_server, team, wired, token_for):
    slot = written_draft(team)
    secret = token_for(team.manager)

    async def session():
        async with assistant(live_server, secret) as client:
            empty = await client.call_tool(
                "request_changes", {"post_id": str(slot.public_id), "comment": " "}
            )
            sent_back = await client.call_tool(
                "request_changes",
                {"post_id": str(slot.public_id), "comment": "Open with the numbers."},
            )
            return empty, sent_back

    empty, sent_back = run_session(session)
    assert error_of(empty) == "Say what should change, so Scripe can do it."
    answer = result_of(sent_back)
    assert answer["message"] == "Changes requested: Scripe is writing a new version."
    assert answer["post"]["status"] == "queued"
    comment = SlotEvent.objects.get(slot=slot, kind="comment")
    assert comment.text == "Open with the numbers."
    assert comment.who == "Max via MCP (Claude)"
