"""Client review links (#17): a manager shares a draft; the guest, with no account, reads it,
approves it or comments, and the trail says "guest <name>". Revoked: 404. Expired, or made
for an earlier version of the draft: 410."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app.models import GenerationJob, PlannedSlot, ReviewLink, SlotEvent
from calendar_app.review import guests
from tests.support import generation_finish, written_draft

HTMX = {"HX-Request": "true"}


def share(client, team, slot, days="7") -> str:
    """The link's address as the manager is shown it (once)."""
    client.force_login(team.manager)
    response = client.post(f"/review/{slot.public_id}/share/", {"days": days}, headers=HTMX)
    assert response.status_code == 200
    url = re.search(r'value="(http://testserver/r/[^"]+/)"', response.content.decode()).group(1)
    client.logout()
    return url.removeprefix("http://testserver")


@pytest.fixture
def shared(client, team, wired):
    slot = written_draft(team, text="Our hiring story.")
    return slot, share(client, team, slot)


def test_the_address_is_shown_once_and_only_its_hash_is_kept(client, team, shared):
    slot, url = shared
    token = url.split("/")[2]
    link = ReviewLink.objects.get(slot=slot)
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert link.created_by == team.manager and link.revoked_at is None
    assert timedelta(days=6, hours=23) < link.expires_at - timezone.now() <= timedelta(days=7)
    client.force_login(team.manager)
    html = client.get(f"/review/?slot={slot.public_id}").content.decode()
    assert token not in html and "valid until" in html


def test_a_guest_reads_the_preview_without_logging_in(client, shared):
    slot, url = shared
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="li-preview"' in html and slot.current_job.post_content[:40] in html
    assert "Approve this post" in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_a_guest_approves_and_the_trail_says_guest_and_their_name(client, team, shared, wired):
    slot, url = shared
    response = client.post(url + "approve/", {"name": "  Anna   Weber "})
    assert response.status_code == 302 and response["Location"] == url
    slot.refresh_from_db()
    assert slot.status == "scheduled"
    event = SlotEvent.objects.get(slot=slot, status="scheduled")
    assert event.actor is None and event.guest_name == "Anna Weber"
    assert event.who == "guest Anna Weber"
    with wired.client() as scripe:
        assert scripe.get_post(slot.current_job.post_id).status == "scheduled"
    html = client.get(url).content.decode()
    assert "This post is approved" in html and "Approve this post" not in html
    assert 'value="Anna Weber"' in html  # the name is remembered for the next form
    client.force_login(team.manager)
    page = client.get(f"/slots/{slot.public_id}/").content.decode()
    assert "guest Anna Weber" in page


def test_a_guest_must_give_a_name(client, shared):
    slot, url = shared
    response = client.post(url + "approve/", {"name": "  "})
    assert response.status_code == 422
    assert "Give your name" in response.content.decode()
    slot.refresh_from_db()
    assert slot.status == "in_review"


def test_a_guest_comments_into_the_trail(client, shared):
    slot, url = shared
    response = client.post(url + "comment/", {"name": "Anna", "text": "Less jargon, please."})
    assert response.status_code == 302
    event = SlotEvent.objects.get(slot=slot, kind="comment")
    assert (event.who, event.text) == ("guest Anna", "Less jargon, please.")
    response = client.post(url + "comment/", {"name": "Anna", "text": " "})
    assert response.status_code == 422 and "Write a comment first." in response.content.decode()


def test_a_revoked_link_is_404_and_does_nothing(client, team, shared):
    slot, url = shared
    link = ReviewLink.objects.get(slot=slot)
    client.force_login(team.manager)
    response = client.post(f"/review/links/{link.public_id}/revoke/", headers=HTMX)
    assert response.status_code == 200 and "valid until" not in response.content.decode()
    client.logout()
    assert client.get(url).status_code == 404
    assert "withdrawn" in client.get(url).content.decode()
    assert client.post(url + "approve/", {"name": "Anna"}).status_code == 404
    assert client.post(url + "comment/", {"name": "Anna", "text": "Hi"}).status_code == 404
    slot.refresh_from_db()
    assert slot.status == "in_review" and not SlotEvent.objects.filter(slot=slot, kind="comment")


