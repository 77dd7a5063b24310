"""The API's addresses: /api/v1/… resources, the OpenAPI schema and its docs (served from
drf-spectacular-sidecar, no CDN). Another resource adds its module under views/ and its
paths to `v1`."""

from __future__ import annotations

from django.urls import include, path, re_path

from calendar_app.api.views import (
    ideas,
    labels,
    notifications,
    posts,
    projects,
    queue,
    review,
    series,
    sources,
    trail,
    webhooks,
    workspaces,
)
from calendar_app.api.views.missing import Docs, Schema, missing

v1 = [
    path("workspaces/", workspaces.WorkspaceList.as_view(), name="api_workspaces"),
    path(
        "workspaces/<uuid:workspace_id>/",
        workspaces.WorkspaceDetail.as_view(),
        name="api_workspace",
    ),
    path("projects/", projects.ProjectList.as_view(), name="api_projects"),
    path("projects/<str:project_id>/", projects.ProjectDetail.as_view(), name="api_project"),
    path("labels/", labels.LabelList.as_view(), name="api_labels"),
    path("labels/<uuid:label_id>/", labels.LabelDetail.as_view(), name="api_label"),
    path("posts/", posts.PostList.as_view(), name="api_posts"),
    path("posts/<uuid:post_id>/", posts.PostDetail.as_view(), name="api_post"),
    path("posts/<uuid:post_id>/move/", posts.PostMove.as_view(), name="api_post_move"),
    path("posts/<uuid:post_id>/restore/", posts.PostRestore.as_view(), name="api_post_restore"),
    path("posts/<uuid:post_id>/generate/", posts.PostGenerate.as_view(), name="api_post_generate"),
    path("posts/<uuid:post_id>/cancel/", posts.PostCancel.as_view(), name="api_post_cancel"),
    path("posts/<uuid:post_id>/trail/", trail.Trail.as_view(), name="api_post_trail"),
    path("review/", review.ReviewQueue.as_view(), name="api_review"),
    path("posts/<uuid:post_id>/approve/", review.Approve.as_view(), name="api_post_approve"),
    path(
        "posts/<uuid:post_id>/request-changes/",
        review.RequestChanges.as_view(),
        name="api_post_request_changes",
    ),
    path("posts/<uuid:post_id>/reject/", review.Reject.as_view(), name="api_post_reject"),
    path(
        "posts/<uuid:post_id>/reschedule/",
        review.Reschedule.as_view(),
        name="api_post_reschedule",
    ),
    path(
        "posts/<uuid:post_id>/unschedule/",
        review.Unschedule.as_view(),
        name="api_post_unschedule",
    ),
    path("projects/<str:project_id>/queue/", queue.Queue.as_view(), name="api_queue"),
    path("series/", series.SeriesList.as_view(), name="api_series_list"),
    path("series/<uuid:series_id>/", series.SeriesDetail.as_view(), name="api_series"),
    path("ideas/", ideas.IdeaList.as_view(), name="api_ideas"),
    path("ideas/<uuid:idea_id>/", ideas.IdeaDetail.as_view(), name="api_idea"),
    path("ideas/<uuid:idea_id>/plan/", ideas.IdeaPlan.as_view(), name="api_idea_plan"),
    path("ideas/<uuid:idea_id>/queue/", ideas.IdeaQueue.as_view(), name="api_idea_queue"),
    path("ideas/<uuid:idea_id>/dismiss/", ideas.IdeaDismiss.as_view(), name="api_idea_dismiss"),
    path("ideas/<uuid:idea_id>/restore/", ideas.IdeaRestore.as_view(), name="api_idea_restore"),
    path("sources/", sources.SourceList.as_view(), name="api_sources"),
    path("sources/<uuid:source_id>/", sources.SourceDetail.as_view(), name="api_source"),
    path("sources/<uuid:source_id>/plan/", sources.SourcePlan.as_view(), name="api_source_plan"),
    path("notifications/", notifications.NotificationList.as_view(), name="api_notifications"),
    path(
        "notifications/read/",
        notifications.NotificationsReadAll.as_view(),
        name="api_notifications_read",
    ),
    path(
        "notifications/<uuid:notification_id>/read/",
        notifications.NotificationRead.as_view(),
        name="api_notification_read",
    ),
    path("webhooks/", webhooks.WebhookEndpointList.as_view(), name="api_webhooks"),
    path(
        "webhooks/<uuid:endpoint_id>/",
        webhooks.WebhookEndpointDetail.as_view(),
        name="api_webhook",
    ),
    path(
        "webhooks/<uuid:endpoint_id>/rotate/",
        webhooks.WebhookEndpointRotate.as_view(),
        name="api_webhook_rotate",
    ),
]

urlpatterns = [
    path("schema/", Schema.as_view(), name="api_schema"),
    path("docs/", Docs.as_view(url_name="api_schema"), name="api_docs"),
    path("v1/", include(v1)),
    # Anything else under /api/ answers the error envelope, not the site's HTML 404 page (a
    # newline in the address too, which `.` would not match).
    re_path(r"^[\s\S]*$", missing),
]
