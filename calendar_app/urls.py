"""The calendar's addresses. Public ids in them are UUIDs or Scripe ids, never primary keys."""

from __future__ import annotations

from django.urls import path

from calendar_app.accounts import views as profile
from calendar_app.accounts.views import sessions as signed_in
from calendar_app.accounts.views import team
from calendar_app.bulk import views as bulk
from calendar_app.ideas.views import board as ideas
from calendar_app.insights import views as insights
from calendar_app.interchange import views as interchange
from calendar_app.knowledge import views as knowledge
from calendar_app.notifications import views as notifications
from calendar_app.outbound import views as webhooks
from calendar_app.pipeline.views import generation
from calendar_app.pipeline.views import webhooks as hooks
from calendar_app.planning.views import calendar, labels, live, projects, queue, series, slots
from calendar_app.portability import views as exports
from calendar_app.review.views import after_approval, review
from calendar_app.review.views import guests as guest_views
from calendar_app.sources import views as sources
from calendar_app.web import views as core

urlpatterns = [
    path("", calendar.month_view, name="home"),
    path("calendar/<int:year>/<int:month>/", calendar.month_view, name="month"),
    path("calendar/week/<str:day>/", calendar.week_view, name="week"),
    path("calendar/day/<str:day>/", calendar.day_view, name="day"),
    path("slots/", slots.slot_list, name="slots"),
    path("slots/export.csv", interchange.slot_export, name="slot_export"),
    path("slots/new/", slots.slot_new, name="slot_new"),
    path("slots/picker/", slots.date_picker, name="date_picker"),
    path("slots/<uuid:public_id>/", slots.slot_detail, name="slot"),
    path("slots/<uuid:public_id>/edit/", slots.slot_edit, name="slot_edit"),
    path("slots/<uuid:public_id>/move/", slots.slot_move, name="slot_move"),
    path("slots/<uuid:public_id>/delete/", slots.slot_delete, name="slot_delete"),
    path("slots/<uuid:public_id>/restore/", slots.slot_restore, name="slot_restore"),
    path(
        "slots/<uuid:public_id>/reschedule/", after_approval.slot_reschedule, name="slot_reschedule"
    ),
    path(
        "slots/<uuid:public_id>/unschedule/", after_approval.slot_unschedule, name="slot_unschedule"
    ),
    path("slots/<uuid:public_id>/post/", after_approval.slot_post_edit, name="slot_post_edit"),
    path("slots/<uuid:public_id>/generate/", generation.slot_generate, name="slot_generate"),
    path("slots/<uuid:public_id>/cancel/", generation.slot_cancel, name="slot_cancel"),
    path("slots/live/", live.slots_live, name="slots_live"),
    path("slots/<uuid:public_id>/comments/", review.slot_comment, name="slot_comment"),
    path("review/", review.review_queue, name="review"),
    path("review/<uuid:public_id>/save/", review.review_save, name="review_save"),
    path("review/<uuid:public_id>/approve/", review.review_approve, name="review_approve"),
    path("review/<uuid:public_id>/changes/", review.review_changes, name="review_changes"),
    path("review/<uuid:public_id>/reject/", review.review_reject, name="review_reject"),
    path("review/<uuid:public_id>/new-time/", review.review_new_time, name="review_new_time"),
    path("review/<uuid:public_id>/share/", review.review_share, name="review_share"),
    path(
        "review/links/<uuid:public_id>/revoke/",
        review.review_share_revoke,
        name="review_share_revoke",
    ),
    # A client's review link: no login, the address is the key.
    path("r/<str:token>/", guest_views.guest_review, name="guest_review"),
    path("r/<str:token>/approve/", guest_views.guest_approve, name="guest_approve"),
    path("r/<str:token>/comment/", guest_views.guest_comment, name="guest_comment"),
    path("projects/", projects.project_list, name="projects"),
    path("projects/sync/<uuid:workspace_id>/", projects.project_sync, name="project_sync"),
    path("projects/sync-posts/<uuid:workspace_id>/", projects.posts_sync, name="posts_sync"),
    path(
        "projects/<str:project_id>/knowledge/",
        knowledge.project_knowledge,
        name="project_knowledge",
    ),
    path(
        "projects/<str:project_id>/knowledge/add/",
        knowledge.project_knowledge_add,
        name="project_knowledge_add",
    ),
    path(
        "knowledge/<uuid:workspace_id>/",
        knowledge.workspace_knowledge,
        name="workspace_knowledge",
    ),
    path(
        "knowledge/<uuid:workspace_id>/add/",
        knowledge.workspace_knowledge_add,
        name="workspace_knowledge_add",
    ),
    path("settings/", profile.settings_view, name="settings"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/bell/", notifications.notification_bell, name="notification_bell"),
    path(
        "notifications/read-all/",
        notifications.notifications_read_all,
        name="notifications_read_all",
    ),
    path(
        "notifications/<uuid:public_id>/read/",
        notifications.notification_read,
        name="notification_read",
    ),
    path(
        "notifications/preferences/",
        notifications.notification_preferences,
        name="notification_preferences",
    ),
    path("notifications/unsubscribe/<str:token>/", notifications.unsubscribe, name="unsubscribe"),
    path("slots/<uuid:public_id>/watch/", notifications.slot_watch, name="slot_watch"),
    path("settings/feed/", profile.feed_settings, name="feed_settings"),
    path(
        "settings/two-factor/<uuid:workspace_id>/",
        profile.workspace_two_factor,
        name="workspace_two_factor",
    ),
    path(
        "settings/sessions/end-others/", signed_in.sessions_end_others, name="sessions_end_others"
    ),
    path("settings/sessions/<str:public_id>/end/", signed_in.session_end, name="session_end"),
    # The team (#28): members, roles, invitations; the link an invitee opens (no login).
    path("team/", team.team_index, name="team_index"),
    path("team/<uuid:workspace_id>/", team.team_page, name="team"),
    path(
        "team/invitations/<uuid:public_id>/resend/",
        team.invitation_resend,
        name="invitation_resend",
    ),
    path(
        "team/invitations/<uuid:public_id>/revoke/",
        team.invitation_revoke,
        name="invitation_revoke",
    ),
    path("team/members/<uuid:public_id>/role/", team.member_role, name="member_role"),
    path("team/members/<uuid:public_id>/remove/", team.member_remove, name="member_remove"),
    path("invitations/<str:token>/", team.invitation_page, name="invitation"),
    path("settings/tokens/", profile.api_token_create, name="api_token_create"),
    path(
        "settings/tokens/<uuid:public_id>/revoke/",
        profile.api_token_revoke,
        name="api_token_revoke",
    ),
    # Single sign-on (#28): a workspace's OpenID Connect provider, for its admins.
    path("settings/sso/<uuid:public_id>/", profile.sso_settings, name="sso_settings"),
    path("settings/sso/<uuid:public_id>/remove/", profile.sso_remove, name="sso_remove"),
    path("import/", interchange.import_start, name="import_start"),
    path("import/template.csv", interchange.import_template, name="import_template"),
    path("import/<uuid:workspace_id>/", interchange.import_upload, name="import_upload"),
    path(
        "import/<uuid:workspace_id>/<uuid:import_id>/",
        interchange.import_preview,
        name="import_preview",
    ),
    path("feeds/<str:token>.ics", interchange.ical_feed, name="ical_feed"),
    # Planning at volume (#15): labels, posting schedules and queues, recurring series.
    path("labels/", labels.label_list, name="labels"),
    path("labels/add/<uuid:workspace_id>/", labels.label_add, name="label_add"),
    path("labels/<uuid:public_id>/", labels.label_edit, name="label_edit"),
    path("labels/<uuid:public_id>/delete/", labels.label_delete, name="label_delete"),
    # Recordings, documents and links as sources, and their hooks as posts (#26).
    path("sources/", sources.source_list, name="sources"),
    path("sources/upload/", sources.source_upload, name="source_upload"),
    path("sources/add/", sources.source_add, name="source_add"),
    path("sources/<uuid:public_id>/", sources.source_detail, name="source"),
    path("sources/<uuid:public_id>/plan/", sources.source_plan, name="source_plan"),
    path("insights/", insights.insights_page, name="insights"),
    path("insights/gauge/", insights.spend_gauge, name="spend_gauge"),
    path("insights/<str:chart>.csv", insights.insights_csv, name="insights_csv"),
    path("queue/", queue.queue_index, name="queues"),
    path("queue/add/", queue.queue_add, name="queue_add"),
    path("queue/<str:project_id>/", queue.queue_view, name="queue"),
    path("queue/<str:project_id>/schedule/", queue.schedule_edit, name="schedule_edit"),
    path("queue/<str:project_id>/reflow/", queue.queue_reflow, name="queue_reflow"),
    path("queue/<str:project_id>/reorder/", queue.queue_reorder, name="queue_reorder"),
    path("series/new/", series.series_new, name="series_new"),
    path("series/<uuid:public_id>/", series.series_detail, name="series"),
    path("series/<uuid:public_id>/delete/", series.series_delete, name="series_delete"),
    path(
        "series/occurrence/<uuid:slot_id>/edit/",
        series.occurrence_edit,
        name="occurrence_edit",
    ),
    # Bulk actions (#16): one request for a selection, a run with per-slot results.
    path("bulk/", bulk.bulk_apply, name="bulk_apply"),
    path("bulk/bar/", bulk.bulk_bar, name="bulk_bar"),
    path("bulk/<uuid:public_id>/", bulk.bulk_run, name="bulk_run"),
    path("bulk/<uuid:public_id>/undo/", bulk.bulk_undo, name="bulk_undo"),
    path("bulk/<uuid:public_id>/resume/", bulk.bulk_resume, name="bulk_resume"),
    # Exports (#29): a workspace's admins take the whole workspace with them as one archive.
    path("exports/", exports.export_list, name="exports"),
    path("exports/start/<uuid:workspace_id>/", exports.export_start, name="export_start"),
    path("exports/<uuid:public_id>/download/", exports.export_download, name="export_download"),
    # Outgoing webhooks (#27): a workspace's admins send its events to their tools.
    path("webhooks/", webhooks.endpoint_list, name="webhooks"),
    path("webhooks/add/<uuid:workspace_id>/", webhooks.endpoint_add, name="webhook_add"),
    path("webhooks/<uuid:public_id>/", webhooks.endpoint_detail, name="webhook_endpoint"),
    path("webhooks/<uuid:public_id>/rotate/", webhooks.endpoint_rotate, name="webhook_rotate"),
    path(
        "webhooks/<uuid:public_id>/disable/",
        webhooks.endpoint_switch,
        {"on": False},
        name="webhook_disable",
    ),
    path(
        "webhooks/<uuid:public_id>/enable/",
        webhooks.endpoint_switch,
        {"on": True},
        name="webhook_enable",
    ),
    path("webhooks/<uuid:public_id>/delete/", webhooks.endpoint_delete, name="webhook_delete"),
    path(
        "webhooks/deliveries/<uuid:public_id>/again/",
        webhooks.delivery_again,
        name="webhook_delivery_again",
    ),
    # The ideas board and Scripe's suggestions (#26).
    path("ideas/", ideas.ideas_board, name="ideas"),
    path("ideas/add/", ideas.idea_add, name="idea_add"),
    path("ideas/panel/", ideas.ideas_panel, name="ideas_panel"),
    path("ideas/<uuid:public_id>/", ideas.idea_detail, name="idea"),
    path("ideas/<uuid:public_id>/plan/", ideas.idea_plan, name="idea_plan"),
    path("ideas/<uuid:public_id>/queue/", ideas.idea_queue, name="idea_queue"),
    path("ideas/<uuid:public_id>/state/", ideas.idea_state, name="idea_state"),
    path("healthz", core.healthz, name="healthz"),
    path("hooks/scripe/<uuid:public_id>/", hooks.scripe_webhook, name="scripe_webhook"),
    # Pages without our <link rel="icon"> (the admin) make browsers ask for /favicon.ico.
    path("favicon.ico", core.favicon),
]

# Single sign-on's "Sign in with <company>" (#28): allauth's openid_connect log-in, which
# config/urls.py puts before allauth's own addresses so that this one answers.
sso_login_patterns = [
    path("<str:provider_id>/login/", profile.sso_login, name="sso_login"),
]
