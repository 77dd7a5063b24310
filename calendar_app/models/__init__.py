"""The calendar's tables, one module per capability (the layout Zulip uses in
`zerver/models/`). Everything is re-exported here, so `calendar_app.models.X` stays the one
name for each model: migrations, string references and imports do not change."""

from __future__ import annotations

from calendar_app.models.accounts import (
    INVITATION_DAYS,
    Invitation,
    InvitationState,
    invitation_expiry,
)
from calendar_app.models.api import (
    IDEMPOTENCY_KEEP,
    SCOPES_BY_ROLE,
    ApiToken,
    IdempotentRequest,
    Scope,
)
from calendar_app.models.bulk import BulkAction, BulkItem, BulkRun
from calendar_app.models.ideas import PLANNABLE_IDEA_STATES, Idea, IdeaState
from calendar_app.models.interchange import IMPORT_KEEP, CalendarFeed, CsvImport
from calendar_app.models.knowledge import KnowledgeDocument, KnowledgeKind, KnowledgeState
from calendar_app.models.notifications import (
    EmailChoice,
    Notification,
    NotificationKind,
    NotificationPreference,
    SlotEvent,
    SlotWatch,
)
from calendar_app.models.pipeline import GenerationJob
from calendar_app.models.planning import (
    LABEL_COLOURS,
    WEEKDAY_CHOICES,
    Label,
    QueueEntry,
    ScheduleTime,
    Series,
    SeriesOccurrence,
)
from calendar_app.models.portability import EXPORT_KEEP, ExportStatus, WorkspaceExport
from calendar_app.models.review import ReviewLink
from calendar_app.models.slots import (
    DONE_BY,
    EDITABLE_STATUSES,
    FOLLOWED_STATUSES,
    GENERATABLE_STATUSES,
    IN_FLIGHT_STATUSES,
    LOCKED_REASONS,
    QUEUE_MOVABLE_STATUSES,
    REVIEW_STATUSES,
    REVIEWER_STATUSES,
    UNDO_SECONDS,
    IllegalTransition,
    PlannedSlot,
    SlotQuerySet,
    SlotStatus,
    SourceNote,
    undo_deadline,
)
from calendar_app.models.sources import (
    IN_FLIGHT_SOURCE_STATUSES,
    HookPlan,
    Source,
    SourceKind,
    SourceStatus,
)
from calendar_app.models.sso import SingleSignOn, parse_domains
from calendar_app.models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent
from calendar_app.models.workspaces import (
    LANGUAGES,
    PROJECT_COLOURS,
    ROLE_RANK,
    Membership,
    Profile,
    Project,
    Role,
    Workspace,
    person_name,
    time_zone_choices,
)

__all__ = [
    "DONE_BY",
    "EDITABLE_STATUSES",
    "EXPORT_KEEP",
    "FOLLOWED_STATUSES",
    "GENERATABLE_STATUSES",
    "IDEMPOTENCY_KEEP",
    "IMPORT_KEEP",
    "INVITATION_DAYS",
    "IN_FLIGHT_SOURCE_STATUSES",
    "IN_FLIGHT_STATUSES",
    "LABEL_COLOURS",
    "LANGUAGES",
    "LOCKED_REASONS",
    "PLANNABLE_IDEA_STATES",
    "PROJECT_COLOURS",
    "QUEUE_MOVABLE_STATUSES",
    "REVIEWER_STATUSES",
    "REVIEW_STATUSES",
    "ROLE_RANK",
    "SCOPES_BY_ROLE",
    "UNDO_SECONDS",
    "WEEKDAY_CHOICES",
    "ApiToken",
    "BulkAction",
    "BulkItem",
    "BulkRun",
    "CalendarFeed",
    "CsvImport",
    "EmailChoice",
    "ExportStatus",
    "GenerationJob",
    "HookPlan",
    "Idea",
    "IdeaState",
    "IdempotentRequest",
    "IllegalTransition",
    "Invitation",
    "InvitationState",
    "KnowledgeDocument",
    "KnowledgeKind",
    "KnowledgeState",
    "Label",
    "Membership",
    "Notification",
    "NotificationKind",
    "NotificationPreference",
    "PlannedSlot",
    "Profile",
    "Project",
    "QueueEntry",
    "ReviewLink",
    "Role",
    "ScheduleTime",
    "Scope",
    "Series",
    "SeriesOccurrence",
    "SingleSignOn",
    "SlotEvent",
    "SlotQuerySet",
    "SlotStatus",
    "SlotWatch",
    "Source",
    "SourceKind",
    "SourceNote",
    "SourceStatus",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "Workspace",
    "WorkspaceExport",
    "invitation_expiry",
    "parse_domains",
    "person_name",
    "time_zone_choices",
    "undo_deadline",
]
