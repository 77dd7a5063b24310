"""The load bench's world: its users, projects and a month of posts in a database of its own,
and a thread that plays the worker (posts always in flight, written with the pipeline's
writes)."""

from __future__ import annotations

import base64
import random
import threading
import uuid
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

WORKSPACE = "Load bench"


ZONE = ZoneInfo("Europe/Berlin")


USER_PREFIX = "load"


PASSWORD = "load-bench-password"  # noqa: S105 - the bench users' login, local only


# A fixed key, so the Scripe key stored on the first run still decrypts on the next.
BENCH_FERNET_KEY = base64.urlsafe_b64encode(b"bench/load.py only, not for prod").decode()


PROJECTS = ["Anna Schmidt", "Acme GmbH", "Ben Okafor", "Clara Jensen", "Dario Rossi", "Eva Lind"]


ROLES = {"editor": 30, "manager": 15, "admin": 5}  # per 50 users; the same shares for more


POST_TEXT = (
    "Three things we learned planning a quarter of LinkedIn posts together.\n\n"
    "1. Write the idea down the day you have it; a calendar remembers, people do not.\n"
    "2. Review in batches: ten drafts in twenty minutes beats ten interruptions.\n"
    "3. Keep the voice of the person who posts it, not of the team that wrote it.\n\n"
    "What would you add? #marketing #linkedin #planning"
)


NOTE_TEXTS = [
    "We cut our weekly planning meeting from an hour to fifteen minutes: updates are written "
    "in the calendar the day before.",
    "Three things I wish I had known before hiring our first salesperson.",
    "Customer interview notes: teams plan posts in spreadsheets and lose track of approvals.",
    "Our open-source release went out today; thank you to the forty people who sent patches.",
    "What a year of remote onboarding taught us about writing things down.",
    "Why we stopped doing quarterly OKRs and what replaced them.",
]


