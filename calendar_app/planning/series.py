"""Recurring series (#15): the rule, its occurrences and the edits.

A series' rule is computed by python-dateutil's rrule on naive local datetimes in the
workspace's zone, then each occurrence is made a UTC moment by `rules.plan_time`, so 09:00
stays 09:00 across DST and a time the clocks skip is skipped (and said so), never shifted.

Occurrences are made a rolling HORIZON ahead (now, and hourly by a django-q2 schedule), each
a normal slot planned by `services.slot_create` with a request key of its own: making them
twice makes nothing twice. Editing offers "this one" (the slot, which then stays as edited)
or "this and following" (the series is split at that occurrence; the following posts not yet
written take the new note, project, time and labels). Deleting a series stops it and deletes
its posts not yet written; what is in review, scheduled or published stays.
"""

from __future__ import annotations

import logging
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dateutil import rrule
from django.db import transaction
from django.utils import timezone, translation
from django.utils.dates import WEEKDAYS, WEEKDAYS_ABBR
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext_lazy

from calendar_app.core.refusals import Refusal
from calendar_app.models import (
    EDITABLE_STATUSES,
    PlannedSlot,
    Project,
    Series,
    SeriesOccurrence,
    SourceNote,
)
from calendar_app.planning import rules, services

log = logging.getLogger(__name__)

HORIZON = timedelta(weeks=8)
INTERVAL_MAX = 52
COUNT_MAX = 520
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
# The same words as `describe` shows them; the context lets a language inflect them for
# "on the … Tuesday".
ORDINAL_WORDS = {
    1: pgettext_lazy("on the … weekday", "first"),
    2: pgettext_lazy("on the … weekday", "second"),
    3: pgettext_lazy("on the … weekday", "third"),
    4: pgettext_lazy("on the … weekday", "fourth"),
    -1: pgettext_lazy("on the … weekday", "last"),
}
RRULE_DAYS = [rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA, rrule.SU]


@dataclass(frozen=True)
class Rule:
    """A recurrence as the form gives it, before it is a series."""

    frequency: str
    interval: int = 1
    weekdays: tuple[int, ...] = ()
    monthly_by: str = ""
    month_day: int | None = None
    week_of_month: int | None = None
    month_weekday: int | None = None
    until: date | None = None
    count: int | None = None

    @classmethod
    def of(cls, series: Series) -> Rule:
        return cls(
            frequency=series.frequency,
            interval=series.interval,
            weekdays=tuple(int(d) for d in series.weekdays.split(",") if d),
            monthly_by=series.monthly_by,
            month_day=series.month_day,
            week_of_month=series.week_of_month,
            month_weekday=series.month_weekday,
            until=series.until,
            count=series.count,
        )

    def fields(self) -> dict:
        return {
            "frequency": self.frequency,
            "interval": self.interval,
            "weekdays": ",".join(str(d) for d in self.weekdays),
            "monthly_by": self.monthly_by,
            "month_day": self.month_day,
            "week_of_month": self.week_of_month,
            "month_weekday": self.month_weekday,
            "until": self.until,
            "count": self.count,
        }

    def describe(self) -> str:
        """ "every 2 weeks on Tue, Thu", "monthly on the second Tuesday"."""
        # Whole phrases per case, in the active language (Django's own weekday names).
        words = {"count": self.interval}
        if self.frequency == Series.Frequency.WEEKLY:
            words["days"] = ", ".join(str(WEEKDAYS_ABBR[d]) for d in self.weekdays)
            text = ngettext(
                "every week on %(days)s", "every %(count)s weeks on %(days)s", self.interval
            )
        elif self.monthly_by == Series.MonthlyBy.DAY:
            words["day"] = self.month_day
            text = ngettext(
                "every month on day %(day)s", "every %(count)s months on day %(day)s", self.interval
            )
        else:
            words["ordinal"] = ORDINAL_WORDS.get(self.week_of_month or 0, "")
            words["weekday"] = WEEKDAYS[self.month_weekday or 0]
            text = ngettext(
                "every month on the %(ordinal)s %(weekday)s",
                "every %(count)s months on the %(ordinal)s %(weekday)s",
                self.interval,
            )
        text = text % words
        if self.until:
            text += _(", until %(day)s") % {"day": date_format(self.until, _("j M Y"))}
        if self.count:
            text += _(", %(count)s times") % {"count": self.count}
        return text


