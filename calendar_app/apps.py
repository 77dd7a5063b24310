"""The calendar's app config: it connects the receivers of scripe_integration's signals and
of django-q2's, which carry a request's id into the tasks it enqueues."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CalendarAppConfig(AppConfig):
    name = "calendar_app"
    verbose_name = _("Calendar")

    def ready(self) -> None:
        from django_q.signals import pre_enqueue, pre_execute

        # Connects the receivers of signals in every process, whatever it imports first (a
        # worker that only verifies keys, say): scripe_integration's `key_refused`, and the
        # log-in and enrolment ones that note who must enrol a second factor (#28).
        # The receivers that stamp a new session and sign out the others on a new password.
        from calendar_app.accounts import (
            sessions,  # noqa: F401
            two_factor,  # noqa: F401
        )
        from calendar_app.core import request_id
        from calendar_app.notifications import services as notifications  # noqa: F401

        # A task carries the id of the request that enqueued it onto its own log lines.
        pre_enqueue.connect(request_id.task_stamp, dispatch_uid="request_id.task_stamp")
        pre_execute.connect(request_id.task_bind, dispatch_uid="request_id.task_bind")
