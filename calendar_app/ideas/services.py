"""Everything that writes ideas: add, edit, pick, dismiss and restore, plan as a post (on a
day, at a time, or at the end of a project's queue), and Scripe's suggestions kept as ideas.

Planning goes through the planning services a new post goes through (`slot_create`,
`queue.queue_add`), so a past day, a full queue or an inactive project is refused with the
same sentence as the form's. The slot and the idea's new state commit together: an idea
dismissed meanwhile refuses the plan and no post is left behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from calendar_app.access import Viewer
from calendar_app.core.refusals import Refusal
from calendar_app.models import (
    PLANNABLE_IDEA_STATES,
    HookPlan,
    Idea,
    IdeaState,
    IllegalTransition,
    Label,
    PlannedSlot,
    Project,
    Role,
    Workspace,
)
from calendar_app.planning import queue, rules, services
from calendar_app.planning.labels import labels_check
from scripe_integration.contract import Post

LINK_MAX_CHARS = Idea._meta.get_field("link").max_length
# A drop on a day of the month (no hour under the pointer) plans the post at this local time.
DAY_DROP_CLOCK = time(9, 0)


@dataclass(frozen=True)
class IdeaFields:
    text: str
    link: str
    project: Project | None
    labels: tuple[Label, ...]
    language: str


def _require(viewer: Viewer, role: str, workspace_id: int, action: str) -> None:
    if not viewer.can(role, workspace_id):
        if role == Role.MANAGER:
            sentence = _("Only a manager can %(action)s.")
        else:
            sentence = _("Only someone who plans posts can %(action)s.")
        raise Refusal(sentence % {"action": _(action)}, status=403)


def idea_validate(
    *,
    workspace: Workspace,
    text: str,
    link: str = "",
    project: Project | None = None,
    labels=None,
    language: str = "en",
) -> IdeaFields:
    """An idea's rules: text or a link (the text within the note's limit, as it becomes a
    post's note), an http(s) link, a project and labels of the idea's workspace."""
    problems = rules.Problems()
    text = problems.check(
        rules.text, text, field="text", label=_("The idea"), limit=rules.NOTE_MAX_CHARS
    )
    link = (link or "").strip()
    if link:
        try:
            URLValidator(schemes=["http", "https"])(link)
        except ValidationError:
            problems.add("link", _("Give a web address starting with https:// or http://."))
        if len(link) > LINK_MAX_CHARS:
            problems.add(
                "link",
                _("The link is longer than %(max)s characters.") % {"max": f"{LINK_MAX_CHARS:,}"},
            )
    if text is not None and not text.strip() and not link:
        problems.add("text", _("Write the idea, or give a link to what it is about."))
    if project is not None and project.workspace_id != workspace.pk:
        problems.add("project", _("Pick a project of the idea's workspace."))
    chosen = problems.check(labels_check, labels, workspace_id=workspace.pk)
    problems.check(rules.language, language)
    problems.raise_any()
    return IdeaFields((text or "").strip(), link, project, chosen, language)


def idea_create(*, viewer: Viewer, workspace: Workspace, **fields) -> Idea:
    """Adds an idea to the workspace's board, owned by whoever adds it."""
    _require(viewer, Role.EDITOR, workspace.pk, gettext_noop("add ideas"))
    valid = idea_validate(workspace=workspace, **fields)
    with transaction.atomic():
        idea = Idea.objects.create(
            workspace=workspace,
            owner=viewer.user,
            text=valid.text,
            link=valid.link,
            project=valid.project,
            language=valid.language,
        )
        if valid.labels:
            idea.labels.set(valid.labels)
    return idea


