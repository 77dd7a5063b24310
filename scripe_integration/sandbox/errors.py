"""The error a `/v1` handler raises: the server turns it into Scripe's error envelope."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: dict | None = None,
        meta: dict | None = None,
        headers: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details, self.meta, self.headers = details, meta, headers or {}
