"""Slot cards, cheaply: the filters the card partials use, and `render_cards`, which renders a
page's cards in one go with a cache for the settled ones.

Profiling the month view showed the time going into the card partial, once per card: variable
lookups, three `{% url %}` reversals, the time-zone conversion of the time, and the excerpt of
the note. The filters here make each of those one cheap call; the cache makes a card, settled
or in flight, one dictionary lookup.
"""

from __future__ import annotations

import hashlib
import time
from functools import cache
from pathlib import Path

from django import template
from django.conf import settings
from django.core.cache import cache as django_cache
from django.template.loader import get_template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.safestring import SafeString

from calendar_app import models as models_module
from calendar_app.access import Viewer, viewer_for
from calendar_app.models import SourceNote
from calendar_app.planning.live import live_token, to_micros
from calendar_app.planning.services import slot_move_refusal

register = template.Library()

CARD = "calendar_app/slot_card.html#slot-card"
CARD_FILES = ("slot_card.html",)
# A cached card lives a day at most: time enough to be reused by every page of a busy day,
# short enough that nothing the key misses outlives a deploy for long.
CARD_TTL = 24 * 3600
_SENTINEL = "00000000-0000-4000-8000-000000000000"


@cache
def _template_version(*names: str) -> str:
    """A fingerprint of what makes cached markup, so that a deploy that changes it never
    serves markup cached by the previous version (a shared Redis outlives processes): the
    templates (the card's by default), and the code they take words from: the models
    (status labels, the progress sentence, what a card offers), this module's filters and
    the compiled catalogues."""
    sources = [
        *(Path(settings.BASE_DIR, "templates", "calendar_app", n) for n in names or CARD_FILES),
        # Every module of the models package: the status labels are in models/slots.py.
        *sorted(Path(models_module.__file__).parent.glob("*.py")),
        Path(__file__),
        # The translations (#30): a deploy that words a German label differently.
        *sorted(mo for path in settings.LOCALE_PATHS for mo in Path(path).rglob("*.mo")),
    ]
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.read_bytes())
    return digest.hexdigest()[:12]


@cache
def _split_path(name: str, prefix: str, urlconf) -> tuple[str, str]:
    return tuple(reverse(name, args=[_SENTINEL]).split(_SENTINEL, 1))  # type: ignore[return-value]


@register.filter
def slot_path(slot, name: str) -> str:
    """`{% url name slot.public_id %}`, from a pattern reversed once per process: the card
    has three such links, and reversing each for every card was a tenth of a month's time."""
    head, tail = _split_path(name, get_script_prefix(), get_urlconf())
    return f"{head}{slot.public_id}{tail}"


@register.filter
def version(slot) -> int:
    """The slot's version as the live endpoint compares it: `updated_at` in microseconds."""
    return to_micros(slot.updated_at)


@register.filter
def epoch(moment) -> int:
    return int(moment.timestamp())


@register.filter
def card_excerpt(slot) -> str:
    """The note's excerpt. Card queries (`selectors.card_slots`) load only the head of the
    note as `note_head`, since a note may be a 100,000-character transcript; any other slot
    reads its note."""
    head = getattr(slot, "note_head", None)
    if head is None:
        return slot.note.excerpt
    return SourceNote(text=head).excerpt


@register.filter
def card_labels(slot) -> tuple[tuple[str, int], ...]:
    """The slot's labels as (name, colour) (#15): set by `selectors.card_rows` for a page,
    else from the prefetched `labels` (`selectors.card_slots`). They are part of the card's
    key below, and a label's change also moves its slots' `updated_at` (labels.py), so open
    pages hear of it."""
    chips = getattr(slot, "label_chips", None)
    if chips is None:
        chips = slot.label_chips = tuple((label.name, label.colour) for label in slot.labels.all())
    return chips


def card_key(slot, zone: str, language: str) -> str:
    """Everything a card's markup depends on but the clock: the slot's version (every change a
    card shows moves `updated_at`, and the pipeline moves it whenever it saves an attempt), its
    note's version, the project's name and colour (a sync may
    rename a project without touching its slots), the viewer's zone (the time) and language,
    and the template; and whether the viewer may move it (`move_refusal`, set by
    `render_cards`), the one thing on a card that varies with the viewer's role."""
    project = slot.project
    note_version = getattr(slot, "note_updated_at", None) or slot.note.updated_at
    raw = (
        f"{slot.public_id}|{to_micros(slot.updated_at)}|{slot.note_id}|"
        f"{to_micros(note_version)}|{project.name}|{project.colour}|{zone}|{language}|"
        f"{card_labels(slot)}|"  # its labels (#15)
        f"{getattr(slot, 'move_refusal', '')}"
    )
    return f"card:{_template_version()}:{hashlib.md5(raw.encode()).hexdigest()}"  # noqa: S324


# Stands for the elapsed time in a cached in-flight card; the time is put in on the way out.
ELAPSED_MARK = "\u2063elapsed\u2063"


def _cacheable(slot) -> bool:
    """Whether the card's markup depends only on the rows: not while it counts down to a
    retry (its sentence says how many seconds are left), nor for an in-flight slot read
    without its attempt (its key would serve that bare card to pages that have one)."""
    if not slot.is_in_flight:
        return True
    job = slot.current_job
    return job is not None and not job.retry_reason