def idea_update(*, viewer: Viewer, idea: Idea, **fields) -> Idea:
    """Edits an idea (not a dismissed one: restore it first). Posts already made from it keep
    their notes."""
    _require(viewer, Role.EDITOR, idea.workspace_id, gettext_noop("edit ideas"))
    if idea.state == IdeaState.DISMISSED:
        raise IllegalTransition("This idea was dismissed; restore it to edit it.")
    valid = idea_validate(workspace=idea.workspace, **fields)
    with transaction.atomic():
        idea.text, idea.link = valid.text, valid.link
        idea.project, idea.language = valid.project, valid.language
        idea.save(update_fields=["text", "link", "project", "language", "updated_at"])
        idea.labels.set(valid.labels)
    return idea


def idea_pick(*, viewer: Viewer, idea: Idea) -> None:
    """ "I'll take this one": the idea moves to Picked, so the team sees it is being worked."""
    _require(viewer, Role.EDITOR, idea.workspace_id, gettext_noop("pick ideas"))
    idea.pick(by=viewer.user)


def idea_unpick(*, viewer: Viewer, idea: Idea) -> None:
    _require(viewer, Role.EDITOR, idea.workspace_id, gettext_noop("put ideas back"))
    idea.unpick(by=viewer.user)


def idea_dismiss(*, viewer: Viewer, idea: Idea) -> None:
    """Hides the idea for the whole workspace (a Scripe suggestion too): a manager's call."""
    _require(viewer, Role.MANAGER, idea.workspace_id, gettext_noop("dismiss ideas"))
    idea.dismiss(by=viewer.user)


def idea_restore(*, viewer: Viewer, idea: Idea) -> None:
    _require(viewer, Role.MANAGER, idea.workspace_id, gettext_noop("restore ideas"))
    idea.restore(by=viewer.user)


# planning an idea as a post --------------------------------------------------------------------


def _suggestion_key(idea: Idea) -> str:
    """A suggestion is planned once: every request to take it carries the same key, so
    `slot_create` answers the second with the first's post."""
    return f"suggestion:{idea.scripe_post_id}"[:64] if idea.is_suggestion else ""


def _plan_fields(idea: Idea) -> dict:
    if idea.project is None:
        raise Refusal(fields={"project": _("Give the idea a project before planning it.")})
    return {**_plan_fields_of(idea), "project": idea.project}


def _plan_fields_of(idea: Idea) -> dict:
    return {
        "note_text": idea.note_text(),
        "note": None,
        "language": idea.language,
        "labels": list(idea.labels.all()),
    }


def _plannable(viewer: Viewer, idea: Idea) -> None:
    _require(viewer, Role.EDITOR, idea.workspace_id, gettext_noop("plan posts"))
    if idea.state not in PLANNABLE_IDEA_STATES:
        raise IllegalTransition("This idea was dismissed; a manager can restore it.")
    _hook_unplanned(idea)


def _record_use(idea: Idea, slot: PlannedSlot, user) -> None:
    """The post remembers its idea and the idea is Used, or the whole plan is refused (the
    idea was dismissed meanwhile: the conditional update finds no row). An idea that is a
    source's hook makes that hook's post (`_hook_plan`)."""
    PlannedSlot.objects.filter(pk=slot.pk, idea__isnull=True).update(idea=idea)
    slot.idea = idea
    idea.mark_used(by=user)
    _hook_plan(idea, slot, user)


def _hook_unplanned(idea: Idea) -> None:
    """A source's hook makes one post (wherever it is planned from): refuses a second."""
    if not idea.hook_id or idea.source_id is None:
        return
    earlier = (
        HookPlan.objects.filter(source_id=idea.source_id, hook_id=idea.hook_id)
        .select_related("slot", "slot__workspace")
        .first()
    )
    if earlier is not None:
        when = timezone.localtime(earlier.slot.scheduled_for, earlier.slot.workspace.zone)
        raise Refusal(
            _("This hook is a post already (%(when)s); one hook makes one post.")
            % {"when": date_format(when, _("D j M, H:i"))},
            status=409,
        )


