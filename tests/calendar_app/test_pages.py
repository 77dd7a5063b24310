"""Every page of the app, for a team with data in every state, read the way a person and a
screen reader read it: no id twice on a page, also with any dialog the page opens, every
label names a field, and the words are the product's (#24)."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Permission

from calendar_app.access import viewer_of
from calendar_app.ideas import services as ideas
from calendar_app.models import (
    GenerationJob,
    Idea,
    KnowledgeDocument,
    Label,
    Notification,
    PlannedSlot,
    ScheduleTime,
    Source,
)
from calendar_app.notifications import services as notifications
from calendar_app.planning import queue
from calendar_app.planning import series as series_rules
from calendar_app.review import guests
from calendar_app.review import services as review
from calendar_app.sources import services as sources

# Its tests share one crawl of every page: one worker of a parallel run has them all.
pytestmark = pytest.mark.xdist_group("pages")
NOW = datetime(2026, 10, 15, 10, 0, tzinfo=UTC)
WEEKLY_THU = series_rules.Rule(frequency="weekly", weekdays=(3,), count=4)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


class Page(HTMLParser):
    """A page's ids, the dialogs it opens (`hx-get` into #dialog-body) and the text a person
    reads or hears (text, and the titles, labels and placeholders that stand for text)."""

    SPOKEN = ("title", "aria-label", "placeholder", "alt", "data-confirm", "hx-confirm")

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.labelled: list[str] = []  # what each <label for> names
        self.dialogs: set[str] = set()
        self.words: list[str] = []
        self._hidden = 0  # inside <script>, <style> or <template>
        self.feed(html)

    def handle_starttag(self, tag, attrs) -> None:
        attrs = dict(attrs)
        if tag in ("script", "style", "template"):
            self._hidden += 1
        if attrs.get("id") and not self._hidden:
            self.ids.append(attrs["id"])
        if tag == "label" and attrs.get("for") and not self._hidden:
            self.labelled.append(attrs["for"])
        if attrs.get("hx-target") == "#dialog-body" and attrs.get("hx-get"):
            self.dialogs.add(attrs["hx-get"])
        self.words += [attrs[name] for name in self.SPOKEN if attrs.get(name)]
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.words.append(attrs["value"])

    def handle_endtag(self, tag) -> None:
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data) -> None:
        if not self._hidden and data.strip():
            self.words.append(data.strip())

    @property
    def duplicates(self) -> list[str]:
        return sorted(i for i, n in Counter(self.ids).items() if n > 1)

    @property
    def unlabelled(self) -> list[str]:
        """What a <label for> names that is not on the page."""
        return sorted(set(self.labelled) - set(self.ids))


def with_job(team, when, status, **fields) -> PlannedSlot:
    slot = team.slot(when, status=status, text=f"A {status} post about hiring")
    GenerationJob.objects.create(slot=slot, idempotency_key=uuid.uuid4().hex, **fields)
    return slot


@pytest.fixture
def busy(team):
    """A workspace with a post in every state, labels, a series, a posting queue, a shared
    draft, notifications and a comment: what the pages show when they are in use."""
    day = NOW + timedelta(days=2)
    slots = {"draft": team.slot(day, text="A draft about hiring")}
    slots["queued"] = with_job(team, day + timedelta(hours=1), "queued")
    slots["generating"] = with_job(
        team, day + timedelta(hours=2), "generating", scripe_job_id="job_1", progress=0.4,
        progress_message="Writing the draft", submitted_at=NOW - timedelta(seconds=20),
    )  # fmt: skip
    slots["retrying"] = with_job(
        team, day + timedelta(hours=3), "queued", submitted_at=NOW - timedelta(seconds=5),
        retry_reason="Scripe had a temporary problem.", next_poll_at=NOW + timedelta(seconds=9),
    )  # fmt: skip
    slots["failed"] = with_job(
        team, day + timedelta(hours=4), "failed", finished=True, error_message="It failed."
    )
    for i, status in enumerate(["in_review", "scheduled", "published", "missed", "approving"]):
        slots[status] = with_job(
            team, day + timedelta(days=1, hours=i), status, finished=True, post_id=f"post_{i}",
            post_title="Hiring our first designer", post_content="We are hiring.\nJoin us.",
        )  # fmt: skip
    for i, status in enumerate(["rejected", "changes_requested", "cancelled", "removed"]):
        slots[status] = with_job(team, day + timedelta(days=2, hours=i), status, finished=True)
        PlannedSlot.objects.filter(pk=slots[status].pk).update(status_note="Not our voice.")
    launch = Label.objects.create(workspace=team.workspace, name="Launch", colour=2)
    launch.slots.add(slots["draft"], slots["in_review"])
    for weekday in (1, 3):
        ScheduleTime.objects.create(project=team.project, weekday=weekday, time=time(8, 30))
    queue.queue_add(
        user=team.editor, project=team.project, top=False, request_key="", note_text="Queued idea",
        note=None, language="en",
    )  # fmt: skip
    series = series_rules.series_create(
        user=team.editor, zone=team.workspace.zone, rule=WEEKLY_THU, project=team.project,
        note_text="Weekly tip", note=None, language="en",
        day=date(2026, 10, 22), clock=time(9), labels=[launch],
    )  # fmt: skip
    review.slot_comment(slot=slots["in_review"], user=team.manager, text="Looks good.")
    _, token = guests.link_create(slot=slots["in_review"], user=team.manager, days=7)
    for user in (team.editor, team.manager, team.admin):
        Notification.objects.create(
            user=user, workspace=team.workspace, slot=slots["failed"], kind="failed",
            text="Generation failed: Lena Fischer, Sat 17 Oct 12:00", detail="It failed.",
        )  # fmt: skip
    # The ideas board (#26): an idea with a post, and one of Scripe's suggestions.
    idea = ideas.idea_create(
        viewer=viewer_of(team.editor), workspace=team.workspace, text="A customer's question",
        link="https://example.com/a", project=team.project, labels=[launch],
    )  # fmt: skip
    ideas.idea_plan(viewer=viewer_of(team.editor), idea=idea, day=date(2026, 10, 20))
    Idea.objects.create(
        workspace=team.workspace, project=team.project, scripe_post_id="post_suggested1",
        title="A myth worth retiring", text="Posting daily is not the only way.",
    )  # fmt: skip
    # The workspace's admin keeps it in Django's admin too, with the models' permissions.
    team.admin.user_permissions.set(
        Permission.objects.filter(content_type__app_label="calendar_app")
    )
    # Sources (#26): one transcribed with hooks (one planned), one still being transcribed.
    from tests.calendar_app.sources.conftest import ready_source

    source = ready_source(team)
    sources.hooks_plan(user=team.editor, source=source, hook_ids=["hk_a"])
    ingesting = ready_source(team)
    Source.objects.filter(pk=ingesting.pk).update(status="ingesting", progress=0.3, topics=[])
    # The knowledge base (#26): one document indexed, one indexing, one failed.
    for n, (state, kind) in enumerate(
        [("indexed", "text"), ("indexing", "url"), ("failed", "youtube")]
    ):
        KnowledgeDocument.objects.create(
            workspace=team.workspace, project=team.project if n != 2 else None, kind=kind,
            name=f"Document {n}", url="https://example.com/" if kind != "text" else "",
            added_by=team.manager, cost_cents=1, idempotency_key=f"kb-page-{n}", state=state,
            finished=state != "indexing", error_message="Scripe could not index it: gone.",
        )  # fmt: skip
    return {
        "slots": slots,
        "series": series,
        "label": launch,
        "guest_token": token,
        "idea": idea,
        "sources": [source, ingesting],
    }


def pages(team, busy) -> list[str]:
    """The address of every page a member opens."""
    slots, day = busy["slots"], f"{NOW + timedelta(days=2):%Y-%m-%d}"
    occurrence = PlannedSlot.objects.filter(occurrence__series=busy["series"]).first()
    return [
        "/",
        f"/calendar/{NOW:%Y/%-m}/",
        f"/calendar/{NOW:%Y/%-m}/?label={busy['label'].public_id}",
        f"/calendar/week/{day}/",
        f"/calendar/day/{day}/",
        "/slots/",
        f"/slots/?label={busy['label'].public_id}&status=draft",
        "/slots/new/",
        *(f"/slots/{slot.public_id}/" for slot in slots.values()),
        f"/slots/{slots['draft'].public_id}/edit/",
        f"/series/occurrence/{occurrence.public_id}/edit/",
        f"/series/{busy['series'].public_id}/",
        "/review/",
        f"/review/?slot={slots['missed'].public_id}",
        "/queue/",
        f"/queue/{team.project.scripe_id}/",
        "/labels/",
        "/ideas/",
        "/ideas/?view=list",
        "/ideas/panel/",
        f"/ideas/{busy['idea'].public_id}/",
        "/insights/",
        "/notifications/",
        "/settings/",
        "/projects/",
        "/import/",
        "/sources/",
        *(f"/sources/{source.public_id}/" for source in busy["sources"]),
        f"/projects/{team.project.scripe_id}/knowledge/",
        f"/knowledge/{team.workspace.public_id}/",
        # The admin, for a workspace's admin (the others are sent to its log-in).
        "/admin/",
        "/admin/calendar_app/plannedslot/",
        f"/admin/calendar_app/plannedslot/{slots['in_review'].pk}/change/",
        "/admin/calendar_app/generationjob/",
        f"/admin/calendar_app/generationjob/{slots['in_review'].current_job.pk}/change/",
    ]


def anonymous_pages(team, busy) -> list[str]:
    return [
        "/accounts/login/",
        f"/r/{busy['guest_token']}/",
        f"/notifications/unsubscribe/{notifications.unsubscribe_token(team.editor, 'failed')}/",
        "/no-such-page/",
    ]


def read(client, url: str, *, htmx: bool = False) -> Page:
    response = client.get(url, headers={"HX-Request": "true"} if htmx else {}, follow=True)
    # 403 and 404 are pages too: an editor opening a manager's page, an address that is gone.
    assert response.status_code in (200, 403, 404), (url, response.status_code)
    return Page(response.content.decode())


def every_page(client, team, busy):
    """(address, page) for every page as each role sees it, and (page + dialog address,
    page with the dialog open) for each dialog it opens."""
    for user in (team.editor, team.manager, team.admin):
        client.force_login(user)
        for url in pages(team, busy):
            page = read(client, url)
            yield url, page
            # One of each kind: a month opens a New post dialog for every day.
            opened = {UUID.sub("<id>", d.split("?")[0]): d for d in sorted(page.dialogs)}
            for dialog in opened.values():
                inside = read(client, dialog, htmx=True)
                both = Page("")
                both.ids, both.labelled = page.ids + inside.ids, page.labelled + inside.labelled
                both.words = inside.words
                yield f"{url} + {dialog}", both
    client.logout()
    for url in anonymous_pages(team, busy):
        yield url, read(client, url)


# The three tests below read the same pages: the crawl is made once a run and kept, since
# each test only reads the markup it brought back.
_CRAWLED: list[tuple[str, Page]] = []


def crawled(client, team, busy) -> list[tuple[str, Page]]:
    if not _CRAWLED:
        _CRAWLED.extend(every_page(client, team, busy))
    return _CRAWLED


def test_no_page_has_an_id_twice_even_with_a_dialog_open(client, team, busy):
    """A label points at the field with its id: on All posts, the New post dialog's
    Project label pointed at the filter's Project (#24)."""
    found = [(url, page.duplicates) for url, page in crawled(client, team, busy)]
    assert len(found) > 100  # the crawl reached the pages and their dialogs, for each role
    twice = [f"{UUID.sub('<id>', url)}: {', '.join(ids)}" for url, ids in found if ids]
    assert not twice, "ids used twice:\n" + "\n".join(sorted(set(twice)))


def test_every_label_names_a_field_on_its_page(client, team, busy):
    found = [(url, page.unlabelled) for url, page in crawled(client, team, busy)]
    missing = [f"{UUID.sub('<id>', url)}: {', '.join(ids)}" for url, ids in found if ids]
    assert not missing, "labels for nothing:\n" + "\n".join(sorted(set(missing)))


def test_no_page_says_slot(client, team, busy):
    """People plan posts; "slot" is the code's word (#24): not in a page, a dialog, a title
    or a label."""
    said = {
        f"{UUID.sub('<id>', url)}: {text}"
        for url, page in crawled(client, team, busy)
        for text in page.words
        if re.search(r"\bslots?\b", text, re.IGNORECASE)
    }
    assert not said, "\n".join(sorted(said))