def move_refusal(viewer: Viewer, slot) -> str:
    """Sets and returns `move_refusal` on the slot: why this viewer may not move it (the card
    says so on hover instead of being draggable), "" when they may. The move's own rule."""
    refusal = slot_move_refusal(viewer=viewer, slot=slot)
    slot.move_refusal = refusal.message if refusal is not None else ""
    return slot.move_refusal


def render_cards(slots, *, viewer: Viewer) -> None:
    """Sets `card_html` on each slot: its card partial, from the cache when one was rendered
    for the same versions. An in-flight card is cached with a mark where the elapsed time
    goes, filled in for each page, since that time moves while the rows do not. Call it with
    the active zone and language of the page that shows the cards, and its viewer."""
    zone = timezone.get_current_timezone_name()
    language = translation.get_language() or ""
    partial = get_template(CARD)
    keys = {}
    for slot in slots:
        move_refusal(viewer, slot)
        if _cacheable(slot):
            keys[card_key(slot, zone, language)] = slot
        else:
            slot.card_html = partial.render({"slot": slot})
    cached = _cached_markup(keys)
    fresh = {}
    for key, slot in keys.items():
        html = cached.get(key)
        if html is None:
            html = fresh[key] = str(partial.render({"slot": slot, "elapsed_mark": ELAPSED_MARK}))
        if ELAPSED_MARK in html:
            # Only markup of a card with an attempt has the mark (`_cacheable`); a card
            # renders whatever its rows say, so never assume one.
            job = slot.current_job
            html = html.replace(ELAPSED_MARK, escape(job.elapsed) if job else "")
        # Our own template's output (SafeString rather than mark_safe: 300 calls a week page).
        slot.card_html = SafeString(html)
    if fresh:
        django_cache.set_many(fresh, CARD_TTL)
        _remember(fresh)


# The markup (cards, review entries) this process rendered or fetched lately. Its key names
# everything the markup depends on, so a key seen once always means the same markup: keeping
# it here is as correct as the shared cache, and a page of 300 cards costs 300 dictionary
# lookups rather than a round trip to the cache and 300 unpicklings. Bounded in size, and in
# age by CARD_TTL.
_RECENT: dict[str, tuple[float, str]] = {}
RECENT_ENTRIES = 5000


def _cached_markup(keys) -> dict[str, str]:
    """The markup cached under these keys, here or in the shared cache."""
    now = time.monotonic()
    found, missing = {}, []
    for key in keys:
        entry = _RECENT.get(key)
        if entry is not None and entry[0] > now:
            found[key] = entry[1]
        else:
            missing.append(key)
    if missing:
        fetched = django_cache.get_many(missing)
        found.update(fetched)
        _remember(fetched)
    return found


def _remember(markup: dict[str, str]) -> None:
    if len(_RECENT) + len(markup) > RECENT_ENTRIES:
        _RECENT.clear()
    until = time.monotonic() + CARD_TTL
    _RECENT.update((key, (until, html)) for key, html in markup.items())


REVIEW_ITEM = "calendar_app/review.html#review-item"


def render_review_items(slots, selected, filter_query: str = "") -> None:
    """Sets `item_html` on each of the review queue's list entries: its partial, from the
    cache when one was rendered for the same slot, time, status, project, draft title and
    first line, selection, the queue's filters (its link keeps them), zone and language (a
    hundred entries rendered afresh were most of the queue page's time)."""
    zone = timezone.get_current_timezone_name()
    language = translation.get_language() or ""
    version = _template_version("review.html", *CARD_FILES)  # its status badge is the card's
    keys = {}
    for slot in slots:
        project, on = slot.project, selected is not None and slot.pk == selected.pk
        raw = (
            f"{slot.public_id}|{to_micros(slot.scheduled_for)}|{slot.status}|{project.name}|"
            f"{project.colour}|{on}|{zone}|{language}|{getattr(slot, 'post_title', '')}|"
            f"{getattr(slot, 'first_line', '')}|{filter_query}"
        )
        keys[f"review-item:{version}:{hashlib.md5(raw.encode()).hexdigest()}"] = slot  # noqa: S324
    cached = _cached_markup(keys)
    partial = get_template(REVIEW_ITEM)
    fresh = {}
    for key, slot in keys.items():
        html = cached.get(key)
        if html is None:
            context = {"slot": slot, "selected": selected, "filter_query": filter_query}
            html = fresh[key] = str(partial.render(context))
        slot.item_html = SafeString(html)  # our own template's output
    if fresh:
        django_cache.set_many(fresh, CARD_TTL)
        _remember(fresh)


@register.simple_tag(takes_context=True)
def card(context, slot) -> SafeString:
    """A slot's card, from `render_cards` when the view rendered it already."""
    html = getattr(slot, "card_html", None)
    if html is None:
        move_refusal(viewer_for(context["request"]), slot)
        html = get_template(CARD).render({"slot": slot})
    return html


@register.simple_tag
def live_since() -> int:
    return live_token()


@register.filter
def hidden_entries(day) -> str:
    """What a month's day's "+N more" stands for, as its `data-more` lists it for the live
    poll (static/js/live.js): `<public id>:<epoch seconds> ` for each slot it hides."""
    hidden = day.slots[len(day.visible) :]
    return "".join(f"{slot.public_id}:{epoch(slot.scheduled_for)} " for slot in hidden)