def _hook_plan(idea: Idea, slot: PlannedSlot, user) -> None:
    """The post of an idea that is a source's hook carries the hook and the source as
    steering, as a hook planned to the queue does: the sources' HookPlan, one per source
    and hook (a twin request meets the unique constraint and is refused)."""
    found = idea.hook
    if found is None:
        return
    try:
        with transaction.atomic():
            HookPlan.objects.create(
                source=idea.source,
                hook_id=idea.hook_id,
                slot=slot,
                steering=idea.source.steering_for(found["topic"]),
                created_by=user,
            )
    except IntegrityError:
        _hook_unplanned(idea)
        raise


def idea_plan(
    *,
    viewer: Viewer,
    idea: Idea,
    day: date | None,
    clock: time | None = None,
    request_key: str = "",
) -> PlannedSlot:
    """Plans a post from the idea on a local day (the viewer's zone), at `clock` or, for a
    drop on a day without an hour, at DAY_DROP_CLOCK; every slot rule applies through
    `slot_create`. One idea may feed several posts; a Scripe suggestion feeds one, however
    often it is taken."""
    _plannable(viewer, idea)
    fields = _plan_fields(idea)
    key = _suggestion_key(idea) or request_key
    try:
        with transaction.atomic():
            slot = services.slot_create(
                user=viewer.user,
                zone=viewer.zone,
                request_key=key,
                day=day,
                clock=clock or DAY_DROP_CLOCK,
                **fields,
            )
            _record_use(idea, slot, viewer.user)
    except IntegrityError:
        # Two takes of one suggestion at once: the other made the post.
        earlier = PlannedSlot.objects.filter(workspace=idea.workspace, request_key=key).first()
        if not key or earlier is None:
            raise
        return earlier
    return slot


def idea_queue(
    *, viewer: Viewer, idea: Idea, project: Project | None = None, request_key: str = ""
) -> queue.Queued:
    """Plans a post from the idea at the next free posting-schedule time of its project (or
    of `project`, the queue it was dropped on), as the form's "Add to queue" does."""
    _plannable(viewer, idea)
    if project is not None and project.workspace_id != idea.workspace_id:
        raise Refusal(fields={"project": _("Drop the idea on a queue of its own workspace.")})
    if project is None and idea.project is None:
        raise Refusal(fields={"project": _("Give the idea a project before queueing it.")})
    fields = (
        _plan_fields(idea) if project is None else {**_plan_fields_of(idea), "project": project}
    )
    project = fields.pop("project")
    key = _suggestion_key(idea) or request_key
    with transaction.atomic():
        queued = queue.queue_add(user=viewer.user, project=project, request_key=key, **fields)
        _record_use(idea, queued.slot, viewer.user)
    return queued


# Scripe's suggestions --------------------------------------------------------------------------


def suggestions_record(*, project: Project, posts: list[Post], complete: bool) -> int:
    """Keeps Scripe's suggested posts for the project as ideas marked as Scripe's; returns
    how many are new. One already here keeps its state (a dismissed one stays hidden, a
    taken one is not offered again). With `complete` (`posts` is every suggestion Scripe
    lists for the project), a suggestion no longer listed and never acted on here leaves
    the board: it was used or deleted in Scripe's dashboard."""
    suggested = {post.id: post for post in posts if post.status == "suggested"}
    known = set(
        Idea.objects.filter(workspace_id=project.workspace_id)
        .exclude(scripe_post_id="")
        .filter(scripe_post_id__in=list(suggested))
        .values_list("scripe_post_id", flat=True)
    )
    fresh = [
        Idea(
            workspace_id=project.workspace_id,
            project=project,
            scripe_post_id=post.id,
            title=(post.title or "")[:500],
            text=post.content or "",
        )
        for post_id, post in suggested.items()
        if post_id not in known
    ]
    # Two readers at once (the sweep and a sync): the unique constraint keeps one of each.
    Idea.objects.bulk_create(fresh, ignore_conflicts=True)
    if complete:
        (
            Idea.objects.filter(project=project, state=IdeaState.NEW)
            .exclude(scripe_post_id="")
            .exclude(scripe_post_id__in=list(suggested))
            .filter(slots__isnull=True)
            .delete()
        )
    return len(fresh)
