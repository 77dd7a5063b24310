"""Sources (contract §8.8): text sources stored at once, file sources ingested by a
`SOURCE_INGEST_FILE` job that takes some seconds and reports progress.

The sandbox's answers where the contract is silent: a file source's transcript is made up
deterministically from the file's bytes (the same file always gives the same text, topics and
hooks); a plain-text file's transcript is its own text; a WAV file's duration is read from its
header, other audio and video count 16 kB a second, documents have none. Topics and hooks come
with `GET /v1/sources/{id}` as well as with a text source's create answer (the contract shows
them on the create answer only; clients read them wherever they are). An upload can feed one
source: a second `POST /v1/sources` with the same `uploadId` (other than an idempotent replay)
is `409 conflict`. A file whose name contains `[sandbox:fail]` (or a forced job failure, as for
generations) makes the job fail with `transcription_failed`. Source jobs live beside the
generation jobs (`GET /v1/jobs`, `GET /v1/jobs/{id}`) but are not kept in the state file.
"""

from __future__ import annotations

import hashlib
import wave
from dataclasses import dataclass, field

from scripe_integration.sandbox.common import FAIL_MARKER, TERMINAL, iso
from scripe_integration.sandbox.errors import ApiError

SOURCE_TEXT_CAP = 1024 * 1024
PREVIEW_CHARS = 2000
INGEST_PROGRESS = [
    (0.2, "Fetching the file"),
    (0.6, "Transcribing"),
    (0.85, "Finding topics and hooks"),
    (1.01, "Indexing"),
]
INGEST_FAILURES = {
    "transcription_failed": "The file has no speech or text Scripe could transcribe.",
    "unsupported_media": "Scripe could not decode this file; export it again as MP3 or MP4.",
}
SENTENCES = [
    "Most teams plan content the week it is due, and it shows.",
    "We started writing down every customer question in one shared document.",
    "The best post ideas came from the sales calls, not from the marketing meeting.",
    "Three of our hires last year found us through a founder's post, not a job ad.",
    "Nobody reads a launch announcement; everybody reads the story of the bug behind it.",
    "We measured how long onboarding took and halved it by deleting two steps.",
    "Saying no to a big customer was the best product decision we made this year.",
    "Our weekly demo is open to everyone, and it changed how sales talks about the product.",
    "Pricing pages are read by your competitors more carefully than by your buyers.",
    "A small team ships faster when it writes its decisions down.",
]
TOPICS = [
    ("Planning content ahead", "Why a planned week beats a scramble."),
    ("Listening to customers", "Turning sales calls into posts people want to read."),
    ("Hiring through stories", "How honest posts bring in candidates."),
    ("Shipping with a small team", "Writing decisions down to move faster."),
    ("Saying no", "Decisions that shaped the product."),
]
HOOKS = [
    "I used to think {t} was a luxury. I was wrong.",
    "Here is what nobody tells you about {t}.",
    "{T}: three lessons from the last twelve months.",
    "We tried {t} for a quarter. The numbers surprised us.",
]


@dataclass
class Source:
    id: str
    project_id: str
    name: str
    file_type: str
    text: str
    duration_seconds: int | None
    topics: list[dict]
    created: float
    updated: float
    status: str = "Done"

    def as_json(self) -> dict:
        preview = self.text[:PREVIEW_CHARS]
        return {
            "id": self.id,
            "projectId": self.project_id,
            "status": self.status,
            "name": self.name,
            "fileType": self.file_type,
            "durationSeconds": self.duration_seconds,
            "createdAt": iso(self.created),
            "updatedAt": iso(self.updated),
            "textPreview": preview,
            "textPreviewTruncated": len(self.text) > PREVIEW_CHARS,
            "hasFullText": bool(self.text),
            "topics": self.topics,
        }


@dataclass
class SourceJob:
    id: str
    project_id: str
    upload_id: str
    name: str
    created: float
    pickup_at: float
    finish_at: float
    failure: tuple[str, str] | None
    source_id: str | None = None
    announced: bool = False
    extra: dict = field(default_factory=dict)

    def status_at(self, now: float) -> str:
        if now < self.pickup_at:
            return "QUEUED"
        if now < self.finish_at:
            return "RUNNING"
        return "FAILED" if self.failure else "DONE"


def _transcript(seed: bytes, content_type: str, path: str) -> str:
    if content_type == "text/plain":
        with open(path, "rb") as handle:
            return handle.read(64 * 1024).decode("utf-8", "replace").strip() or SENTENCES[0]
    start = seed[0] % len(SENTENCES)
    count = 6 + seed[1] % 4
    return " ".join(SENTENCES[(start + i) % len(SENTENCES)] for i in range(count))