def test_an_expired_link_is_410_with_a_sentence(client, shared, time_machine):
    slot, url = shared
    time_machine.move_to(timezone.now() + timedelta(days=7, minutes=1), tick=False)
    response = client.get(url)
    assert response.status_code == 410
    assert "This review link has expired" in response.content.decode()
    assert client.post(url + "approve/", {"name": "Anna"}).status_code == 410
    slot.refresh_from_db()
    assert slot.status == "in_review"


def test_unknown_addresses_are_404(client, shared):
    assert client.get("/r/not-a-token/").status_code == 404
    assert client.post("/r/not-a-token/approve/", {"name": "x"}).status_code == 404


def test_only_managers_of_the_workspace_share_and_revoke(client, team, shared):
    slot, _ = shared
    link = ReviewLink.objects.get(slot=slot)
    client.force_login(team.editor)
    assert client.post(f"/review/{slot.public_id}/share/").status_code == 403
    client.force_login(team.outsider)
    assert client.post(f"/review/{slot.public_id}/share/").status_code == 404
    assert client.post(f"/review/links/{link.public_id}/revoke/").status_code == 404
    client.logout()
    response = client.post(f"/review/{slot.public_id}/share/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    link.refresh_from_db()
    assert link.revoked_at is None


def test_sharing_needs_a_draft_in_review_and_a_listed_duration(client, team, wired):
    slot = written_draft(team)
    client.force_login(team.manager)
    response = client.post(f"/review/{slot.public_id}/share/", {"days": "365"}, headers=HTMX)
    assert response.status_code == 422 and not ReviewLink.objects.exists()
    PlannedSlot.objects.filter(pk=slot.pk).update(status="rejected")
    response = client.post(f"/review/{slot.public_id}/share/", {"days": "7"}, headers=HTMX)
    assert response.status_code in (404, 409) and not ReviewLink.objects.exists()


def test_the_no_self_approval_rule_does_not_bind_the_client(client, team, shared):
    slot, url = shared
    team.workspace.no_self_approval = True
    team.workspace.save(update_fields=["no_self_approval"])
    assert client.post(url + "approve/", {"name": "Anna"}).status_code == 302
    slot.refresh_from_db()
    assert slot.status == "scheduled"


def test_links_are_refused_for_a_deleted_post(client, shared):
    slot, url = shared
    PlannedSlot.objects.filter(pk=slot.pk).update(deleted_at=timezone.now())
    assert client.get(url).status_code == 404
    assert guests.link_for_token(url.split("/")[2]) is None


def test_the_guest_page_keeps_its_address_from_other_sites_but_not_from_its_own_forms(
    client, shared
):
    # "no-referrer" makes Chromium send `Origin: null` with the page's forms, which the
    # CSRF check refuses (tests/browser/test_guest_review.py shows the guest acting).
    _, url = shared
    assert client.get(url)["Referrer-Policy"] == "same-origin"
    assert client.get("/r/not-a-token/")["Referrer-Policy"] == "same-origin"


def nothing_done(slot, link) -> None:
    """The guest's request left the draft, its trail and the link as they were."""
    slot.refresh_from_db()
    link.refresh_from_db()
    assert slot.status == "in_review"
    assert not SlotEvent.objects.filter(slot=slot).exclude(guest_name="").exists()
    assert link.last_used_at is None


@pytest.mark.parametrize("form", ["approve", "comment"])
def test_a_name_with_a_nul_is_refused_next_to_its_field_and_nothing_is_written(
    client, shared, form
):
    # PostgreSQL cannot store NUL: this was a 500, after the comment had marked the link used.
    slot, url = shared
    link = ReviewLink.objects.get(slot=slot)
    response = client.post(url + f"{form}/", {"name": "Anna\x00", "text": "Less jargon."})
    assert response.status_code == 422
    html = response.content.decode()
    field = "guest-name" if form == "approve" else "guest-comment-name"
    error = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', html)
    assert error and "Your name contains a NUL character" in error.group(1)
    assert html.count('class="field-error"') == 1  # beside the form that was sent
    nothing_done(slot, link)


def test_after_a_regeneration_the_old_link_says_the_draft_changed_and_does_nothing(
    client, team, shared, wired
):
    slot, url = shared
    link = ReviewLink.objects.get(slot=slot)
    client.force_login(team.manager)
    client.post(f"/review/{slot.public_id}/changes/", {"comment": "Mention the interview loop."})
    generation_finish(GenerationJob.objects.get(slot=slot, is_current=True).pk)
    slot.refresh_from_db()
    new_text = slot.current_job.post_content
    assert slot.status == "in_review" and "interview loop" in new_text
    client.logout()

    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 410
    assert "This post has changed" in html and "send you a new link" in html
    assert new_text[:40] not in html  # the team has not shared the new text
    assert "Approve this post" not in html and "<textarea" not in html
    assert client.post(url + "approve/", {"name": "Anna"}).status_code == 410
    response = client.post(url + "comment/", {"name": "Anna", "text": "Looks good."})
    assert response.status_code == 410
    nothing_done(slot, link)
    with wired.client() as scripe:
        assert scripe.get_post(slot.current_job.post_id).status != "scheduled"


def test_the_review_panel_shows_an_outdated_link_and_shares_the_new_version(
    client, team, shared, wired
):
    slot, url = shared
    client.force_login(team.manager)
    client.post(f"/review/{slot.public_id}/changes/", {"comment": "Mention the interview loop."})
    generation_finish(GenerationJob.objects.get(slot=slot, is_current=True).pk)
    html = client.get(f"/review/?slot={slot.public_id}").content.decode()
    assert "Outdated" in html and "Made for an earlier version of this draft" in html
    assert "Create a link for this version" in html

    new_url = share(client, team, slot)
    slot.refresh_from_db()
    html = client.get(new_url).content.decode()
    assert slot.current_job.post_content[:40] in html and "Approve this post" in html
    assert client.post(new_url + "approve/", {"name": "Anna"}).status_code == 302
    slot.refresh_from_db()
    assert slot.status == "scheduled"
    assert client.get(url).status_code == 410  # the old one still opens nothing
    client.force_login(team.manager)
    html = client.get(f"/slots/{slot.public_id}/").content.decode()
    assert "guest Anna" in html


def test_a_managers_edit_after_sharing_outdates_the_link(client, team, shared):
    # The client was sent one text; "guest Anna approved" must mean that text.
    slot, url = shared
    link = ReviewLink.objects.get(slot=slot)
    client.force_login(team.manager)
    edited = {"title": "Hiring", "content": "A text the client was never sent."}
    assert client.post(f"/review/{slot.public_id}/save/", edited).status_code == 302
    client.logout()
    response = client.get(url)
    assert response.status_code == 410 and "never sent" not in response.content.decode()
    assert client.post(url + "approve/", {"name": "Anna"}).status_code == 410
    nothing_done(slot, link)


def test_a_draft_changed_while_the_guest_approves_is_not_approved(client, team, shared):
    # The link was checked when the request came in; the manager's save lands before the
    # approval reads the draft.
    slot, url = shared
    link = guests.link_for_token(url.split("/")[2])
    client.force_login(team.manager)
    edited = {"title": "Hiring", "content": "A text the client was never sent."}
    client.post(f"/review/{slot.public_id}/save/", edited)
    with pytest.raises(guests.LinkOutdated):
        guests.guest_approve(link=link, name="Anna")
    nothing_done(slot, link)


def test_the_guests_own_approval_leaves_their_link_current(client, team, wired):
    # An approval trims the title; the link is for the text as a reader sees it.
    slot = written_draft(team)
    GenerationJob.objects.filter(slot=slot, is_current=True).update(post_title=" Hiring \n")
    url = share(client, team, slot)
    assert client.post(url + "approve/", {"name": "Anna"}).status_code == 302
    slot.refresh_from_db()
    assert slot.status == "scheduled" and slot.current_job.post_title == "Hiring"
    response = client.get(url)
    assert response.status_code == 200 and "This post is approved" in response.content.decode()
