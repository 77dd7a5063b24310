"""What an assistant can do through `/mcp/`: list, show and plan posts, add to the queue,
generate, read the review queue, approve or send back, and list projects and labels.

Each tool is the call a page or the REST API makes: the same access function (another
workspace's id is not found), the same service (its refusal, with the sentence a person
would see, becomes the tool's error: `isError` with that text) and the REST API's post
representation (`api.serializers.PostSerializer`). A token's scopes apply as in the API:
reading needs `read`, planning `plan`, the review tools `review`; the person's role still
decides, as it does on the pages.

The SDK calls the tools in an event loop; they run the services with `sync_to_async`
(thread-sensitive), back on the request's thread (see `endpoint`)."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import logging
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated, Any, Literal
from uuid import UUID

from asgiref.sync import sync_to_async
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_noop
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field
from starlette.applications import Starlette

from calendar_app.access import slot_for_viewer
from calendar_app.accounts.tokens import TokenUse
from calendar_app.api import selectors
from calendar_app.api.envelopes import one
from calendar_app.api.serializers import LabelSerializer, PostSerializer, ProjectSerializer
from calendar_app.core.refusals import Refusal
from calendar_app.models import LANGUAGES, Role
from calendar_app.pipeline.generation import generation_request
from calendar_app.planning import queue, rules, services
from calendar_app.planning import selectors as planning_selectors
from calendar_app.planning.selectors import STATUS_FILTERS
from calendar_app.review import selectors as review_selectors
from calendar_app.review import services as review

log = logging.getLogger(__name__)

# A date range longer than this is a typo or a dump; the calendar's year view is 12 months.
MAX_RANGE = dt.timedelta(days=366)
# The most posts one list answers; `truncated` says when there were more.
MAX_POSTS = 200

server = MCPServer(
    "scripe-calendar",
    title="Scripe Calendar",
    instructions=(
        "Plan LinkedIn posts for a team: list what is planned, plan a post for a project at a "
        "time or at the end of its queue, have Scripe write it, and (with the review scope) "
        "approve drafts or ask for changes. Times without an offset are the token person's "
        "own time zone. Ids are those these tools return."
    ),
    # Nothing here is long-lived: no subscriptions/listen stream to hold a worker open.
    subscriptions=False,
)

_use: ContextVar[TokenUse | None] = ContextVar("assistant_token_use", default=None)


@contextmanager
def acting_as(use: TokenUse) -> Iterator[None]:
    """The token every tool called inside acts with (set by the endpoint per request)."""
    reset = _use.set(use)
    try:
        yield
    finally:
        _use.reset(reset)


def server_app(path: str) -> Starlette:
    """The SDK's app for one request: stateless, answering JSON (see `endpoint`). Django
    checks the Host header (ALLOWED_HOSTS) before this runs, and no cookie opens the
    endpoint, so the SDK's own DNS-rebinding check would only repeat it."""
    return server.streamable_http_app(
        streamable_http_path=path,
        stateless_http=True,
        json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )


class _Refused(Exception):
    """A "no" for the assistant to pass on: the sentence alone, as the page would show it."""


def _run(scope: str, fn: Callable[..., Any], kwargs: dict) -> Any:
    """The tool's body with the request's token, its scope checked."""
    use = _use.get()
    if use is None:  # only the endpoint calls tools, and it always sets the token
        raise _Refused("This tool needs a personal access token.")
    if not use.allows(scope):
        raise _Refused(
            f"This token lacks the {scope} scope; make a token with it in Settings → API tokens."
        )
    try:
        return fn(use, **kwargs)
    except Refusal as refusal:
        raise _Refused(refusal.message or "This cannot be done now.") from None
    except (Http404, PermissionDenied) as error:
        raise _Refused(str(error) or "Not found.") from None


