"""Reading Scripe's truth back after approval: what went out, what moved, what was edited or
deleted in Scripe's own dashboard.

The sync reads a project's posts in pages (`GET /v1/posts?projectId=…`, newest first, only
as far back as the oldest post it follows) rather than one GET per post, through the
workspace's shared pacing, so it never calls inside a Retry-After. Webhooks, when Scripe
sends them, apply the same `post_follow` sooner; polling alone gives the same results, later.

Polling is the floor: the every-minute sweep reads each project with followed posts again
once POLL_FLOOR (2 minutes) is nearly up, so a change made in Scripe's dashboard shows within
two sweeps. Nothing cheaper is on offer: the posts list filters only on `status` and
`createdAt` (no "updated since"), and a deleted post has no event and leaves only a gap in
the listing (confirmed by its own 404), so one listing per project per floor is the least
that sees every edit, move, unschedule, publish and delete. The sweep spends at most a tenth
of the workspace's rate limit on it (`pacing.sync_calls_per_minute`, a bucket on the
workspace); beyond what that allows, the least recently read projects go first and the rest
wait a sweep. Without webhooks being heard, what is left of the allowance also rereads, every
sweep, projects with a post due to go out; with them, Scripe says so itself.

Every change is a conditional transition on the slot's status (models/slots.py) and leaves a
trail entry that names Scripe.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from calendar_app.ideas.services import suggestions_record
from calendar_app.models import (
    FOLLOWED_STATUSES,
    GenerationJob,
    IllegalTransition,
    PlannedSlot,
    Project,
    SlotStatus,
    Workspace,
)
from calendar_app.notifications.trail import Kind, record
from calendar_app.pipeline.generation import LISTING_MARGIN
from scripe_integration import pacing
from scripe_integration.client import ScripeClient, collect_newest_first
from scripe_integration.contract import Post, ScripeError
from scripe_integration.sentences import Said
from scripe_integration.services import (
    HELD,
    ScripeNotConfigured,
    connection_for,
    describe_error,
    scripe_session,
    webhook_health,
)

logger = logging.getLogger(__name__)

# A scheduled post still not published this long after its time is flagged.
PUBLISH_MARGIN = timedelta(minutes=10)
# A change made in Scripe shows here within this by polling alone: a project with followed
# posts is read again at the first sweep (each minute) once it was read DUE_AFTER ago. Not
# POLL_FLOOR itself, or a sweep a moment early would leave it for a third one; not one
# minute, or every project would be read every sweep.
POLL_FLOOR = timedelta(minutes=2)
DUE_AFTER = timedelta(seconds=90)
NOT_PUBLISHED = gettext_noop(
    "Not published yet: check the project's LinkedIn connection in Scripe."
)


@dataclass
class SyncReport:
    changes: list[str] = field(default_factory=list)
    calls: int = 0
    projects_read: int = 0
    problem: str = ""

    def sentence(self) -> str:
        if self.problem:
            return self.problem
        if not self.changes:
            return _("Everything matches Scripe.")
        return "Synced with Scripe: " + "; ".join(self.changes) + "."


# applying one post ------------------------------------------------------------------------------


def post_follow(slot: PlannedSlot, post: Post | None, *, project_problem: str = "") -> str:
    """Makes the slot say what Scripe's copy of its post says (None: the post is gone).
    Returns what changed, in words, or "" when nothing did. A copy older than the last one
    applied changes nothing, so a late webhook cannot undo a newer poll."""
    job = slot.current_job
    if job is None or not job.post_id or slot.status not in FOLLOWED_STATUSES:
        return ""
    try:
        if post is None:
            with transaction.atomic():
                slot.mark_removed()
                record(slot, kind=Kind.STATUS, text=gettext_noop("The post was deleted in Scripe."))
            return "removed in Scripe"
        if post.updated_at and slot.scripe_seen_at and post.updated_at < slot.scripe_seen_at:
            return ""
        said = _apply(slot, job, post, project_problem)
    except IllegalTransition:
        return ""  # someone moved it meanwhile; the next sync looks again
    slot.note_scripe_copy(post.updated_at)
    return said


def _apply(slot: PlannedSlot, job, post: Post, project_problem: str) -> str:
    now = timezone.now()
    said = []
    if slot.status == SlotStatus.SCHEDULED and _adopt_text(slot, job, post):
        # Approved text is Scripe's text; a change there is an edit made in Scripe. (A draft
        # in review may differ on purpose: the manager's edits go with the approval.)
        said.append("text edited in Scripe")
    if post.status == "published":
        if slot.status in (SlotStatus.SCHEDULED, SlotStatus.IN_REVIEW, SlotStatus.MISSED):
            at = post.published_at or post.updated_at or now
            with transaction.atomic():
                from_review = slot.status != SlotStatus.SCHEDULED
                slot.mark_published(at)
                published = (
                    gettext_noop("Published on LinkedIn from Scripe's dashboard at %(when)s.")
                    if from_review
                    else gettext_noop("Published on LinkedIn at %(when)s.")
                )
                record(slot, kind=Kind.STATUS, text=Said(published, when=at))
                if from_review:
                    _adopt_text(slot, job, post)  # what went out is Scripe's text
            said.append("published")
    elif post.status == "scheduled" and post.scheduled_at:
        if slot.status in (SlotStatus.IN_REVIEW, SlotStatus.MISSED):
            with transaction.atomic():
                slot.scheduled_in_scripe(post.scheduled_at)
                record(
                    slot,
                    kind=Kind.STATUS,
                    text=Said(
                        gettext_noop("Scheduled in Scripe for %(when)s."), when=post.scheduled_at
                    ),
                )
                # Scheduled there with Scripe's text: the manager's unsent edits are kept on
                # the trail, and from now on a change of text in Scripe is an edit.
                _adopt_text(slot, job, post)
            said.append("scheduled in Scripe")
        elif abs((post.scheduled_at - slot.scheduled_for).total_seconds()) >= 1:
            before = slot.scheduled_for
            with transaction.atomic():
                slot.follow_scripe_time(post.scheduled_at)
                record(
                    slot,
                    kind=Kind.STATUS,
                    text=Said(
                        gettext_noop("Rescheduled in Scripe from %(before)s to %(when)s."),
                        before=before,
                        when=post.scheduled_at,
                    ),
                )
            said.append("rescheduled in Scripe")
        elif post.scheduled_at < now - PUBLISH_MARGIN:
            warning = (
                Said.both(NOT_PUBLISHED, project_problem) if project_problem else NOT_PUBLISHED
            )
            if slot.warn(warning):
                said.append("not published yet")
    elif slot.status == SlotStatus.SCHEDULED:
        with transaction.atomic():
            slot.unscheduled_in_scripe()
            record(
                slot, kind=Kind.STATUS, text=gettext_noop("Unscheduled in Scripe; back in review.")
            )
        said.append("unscheduled in Scripe")
    return ", ".join(said)


def _adopt_text(slot: PlannedSlot, job, post: Post) -> bool:
    """Takes Scripe's text for ours, keeping ours on the trail. Conditional on the text it
    replaces, so a sweep and a "Sync now" at once record it once. True if it changed."""
    title, content = (post.title or "")[:500], post.content or ""
    if (title, content) == (job.post_title, job.post_content):
        return False
    with transaction.atomic():
        changed = GenerationJob.objects.filter(
            pk=job.pk, post_title=job.post_title, post_content=job.post_content
        ).update(post_title=title, post_content=content)
        if not changed:
            return False
        earlier = job.post_content
        job.post_title, job.post_content = title, content
        PlannedSlot.objects.filter(pk=slot.pk).update(updated_at=timezone.now())
        record(
            slot, kind=Kind.EDIT, text=gettext_noop("Text edited in Scripe."), earlier_text=earlier
        )
    return True


def _at(slot: PlannedSlot) -> str:
    local = timezone.localtime(slot.scheduled_for, slot.workspace.zone)
    return f"{local:%a %-d %b %H:%M}"


# reading a workspace back -----------------------------------------------------------------------


def scripe_sync(
    *, workspace: Workspace, projects: list[Project] | None = None, allowance: int | None = None
) -> SyncReport:
    """Reads back every followed post of the workspace (or of `projects`, in that order) and
    applies it. With an `allowance` of calls, no project is begun once that many were made
    (one that takes several pages is read to its end). Stops at a workspace-wide failure (a
    rate-limit hold, an unreachable Scripe, a refused key) and says so; what was read until
    then is applied."""
    report = SyncReport()
    followed = _followed(workspace, projects)
    if not followed:
        return report
    order = [p for p in projects if p in followed] if projects is not None else list(followed)
    connection = connection_for(workspace)
    try:
        with scripe_session(connection) as scripe:
            for project in order:
                if allowance is not None:
                    # Scripe's first answer may say the limit is lower than assumed.
                    known = round(pacing.sync_calls_per_minute(connection.rate_limit))
                    if report.calls >= min(allowance, known):
                        break
                before = scripe.calls
                try:
                    _sync_project(scripe, project, followed[project], report)
                finally:
                    report.calls += scripe.calls - before
                report.projects_read += 1
    except ScripeNotConfigured as error:
        report.problem = error.said
    except ScripeError as error:
        if error.code == HELD:
            report.problem = "Scripe is rate-limiting this workspace; the sync goes on shortly."
        else:
            report.problem = f"Could not sync with Scripe: {describe_error(error)}"
    return report


def _followed(workspace: Workspace, projects) -> dict[Project, list[PlannedSlot]]:
    slots = (
        PlannedSlot.objects.alive()
        .filter(workspace=workspace, status__in=FOLLOWED_STATUSES)
        .for_cards()
        .select_related("workspace", "project")
    )
    if projects is not None:
        slots = slots.filter(project__in=projects)
    followed: dict[Project, list[PlannedSlot]] = {}
    for slot in slots:
        job = slot.current_job
        if job is not None and job.post_id:
            followed.setdefault(slot.project, []).append(slot)
    return followed


def _sync_project(
    scripe: ScripeClient, project: Project, slots: list[PlannedSlot], report: SyncReport
) -> None:
    # The time the reading began is what it is current as of.
    read_at = timezone.now()
    wanted = {slot.current_job.post_id: slot for slot in slots}
    oldest = min(_written_at(slot) for slot in slots) - LISTING_MARGIN
    listed = scripe.iter_posts(project.scripe_id, date_from=f"{oldest:%Y-%m-%d}")
    suggested: list[Post] = []
    found = collect_newest_first(_noting(listed, suggested), set(wanted), back_to=oldest)
    if suggested:
        # Scripe's suggestions the listing passed on its way: kept for the ideas board at no
        # extra call (only part of them, so none is judged gone; pipeline/suggestions.py).
        suggestions_record(project=project, posts=suggested, complete=False)
    for post_id in set(wanted) - set(found):
        # Not in the listing: deleted, or older than it reached. Only a 404 says deleted.
        try:
            found[post_id] = scripe.get_post(post_id)
        except ScripeError as error:
            if error.code != "not_found":
                raise
    problem = ""
    if any(_overdue(slot, found.get(pid)) for pid, slot in wanted.items()):
        problem = _project_problem(scripe, project)
    for post_id, slot in wanted.items():
        said = post_follow(slot, found.get(post_id), project_problem=problem)
        if said:
            report.changes.append(f"{_at(slot)} {said}")
    Project.objects.filter(pk=project.pk).update(posts_synced_at=read_at)


def _noting(posts: Iterator[Post], suggested: list[Post]) -> Iterator[Post]:
    for post in posts:
        if post.status == "suggested":
            suggested.append(post)
        yield post


def _written_at(slot: PlannedSlot) -> datetime:
    job = slot.current_job
    return job.completed_at or job.accepted_at or job.created_at


def _overdue(slot: PlannedSlot, post: Post | None) -> bool:
    return (
        post is not None
        and post.status == "scheduled"
        and post.scheduled_at is not None
        and post.scheduled_at < timezone.now() - PUBLISH_MARGIN
    )


def _project_problem(scripe: ScripeClient, project: Project) -> str:
    """Scripe's word on the project, when it reports one (status ERROR, paused, archived)."""
    try:
        remote = scripe.get_project(project.scripe_id)
    except ScripeError as error:
        if error.code in (HELD, "rate_limited"):
            raise
        return ""
    if remote.status != project.status:
        Project.objects.filter(pk=project.pk).update(status=remote.status)
    return Project.INACTIVE_REASONS.get(remote.status, "")