def rule_check(rule: Rule, *, starts_on: date | None) -> Rule:
    """The rule's own sense: a frequency, an interval 1-52, weekdays for a weekly rule, a
    day (1-31) or an nth weekday for a monthly one, an end after the start and a count
    within COUNT_MAX. Raises one Refusal naming every field at fault."""
    problems = rules.Problems()
    if rule.frequency not in Series.Frequency.values:
        problems.add("repeat", _("Pick how often it repeats."))
    if not 1 <= rule.interval <= INTERVAL_MAX:
        problems.add(
            "interval",
            _("Repeat every 1 to %(max)s weeks or months.") % {"max": INTERVAL_MAX},
        )
    if rule.frequency == Series.Frequency.WEEKLY:
        if not rule.weekdays or any(not 0 <= d <= 6 for d in rule.weekdays):
            problems.add("weekdays", _("Pick the weekdays it repeats on."))
    elif rule.frequency == Series.Frequency.MONTHLY:
        if rule.monthly_by == Series.MonthlyBy.DAY:
            if not rule.month_day or not 1 <= rule.month_day <= 31:
                problems.add("month_day", _("Pick a day of the month, 1 to 31."))
        elif rule.monthly_by == Series.MonthlyBy.WEEKDAY:
            if rule.week_of_month not in ORDINALS or rule.month_weekday not in range(7):
                problems.add("week_of_month", _('Pick which weekday, like "the second Tuesday".'))
        else:
            problems.add("monthly_by", _("Pick a day of the month or a weekday of the month."))
    if rule.until is not None:
        problems.check(rules.showable_day, rule.until, field="until")
    if rule.until is not None and starts_on is not None and rule.until < starts_on:
        problems.add("until", _("The end is before the first post."))
    if rule.count is not None and not 1 <= rule.count <= COUNT_MAX:
        problems.add("count", _("Repeat 1 to %(max)s times.") % {"max": COUNT_MAX})
    problems.raise_any()
    return rule


def occurrences(rule: Rule, *, starts_on: date, clock: time, first_index: int = 1) -> rrule.rrule:
    """The rule as a dateutil rrule of naive local datetimes (no zone: the wall clock is
    what repeats). Index i of the iteration is occurrence number first_index + i."""
    options: dict = {
        "dtstart": datetime.combine(starts_on, clock),
        "interval": rule.interval,
        "wkst": rrule.MO,
    }
    if rule.frequency == Series.Frequency.WEEKLY:
        freq = rrule.WEEKLY
        options["byweekday"] = [RRULE_DAYS[d] for d in sorted(rule.weekdays)]
    else:
        freq = rrule.MONTHLY
        if rule.monthly_by == Series.MonthlyBy.DAY:
            options["bymonthday"] = rule.month_day
        else:
            options["byweekday"] = RRULE_DAYS[rule.month_weekday](rule.week_of_month)
    if rule.until:
        options["until"] = datetime.combine(rule.until, time.max)
    if rule.count:
        options["count"] = rule.count
    return rrule.rrule(freq, **options)


def steering_line(series: Series, index: int) -> str:
    """What Scripe is told about the occurrence, so it does not write the same post twice."""
    rule = Rule.of(series)
    unit = "post"
    if rule.interval == 1 and rule.frequency == Series.Frequency.MONTHLY:
        unit = "month"
    elif rule.interval == 1 and len(rule.weekdays) == 1:
        unit = "week"
    # Scripe reads English instructions, whoever's language is active.
    with translation.override("en"):
        described = rule.describe()
    return (
        f"This is {unit} {index} of a recurring series ({described}): take a new angle "
        "rather than repeat the earlier posts of the series."
    )


def steering_for(slot: PlannedSlot) -> str:
    """The occurrence's steering line for a slot of a series, else ""."""
    line = SeriesOccurrence.objects.filter(slot_id=slot.pk).values_list("steering", flat=True)
    return line.first() or ""


# making a series and its occurrences ----------------------------------------------------------


