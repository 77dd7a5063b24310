"""The review queue and its decisions (approve, request changes, reject), and the changes a
manager makes to a post once it is scheduled (reschedule, unschedule): the review page's and
the post page's services, with their rules (a manager's; no self-approval where the workspace
asks for it) and their conditional transitions, so a decision that lost a race answers 409
with who won."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from calendar_app.access import slot_for
from calendar_app.api import selectors
from calendar_app.api.base import ApiView
from calendar_app.api.envelopes import said, told
from calendar_app.api.fields import Day, Moment, Text
from calendar_app.api.serializers import PostSerializer
from calendar_app.api.views.posts import _parsed
from calendar_app.core.refusals import Refusal
from calendar_app.models import Role
from calendar_app.planning import selectors as planning_selectors
from calendar_app.review import after_approval
from calendar_app.review import services as review

REVIEW_TO = "review drafts"
CHANGE_TO = "change scheduled posts"


class ReviewFilterSerializer(serializers.Serializer):
    """The review page's filters, by the API's names."""

    projectId = Text(required=False, max_length=80)
    labelId = serializers.UUIDField(required=False)
    dateFrom = Day(required=False, help_text="A local day (YYYY-MM-DD).")
    dateTo = Day(required=False, help_text="A local day, inclusive.")

    def validate(self, data: dict) -> dict:
        if data.get("dateFrom") and data.get("dateTo") and data["dateFrom"] > data["dateTo"]:
            raise serializers.ValidationError({"dateTo": "The end date is before the start date."})
        return data


class ApproveSerializer(serializers.Serializer):
    """Approve the draft as stored, or as edited here (`title`, `content`). `version`: the
    draft's version you started from; another manager's save meanwhile refuses yours."""

    title = Text(required=False, allow_blank=True, trim_whitespace=False, max_length=1000)
    content = Text(required=False, allow_blank=True, trim_whitespace=False, max_length=20000)
    version = Text(required=False, max_length=200)


class RequestChangesSerializer(serializers.Serializer):
    comment = Text(
        allow_blank=True, trim_whitespace=False, max_length=20000, help_text="What should change."
    )


class RejectSerializer(serializers.Serializer):
    reason = Text(
        allow_blank=True, trim_whitespace=False, max_length=20000, help_text="Why, for the editor."
    )


class RescheduleSerializer(serializers.Serializer):
    scheduledFor = Moment(help_text="The new time; without an offset, UTC.")


class ReviewQueue(ApiView):
    ordering = ("scheduled_for", "id")

    @extend_schema(
        operation_id="review_list",
        parameters=[ReviewFilterSerializer],
        responses=PostSerializer(many=True),
        description="Drafts waiting for a manager (in review, or missed their time), soonest "
        "first, with the review page's filters. For managers.",
    )
    def get(self, request):
        if not self.viewer.managed_workspace_ids:
            raise PermissionDenied("Only a manager can review drafts.")
        # A plain dict: an empty value is a value (refused), not "not given" as in a form.
        filters = ReviewFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        project = label = None
        if data.get("projectId"):
            project = (
                planning_selectors.managed_projects(self.viewer)
                .filter(scripe_id=data["projectId"])
                .first()
            )
            if project is None:
                raise Refusal(fields={"projectId": "There is no such project in the workspace."})
        if data.get("labelId"):
            found, _ = selectors.labels_named(self.viewer, [data["labelId"]])
            if not found:
                raise Refusal(fields={"labelId": "There is no such label in the workspace."})
            label = found[0]
        drafts = selectors.review_queue(
            self.viewer,
            project=project,
            label=label,
            date_from=data.get("dateFrom"),
            date_to=data.get("dateTo"),
        )
        return self.page_of(drafts, PostSerializer)


class Decision(ApiView):
    """A decision on one post: the post for a manager (404 outside the workspace, 403 for an
    editor), the service, and the post as it is now with the service's sentence."""

    write_scope = "review"
    body = None
    role_to = REVIEW_TO

    def decide(self, slot, data: dict) -> str:
        raise NotImplementedError

    def post(self, request, post_id):
        slot = slot_for(request, post_id, to=self.role_to, role=Role.MANAGER)
        data = _parsed(self.body, request) if self.body is not None else {}
        message = self.decide(slot, data)
        fresh = selectors.post(self.viewer, slot.public_id)
        return Response(told(PostSerializer, fresh, message))


def _decision_schema(operation_id: str, body, description: str):
    return extend_schema(
        operation_id=operation_id,
        request=body,
        responses=said(PostSerializer),
        description=description,
    )


class Approve(Decision):
    body = ApproveSerializer

    @_decision_schema(
        "posts_approve",
        ApproveSerializer,
        "Approve the draft: Scripe schedules it for the post's time (a time already passed "
        "marks it missed). Where the workspace asks for a second pair of eyes, a manager who "
        "edited the draft or asked for this version is refused (403).",
    )
    def post(self, request, post_id):
        return super().post(request, post_id)

    def decide(self, slot, data: dict) -> str:
        return review.slot_approve(
            slot=slot,
            user=self.request.user,
            title=data.get("title"),
            content=data.get("content"),
            version=data.get("version"),
        )


class RequestChanges(Decision):
    body = RequestChangesSerializer

    @_decision_schema(
        "posts_request_changes",
        RequestChangesSerializer,
        "Send the draft back: Scripe writes a new version steered by the comment.",
    )
    def post(self, request, post_id):
        return super().post(request, post_id)

    def decide(self, slot, data: dict) -> str:
        return review.slot_request_changes(
            slot=slot, user=self.request.user, comment=data["comment"]
        )


class Reject(Decision):
    body = RejectSerializer

    @_decision_schema(
        "posts_reject", RejectSerializer, "Turn the draft down with a reason the editor sees."
    )
    def post(self, request, post_id):
        return super().post(request, post_id)

    def decide(self, slot, data: dict) -> str:
        return review.slot_reject(slot=slot, user=self.request.user, reason=data["reason"])


class Reschedule(Decision):
    body = RescheduleSerializer
    role_to = CHANGE_TO
    field_names = {"date": "scheduledFor", "time": "scheduledFor"}

    @_decision_schema(
        "posts_reschedule",
        RescheduleSerializer,
        "Give a scheduled post another time: Scripe first, then here (the planning rules "
        "apply: far enough ahead, on the quarter hour).",
    )
    def post(self, request, post_id):
        return super().post(request, post_id)

    def decide(self, slot, data: dict) -> str:
        local = data["scheduledFor"].astimezone(self.viewer.zone)
        changed = after_approval.scheduled_reschedule(
            slot=slot,
            user=self.request.user,
            day=local.date(),
            clock=local.time().replace(tzinfo=None),
            zone=self.viewer.zone,
        )
        return changed.message


class Unschedule(Decision):
    role_to = CHANGE_TO

    @_decision_schema(
        "posts_unschedule",
        None,
        "Take a scheduled post back: it stays a draft in Scripe and returns to review here.",
    )
    def post(self, request, post_id):
        return super().post(request, post_id)

    def decide(self, slot, data: dict) -> str:
        return after_approval.scheduled_unschedule(slot=slot, user=self.request.user).message
