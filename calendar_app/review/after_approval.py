"""Changing a post after approval: a new time, unscheduling, its text. Scripe first, then
the slot, so the calendar never shows a change Scripe did not make.

Each change claims the slot first (`approving`, shown as "Scheduling"), the way an approval
does: of two managers changing it at once only one reaches Scripe, and the sync leaves a
claimed slot alone. A refusal, or a request never sent (the rate limit, no connection), puts
the row back exactly; an answer lost to a timeout leaves the slot to follow Scripe's copy of
the post, now or at the sweep.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time

from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from calendar_app.access import Viewer
from calendar_app.core.refusals import Refusal
from calendar_app.models import (
    GenerationJob,
    PlannedSlot,
    SlotStatus,
    person_name,
)
from calendar_app.notifications.trail import Kind, record
from calendar_app.planning import rules, services
from calendar_app.review.services import (
    edited_meanwhile,
    fits_linkedin,
    not_made,
    post_text,
    scripe_refused,
    scripe_scheduled,
)
from scripe_integration.contract import Post, ScripeError, ScripeInputError
from scripe_integration.sentences import Said
from scripe_integration.services import HELD, ScripeNotConfigured, post_update


@dataclass
class Changed:
    """What a change did, in words; `undo_to`: the time a reschedule can go back to."""

    message: str
    undo_to: datetime | None = None


def _scheduled_post(slot: PlannedSlot) -> GenerationJob:
    job = slot.current_job
    if slot.status != SlotStatus.SCHEDULED or job is None or not job.post_id:
        if slot.status == SlotStatus.APPROVING:
            raise Refusal(slot.taken_by_someone_else(), stale=True)
        raise Refusal(_("Only a post scheduled in Scripe can be changed here."), stale=True)
    return job


def _shown(when: datetime, zone: zoneinfo.ZoneInfo) -> str:
    """The time as the person who made the change reads it now, in their language."""
    return date_format(when.astimezone(zone), _("D j M, H:i"))


def scheduled_reschedule(
    *,
    slot: PlannedSlot,
    user,
    day: date | None,
    clock: time | None,
    zone: zoneinfo.ZoneInfo,
    expected: datetime | None = None,
) -> Changed:
    """Moves a scheduled post to a new time (the planning rules apply: the lead time, the
    15-minute grid, no DST gap): Scripe first, then the slot. With `expected`, only a post
    still at that time (an undo leaves one moved again meanwhile where it is)."""
    job = _scheduled_post(slot)
    if day is None or clock is None:
        raise Refusal(fields={"date": _("Pick a day and a time.")})
    when = rules.plan_time(day, clock, zone)
    before = slot.scheduled_for
    if when == before:
        return Changed(_("It is already scheduled for then."))
    post = _claimed(
        slot, user, doing=gettext_noop("move it"), claim=gettext_noop("Rescheduling in Scripe."),
        expected=expected,
        send=lambda: post_update(workspace=slot.workspace, post_id=job.post_id, scheduled_for=when),
    )  # fmt: skip
    if isinstance(post, Changed):
        return post
    with transaction.atomic():
        slot.change_done(scheduled_for=when)
        record(
            slot,
            kind=Kind.STATUS,
            actor=user,
            text=Said(
                gettext_noop("Rescheduled from %(before)s to %(when)s."), before=before, when=when
            ),
        )
        slot.note_scripe_copy(post.updated_at)
    return Changed(_("Rescheduled to %(when)s.") % {"when": _shown(when, zone)}, undo_to=before)


def scheduled_unschedule(*, slot: PlannedSlot, user) -> Changed:
    """Takes a scheduled post back: Scripe unschedules it (it stays a draft there) and the
    slot returns to review with a note."""
    job = _scheduled_post(slot)
    post = _claimed(
        slot, user, doing=gettext_noop("unschedule it"),
        claim=gettext_noop("Unscheduling in Scripe."),
        send=lambda: post_update(workspace=slot.workspace, post_id=job.post_id, scheduled_for=None),
    )  # fmt: skip
    if isinstance(post, Changed):
        return post
    with transaction.atomic():
        slot.unscheduled_by(person_name(user))
        record(
            slot, kind=Kind.STATUS, actor=user, text=gettext_noop("Unscheduled; back in review.")
        )
        slot.note_scripe_copy(post.updated_at)
    return Changed(_("Unscheduled: it is back in review, and a draft again in Scripe."))


def scheduled_edit(
    *, slot: PlannedSlot, user, title: str | None, content: str | None, version: str | None
) -> Changed:
    """Changes the text of a scheduled post: Scripe first, then our copy. `version` is the
    text the manager started from; an edit based on an older one is refused."""
    job = _scheduled_post(slot)
    title, content = post_text(title, content)
    fits_linkedin(content)
    if version is not None and version != job.text_version:
        raise Refusal(edited_meanwhile(slot), stale=True)
    post = _claimed(
        slot, user, doing=gettext_noop("save the text"),
        claim=gettext_noop("Changing the text in Scripe."),
        send=lambda: post_update(
            workspace=slot.workspace, post_id=job.post_id, title=title, content=content
        ),
    )  # fmt: skip
    if isinstance(post, Changed):
        return post
    with transaction.atomic():
        earlier = job.post_content
        job.post_title, job.post_content = post.title[:500], post.content
        job.save(update_fields=["post_title", "post_content"])
        slot.change_done(scheduled_for=slot.scheduled_for)
        record(
            slot,
            kind=Kind.EDIT,
            actor=user,
            text=gettext_noop("Text changed in Scripe."),
            earlier_text=earlier,
        )
        slot.note_scripe_copy(post.updated_at)
    return Changed(_("Saved: Scripe has the new text."))


def _claimed(
    slot: PlannedSlot, user, *, doing: str, claim: str, send, expected: datetime | None = None
) -> Post | Changed:
    """Claims the slot (at the `expected` time, if given) and makes the change in Scripe
    (`send`). Returns Scripe's copy of the post when it made the change (the caller records
    it, the claim still held); raises a Refusal, the claim undone exactly, when it did not;
    and when nobody knows (a timeout, a 5xx), settles from Scripe's copy of the post and says
    what happened."""
    with transaction.atomic():
        slot.begin_change(expected=expected)
        claimed = record(slot, kind=Kind.STATUS, actor=user, text=claim)
    try:
        return send()
    except (ScripeInputError, ScripeNotConfigured) as error:
        _undo(slot, claimed)
        raise Refusal(str(error)) from None
    except ScripeError as error:
        if not_made(error):
            _undo(slot, claimed)
            raise Refusal(_refused(error, doing)) from None
        return _settle(slot, user)


def _refused(error: ScripeError, doing: str) -> str:
    if error.code == HELD:
        if error.retry_after:
            return _(
                "Scripe is rate-limiting this workspace: nothing was changed. "
                "Try again in %(seconds)s s."
            ) % {"seconds": int(error.retry_after) + 1}
        return _("Scripe is rate-limiting this workspace: nothing was changed. Try again shortly.")
    return scripe_refused(error, doing=doing, then=gettext_noop("Nothing was changed."))


def _undo(slot: PlannedSlot, claimed) -> None:
    """Back exactly as before the claim: status, times and trail."""
    with transaction.atomic():
        slot.approval_failed()
        claimed.delete()


def _settle(slot: PlannedSlot, user) -> Changed:
    """Scripe's answer was lost: the slot follows Scripe's copy of the post (its time; for
    an unscheduled post, back to review), now or, if Scripe cannot say yet, at the sweep
    (`approvals_sweep`, then the sync for the text)."""
    post = scripe_scheduled(slot, slot.current_job)
    if post is None:
        return Changed(
            _(
                "Scripe did not answer in time, so the change is not certain yet. The post "
                "shows as Scheduling until Scripe confirms, within a few minutes."
            )
        )
    zone = slot.workspace.zone
    with transaction.atomic():
        if post:
            slot.change_done(scheduled_for=post.scheduled_at or slot.scheduled_for)
            record(
                slot,
                kind=Kind.STATUS,
                text=gettext_noop("Scripe's copy checked after a slow answer."),
            )
            slot.note_scripe_copy(post.updated_at)
            return Changed(
                _(
                    "Scripe answered slowly; it has the post scheduled for %(when)s. The page "
                    "shows what Scripe has."
                )
                % {"when": _shown(slot.scheduled_for, zone)}
            )
        slot.unscheduled_by(person_name(user))
        record(
            slot, kind=Kind.STATUS, actor=user, text=gettext_noop("Unscheduled; back in review.")
        )
        return Changed(_("It is no longer scheduled in Scripe: back in review."))


def post_move(*, viewer: Viewer, slot: PlannedSlot, user, day, clock, zone, expected=None) -> str:
    """A move of one post as a drop on the calendar makes it, by the same rule
    (`slot_move_refusal`): in Scripe first for a scheduled post (its time of day kept unless
    `clock` says), here for any other. Returns what happened, in words."""
    refusal = services.slot_move_refusal(viewer=viewer, slot=slot)
    if refusal is not None:
        raise refusal
    if slot.status == SlotStatus.SCHEDULED:
        clock = clock or slot.scheduled_for.astimezone(zone).time().replace(tzinfo=None)
        changed = scheduled_reschedule(
            slot=slot, user=user, day=day, clock=clock, zone=zone, expected=expected
        )
        return changed.message
    services.slot_move(slot=slot, day=day, zone=zone, user=user, clock=clock, expected=expected)
    return _("Moved to %(when)s.") % {"when": _shown(slot.scheduled_for, zone)}
