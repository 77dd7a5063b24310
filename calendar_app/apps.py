"""The calendar's app config: it connects the receivers of scripe_integration's signals."""

from __future__ import annotations

from django.apps import AppConfig


class CalendarAppConfig(AppConfig):
    name = "calendar_app"
    verbose_name = "Calendar"

    def ready(self) -> None:
        # Connects the receivers of signals in every process, whatever it imports first (a
        # worker that only verifies keys, say): scripe_integration's `key_refused`, and the
        # log-in and enrolment ones that note who must enrol a second factor (#28).
        from calendar_app.accounts import two_factor  # noqa: F401
        from calendar_app.notifications import services as notifications  # noqa: F401
