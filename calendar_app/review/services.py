"""Managers' review of generated drafts: edit, approve (schedules in Scripe), request changes
(generates again with the comment as steering), reject, and new times for missed slots.

Every decision is a conditional transition out of `in_review`, so of two managers deciding
on the same draft at once exactly one wins and the other is told who did. Approve claims
the slot (`approving`) before it calls Scripe, so Scripe only ever hears from the winner,
and saves the text it sent only once Scripe has accepted it.
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from datetime import date, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from calendar_app.core.refusals import Refusal
from calendar_app.models import DONE_BY, GenerationJob, PlannedSlot, SlotStatus
from calendar_app.notifications.services import slot_watch
from calendar_app.notifications.trail import Kind, record
from calendar_app.pipeline.generation import generation_request, source_text
from calendar_app.planning import rules
from scripe_integration.contract import ScripeError, ScripeInputError
from scripe_integration.services import (
    HELD,
    ScripeNotConfigured,
    answered_by_scripe,
    describe_error,
    post_fetch,
    post_update,
)

LINKEDIN_LIMIT = 3000
# Scheduling needs a moment to reach LinkedIn; a slot this close to its time counts as missed.
APPROVE_LEAD = timedelta(minutes=1)
# An approval still `approving` after this long was interrupted (the request died mid-call).
APPROVAL_STALE_AFTER = timedelta(minutes=2)
CONFIRMED_LATER = gettext_noop("Scheduled in Scripe (confirmed later).")


def _draft(slot: PlannedSlot) -> GenerationJob:
    job = slot.current_job
    if slot.status != SlotStatus.IN_REVIEW and slot.status in DONE_BY:
        raise Refusal(slot.taken_by_someone_else(), stale=True)  # a manager was quicker
    if slot.status != SlotStatus.IN_REVIEW or job is None or not job.post_id:
        raise Refusal(_("This post has no draft waiting for review."), stale=True)
    return job


def post_text(title: str | None, content: str | None) -> tuple[str, str]:
    problems = rules.Problems()
    title = problems.check(
        rules.text, title, field="title", label=_("The title"), limit=rules.TITLE_MAX_CHARS
    )
    content = problems.check(
        rules.text,
        content,
        field="content",
        label=_("The post"),
        limit=rules.CONTENT_MAX_CHARS,
        required=_("The post is empty. Write it, or request changes."),
    )
    problems.raise_any()
    return title.strip(), content


def scripe_refused(error: ScripeError, *, doing: str, then: str) -> str:
    """Why Scripe did not do it, and what became of ours (`then`), in one sentence. `doing`
    and `then` are English phrases marked with gettext_noop, put into the reader's language
    here; `doing` phrases serve only this sentence (German makes them zu-infinitives)."""
    words = {"doing": _(doing), "then": _(then)}
    if error.code == "conflict":
        return (
            _(
                "Scripe could not %(doing)s: the project's LinkedIn connection is down. "
                "Reconnect it in Scripe and try again. %(then)s"
            )
            % words
        )
    if error.code == "unprocessable":
        words["reason"] = error.message.rstrip(".")
        return _("Scripe could not %(doing)s: %(reason)s. %(then)s") % words
    if error.http_status is None or not answered_by_scripe(error):
        return _("Scripe could not be reached. %(then)s Try again in a minute.") % words
    words["reason"] = describe_error(error).shown()
    return _("Scripe refused: %(reason)s %(then)s") % words


def fits_linkedin(content: str, *, approving: bool = False) -> None:
    """Refuses, next to the text, a post longer than LinkedIn takes."""
    if len(content) > LINKEDIN_LIMIT:
        words = {
            "max": f"{LINKEDIN_LIMIT:,}",
            "count": f"{len(content):,}",
            "over": f"{len(content) - LINKEDIN_LIMIT:,}",
        }
        if approving:
            sentence = _(
                "LinkedIn takes at most %(max)s characters and this post has %(count)s. "
                "Shorten it by %(over)s before approving."
            )
        else:
            sentence = _(
                "LinkedIn takes at most %(max)s characters and this post has %(count)s. "
                "Shorten it by %(over)s."
            )
        raise Refusal(fields={"content": sentence % words})


def edited_meanwhile(slot: PlannedSlot) -> str:
    last = slot.events.filter(kind=Kind.EDIT).select_related("actor").last()
    if last is None:
        return _("The draft changed meanwhile; the page now shows the stored version.")
    when = timezone.localtime(last.created_at)
    return _(
        "%(who)s saved another version of this draft at %(time)s; yours was not "
        "used. The page now shows theirs."
    ) % {"who": last.who, "time": f"{when:%H:%M}"}


def draft_save(
    *, slot: PlannedSlot, user, title: str | None, content: str | None, version: str | None = None
) -> str:
    """Keeps the manager's edits. Scripe gets the text with the approval, so nothing is sent
    now and the two cannot disagree about a draft that is still being edited. `version` is
    the text the manager started from (GenerationJob.text_version): when someone else saved
    meanwhile, their text is kept and this save is refused."""
    job = _draft(slot)
    title, content = post_text(title, content)
    unchanged = {"post_title": job.post_title, "post_content": job.post_content}
    if version is not None and version != job.text_version:
        raise Refusal(edited_meanwhile(slot), stale=True)
    saved = GenerationJob.objects.filter(
        pk=job.pk, is_current=True, slot__status=SlotStatus.IN_REVIEW, **unchanged
    ).update(post_title=title, post_content=content)
    if not saved:
        slot.refresh_from_db()
        if slot.status != SlotStatus.IN_REVIEW:
            raise Refusal(slot.taken_by_someone_else(), stale=True)
        raise Refusal(edited_meanwhile(slot), stale=True)
    record(slot, kind=Kind.EDIT, actor=user, text=gettext_noop("Draft edited."))
    return _("Draft saved. Scripe gets it when you approve.")


def self_approval_refusal(slot: PlannedSlot, job: GenerationJob, user, events=None) -> str:
    """Why `user` may not approve this draft in a workspace with no self-approval, in one
    sentence; "" when they may. They may not when the current version exists because they
    sent the previous one back (its steering is theirs), or when they edited it. `events`:
    the slot's trail when the caller has it already (the review page does), else it is read."""
    if user is None or not slot.workspace.no_self_approval:
        return ""
    if job.steering and job.requested_by_id == user.pk:
        did = _("you requested the changes that made this version")
    else:
        if events is None:
            events = slot.events.filter(kind=Kind.EDIT, actor=user, created_at__gte=job.created_at)
        edited = any(
            e.kind == Kind.EDIT and e.actor_id == user.pk and e.created_at >= job.created_at
            for e in events
        )
        if not edited:
            return ""
        did = _("you edited this draft")
    return _(
        "This workspace asks for a second pair of eyes: %(did)s, so another manager (or the "
        "client, through a review link) approves it."
    ) % {"did": did}


