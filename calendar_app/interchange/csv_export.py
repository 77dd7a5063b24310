"""CSV export of the list view's filter: every field a manager needs, times in each slot's
workspace zone, streamed row by row so a large plan never sits in memory.

Every column the importer reads is here (date, time, time zone, project, note, language,
labels, key), so an export reads back through `csv_import` as the same plan, labels included;
the key is the slot's id, so importing an export into the same workspace plans nothing twice.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.utils import timezone
from django.utils.translation import pgettext_lazy

from calendar_app.models import PlannedSlot, SlotQuerySet, person_name

# In the reader's language; csv_import reads the English and the German ones.
HEADER = [
    pgettext_lazy("CSV column", "date"),
    pgettext_lazy("CSV column", "time"),
    pgettext_lazy("CSV column", "time zone"),
    pgettext_lazy("CSV column", "workspace"),
    pgettext_lazy("CSV column", "project"),
    pgettext_lazy("CSV column", "project scripe id"),
    pgettext_lazy("CSV column", "status"),
    pgettext_lazy("CSV column", "language"),
    pgettext_lazy("CSV column", "note"),
    pgettext_lazy("CSV column", "labels"),
    pgettext_lazy("CSV column", "post title"),
    pgettext_lazy("CSV column", "post text"),
    pgettext_lazy("CSV column", "scripe post id"),
    pgettext_lazy("CSV column", "status note"),
    pgettext_lazy("CSV column", "created by"),
    pgettext_lazy("CSV column", "created at"),
    pgettext_lazy("CSV column", "updated at"),
    pgettext_lazy("CSV column", "status changed at"),
    pgettext_lazy("CSV column", "published at"),
    pgettext_lazy("CSV column", "key"),
]
# A cell a spreadsheet would run as a formula (CSV injection) gets a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 500
# Between a slot's label names: one of the separators the importer splits them at.
LABEL_SEPARATOR = ", "


def neutralise(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def export_rows(slots: SlotQuerySet) -> SlotQuerySet:
    """The filtered slots (from `selectors.slots_filtered`) with everything an export row
    reads: the full note, who planned it, the current attempt with its post (which
    `card_slots` joins into the slot's row; here without deferring any of it), and its labels
    (one more query per chunk)."""
    return (
        slots.defer(None)
        .select_related("workspace", "project", "note", "created_by")
        .prefetch_related(None)
        .prefetch_related("labels")
    )


def _moment(value: datetime | None, zone) -> str:
    return timezone.localtime(value, zone).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def export_row(slot: PlannedSlot) -> list[str]:
    zone = slot.workspace.zone
    local = timezone.localtime(slot.scheduled_for, zone)
    job = slot.current_job
    who = slot.created_by
    cells = [
        f"{local:%Y-%m-%d}",
        f"{local:%H:%M}",
        zone.key,
        slot.workspace.name,
        slot.project.name,
        slot.project.scripe_id,
        slot.get_status_display(),
        slot.note.language,
        slot.note.text,
        LABEL_SEPARATOR.join(label.name for label in slot.labels.all()),
        job.post_title if job else "",
        job.post_content if job else "",
        job.post_id if job else "",
        slot.status_note_shown,
        person_name(who) if who else "",
        _moment(slot.created_at, zone),
        _moment(slot.updated_at, zone),
        _moment(slot.status_changed_at, zone),
        _moment(slot.published_at, zone),
        str(slot.public_id),
    ]
    return [neutralise(cell) for cell in cells]


class _Line:
    """A file-like object `csv.writer` writes one line to, which we hand on at once."""

    def write(self, value: str) -> str:
        return value


def export_lines(slots: Iterable[PlannedSlot]) -> Iterator[str]:
    """The CSV, line by line: a byte-order mark first, so Excel reads it as UTF-8."""
    # The header in the language active now (the request's): the lines are written later,
    # while the response streams.
    header = [str(column) for column in HEADER]
    return _lines(header, slots)


def _lines(header: list[str], slots: Iterable[PlannedSlot]) -> Iterator[str]:
    writer = csv.writer(_Line(), lineterminator="\r\n")
    yield "\ufeff" + writer.writerow(header)
    for slot in slots:
        yield writer.writerow(export_row(slot))


def export_filename(now: datetime | None = None) -> str:
    """A name every system accepts: letters, digits, dashes and the local time."""
    now = timezone.localtime(now)
    return f"scripe-calendar-posts-{now:%Y%m%d-%H%M}.csv"
