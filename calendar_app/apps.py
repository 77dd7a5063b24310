"""The calendar's app config: it connects the receivers of scripe_integration's signals."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CalendarAppConfig(AppConfig):
    name = "calendar_app"
    verbose_name = _("Calendar")

    def ready(self) -> None:
        # Connects the receiver of scripe_integration's `key_refused` signal in every
        # process, whatever it imports first (a worker that only verifies keys, say).
        from calendar_app.notifications import services as notifications  # noqa: F401
