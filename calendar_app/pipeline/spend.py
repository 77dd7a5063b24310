"""Scripe spend: today's (UTC) spend of each workspace against its plan's daily cap, estimated
from the generations and knowledge-base ingests Scripe accepted, with a forecast of when the
cap is reached."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from django.db.models import (
    Count,
    F,
    IntegerField,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncHour
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from calendar_app.core.tables import Table
from calendar_app.models import (
    GenerationJob,
    KnowledgeDocument,
    Workspace,
)
from scripe_integration.plans import GENERATION_CENTS, PLAN_CAP_CENTS

# The forecast's pace is the spend of the last hour or two over the time it took, never over
# less than this, so one generation a minute ago does not forecast the cap within the hour.
FORECAST_MIN_ELAPSED = timedelta(minutes=30)


def utc_midnight(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(UTC).date(), time(0), tzinfo=UTC)


def forecast_cap_at(
    *, spent_cents: int, cap_cents: int | None, now: datetime, cents_per_second: float
) -> datetime | None:
    """When, at `cents_per_second`, the cap is reached: now if it is, None when there is no
    cap, no pace, or the pace does not reach it before 00:00 UTC."""
    if not cap_cents:
        return None
    if spent_cents >= cap_cents:
        return now
    if cents_per_second <= 0:
        return None
    at = now + timedelta(seconds=(cap_cents - spent_cents) / cents_per_second)
    return at if at < utc_midnight(now) + timedelta(days=1) else None


@dataclass
class Spend:
    """Today's (UTC) spend of one workspace, estimated from the generations Scripe accepted,
    against the plan's cap (or the cap Scripe named in a 402)."""

    now: datetime
    generations: int
    hourly: list[int]  # generations charged in each UTC hour so far
    plan: str = ""
    cap_cents: int | None = None
    scripe_spent_cents: int | None = None  # what Scripe said in today's 402
    reached_until: datetime | None = None
    # Cents of knowledge-base ingests charged in each UTC hour so far (1-3 each, by type).
    knowledge_hourly: list[int] = field(default_factory=list)
    knowledge_documents: int = 0

    def _cents_in(self, hour: int) -> int:
        knowledge = self.knowledge_hourly[hour] if hour < len(self.knowledge_hourly) else 0
        return self.hourly[hour] * GENERATION_CENTS + knowledge

    @property
    def estimated_cents(self) -> int:
        return self.generations * GENERATION_CENTS + sum(self.knowledge_hourly)

    @property
    def spent_cents(self) -> int:
        return max(self.estimated_cents, self.scripe_spent_cents or 0)

    @property
    def left_cents(self) -> int | None:
        return None if self.cap_cents is None else max(0, self.cap_cents - self.spent_cents)

    @property
    def percent(self) -> float | None:
        """The share of the cap spent, 0 to 100 and unrounded; None while the cap is unknown
        (before an admin verifies the key, Scripe has named no plan): a share of nothing."""
        if not self.cap_cents:
            return None
        return min(100.0, 100 * self.spent_cents / self.cap_cents)

    @property
    def short(self) -> str:
        """What the top bar's gauge says: the share of the cap when it is known, rounded so
        that some spend never reads 0% ("<1%") and a cap not yet reached never reads 100%;
        otherwise the amount spent, since a percentage of an unknown cap would be made up."""
        percent = self.percent
        if percent is None:
            return f"{self.spent_cents} ¢"
        if self.reached_until is not None or self.left_cents == 0:
            return "100%"
        if self.spent_cents and percent < 1:
            return "<1%"
        return f"{min(99, int(percent + 0.5))}%"  # halves up (round() takes 2.5 to 2)

    @property
    def _pace_hour(self) -> int:
        """The UTC hour "this pace" starts: the previous one (today's), so the pace is the
        last one to two hours'. A morning's burst does not make the evening's forecast, nor
        does a quiet morning hide a burst now."""
        return max(0, int((self.now - utc_midnight(self.now)).total_seconds() // 3600) - 1)

    @property
    def pace_since(self) -> datetime:
        return utc_midnight(self.now) + timedelta(hours=self._pace_hour)

    @property
    def cents_per_second(self) -> float:
        """The pace: what was charged since `pace_since`, over at least
        FORECAST_MIN_ELAPSED (one generation a minute ago is not a pace of one a minute)."""
        cents = sum(self._cents_in(hour) for hour in range(self._pace_hour, len(self.hourly)))
        elapsed = max(self.now - self.pace_since, FORECAST_MIN_ELAPSED)
        return cents / elapsed.total_seconds()

    @property
    def forecast_at(self) -> datetime | None:
        if self.reached_until is not None:
            return self.now
        return forecast_cap_at(
            spent_cents=self.spent_cents,
            cap_cents=self.cap_cents,
            now=self.now,
            cents_per_second=self.cents_per_second,
        )

    @property
    def level(self) -> str:
        """ok, warn (the forecast reaches the cap today, or 80% is spent), or reached."""
        if self.reached_until is not None or (self.cap_cents and self.left_cents == 0):
            return "reached"
        if (self.percent or 0) >= 80 or self.forecast_at is not None:
            return "warn"
        return "ok"

    @property
    def figures(self) -> str:
        """What was spent, as the page, the gauge and the admin say it."""
        plan = " " + _("(%(plan)s plan)") % {"plan": self.plan.title()} if self.plan else ""
        if not self.spent_cents:
            text = _("Nothing spent yet today")
            if self.cap_cents:
                text += _("; the daily cap is %(cap)s ¢") % {"cap": self.cap_cents} + plan
            return text + "."
        text = _("About %(spent)s ¢") % {"spent": self.spent_cents}
        if self.cap_cents:
            text += " " + _("of the %(cap)s ¢ daily cap") % {"cap": self.cap_cents} + plan
        n = self.generations
        text += ngettext(": %(n)s generation", ": %(n)s generations", n) % {"n": n}
        if d := self.knowledge_documents:
            text += " " + ngettext(
                "and %(d)s knowledge document", "and %(d)s knowledge documents", d
            ) % {"d": d}
        if self.scripe_spent_cents is not None:
            text += _("; Scripe said %(spent)s ¢") % {"spent": self.scripe_spent_cents}
        return text + "."

    @property
    def sentence(self) -> str:
        if self.reached_until is not None or (self.cap_cents and self.left_cents == 0):
            return _("The daily cap is reached; Scripe takes new generations again at 00:00 UTC.")
        if not self.cap_cents:
            return _(
                "The daily cap is not known until Scripe names the plan, when an admin "
                "verifies the workspace's key; there is no forecast until then."
            )
        at = self.forecast_at
        if at is None:
            return _("At this pace the cap is not reached today.")
        return _("At this pace the cap is reached at %(time)s UTC.") % {
            "time": f"{at.astimezone(UTC):%H:%M}"
        }

    def cumulative(self) -> list[int]:
        """Cents spent by the end of each UTC hour so far (Scripe's figure, when higher,
        counts from the hour it was told)."""
        total, out = 0, []
        for hour in range(len(self.hourly)):
            total += self._cents_in(hour)
            out.append(total)
        if out and self.spent_cents > out[-1]:
            out[-1] = self.spent_cents
        return out

    def table(self) -> Table:
        rows = [
            [f"{hour:02d}:00", n, self._cents_in(hour), cents]
            for hour, (n, cents) in enumerate(zip(self.hourly, self.cumulative(), strict=True))
        ]
        return Table([_("Hour (UTC)"), _("Generations"), _("Cents"), _("Cents so far")], rows)


def _charged() -> Q:
    # Accepted by Scripe, or sent and not refused (still on its way): a 402 charges nothing.
    return Q(accepted_at__isnull=False) | Q(submitted_at__isnull=False, error_code="")


def _charged_today(model, workspace: str, ids: list[int], midnight, now):
    return (
        model.objects.filter(**{f"{workspace}__in": ids})
        .filter(_charged())
        .annotate(at=Coalesce("accepted_at", "submitted_at"), ws=F(f"{workspace}_id"))
        .filter(at__gte=midnight, at__lte=now)
        .annotate(hour=TruncHour("at", tzinfo=UTC))
        .values("ws", "hour")
        .order_by()
    )


def spend_today(workspaces: list[Workspace], *, now: datetime | None = None) -> dict[int, Spend]:
    """Today's spend (UTC day) for each workspace, from one query (generations and knowledge
    ingests by hour, as a UNION); the workspaces' Scripe connections (`workspace.scripe`)
    should be loaded with them."""
    now = now or timezone.now()
    midnight = utc_midnight(now)
    hours = int((now - midnight).total_seconds() // 3600) + 1
    ids = [w.pk for w in workspaces]
    per_hour: dict[int, list[int]] = {pk: [0] * hours for pk in ids}
    knowledge: dict[int, list[int]] = {pk: [0] * hours for pk in ids}
    documents: dict[int, int] = dict.fromkeys(ids, 0)
    none = Value(0, output_field=IntegerField())
    generations = _charged_today(GenerationJob, "slot__workspace", ids, midnight, now).annotate(
        n=Count("id"), documents=none, cents=none
    )
    ingests = _charged_today(KnowledgeDocument, "workspace", ids, midnight, now).annotate(
        n=none, documents=Count("id"), cents=Sum("cost_cents")
    )
    for row in generations.union(ingests, all=True):
        hour = min(hours - 1, row["hour"].astimezone(UTC).hour)
        per_hour[row["ws"]][hour] += row["n"]
        knowledge[row["ws"]][hour] += row["cents"] or 0
        documents[row["ws"]] += row["documents"]
    spends = {}
    for workspace in workspaces:
        connection = getattr(workspace, "scripe", None)
        plan = connection.plan if connection else ""
        spend = Spend(
            now,
            sum(per_hour[workspace.pk]),
            per_hour[workspace.pk],
            plan=plan,
            knowledge_hourly=knowledge[workspace.pk],
            knowledge_documents=documents[workspace.pk],
        )
        spend.cap_cents = PLAN_CAP_CENTS.get(plan)
        if connection is not None:
            meta = connection.spend_cap_meta or {}
            if meta.get("bucketDate") == f"{midnight:%Y-%m-%d}":
                spend.scripe_spent_cents = _cents(meta.get("spentCents"))
                spend.cap_cents = _cents(meta.get("capCents")) or spend.cap_cents
            spend.reached_until = connection.spend_cap_reached_until
        spends[workspace.pk] = spend
    return spends


def _cents(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