def _same_text(ours: tuple[str, str], stored: tuple[str, str]) -> bool:
    """The same title and text, whatever line endings the browser sent (it sends CRLF)."""

    def plain(value: str) -> str:
        return value.replace("\r\n", "\n").strip()

    return [plain(v) for v in ours] == [plain(v) for v in stored]


def slot_approve(
    *,
    slot: PlannedSlot,
    user,
    title: str | None = None,
    content: str | None = None,
    version: str | None = None,
    guest_name: str = "",
) -> str:
    """Schedules the post in Scripe for the slot's time, or marks the slot missed when that
    time has passed. A refused approval leaves the slot and its draft exactly as they were.
    When Scripe's answer is lost (a timeout, a 5xx), nobody knows whether it scheduled the
    post: the slot stays `approving` until Scripe's copy says, now or at the sweep.

    In a workspace with no self-approval, a manager who sent this version's predecessor back
    or edited it (here too: approving a text other than the stored one is an edit) is refused
    with 403: the rule is about who asks, not the draft's state, and another manager may.
    `guest_name`: a client approving through a review link (calendar_app/review/guests.py), with no
    user; the trail says "guest <name>"."""
    job = _draft(slot)
    title, content = post_text(
        job.post_title if title is None else title, job.post_content if content is None else content
    )
    if why := self_approval_refusal(slot, job, user):
        raise Refusal(why, status=403)
    changed = not _same_text((title, content), (job.post_title, job.post_content))
    if user is not None and slot.workspace.no_self_approval and changed:
        raise Refusal(
            _(
                "This workspace asks for a second pair of eyes: you changed the text, so save "
                "it and another manager (or the client, through a review link) approves it."
            ),
            status=403,
        )
    fits_linkedin(content, approving=True)
    who = {"actor": user, "guest_name": guest_name}
    if slot.scheduled_for <= timezone.now() + APPROVE_LEAD:
        with transaction.atomic():
            slot.mark_missed()
            _keep_text(job, title, content)
            record(
                slot, kind=Kind.STATUS, text=gettext_noop("Its time passed before approval."), **who
            )
        return _("Its time has passed, so it was not scheduled. Pick a new time for it.")
    with transaction.atomic():
        slot.begin_approval()
        # Who is approving, so a manager who decides a moment later is told.
        claim = record(
            slot, kind=Kind.STATUS, text=gettext_noop("Approving: scheduling in Scripe."), **who
        )
    # The claim shuts out other saves; only now is the stored text certain.
    job.refresh_from_db(fields=["post_title", "post_content"])
    if version is not None and version != job.text_version:
        _undo_claim(slot, claim)
        raise Refusal(edited_meanwhile(slot), stale=True)
    try:
        post = post_update(
            workspace=slot.workspace,
            post_id=job.post_id,
            title=title,
            content=content,
            scheduled_for=slot.scheduled_for,
        )
    except (ScripeInputError, ScripeNotConfigured) as error:  # refused before sending
        _undo_claim(slot, claim)
        raise Refusal(str(error)) from None
    except ScripeError as error:
        if not_made(error):
            _undo_claim(slot, claim)
            raise Refusal(
                scripe_refused(
                    error,
                    doing=gettext_noop("schedule it"),
                    then=gettext_noop("The draft stays in review."),
                )
            ) from None
        return _confirm(slot, job, user, guest_name=guest_name)
    _scheduled(slot, job, title, content, actor=user, guest_name=guest_name, copy=post)
    return _("Approved: scheduled in Scripe.")