def tool(scope: str, *, read_only: bool = False, **options) -> Callable:
    """Registers `fn(use, **arguments)` as a tool needing `scope`. The SDK sees an async
    function with `fn`'s arguments (less `use`) and docstring. A refusal is the tool's error
    result carrying just its sentence (a ToolError would prefix "Error executing tool…")."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        async def call(**kwargs):
            try:
                return await sync_to_async(_run, thread_sensitive=True)(scope, fn, kwargs)
            except _Refused as refused:
                log.info("Tool %s refused: %s", fn.__name__, refused)
                sentence = TextContent(type="text", text=str(refused))
                return CallToolResult(content=[sentence], is_error=True)

        # The SDK reads the arguments from the signature: `use` is the endpoint's, not the
        # assistant's.
        call.__signature__ = _without_use(fn)
        server.add_tool(
            call,
            name=fn.__name__,
            description=(fn.__doc__ or "").strip(),
            annotations=ToolAnnotations(readOnlyHint=read_only, **options),
            structured_output=True,
        )
        return fn

    return register


def _without_use(fn: Callable[..., Any]) -> inspect.Signature:
    signature = inspect.signature(fn)
    hints = typing.get_type_hints(fn, include_extras=True)
    parameters = [
        parameter.replace(annotation=hints.get(name, parameter.annotation))
        for name, parameter in signature.parameters.items()
        if name != "use"
    ]
    return signature.replace(parameters=parameters, return_annotation=hints.get("return"))


def _post(use: TokenUse, public_id) -> dict:
    """A post as the REST API shows it, read again after the change."""
    slot = selectors.post(use.viewer, public_id)
    if slot is None:
        raise Http404("No such post.")
    return one(PostSerializer, slot)["data"]


def _project(use: TokenUse, project_id: str):
    project = planning_selectors.plannable_projects(use.viewer).filter(scripe_id=project_id)
    project = project.first()
    if project is None:
        raise Refusal("There is no project with this id in the workspace you may plan in.")
    return project


def _labels(use: TokenUse, label_ids: list[UUID] | None):
    if not label_ids:
        return None
    found, unknown = selectors.labels_named(use.viewer, label_ids)
    if unknown:
        raise Refusal(f"There is no label {', '.join(unknown)} in the workspace.")
    return found


def _local(use: TokenUse, when: dt.datetime) -> dt.datetime:
    """A time in the person's zone: one with an offset converted, one without taken as is.
    Its day is checked first, as written: converting year 1 or 9999 would overflow."""
    rules.showable_moment(when)
    return when.astimezone(use.viewer.zone) if when.tzinfo else when


ProjectId = Annotated[str, Field(description="A project's id (list_projects).", max_length=80)]
PostId = Annotated[UUID, Field(description="A post's id (list_posts, plan_post...).")]
NoteText = Annotated[
    str, Field(description="The idea Scripe turns into the post: a few sentences or notes.")
]
Language = Annotated[
    Literal[tuple(code for code, _ in LANGUAGES)],  # type: ignore[misc]
    Field(description="The post's language."),
]
RequestKey = Annotated[
    str,
    Field(
        description="Any text unique to this plan (a uuid): sent again, say after a timeout, "
        "it answers the post it planned the first time rather than planning a second one.",
        max_length=64,
    ),
]
LabelIds = Annotated[
    list[UUID] | None, Field(description="Labels' ids (list_labels).", max_length=50)
]


# Reading ---------------------------------------------------------------------------------------


@tool("read", read_only=True)
def list_posts(
    use: TokenUse,
    date_from: Annotated[dt.date, Field(description="The first local day, YYYY-MM-DD.")],
    date_to: Annotated[dt.date, Field(description="The last local day, inclusive.")],
    project_id: ProjectId | None = None,
    status: Annotated[
        Literal[tuple(code for code, _ in STATUS_FILTERS)] | None,  # type: ignore[misc]
        Field(description="Only posts in this status (at_risk: likely to miss its time)."),
    ] = None,
) -> dict[str, Any]:
    """The posts planned between two days (the person's local days), soonest first, as All
    posts lists them: project, note, time (UTC), status, labels, and Scripe's draft."""
    rules.showable_day(date_from)
    rules.showable_day(date_to)
    if date_to < date_from:
        raise Refusal("The end date is before the start date.")
    if date_to - date_from > MAX_RANGE:
        raise Refusal("Ask for a year at most at a time.")
    project = None
    if project_id:
        project = planning_selectors.visible_projects(use.viewer).filter(scripe_id=project_id)
        project = project.first()
        if project is None:
            raise Refusal("There is no such project in the workspace.")
    posts = selectors.posts(
        use.viewer, project=project, status=status or "", date_from=date_from, date_to=date_to
    ).order_by("scheduled_for", "id")
    rows = list(posts[: MAX_POSTS + 1])
    return {
        "posts": PostSerializer(rows[:MAX_POSTS], many=True).data,
        "truncated": len(rows) > MAX_POSTS,
        "timeZone": use.viewer.zone.key,
    }


@tool("read", read_only=True)
def show_post(use: TokenUse, post_id: PostId) -> dict[str, Any]:
    """One post: its project, note, time (UTC), status, labels, generation and draft."""
    return _post(use, post_id)


@tool("read", read_only=True)
def list_projects(use: TokenUse) -> dict[str, Any]:
    """The workspace's Scripe projects (LinkedIn profiles and pages) posts are planned for,
    with whether each is active."""
    projects = selectors.projects(use.viewer).order_by("name", "id")
    return {"projects": ProjectSerializer(projects, many=True).data}


@tool("read", read_only=True)
def list_labels(use: TokenUse) -> dict[str, Any]:
    """The workspace's labels, which posts can carry."""
    labels = selectors.labels(use.viewer).order_by("name", "id")
    return {"labels": LabelSerializer(labels, many=True).data}


# Planning --------------------------------------------------------------------------------------


@tool("plan", destructiveHint=False)
def plan_post(
    use: TokenUse,
    project_id: ProjectId,
    note_text: NoteText,
    scheduled_for: Annotated[
        dt.datetime,
        Field(
            description="When to post, ISO 8601 (2026-06-01T09:00). Without an offset, the "
            "person's own time zone; on a quarter hour, far enough ahead."
        ),
    ],
    language: Language = "en",
    label_ids: LabelIds = None,
    request_key: RequestKey = "",
) -> dict[str, Any]:
    """Plans a post for a project at a time, as the calendar's New post form does. It is
    not written yet: call generate_post to have Scripe write it."""
    local = _local(use, scheduled_for)
    slot = services.slot_create(
        user=use.token.user,
        zone=use.viewer.zone,
        project=_project(use, project_id),
        note_text=note_text,
        note=None,
        language=language,
        day=local.date(),
        clock=local.time().replace(tzinfo=None),
        labels=_labels(use, label_ids),
        request_key=request_key,
    )
    return _post(use, slot.public_id)


@tool("plan", destructiveHint=False)
def add_to_queue(
    use: TokenUse,
    project_id: ProjectId,
    note_text: NoteText,
    language: Language = "en",
    label_ids: LabelIds = None,
    top: Annotated[
        bool,
        Field(
            description="Put it first, moving the queued posts one time later each (a manager's)."
        ),
    ] = False,
    request_key: RequestKey = "",
) -> dict[str, Any]:
    """Plans a post at the project's next free posting-schedule time (its queue), as "Add to
    queue" does."""
    queued = queue.queue_add(
        user=use.token.user,
        project=_project(use, project_id),
        top=top,
        request_key=request_key,
        note_text=note_text,
        note=None,
        language=language,
        labels=_labels(use, label_ids),
    )
    return {"post": _post(use, queued.slot.public_id), "movedLater": queued.moved}


@tool("plan", destructiveHint=False, openWorldHint=True)
def generate_post(use: TokenUse, post_id: PostId) -> dict[str, Any]:
    """Has Scripe write the post (or write it again after a failure or a cancel). It is
    written in the background: show_post follows its status and generation."""
    slot = slot_for_viewer(use.viewer, post_id, to=gettext_noop("generate posts"))
    generation_request(slot=slot, user=use.token.user)
    return _post(use, post_id)


# Review ----------------------------------------------------------------------------------------


@tool("review", read_only=True)
def list_review_queue(use: TokenUse, project_id: ProjectId | None = None) -> dict[str, Any]:
    """Drafts waiting for a manager's decision, soonest first: time, status, project, the
    draft's title and first line. show_post reads a draft in full."""
    viewer = use.viewer
    projects = list(planning_selectors.managed_projects(viewer))
    drafts = review_selectors.review_queue(
        viewer, projects=projects, project_scripe_id=project_id or ""
    )
    return {
        "drafts": [
            {
                "id": str(slot.public_id),
                "scheduledFor": slot.scheduled_for.astimezone(dt.UTC).isoformat(),
                "status": slot.status,
                "project": {"id": slot.project.scripe_id, "name": slot.project.name},
                "title": slot.post_title,
                "firstLine": slot.first_line,
            }
            for slot in drafts
        ]
    }


@tool("review", destructiveHint=False, openWorldHint=True)
def approve_post(use: TokenUse, post_id: PostId) -> dict[str, Any]:
    """Approves the draft as it stands, which schedules the post in Scripe for its time (the
    review screen's Approve, with the same rules, including no self-approval)."""
    slot = slot_for_viewer(use.viewer, post_id, to=gettext_noop("review drafts"), role=Role.MANAGER)
    said = review.slot_approve(slot=slot, user=use.token.user)
    return {"message": said, "post": _post(use, post_id)}


@tool("review", destructiveHint=False, openWorldHint=True)
def request_changes(
    use: TokenUse,
    post_id: PostId,
    comment: Annotated[str, Field(description="What should change, for Scripe to rewrite.")],
) -> dict[str, Any]:
    """Sends the draft back to Scripe with a comment; Scripe writes a new version, which
    comes back for review."""
    slot = slot_for_viewer(use.viewer, post_id, to=gettext_noop("review drafts"), role=Role.MANAGER)
    said = review.slot_request_changes(slot=slot, user=use.token.user, comment=comment)
    return {"message": said, "post": _post(use, post_id)}