def prepare(users: int, slots: int) -> dict:
    """Users, projects and the Scripe connection (created once), and this month's slots,
    laid out afresh: the writer of the previous run moved some of them."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from calendar_app.models import (
        GenerationJob,
        Membership,
        PlannedSlot,
        Project,
        SlotEvent,
        SlotStatus,
        SourceNote,
        Workspace,
    )
    from scripe_integration.sandbox import DEFAULT_TEST_KEY
    from scripe_integration.services import connection_for

    call_command("migrate", verbosity=0)
    User = get_user_model()
    with transaction.atomic():
        workspace, _ = Workspace.objects.get_or_create(
            name=WORKSPACE, defaults={"time_zone": ZONE.key, "require_two_factor_admins": False}
        )
        projects = []
        for i, name in enumerate(PROJECTS):
            project, _ = Project.objects.get_or_create(
                workspace=workspace,
                scripe_id=f"proj_load_{i}",
                defaults={"name": name, "colour": i, "synced_at": timezone.now()},
            )
            projects.append(project)
        roles = [role for role, share in ROLES.items() for _ in range(round(share * users / 50))]
        roles += ["editor"] * (users - len(roles))
        password = make_password(PASSWORD)  # hashed once; every bench user shares it
        people = []
        for i, role in enumerate(roles[:users]):
            username = f"{USER_PREFIX}{i:03d}"
            user, _ = User.objects.get_or_create(
                username=username,
                defaults={"password": password, "first_name": "Load", "last_name": f"User {i}"},
            )
            Membership.objects.update_or_create(
                user=user, workspace=workspace, defaults={"role": role}
            )
            people.append((username, role))
        connection = connection_for(workspace)
        if not connection.has_key:
            connection.base_url = "http://127.0.0.1:8765/v1"
            connection.set_key(DEFAULT_TEST_KEY)
            connection.save()
            connection.mark_valid(
                workspace_id="ws_load", name=WORKSPACE, plan="ADVANCED", scopes=["posts:write"]
            )

        PlannedSlot.objects.filter(workspace=workspace).delete()
        SourceNote.objects.filter(workspace=workspace).delete()
        author = User.objects.get(username=people[0][0])
        notes = SourceNote.objects.bulk_create(
            SourceNote(workspace=workspace, text=f"{text} ({i})", author=author)
            for i, text in enumerate(NOTE_TEXTS * 10)
        )
        now = timezone.now()
        today = timezone.localtime(now, ZONE).date()
        first = today.replace(day=1)
        days = ((first + timedelta(days=32)).replace(day=1) - first).days
        rng = random.Random(19)
        planned = []
        for i in range(slots):
            day = first + timedelta(days=i * days // slots)
            local = datetime(day.year, day.month, day.day, 8 + rng.randrange(10), 15 * (i % 4))
            when = local.replace(tzinfo=ZONE)
            if when < now + timedelta(minutes=30):
                status = rng.choices(
                    [SlotStatus.PUBLISHED, SlotStatus.REJECTED, SlotStatus.MISSED, "failed"],
                    [70, 10, 10, 10],
                )[0]
            else:
                status = rng.choices(
                    ["draft", "in_review", "scheduled", "changes_requested", "failed"],
                    [45, 20, 25, 5, 5],
                )[0]
            planned.append(
                PlannedSlot(
                    workspace=workspace,
                    project=projects[i % len(projects)],
                    note=notes[i % len(notes)],
                    scheduled_for=when,
                    status=status,
                    created_by=author,
                )
            )
        planned = PlannedSlot.objects.bulk_create(planned)
        jobs, events = [], []
        for slot in planned:
            if slot.status == SlotStatus.DRAFT:
                continue
            failed = slot.status == SlotStatus.FAILED
            jobs.append(
                GenerationJob(
                    slot=slot,
                    idempotency_key=uuid.uuid4().hex,
                    requested_by=author,
                    scripe_job_id=f"job_{uuid.uuid4().hex[:12]}",
                    scripe_status="FAILED" if failed else "DONE",
                    progress=None if failed else 1.0,
                    submitted_at=now - timedelta(days=2),
                    accepted_at=now - timedelta(days=2),
                    completed_at=now - timedelta(days=2) + timedelta(seconds=14),
                    finished=True,
                    error_code="provider_error" if failed else "",
                    error_message="Scripe's AI provider failed while writing." if failed else "",
                    post_id="" if failed else f"post_{uuid.uuid4().hex[:12]}",
                    post_title="" if failed else "Planning posts together",
                    post_content="" if failed else POST_TEXT,
                )
            )
            events.append(SlotEvent(slot=slot, actor=author, kind="status", status="queued"))
            events.append(SlotEvent(slot=slot, kind="status", status=slot.status))
        GenerationJob.objects.bulk_create(jobs)
        SlotEvent.objects.bulk_create(events)
    counts = Counter(str(slot.status) for slot in planned)
    print(
        f"workspace {WORKSPACE!r} ({ZONE.key}): {len(people)} users "
        f"({dict(Counter(r for _, r in people))}), {len(projects)} projects, {slots} slots in "
        f"{first:%B %Y} ({dict(counts)})"
    )
    return {
        "users": people,
        "month": first,
        "slots": [str(s.public_id) for s in planned],
    }


class Writer(threading.Thread):
    """Stands in for the django-q2 worker, through the models' own transitions: keeps
    `in_flight` drafts in flight, each 8-20 s, and writes them as the pipeline does when it
    paces its calls to Scripe: claimed (queued), submitted (generating), one poll halfway
    (progress), done (in review). Each write touches the slot, as the pipeline's do."""

    def __init__(self, in_flight: int) -> None:
        super().__init__(daemon=True)
        self.target = in_flight
        self.stopping = threading.Event()
        self.finished = 0
        self.rng = random.Random(7)

    def run(self) -> None:
        from django.db import connection

        try:
            running: list = []
            while not self.stopping.is_set():
                running = self.step(running)
                self.stopping.wait(0.5)
        finally:
            connection.close()

    def step(self, running: list) -> list:
        from django.db import transaction
        from django.db.models import Max
        from django.utils import timezone

        from calendar_app.models import GenerationJob, PlannedSlot, SlotStatus

        now = timezone.now()
        still = []
        for slot, job, began, duration in running:
            elapsed = (now - began).total_seconds()
            if elapsed >= duration:
                job.scripe_status, job.progress, job.finished = "DONE", 1.0, True
                job.completed_at, job.post_title, job.post_content = now, "A new post", POST_TEXT
                with transaction.atomic():
                    job.save()
                    slot.mark_ready(scheduled=False)
                self.finished += 1
                continue
            if slot.status == SlotStatus.QUEUED and elapsed > 1.5:
                job.scripe_status, job.started_at, job.progress = "RUNNING", now, 0.1
                job.progress_message = "Writing the post"
                with transaction.atomic():
                    job.save()
                    slot.mark_generating()
            elif job.progress == 0.1 and elapsed > duration / 2:
                job.progress, job.progress_message = 0.6, "Polishing"
                with transaction.atomic():
                    job.save()
                    PlannedSlot.objects.filter(pk=slot.pk).update(updated_at=now)
            still.append((slot, job, began, duration))
        drafts = list(
            PlannedSlot.objects.filter(
                workspace__name=WORKSPACE, status=SlotStatus.DRAFT, deleted_at__isnull=True
            ).values_list("pk", flat=True)
        )
        self.rng.shuffle(drafts)
        for pk in drafts[: max(0, self.target - len(still))]:
            # One transaction, as generation_request's: no page sees a queued slot without
            # its attempt.
            with transaction.atomic():
                if not PlannedSlot.claim_for_generation(pk):
                    continue
                slot = PlannedSlot.objects.get(pk=pk)
                last = slot.jobs.aggregate(last=Max("attempt"))["last"] or 0
                slot.jobs.filter(is_current=True).update(is_current=False)
                job = GenerationJob.objects.create(
                    slot=slot,
                    attempt=last + 1,
                    idempotency_key=uuid.uuid4().hex,
                    submitted_at=now,
                    accepted_at=now,
                    scripe_job_id=f"job_{uuid.uuid4().hex[:12]}",
                    scripe_status="QUEUED",
                )
            still.append((slot, job, now, self.rng.uniform(8, 20)))
        return still
