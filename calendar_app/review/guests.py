"""Client review links (#17): a manager shares one draft with someone outside the app (a
client, a founder), who reads it in the LinkedIn-like preview without an account and approves
it or comments.

The token is long and random and only its SHA-256 is stored (as for the iCal feed), so a copy
of the database does not give anyone the address; the address is shown once, when it is made.
A link expires (`LINK_DAYS`), and revoking it makes its address answer 404 at once. A guest's
approval goes through `review.slot_approve` like a manager's, with no user (a system actor)
and the name they gave, so the trail says "guest <name>"; their comments join the trail the
same way, and `trail.record` tells the team of both, naming the guest (nobody in the team saw
it happen). The workspace's no-self-approval rule is about its managers and does not apply.

A link is for the version of the draft it was made for: once Scripe writes another attempt
or the text changes (a manager's edit, an edit in Scripe), the link says the draft changed
and offers nothing to approve or comment on; the manager shares the new version with a new
link. An edit counts too: the team showed the client one text, and "guest <name> approved"
must mean that text, not one the client was never sent.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from calendar_app.core.refusals import Refusal
from calendar_app.models import PlannedSlot, ReviewLink, SlotStatus
from calendar_app.notifications.trail import Kind, record
from calendar_app.planning import rules
from calendar_app.review import services as review

TOKEN_BYTES = 32  # 43 URL-safe characters
LINK_DAYS = (1, 3, 7, 14, 30)
GUEST_NAME_MAX_CHARS = 80


class LinkExpired(Refusal):
    """The link was real but its time is over: the page says so (410), with when."""

    def __init__(self, link: ReviewLink) -> None:
        self.link = link
        super().__init__(_("This review link has expired."), status=410)


class LinkOutdated(Refusal):
    """The link was made for another version of the draft: the page says so (410) and shows
    neither the new text (the team has not shared it) nor anything to do."""

    def __init__(self, link: ReviewLink) -> None:
        self.link = link
        super().__init__(_("The draft changed after this review link was made."), status=410)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_create(*, slot: PlannedSlot, user, days: str | int | None) -> tuple[ReviewLink, str]:
    """A new review link for the draft waiting for review, as it is now, valid for `days`
    (one of LINK_DAYS). Returns the link and its token, which is not kept anywhere and cannot
    be shown again."""
    job = slot.current_job
    if slot.status != SlotStatus.IN_REVIEW or job is None:
        raise Refusal(_("Only a draft waiting for review can be shared."), stale=True)
    try:
        days = int(days or 7)
    except (TypeError, ValueError):
        days = 0
    if days not in LINK_DAYS:
        raise Refusal(fields={"days": _("Pick how long the link stays valid from the list.")})
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = ReviewLink.objects.create(
        slot=slot,
        token_hash=_hash(token),
        created_by=user,
        expires_at=timezone.now() + timedelta(days=days),
        job=job,
        draft_version=job.draft_version,
    )
    return link, token


def link_revoke(*, link: ReviewLink) -> bool:
    """Revokes the link: its address answers 404 from now on. False if it was revoked."""
    return bool(
        ReviewLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )


def live_links(slot: PlannedSlot) -> list[ReviewLink]:
    """The slot's links that still open, for the manager's panel (each knows whether it is
    outdated); one query."""
    return list(
        slot.review_links.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("created_by", "job")
        .order_by("-created_at")
    )


def link_for_token(token: str) -> ReviewLink | None:
    """The link this token opens, with its slot; None when there is none or it was revoked
    (both answer 404: a revoked address is as good as unknown). Raises LinkExpired for a link
    whose time is over, LinkOutdated for one made for another version of the draft."""
    if not token or len(token) > 100:
        return None
    link = (
        ReviewLink.objects.select_related("slot__project", "slot__note", "slot__workspace", "job")
        .filter(token_hash=_hash(token), revoked_at__isnull=True, slot__deleted_at__isnull=True)
        .first()
    )
    if link is None:
        return None
    if link.expires_at <= timezone.now():
        raise LinkExpired(link)
    if link.is_outdated:
        raise LinkOutdated(link)
    return link


def shared_slot(link: ReviewLink) -> PlannedSlot:
    """The post a link shares, with what the guest's page shows of it."""
    return PlannedSlot.objects.for_cards().select_related("project").get(pk=link.slot_id)


def guest_name(value: str | None, *, did: str = "approved") -> str:
    """The name a guest gives, which the trail shows as "guest <name>"; the rules of every
    text field (no NUL, a limit), on the name with its spaces evened out."""
    return rules.text(
        " ".join((value or "").split()),
        field="name",
        label=_("Your name"),
        limit=GUEST_NAME_MAX_CHARS,
        required=(
            _("Give your name, so the team knows who commented.")
            if did == "commented"
            else _("Give your name, so the team knows who approved.")
        ),
    )


def _used(link: ReviewLink) -> None:
    ReviewLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())


def guest_approve(*, link: ReviewLink, name: str | None) -> str:
    """The client approves the version the link was made for: scheduled in Scripe, exactly as
    when a manager approves (`review.slot_approve`), attributed to "guest <name>". Should the
    draft change between the link's check and the approval's claim, the approval is refused
    (`version`), never given to text the client was not shown."""
    name = guest_name(name)
    slot = PlannedSlot.objects.for_cards().select_related("workspace").get(pk=link.slot_id)
    job = slot.current_job
    if job is None or job.pk != link.job_id or job.draft_version != link.draft_version:
        raise LinkOutdated(link)
    message = review.slot_approve(slot=slot, user=None, guest_name=name, version=job.text_version)
    _used(link)
    return message


def guest_comment(*, link: ReviewLink, name: str | None, text: str | None) -> None:
    """The client's comment, into the slot's trail as "guest <name>"."""
    problems = rules.Problems()
    name = problems.check(guest_name, name, did="commented")
    text = problems.check(
        rules.text,
        text,
        field="text",
        label=_("The comment"),
        limit=rules.COMMENT_MAX_CHARS,
        required=_("Write a comment first."),
    )
    problems.raise_any()
    with transaction.atomic():  # a comment that is not kept leaves the link unused too
        _used(link)
        record(link.slot, kind=Kind.COMMENT, guest_name=name, text=text.strip())