def not_made(error: ScripeError) -> bool:
    """Scripe said no (a 4xx), or the request was never sent (our rate-limit hold, no
    connection): nothing changed there. After a timeout, a broken connection or a 5xx
    nobody knows, and Scripe's copy of the post tells."""
    answered_no = error.http_status is not None and 400 <= error.http_status < 500
    return answered_no or error.code in (HELD, "connection_error")


def _scheduled(
    slot: PlannedSlot,
    job: GenerationJob,
    title: str,
    content: str,
    *,
    actor=None,
    guest_name: str = "",
    text: str = gettext_noop("Approved and scheduled in Scripe."),
    copy=None,
) -> None:
    """Scripe scheduled the post: the slot is approved and the text Scripe has is ours.
    `copy`, Scripe's copy of the post, also gives the time it is scheduled for (ours follows
    it) and how recent it is (so a late webhook cannot undo it)."""
    with transaction.atomic():
        slot.approve(scheduled_for=copy.scheduled_at if copy is not None else None)
        _keep_text(job, title, content)
        record(slot, kind=Kind.STATUS, actor=actor, guest_name=guest_name, text=text)
        if copy is not None:
            slot.note_scripe_copy(copy.updated_at)


def _keep_text(job: GenerationJob, title: str, content: str) -> None:
    job.post_title, job.post_content = title, content
    job.save(update_fields=["post_title", "post_content"])


def scripe_scheduled(slot: PlannedSlot, job: GenerationJob | None):
    """Scripe's copy of the post if it is scheduled; False if it is not; None when Scripe
    cannot say now."""
    try:
        post = post_fetch(workspace=slot.workspace, post_id=job.post_id) if job else None
    except (ScripeError, ScripeNotConfigured, ScripeInputError):
        return None
    return post if post is not None and post.status == "scheduled" else False


def _undo_claim(slot: PlannedSlot, claim) -> None:
    """Back exactly as before `begin_approval`: status, times and trail."""
    with transaction.atomic():
        slot.approval_failed()
        claim.delete()


def _confirm(slot: PlannedSlot, job: GenerationJob, user, *, guest_name: str = "") -> str:
    """After a lost answer: Scripe's copy of the post says whether it was scheduled. If it
    does not say so yet, the slot stays `approving` and the sweep asks again."""
    if post := scripe_scheduled(slot, job):
        _scheduled(
            slot, job, post.title, post.content, actor=user, guest_name=guest_name, copy=post
        )
        return _("Approved: scheduled in Scripe.")
    return _(
        "Scripe did not answer in time, so it is not yet certain that the post is scheduled. "
        "It shows as Scheduling until Scripe confirms, within a few minutes; nothing else "
        "is needed."
    )


def slot_request_changes(*, slot: PlannedSlot, user, comment: str | None) -> str:
    """Back to Scripe with the comment as steering; the earlier draft is kept."""
    _draft(slot)
    comment = rules.text(
        comment,
        field="comment",
        label=_("Your comment"),
        limit=rules.REVIEW_COMMENT_MAX_CHARS,
        required=_("Say what should change, so Scripe can do it."),
    ).strip()
    over = len(source_text(slot.note.text, comment)) - rules.NOTE_MAX_CHARS
    if over > 0:
        raise Refusal(
            fields={
                "comment": _(
                    "The note and your comment together are %(over)s characters over "
                    "Scripe's %(max)s. Shorten the comment."
                )
                % {"over": f"{over:,}", "max": f"{rules.NOTE_MAX_CHARS:,}"}
            }
        )
    with transaction.atomic():
        slot.request_changes(comment)
        record(slot, kind=Kind.COMMENT, actor=user, text=comment)
        try:
            generation_request(slot=slot, user=user, steering=comment)
        except Refusal as refusal:
            return _("Changes requested, but not sent to Scripe yet: %(reason)s") % {
                "reason": refusal
            }
    return _("Changes requested: Scripe is writing a new version.")