def series_create(
    *,
    user,
    zone: zoneinfo.ZoneInfo,
    rule: Rule,
    project: Project | None,
    note_text: str,
    note: SourceNote | None,
    language: str,
    day: date | None,
    clock: time | None,
    labels=None,
    now: datetime | None = None,
) -> Series:
    """A new series whose first possible occurrence is the local `day` and `clock` in
    `zone` (the planner's), checked by the slot rules; the rule then runs in the
    workspace's zone from that wall-clock time. Makes the first HORIZON of occurrences."""
    problems = rules.Problems()
    plan = problems.check(
        services.slot_validate,
        project=project,
        note_text=note_text,
        note=note,
        language=language,
        day=day,
        clock=clock,
        zone=zone,
        labels=labels,
    )
    rule = problems.check(rule_check, rule, starts_on=day) or rule
    problems.raise_any()
    workspace = plan.project.workspace
    local = plan.scheduled_for.astimezone(workspace.zone)
    with transaction.atomic():
        if plan.note_text:
            source = SourceNote.objects.create(
                workspace=workspace, text=plan.note_text, language=plan.language, author=user
            )
        else:
            source = plan.note
        series = Series.objects.create(
            workspace=workspace,
            project=plan.project,
            note=source,
            created_by=user,
            starts_on=local.date(),
            clock=local.time().replace(tzinfo=None),
            **rule.fields(),
        )
        series.labels.set(plan.labels)
        series_materialise(series=series, now=now)
    return series


def _request_key(series: Series, index: int) -> str:
    return f"series:{series.public_id.hex}:{index}"


def series_materialise(*, series: Series, now: datetime | None = None) -> int:
    """Makes the series' occurrences up to HORIZON ahead that are not made yet; returns how
    many slots it planned. Idempotent: an occurrence made (or skipped) before is left alone,
    and each slot's request key makes a repeated run plan nothing twice."""
    if series.ended_at is not None:
        return 0
    now = now or timezone.now()
    zone = series.workspace.zone
    horizon = (now + HORIZON).astimezone(zone).replace(tzinfo=None)
    made = set(series.occurrences.values_list("index", flat=True))
    labels = list(series.labels.all())
    planned = 0
    rule = Rule.of(series)
    for i, local in enumerate(occurrences(rule, starts_on=series.starts_on, clock=series.clock)):
        if local > horizon:
            break
        index = series.first_index + i
        if index in made:
            continue
        planned += _make_occurrence(series, index, local, labels, zone)
    Series.objects.filter(pk=series.pk).update(materialised_until=now + HORIZON)
    return planned


def _make_occurrence(series, index, local, labels, zone) -> int:
    steering = steering_line(series, index)
    try:
        with transaction.atomic():
            slot = services.slot_create(
                user=series.created_by,
                zone=zone,
                request_key=_request_key(series, index),
                project=series.project,
                note_text="",
                note=series.note,
                language=series.note.language,
                day=local.date(),
                clock=local.time(),
                labels=labels,
            )
            SeriesOccurrence.objects.get_or_create(
                series=series,
                index=index,
                defaults={"occurs_on": local.date(), "slot": slot, "steering": steering},
            )
        return 1
    except Refusal as refusal:
        # Its time passed, or the clocks skip it that night, or the project stopped taking
        # posts: the occurrence is recorded as skipped, with why, and not tried again.
        SeriesOccurrence.objects.get_or_create(
            series=series,
            index=index,
            defaults={"occurs_on": local.date(), "skipped": refusal.message[:300]},
        )
        return 0


def series_materialise_all(*, now: datetime | None = None) -> int:
    """Every live series (the hourly schedule). One series' failure does not stop the rest."""
    planned = 0
    for series in Series.objects.filter(ended_at__isnull=True).select_related(
        "workspace", "project", "note", "created_by"
    ):
        try:
            planned += series_materialise(series=series, now=now)
        except Exception:
            log.exception("Could not make the occurrences of series %s", series.pk)
    return planned


# editing and deleting ---------------------------------------------------------------------------