def _duration(content_type: str, path: str, size: int) -> int | None:
    if content_type in ("audio/wav", "audio/x-wav", "audio/wave"):
        try:
            with wave.open(path, "rb") as audio:
                return max(1, round(audio.getnframes() / audio.getframerate()))
        except (wave.Error, EOFError, OSError):
            pass
    if content_type.startswith(("audio/", "video/")):
        return max(1, size // 16_000)
    return None


def make_topics(source_id: str, seed: bytes, seconds: int | None) -> list[dict]:
    """Three topics of two or three hooks each, the same for the same seed."""
    topics = []
    span = (seconds or 0) // 3
    for i in range(3):
        title, summary = TOPICS[(seed[2] + i) % len(TOPICS)]
        hooks = []
        for j in range(2 + (seed[3 + i] % 2)):
            template = HOOKS[(seed[6 + i] + j) % len(HOOKS)]
            hooks.append(
                {
                    "id": f"hk_{source_id[4:14]}{i}{j}",
                    "content": template.format(t=title.lower(), T=title),
                    "postType": "STORY" if j % 2 else "INSIGHT",
                    "contentType": "PERSONAL",
                }
            )
        topics.append(
            {
                "id": f"tpc_{source_id[4:14]}{i}",
                "title": title,
                "summary": summary,
                "keyTakeaways": [SENTENCES[(seed[9] + i + k) % len(SENTENCES)] for k in range(2)],
                "ranking": i + 1,
                "score": round(0.9 - i * 0.15, 2),
                "fromSeconds": span * i if seconds else None,
                "toSeconds": span * (i + 1) if seconds else None,
                "hooks": hooks,
            }
        )
    return topics


class SourceStore:
    """Sources and source-ingest jobs, on the state's clock and under its lock."""

    def __init__(self) -> None:
        self.sources: dict[str, Source] = {}
        self.jobs: dict[str, SourceJob] = {}

    # creating ------------------------------------------------------------------------------
    def text_source(self, state, project_id: str, text: str, name: str) -> Source:
        with state.lock:
            now = state.clock()
            source_id = state.ulid("src_")
            seed = hashlib.sha256(text.encode()).digest()
            source = Source(
                id=source_id,
                project_id=project_id,
                name=name,
                file_type="text/plain",
                text=text,
                duration_seconds=None,
                topics=make_topics(source_id, seed, None),
                created=now,
                updated=now,
            )
            self.sources[source.id] = source
            state.emit("source.created", source.as_json(), project_id)
            return source

    def file_job(self, state, project_id: str, upload, name: str) -> SourceJob:
        with state.lock:
            now = state.clock()
            low, high = state.config.ingest_seconds
            failure = None
            if state.forced_failures:
                code = state.forced_failures.pop(0)
                code = code if code in INGEST_FAILURES else "transcription_failed"
                failure = (code, INGEST_FAILURES[code])
            elif FAIL_MARKER in name:
                failure = ("transcription_failed", INGEST_FAILURES["transcription_failed"])
            job = SourceJob(
                id=state.short_id("job_"),
                project_id=project_id,
                upload_id=upload.id,
                name=name,
                created=now,
                pickup_at=now + state.config.queue_seconds,
                finish_at=now + state.config.queue_seconds + state.rng.uniform(low, high),
                failure=failure,
            )
            upload.used_by = job.id
            self.jobs[job.id] = job
            return job

    # reading -------------------------------------------------------------------------------
    def job_json(self, state, job: SourceJob) -> dict:
        with state.lock:
            now = state.clock()
            status = job.status_at(now)
            if status == "DONE" and job.source_id is None:
                self._ingest(state, job)
            progress = None
            if status == "RUNNING" and state.config.progress:
                fraction = (now - job.pickup_at) / (job.finish_at - job.pickup_at)
                fraction = round(min(0.99, max(0.01, fraction)), 2)
                message = next(m for limit, m in INGEST_PROGRESS if fraction < limit)
                progress = {"progress": fraction, "updatedAt": iso(now), "message": message}
            elif status == "DONE" and state.config.progress:
                progress = {"progress": 1.0, "updatedAt": iso(job.finish_at), "message": "Done"}
            finished = status in ("DONE", "FAILED")
            low, high = state.config.ingest_seconds
            estimate = int((state.config.queue_seconds + (low + high) / 2) * 1000)
            snapshot = {
                "id": job.id,
                "type": "SOURCE_INGEST_FILE",
                "status": status,
                "projectId": job.project_id,
                "startedAt": iso(job.pickup_at) if status != "QUEUED" else None,
                "completedAt": iso(job.finish_at) if finished else None,
                "progress": progress,
                "result": {"sourceId": job.source_id} if status == "DONE" else None,
                "errorCode": job.failure[0] if status == "FAILED" else None,
                "errorMessage": job.failure[1] if status == "FAILED" else None,
                "attemptCount": 0 if status == "QUEUED" else 1,
                "estimatedCompletionMs": estimate,
                "createdAt": iso(job.created),
                "updatedAt": iso(job.finish_at if finished else now),
            }
            if finished and not job.announced:
                job.announced = True
                if job.source_id:
                    source = self.sources[job.source_id]
                    state.emit("source.created", source.as_json(), job.project_id)
                event = "job.completed" if status == "DONE" else "job.failed"
                state.emit(event, snapshot, job.project_id)
            return snapshot

    def _ingest(self, state, job: SourceJob) -> None:
        upload = state.uploads.by_id[job.upload_id]
        seed = bytes.fromhex(upload.sha256) if upload.sha256 else hashlib.sha256(b"").digest()
        source_id = state.ulid("src_")
        seconds = _duration(upload.content_type, upload.path, upload.size)
        source = Source(
            id=source_id,
            project_id=job.project_id,
            name=job.name,
            file_type=upload.content_type,
            text=_transcript(seed, upload.content_type, upload.path),
            duration_seconds=seconds,
            topics=make_topics(source_id, seed, seconds),
            created=job.finish_at,
            updated=job.finish_at,
        )
        self.sources[source.id] = source
        job.source_id = source.id

    def settle(self, state, now: float) -> None:
        for job in list(self.jobs.values()):
            if not job.announced and job.status_at(now) in TERMINAL:
                self.job_json(state, job)


# handlers ------------------------------------------------------------------------------------


def create_source(req) -> tuple[int, dict]:
    """`POST /v1/sources`: `type: "text"` answers the source, `type: "file"` a job."""
    body = req.body()
    state = req.state
    kind = body.get("type", "text")
    project_id = body.get("projectId")
    if not isinstance(project_id, str) or not project_id:
        raise ApiError(
            400, "invalid_request", "'projectId' is required.", details={"param": "projectId"}
        )
    name = body.get("name") or ""
    if not isinstance(name, str) or len(name) > 500:
        raise ApiError(
            400,
            "invalid_request",
            "'name' must be a string of at most 500 characters.",
            details={"param": "name"},
        )
    if kind == "text":
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(
                400,
                "invalid_request",
                "'text' must be a non-empty string.",
                details={"param": "text"},
            )
        if len(text.encode()) > SOURCE_TEXT_CAP:
            raise ApiError(413, "payload_too_large", "'text' is larger than 1 MB.")
        _project(req, project_id)
        source = state.source_store.text_source(state, project_id, text, name or "Text")
        return 200, {"data": source.as_json()}
    if kind != "file":
        raise ApiError(
            400, "invalid_request", "'type' must be 'text' or 'file'.", details={"param": "type"}
        )
    upload_id = body.get("uploadId")
    if not isinstance(upload_id, str) or not upload_id:
        raise ApiError(
            400, "invalid_request", "'uploadId' is required.", details={"param": "uploadId"}
        )
    _project(req, project_id)
    upload = state.uploads.by_id.get(upload_id)
    if upload is None:
        raise ApiError(422, "unprocessable", "The upload is not in this workspace.")
    with state.lock:
        if not upload.complete:
            raise ApiError(
                422, "unprocessable", "The upload has no file yet; PUT it to its uploadUrl first."
            )
        if upload.used_by is not None:
            raise ApiError(409, "conflict", "This upload already feeds a source.")
        job = state.source_store.file_job(state, project_id, upload, name or upload.id)
        return 200, {"data": state.source_store.job_json(state, job)}


def _project(req, project_id: str) -> None:
    if project_id not in req.state.projects:
        raise ApiError(404, "not_found", "Project not found.")


def get_source(req) -> tuple[int, dict]:
    req.state.settle_all()
    source = req.state.source_store.sources.get(req.params["sourceId"])
    if source is None:
        raise ApiError(404, "not_found", "Source not found.")
    return 200, {"data": source.as_json()}