def reject_reason(reason: str | None, *, required: str | None = None) -> str:
    """The rule for a rejection's reason (one draft, or a bulk Reject's for them all)."""
    return rules.text(
        reason,
        field="reason",
        label=_("The reason"),
        limit=rules.REVIEW_COMMENT_MAX_CHARS,
        # Said in the asker's language, so not a default argument (read once, at import).
        required=required or _("Give the editor a reason for rejecting it."),
    ).strip()


def slot_reject(*, slot: PlannedSlot, user, reason: str | None) -> str:
    """Turns the draft down with a reason the editor sees on the card."""
    _draft(slot)
    reason = reject_reason(reason)
    with transaction.atomic():
        slot.reject(reason)
        record(slot, kind=Kind.STATUS, actor=user, text=reason)
    return "Rejected."


def slot_new_time(
    *, slot: PlannedSlot, user, day: date | None, clock: time | None, zone: zoneinfo.ZoneInfo
) -> str:
    """A missed draft comes back for review at a time that passes the planning rules."""
    if slot.status != SlotStatus.MISSED:
        raise Refusal(_("Only a missed post needs a new time here."), stale=True)
    if day is None or clock is None:
        raise Refusal(fields={"date": _("Pick a day and a time.")})
    when = rules.plan_time(day, clock, zone)
    with transaction.atomic():
        slot.give_new_time(when)
        record(
            slot, kind=Kind.STATUS, actor=user, text=gettext_noop("New time given; back in review.")
        )
    return _("New time set: the draft is back in review.")


def slot_comment(*, slot: PlannedSlot, user, text: str | None) -> None:
    """Any member's comment, into the slot's activity trail."""
    text = rules.text(
        text,
        field="text",
        label=_("The comment"),
        limit=rules.COMMENT_MAX_CHARS,
        required=_("Write a comment first."),
    ).strip()
    record(slot, kind=Kind.COMMENT, actor=user, text=text)
    slot_watch(slot=slot, user=user)  # who comments hears what happens next


def approvals_sweep() -> int:
    """Settles approvals interrupted mid-call (a killed web worker): Scripe's copy of the
    post says whether it was scheduled. Returns how many were settled."""
    cutoff = timezone.now() - APPROVAL_STALE_AFTER
    stuck = PlannedSlot.objects.alive().filter(
        status=SlotStatus.APPROVING, status_changed_at__lt=cutoff
    )
    settled = 0
    for slot in stuck.for_cards().select_related("workspace"):
        job = slot.current_job
        post = scripe_scheduled(slot, job)
        if post is None:
            continue  # ask again at the next sweep
        try:
            if post:
                _scheduled(slot, job, post.title, post.content, text=CONFIRMED_LATER, copy=post)
            else:
                with transaction.atomic():
                    slot.approval_failed(
                        gettext_noop("Scheduling in Scripe was interrupted; approve it again.")
                    )
                    record(slot, kind=Kind.STATUS, text=gettext_noop("Scheduling was interrupted."))
        except Refusal:
            continue  # settled by someone else meanwhile
        settled += 1
    return settled


WORDS = re.compile(r"\S+|\s+")


def word_diff(before: str, after: str) -> SafeString:
    """What changed from `before` to `after`, word by word: unchanged text as it is, removed
    words in <del>, added ones in <ins>, all of it escaped (the texts are Scripe's and
    people's). Whitespace is kept, so the result reads as the post does in a pre-wrap box."""
    old = WORDS.findall(before.replace("\r\n", "\n"))
    new = WORDS.findall(after.replace("\r\n", "\n"))
    parts = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(escape("".join(new[j1:j2])))
            continue
        if op in ("delete", "replace"):
            parts.append(f"<del>{escape(''.join(old[i1:i2]))}</del>")
        if op in ("insert", "replace"):
            parts.append(f"<ins>{escape(''.join(new[j1:j2]))}</ins>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece above is escaped


def draft_changes(job: GenerationJob | None, earlier_drafts: list[GenerationJob]) -> dict | None:
    """For a regenerated draft (attempt > 1): the comment that asked for it (the current
    attempt's steering) and a word diff from the previous version (the newest earlier draft
    with a text); None for a first draft."""
    if job is None or job.attempt <= 1 or not earlier_drafts:
        return None
    previous = earlier_drafts[0]  # newest first (review.selectors.review_draft)
    return {
        "previous": previous,
        "steering": job.steering,
        "diff": word_diff(
            f"{previous.post_title}\n\n{previous.post_content}",
            f"{job.post_title}\n\n{job.post_content}",
        ),
    }
