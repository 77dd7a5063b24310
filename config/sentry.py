"""Error reporting to Sentry (sentry-sdk), on only when SENTRY_DSN is set (config.settings).

Nothing secret leaves in an event: `scrub_event` (the SDK's before_send) walks the whole
event (the request's headers, cookies and body, every frame's local variables, breadcrumbs,
log messages, extra data) and masks
- the value of any key that names a secret: authorization, cookie, password, secret, token,
  api key, signature, DSN, session, csrf;
- anything that looks like one wherever it appears: a Scripe API key or OAuth token
  (scripe_integration.reporting's pattern, which masks whatever follows "Bearer " too), an
  API token of ours (`scal_…`), an outgoing webhook secret (`whsec_…`).
Each event is tagged with the request id of the log lines (calendar_app.core.request_id).
The SDK's default of sending no personal data (user, IP address) is kept.
"""

from __future__ import annotations

import re
from typing import Any

from calendar_app.core import request_id
from scripe_integration.reporting import KEY_PATTERN

MASK = "[Filtered]"
# Substrings of a key (a header, a variable, a form field) whose value is a secret.
SECRET_KEYS = re.compile(
    r"authorization|cookie|passw|secret|token|api[_-]?key|signature|dsn|session|csrf|"
    r"encrypted|fernet|private|credential",
    re.IGNORECASE,
)
SECRET_VALUES = re.compile(
    rf"{KEY_PATTERN.pattern}|\bscal_[A-Za-z0-9_-]+|\bwhsec_[A-Za-z0-9_-]+"
    r"|(?<=sessionid=)[^;\s]+|(?<=csrftoken=)[^;\s]+"
)


def _clean(value: Any, depth: int = 0) -> Any:
    if depth > 20:  # a pathological structure: drop it rather than recurse forever
        return MASK
    if isinstance(value, dict):
        return {
            key: (
                MASK
                if isinstance(key, str) and SECRET_KEYS.search(key) and value[key] not in ("", None)
                else _clean(value[key], depth + 1)
            )
            for key in value
        }
    if isinstance(value, list | tuple):
        # Headers may come as [name, value] pairs.
        if (
            len(value) == 2
            and isinstance(value[0], str)
            and SECRET_KEYS.search(value[0])
            and not isinstance(value[1], dict | list)
        ):
            return [value[0], MASK]
        return [_clean(item, depth + 1) for item in value]
    if isinstance(value, str):
        return SECRET_VALUES.sub(MASK, value)
    return value


def scrub_event(event: dict, hint: dict | None = None) -> dict:
    """before_send (and before_send_transaction): the event with every secret masked, tagged
    with the request id, so a report leads to the request's and its tasks' log lines."""
    event = _clean(event)
    if (value := request_id.current()) and isinstance(event.get("tags", {}), dict):
        event.setdefault("tags", {})["request_id"] = value
    return event


def sentry_init(
    *, dsn: str, environment: str, traces_sample_rate: float = 0.0, transport: Any = None
) -> None:
    """`transport`: where events go instead of Sentry's servers (the tests capture them)."""
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        transport=transport,
        environment=environment,
        integrations=[DjangoIntegration()],
        before_send=scrub_event,
        before_send_transaction=scrub_event,
        traces_sample_rate=traces_sample_rate,
    )
