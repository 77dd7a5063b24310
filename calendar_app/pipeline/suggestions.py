"""Scripe's suggestions (#26): its posts in status `suggested`, read into the ideas board.

Never on a page view: the board shows what was read. Two ways in, both paced like the sync
(`scripe_session`, the workspace's sync allowance):

- the sync's own listing of a project's posts (`sync._sync_project`) keeps every suggested
  post it passes, at no extra call;
- each sweep, per workspace, one call: the suggested posts of the project read least
  recently, once SUGGESTIONS_EVERY has passed since (`GET /v1/posts?status=suggested`, one
  page of up to 200, newest first). That listing is complete for the project, so a
  suggestion that left it (used or deleted in Scripe's dashboard) leaves the board too.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import F, Q
from django.utils import timezone

from calendar_app.ideas.services import suggestions_record
from calendar_app.models import Project, Workspace
from calendar_app.pipeline.sync import allowance_claim
from scripe_integration import pacing
from scripe_integration.contract import ScripeError
from scripe_integration.services import ScripeNotConfigured, connection_for, scripe_session

logger = logging.getLogger(__name__)

# Suggestions change when Scripe writes new ones (a few a day): a project is read again after
# this, and a workspace with n projects has each read every n sweeps at the least.
SUGGESTIONS_EVERY = timedelta(minutes=10)
SUGGESTED = "suggested"


def suggestions_read(*, project: Project) -> int:
    """Reads the project's suggested posts (one call, up to 200) and keeps them as ideas.
    Returns how many are new. Raises ScripeError or ScripeNotConfigured."""
    read_at = timezone.now()
    with scripe_session(connection_for(project.workspace)) as scripe:
        page = scripe.list_posts_page(project.scripe_id, status=[SUGGESTED])
    new = suggestions_record(project=project, posts=list(page.posts), complete=not page.has_more)
    Project.objects.filter(pk=project.pk).update(suggestions_read_at=read_at)
    return new


def suggestions_due() -> int:
    """The sweep's share: in each workspace with a key, the active project whose suggestions
    were read least recently, if not within SUGGESTIONS_EVERY, one call from the workspace's
    sync allowance. Returns how many projects were read."""
    now = timezone.now()
    due = (
        Project.objects.filter(
            Q(suggestions_read_at__isnull=True)
            | Q(suggestions_read_at__lte=now - SUGGESTIONS_EVERY),
            missing_from_scripe=False,
            status=Project.Status.ACTIVE,
            workspace__scripe__isnull=False,
        )
        .select_related("workspace")
        .order_by(F("suggestions_read_at").asc(nulls_first=True), "pk")
    )
    first: dict[int, Project] = {}
    for project in due:
        first.setdefault(project.workspace_id, project)
    read = 0
    for project in first.values():
        workspace = project.workspace
        connection = connection_for(workspace)
        if connection.blocks_generation:
            continue
        per_minute = pacing.sync_calls_per_minute(connection.rate_limit)
        if allowance_claim(workspace, per_minute, now) < 1:
            continue
        try:
            suggestions_read(project=project)
        except (ScripeError, ScripeNotConfigured) as error:
            logger.info("suggestions of %s: %s", project, error)
            continue
        finally:
            Workspace.objects.filter(pk=workspace.pk).update(sync_allowance=F("sync_allowance") - 1)
        read += 1
    return read