def sync_request(*, workspace: Workspace) -> None:
    """Sync now: the reading back runs in a task (several projects, several pages each, at
    Scripe's pace), never in the web request; what it finds shows on open pages."""
    transaction.on_commit(lambda: enqueue(workspace.pk))


def enqueue(workspace_id: int) -> None:
    from django_q.tasks import async_task

    async_task("calendar_app.tasks.sync_workspace", workspace_id, group="sync")


# the schedule -------------------------------------------------------------------------------------


def syncs_due() -> int:
    """The sweep's share (each minute): in each workspace, reads back the projects with
    followed posts not read for DUE_AFTER, least recently read first, and, unless Scripe's
    webhooks are heard, those with a scheduled post due to go out (until Scripe says it
    went), as far as the workspace's sync allowance goes. Returns projects read."""
    now = timezone.now()
    followed = PlannedSlot.objects.alive().filter(status__in=FOLLOWED_STATUSES)
    going_out = set(
        followed.filter(status=SlotStatus.SCHEDULED, scheduled_for__lte=now)
        .values_list("project_id", flat=True)
        .distinct()
    )
    projects = (
        Project.objects.filter(pk__in=followed.values("project_id"))
        .select_related("workspace")
        .order_by(F("posts_synced_at").asc(nulls_first=True), "pk")
    )
    by_workspace: dict[Workspace, list[Project]] = {}
    for project in projects:
        by_workspace.setdefault(project.workspace, []).append(project)
    read = 0
    for workspace, mine in by_workspace.items():
        floor = [
            p for p in mine if p.posts_synced_at is None or p.posts_synced_at <= now - DUE_AFTER
        ]
        connection = connection_for(workspace)
        sooner = []
        if not webhook_health(connection, now=now).heard:
            sooner = [p for p in mine if p.pk in going_out and p not in floor]
        if not floor and not sooner:
            continue
        per_minute = pacing.sync_calls_per_minute(connection.rate_limit)
        # Rounded: a sweep a moment early (11.98 of 12) still reads its twelfth project.
        allowance = round(allowance_claim(workspace, per_minute, now))
        if allowance < 1:
            continue
        report = scripe_sync(workspace=workspace, projects=floor + sooner, allowance=allowance)
        Workspace.objects.filter(pk=workspace.pk).update(
            sync_allowance=F("sync_allowance") - report.calls
        )
        if report.problem:
            logger.info("sync of %s: %s", workspace, report.problem)
        read += report.projects_read
    return read