@transaction.atomic
def occurrence_edit_one(*, occurrence: SeriesOccurrence, user, zone, **fields) -> PlannedSlot:
    """ "This one": the slot is edited like any other, and later changes to the series
    leave it as it is. Its note becomes its own first, so the series keeps its text."""
    slot = occurrence.slot
    slot.require_editable()
    if slot.note_id == occurrence.series.note_id:
        shared = slot.note
        own = SourceNote.objects.create(
            workspace=shared.workspace, text=shared.text, language=shared.language, author=user
        )
        slot.replan(project=slot.project, note=own, scheduled_for=slot.scheduled_for)
        slot.note = own
    slot = services.slot_update(slot=slot, user=user, zone=zone, **fields)
    SeriesOccurrence.objects.filter(pk=occurrence.pk).update(detached=True)
    return slot


def occurrence_edit_following(
    *,
    occurrence: SeriesOccurrence,
    user,
    zone: zoneinfo.ZoneInfo,
    project: Project | None,
    note_text: str,
    note: SourceNote | None,
    language: str,
    day: date | None,
    clock: time | None,
    labels=None,
    now: datetime | None = None,
) -> Series:
    """ "This and following": the series is split at this occurrence. The first part ends
    the day before; the new part repeats the same rule from this occurrence's day with the
    new project, note, time of day and labels, and keeps counting (and a count keeps what
    was left of it). Following occurrences already made and not yet written take the new
    values (on their own day); those in review, scheduled or published stay as they are,
    and so do occurrences edited on their own."""
    old = occurrence.series
    plan = services.slot_validate(
        project=project,
        note_text=note_text,
        note=note,
        language=language,
        day=day,
        clock=clock,
        zone=zone,
        slot=occurrence.slot,
        labels=labels,
    )
    workspace = old.workspace
    local = plan.scheduled_for.astimezone(workspace.zone)
    new_clock = local.time().replace(tzinfo=None)
    rule = Rule.of(old)
    with transaction.atomic():
        locked = Series.objects.select_for_update().get(pk=old.pk)
        if locked.ended_at is not None:
            raise Refusal(_("This series was deleted meanwhile."), stale=True)
        if plan.note_text and plan.note_text != old.note.text:
            source = SourceNote.objects.create(
                workspace=workspace, text=plan.note_text, language=plan.language, author=user
            )
        else:
            source = plan.note or old.note
        remaining = None
        if rule.count:
            remaining = rule.count - (occurrence.index - old.first_index)
        fields = {**rule.fields(), "count": remaining}
        new = Series.objects.create(
            workspace=workspace,
            project=plan.project,
            note=source,
            created_by=user,
            starts_on=occurrence.occurs_on,
            clock=new_clock,
            first_index=occurrence.index,
            previous=old,
            **fields,
        )
        new.labels.set(plan.labels)
        # The first part ends before this occurrence: by its count when it has one (rrule
        # takes a count or an end, not both), else by the day before.
        if rule.count:
            ended = {"count": occurrence.index - old.first_index}
        else:
            ended = {"until": occurrence.occurs_on - timedelta(days=1)}
        Series.objects.filter(pk=old.pk).update(**ended)
        following = list(old.occurrences.filter(index__gte=occurrence.index).select_related("slot"))
        SeriesOccurrence.objects.filter(pk__in=[o.pk for o in following]).update(series=new)
        for item in following:
            slot = item.slot
            if slot is None or slot.deleted_at or (item.detached and item.pk != occurrence.pk):
                continue
            if slot.status not in EDITABLE_STATUSES:
                continue
            services.slot_update(
                slot=slot,
                user=user,
                zone=workspace.zone,
                project=plan.project,
                note_text="",
                note=source,
                language=source.language,
                day=item.occurs_on,
                clock=new_clock,
                labels=plan.labels,
            )
        new.refresh_from_db()
        series_materialise(series=new, now=now)
    return new


def series_delete(*, series: Series) -> tuple[int, int]:
    """Stops the series and deletes its posts not yet written; whatever is in flight, in
    review, scheduled or published stays. Returns (deleted, kept)."""
    deleted = kept = 0
    with transaction.atomic():
        stopped = Series.objects.filter(pk=series.pk, ended_at__isnull=True).update(
            ended_at=timezone.now()
        )
        if not stopped:
            raise Refusal(_("This series was deleted already."), stale=True)
        slots = PlannedSlot.objects.alive().filter(occurrence__series=series)
        for slot in slots:
            if slot.status in EDITABLE_STATUSES:
                slot.soft_delete()
                deleted += 1
            else:
                kept += 1
    return deleted, kept
