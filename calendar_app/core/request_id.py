"""The request id: one short string that ties together every log line of a request and of
the django-q2 tasks it enqueued.

nginx makes one for each request (`X-Request-ID`, docker/nginx.conf); the web middleware
takes it when the app runs behind a trusted proxy (TRUSTED_PROXY_COUNT > 0), or makes one
itself, and binds it here for the request. `async_task` copies the bound id into the task
(django-q2's `pre_enqueue` signal) and the worker binds it again while the task runs
(`pre_execute`), so a task's log lines carry the id of the click that caused them. The log
filter (config.log_filters.RequestIdFilter) reads it for every record.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from typing import Any

_CURRENT: ContextVar[str | None] = ContextVar("request_id", default=None)
# What an id from a proxy may look like: nginx's $request_id is 32 hex digits; other proxies
# send UUIDs or similar. Anything else (a header a client forged with spaces or a newline to
# break a log line) is replaced by an id of our own.
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
TASK_KEY = "request_id"


def current() -> str | None:
    return _CURRENT.get()


def new() -> str:
    return uuid.uuid4().hex


def chosen(header: str | None, *, trusted: bool) -> str:
    """The id for a request: the proxy's when it is trusted and well-formed, else a new one."""
    if trusted and header and _ACCEPTABLE.match(header):
        return header
    return new()


def bind(value: str | None) -> Any:
    """Makes `value` the current id; returns the token `unbind` takes."""
    return _CURRENT.set(value)


def unbind(token: Any) -> None:
    _CURRENT.reset(token)


# django-q2 signal receivers (connected in calendar_app.apps) -----------------------------------


def task_stamp(sender: Any, task: dict, **kwargs: Any) -> None:
    """pre_enqueue: a task enqueued while a request (or a task) runs carries its id."""
    if (value := current()) and TASK_KEY not in task:
        task[TASK_KEY] = value


def task_bind(sender: Any, task: dict, **kwargs: Any) -> None:
    """pre_execute, in the worker process: the task's log lines carry the id it was given.
    A worker runs one task at a time, so the id is simply replaced by the next task's."""
    bind(task.get(TASK_KEY))