def allowance_claim(workspace: Workspace, per_minute: float, now: datetime) -> float:
    """The calls the sweep may spend on the workspace now: what was left, refilled at
    `per_minute` since the last claim, never more than a minute's worth. What a sweep spends
    beyond it (rounding, a project's last pages) is owed and repaid by the next. A
    conditional UPDATE on the last claim's time, so of two sweeps at once only one spends."""
    row = Workspace.objects.filter(pk=workspace.pk).values("sync_allowance", "sync_allowance_at")
    state = row.first()
    if state is None:
        return 0.0
    last = state["sync_allowance_at"]
    if last is None:
        allowance = per_minute
    else:
        refill = per_minute * max(0.0, (now - last).total_seconds()) / 60
        allowance = min(per_minute, state["sync_allowance"] + refill)
    claimed = (
        Workspace.objects.filter(pk=workspace.pk, sync_allowance_at=last)
        if last
        else Workspace.objects.filter(pk=workspace.pk, sync_allowance_at__isnull=True)
    )
    if not claimed.update(sync_allowance=allowance, sync_allowance_at=now):
        return 0.0
    return allowance


def missed_sweep() -> int:
    """Drafts still in review when their time passed become `missed` on their own, listed
    for managers, rather than waiting for someone to try to approve them."""
    late = PlannedSlot.objects.alive().filter(
        status=SlotStatus.IN_REVIEW, scheduled_for__lte=timezone.now()
    )
    missed = 0
    for slot in late:
        try:
            with transaction.atomic():
                slot.mark_missed()
                record(
                    slot,
                    kind=Kind.STATUS,
                    text=gettext_noop("Its time passed before it was approved."),
                )
        except IllegalTransition:
            continue
        missed += 1
    return missed
