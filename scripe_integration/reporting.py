"""Error reports (the debug page, mailed tracebacks) never show a Scripe API key or OAuth
token.

Django hides variables by name and by `@sensitive_variables`, but a key also travels through
frames we do not own (httpx builds its headers from it). So every frame's variables are
scrubbed by what they contain: anything that looks like a Scripe key is masked, and so is
whatever follows "Bearer " (an OAuth token has no format of its own to look for).
"""

from __future__ import annotations

import re

from django.views.debug import SafeExceptionReporterFilter

KEY_PATTERN = re.compile(
    r"scripe_sk_(?:live|test)_[A-Za-z0-9]+|scripe_o(?:at|rt)_[A-Za-z0-9_-]+"
    r"|(?<=Bearer )[A-Za-z0-9._~+/=-]+"
)
MASK = "scripe_sk_…(hidden)"


def scrub(text: str) -> str:
    return KEY_PATTERN.sub(MASK, text)


class ScripeKeyReporterFilter(SafeExceptionReporterFilter):
    def get_traceback_frame_variables(self, request, tb_frame):
        cleansed = []
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            try:
                text = repr(value)
            except Exception:  # a broken __repr__ must not break the error report
                text = ""
            cleansed.append((name, scrub(text) if KEY_PATTERN.search(text) else value))
        return cleansed
