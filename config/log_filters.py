"""Logging filters used by `settings.LOGGING`."""

from __future__ import annotations

import logging

from calendar_app.core import request_id


class ClientErrorWithoutTraceback(logging.Filter):
    """Drops the traceback from records about a 4xx response.

    Django logs a refused request (403 PermissionDenied, 400 BadRequest, …) with the exception
    attached, so each one prints a full traceback although nothing went wrong in the code. A
    4xx keeps its one line; a 5xx, or any record without a status code, keeps its traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status_code = getattr(record, "status_code", None)
        if isinstance(status_code, int) and 400 <= status_code < 500:
            record.exc_info = None
            record.exc_text = None
        return True


class RequestIdFilter(logging.Filter):
    """Puts the current request id (calendar_app.core.request_id) on every record, "-" outside
    a request or a task that came from one, so both formats can always name it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.current() or "-"
        return True
