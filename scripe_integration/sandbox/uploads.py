"""Uploads (contract §8.9): `POST /v1/uploads` hands out an upload id and a presigned URL, and
the URL (`PUT /_uploads/<token>`, served by the sandbox itself in S3's place) takes the bytes.

Where the contract is silent the sandbox picks: Office documents share the PDF cap (100 MB);
a handle expires after `Config.upload_ttl_seconds` (an hour by default); the presigned URL
carries no Scripe auth and is bound to the content type and the cap it was made for. A PUT is
streamed to disk in chunks, never held in memory. One that breaks off (fewer bytes than its
Content-Length) leaves the upload open, so it can be sent again from the start; once a PUT
completes the URL is spent (`403 AccessDenied`, as S3 answers a used or expired signature).
Answers of the PUT endpoint are S3-like: an empty 200 with an `ETag`, or a small JSON error.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import tempfile
import threading
from dataclasses import dataclass

from scripe_integration.sandbox.common import iso
from scripe_integration.sandbox.errors import ApiError

MB = 1024 * 1024
CHUNK = 256 * 1024
DRAIN_LIMIT = 8 * MB
OFFICE_TYPES = frozenset(
    {
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)


def cap_for(content_type: str) -> int | None:
    """The contract's size cap for a content type, or None when Scripe takes no such file."""
    kind = content_type.split("/", 1)[0]
    if kind in ("audio", "video") and "/" in content_type:
        return 500 * MB
    if content_type == "application/pdf" or content_type in OFFICE_TYPES:
        return 100 * MB
    if kind == "image" and "/" in content_type:
        return 25 * MB
    if content_type == "text/plain":
        return 25 * MB
    return None


@dataclass
class Upload:
    id: str
    token: str
    content_type: str
    max_size: int
    created: float
    expires: float
    path: str
    size: int = 0
    sha256: str = ""
    complete: bool = False
    used_by: str | None = None  # the source job that took it
    attempts: int = 0  # PUTs begun, for tests of a retried upload

    def as_json(self, root: str) -> dict:
        return {
            "id": self.id,
            "uploadUrl": f"{root}/_uploads/{self.token}",
            "contentType": self.content_type,
            "maxSizeBytes": self.max_size,
            "expiresAt": iso(self.expires),
        }


class UploadStore:
    """The sandbox's uploads and the directory their bytes go to."""

    def __init__(self, directory: str | None = None) -> None:
        self.owned = directory is None  # a directory of its own, removed by `close`
        self.directory = directory or tempfile.mkdtemp(prefix="scripe-sandbox-uploads-")
        os.makedirs(self.directory, exist_ok=True)
        self.by_id: dict[str, Upload] = {}
        self.by_token: dict[str, Upload] = {}
        self.lock = threading.Lock()

    def close(self) -> None:
        """Removes the uploaded bytes when the directory was the store's own."""
        if self.owned:
            shutil.rmtree(self.directory, ignore_errors=True)

    def create(self, *, upload_id: str, content_type: str, max_size: int, now: float, ttl: float):
        token = secrets.token_urlsafe(24)
        upload = Upload(
            id=upload_id,
            token=token,
            content_type=content_type,
            max_size=max_size,
            created=now,
            expires=now + ttl,
            path=os.path.join(self.directory, upload_id),
        )
        with self.lock:
            self.by_id[upload.id] = upload
            self.by_token[token] = upload
        return upload


def create_upload(req) -> tuple[int, dict]:
    """`POST /v1/uploads`: a handle and a presigned URL, for a type Scripe takes and a size
    within its cap."""
    body = req.body()
    content_type = body.get("contentType")
    if not isinstance(content_type, str) or not content_type:
        raise ApiError(
            400,
            "invalid_request",
            "'contentType' is required.",
            details={"param": "contentType"},
        )
    content_type = content_type.split(";", 1)[0].strip().lower()
    cap = cap_for(content_type)
    if cap is None:
        raise ApiError(422, "unprocessable", f"Uploads of type '{content_type}' are not supported.")
    size = body.get("maxSizeBytes", cap)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ApiError(
            400,
            "invalid_request",
            "'maxSizeBytes' must be an integer of at least 1.",
            details={"param": "maxSizeBytes"},
        )
    if size > cap:
        raise ApiError(
            422,
            "unprocessable",
            f"'maxSizeBytes' is above the {cap // MB} MB cap for {content_type}.",
        )
    state = req.state
    upload = state.uploads.create(
        upload_id=state.ulid("upl_"),
        content_type=content_type,
        max_size=size,
        now=state.clock(),
        ttl=state.config.upload_ttl_seconds,
    )
    return 200, {"data": upload.as_json(req.root)}


def _s3_error(handler, status: int, code: str, message: str) -> None:
    handler.send_json(status, {"Error": {"Code": code, "Message": message}}, {})


def handle_put(handler, token: str) -> None:
    """The presigned URL: streams the body to disk, checking type, cap and expiry first."""
    state = handler.server.state
    store = state.uploads
    upload = store.by_token.get(token)
    length_header = handler.headers.get("Content-Length")
    try:
        length = int(length_header) if length_header is not None else None
    except ValueError:
        length = None

    def refuse(status: int, code: str, message: str) -> None:
        if length is not None and length <= DRAIN_LIMIT:
            # A small body is read and dropped, so the client sees the answer, not a reset.
            left = length
            while left > 0 and (chunk := handler.rfile.read(min(CHUNK, left))):
                left -= len(chunk)
        else:
            # A big one is not: the connection closes rather than take bytes nobody wants.
            handler.close_connection = True
        _s3_error(handler, status, code, message)

    if upload is None:
        return refuse(404, "NoSuchUpload", "The upload URL is not known.")
    if state.clock() > upload.expires:
        return refuse(403, "AccessDenied", "Request has expired.")
    if upload.complete:
        return refuse(403, "AccessDenied", "This upload URL was already used.")
    sent_type = (handler.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    if sent_type != upload.content_type:
        return refuse(
            403,
            "SignatureDoesNotMatch",
            f"The URL is signed for {upload.content_type}, not {sent_type or 'no type'}.",
        )
    if length is None:
        return refuse(411, "MissingContentLength", "Content-Length is required.")
    if length > upload.max_size:
        return refuse(400, "EntityTooLarge", "Your proposed upload exceeds the maximum size.")
    with store.lock:
        upload.attempts += 1
    partial = f"{upload.path}.{secrets.token_hex(4)}.part"
    digest = hashlib.sha256()
    received = 0
    try:
        with open(partial, "wb") as out:
            while received < length:
                chunk = handler.rfile.read(min(CHUNK, length - received))
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
    except OSError:
        pass
    if received < length:
        # Broken off: the upload stays open for another PUT from the start.
        os.unlink(partial)
        handler.close_connection = True
        return None
    with store.lock:
        if upload.complete:
            os.unlink(partial)
            return refuse(403, "AccessDenied", "This upload URL was already used.")
        os.replace(partial, upload.path)
        upload.size, upload.sha256, upload.complete = received, digest.hexdigest(), True
    handler.send_json(200, b"", {"ETag": f'"{upload.sha256[:32]}"'})
    return None
