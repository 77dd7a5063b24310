"""The sandbox's uploads and sources (contract §8.8, §8.9), spoken to with raw HTTP where the
client would refuse to go, and through the client where it would."""

from __future__ import annotations

import io
import socket
import time
import wave
from urllib.parse import urlsplit

import httpx
import pytest

from scripe_integration.contract import ScripeError, ScripeInputError
from tests.scripe_integration.sandbox_support import PROJECT, Receiver, api_client, eventually

MB = 1024 * 1024


@pytest.fixture
def fast(sandbox_factory):
    return sandbox_factory(ingest_seconds=(0.4, 0.6), queue_seconds=0.1)


@pytest.fixture
def api(fast):
    with api_client(fast) as http:
        yield http


def wav_bytes(seconds: int = 3) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\0\0" * 8000 * seconds)
    return buffer.getvalue()


def upload(api, content_type: str = "audio/wav", **extra) -> dict:
    response = api.post("uploads", json={"contentType": content_type, **extra})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def file_source(api, upload_id: str, key: str = "src-key-1", name: str = "memo.wav"):
    body = {"type": "file", "projectId": PROJECT, "uploadId": upload_id, "name": name}
    return api.post("sources", json=body, headers={"Idempotency-Key": key})


def test_an_upload_is_bound_to_its_type_and_the_types_cap(api):
    handle = upload(api, "audio/mpeg")
    assert handle["id"].startswith("upl_")
    assert handle["maxSizeBytes"] == 500 * MB
    assert handle["uploadUrl"].startswith("http://127.0.0.1:")
    assert handle["expiresAt"]
    assert upload(api, "application/pdf")["maxSizeBytes"] == 100 * MB
    assert upload(api, "text/plain", maxSizeBytes=10)["maxSizeBytes"] == 10


def test_it_refuses_an_unsupported_type_or_a_size_above_the_cap(api):
    refused = api.post("uploads", json={"contentType": "application/zip"})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "unprocessable"
    too_big = api.post(
        "uploads", json={"contentType": "application/pdf", "maxSizeBytes": 100 * MB + 1}
    )
    assert too_big.status_code == 422
    missing = api.post("uploads", json={})
    assert missing.status_code == 400


def test_the_presigned_put_refuses_another_type_a_larger_body_and_a_second_use(api):
    handle = upload(api, "text/plain", maxSizeBytes=10)
    wrong = httpx.put(handle["uploadUrl"], content=b"hello", headers={"Content-Type": "audio/wav"})
    assert wrong.status_code == 403
    big = httpx.put(handle["uploadUrl"], content=b"x" * 11, headers={"Content-Type": "text/plain"})
    assert big.status_code == 400
    assert big.json()["Error"]["Code"] == "EntityTooLarge"
    done = httpx.put(handle["uploadUrl"], content=b"hello", headers={"Content-Type": "text/plain"})
    assert done.status_code == 200
    again = httpx.put(handle["uploadUrl"], content=b"hello", headers={"Content-Type": "text/plain"})
    assert again.status_code == 403


def test_an_expired_upload_url_is_refused(fast, api):
    handle = upload(api, "text/plain")
    state = fast.sandbox.state
    real = state.clock
    state.clock = lambda: real() + 2 * 3600
    try:
        late = httpx.put(handle["uploadUrl"], content=b"hi", headers={"Content-Type": "text/plain"})
    finally:
        state.clock = real
    assert late.status_code == 403
    assert "expired" in late.json()["Error"]["Message"]


def test_an_interrupted_put_can_be_sent_again_and_makes_one_source(fast, api):
    handle = upload(api)
    body = wav_bytes()
    url = urlsplit(handle["uploadUrl"])
    with socket.create_connection((url.hostname, url.port)) as raw:
        head = (
            f"PUT {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: audio/wav\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        raw.sendall(head + body[: len(body) // 2])
    eventually(lambda: fast.sandbox.state.uploads.by_id[handle["id"]].attempts == 1)
    assert not fast.sandbox.state.uploads.by_id[handle["id"]].complete
    not_yet = file_source(api, handle["id"], key="too-early")
    assert not_yet.status_code == 422
    retried = httpx.put(handle["uploadUrl"], content=body, headers={"Content-Type": "audio/wav"})
    assert retried.status_code == 200
    first = file_source(api, handle["id"])
    replay = file_source(api, handle["id"])
    assert first.status_code == replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert first.json()["data"]["id"] == replay.json()["data"]["id"]
    assert file_source(api, handle["id"], key="another-key").status_code == 409
    assert fast.stats()["sourceJobs"] == 1


def test_a_file_source_transcribes_with_progress_then_has_topics_and_hooks(api):
    handle = upload(api)
    httpx.put(handle["uploadUrl"], content=wav_bytes(3), headers={"Content-Type": "audio/wav"})
    job = file_source(api, handle["id"]).json()["data"]
    assert job["type"] == "SOURCE_INGEST_FILE"
    assert job["status"] == "QUEUED"
    running = eventually(lambda: api.get(f"jobs/{job['id']}").json()["data"]["progress"])
    assert 0 < running["progress"] <= 1
    done = eventually(
        lambda: (j := api.get(f"jobs/{job['id']}").json()["data"])["status"] == "DONE" and j
    )
    source = api.get(f"sources/{done['result']['sourceId']}").json()["data"]
    assert source["status"] == "Done"
    assert source["durationSeconds"] == 3
    assert source["name"] == "memo.wav"
    assert source["textPreview"]
    assert len(source["topics"]) == 3
    assert all(topic["hooks"] for topic in source["topics"])
    assert source["topics"][0]["hooks"][0]["id"].startswith("hk_")
    listed = api.get("jobs", params={"type": "SOURCE_INGEST_FILE"}).json()["data"]
    assert [j["id"] for j in listed] == [job["id"]]
    assert api.get("jobs", params={"type": "POST_GENERATION"}).json()["data"] == []


def test_the_same_file_gives_the_same_transcript(api):
    previews = []
    for key in ("one", "two"):
        handle = upload(api)
        httpx.put(handle["uploadUrl"], content=wav_bytes(2), headers={"Content-Type": "audio/wav"})
        job = file_source(api, handle["id"], key=key).json()["data"]
        done = eventually(
            lambda job=job: (
                (j := api.get(f"jobs/{job['id']}").json()["data"])["status"] == "DONE" and j
            )
        )
        previews.append(api.get(f"sources/{done['result']['sourceId']}").json()["data"])
    assert previews[0]["textPreview"] == previews[1]["textPreview"]


def test_a_file_named_to_fail_fails_with_a_reason(api):
    handle = upload(api)
    httpx.put(handle["uploadUrl"], content=wav_bytes(1), headers={"Content-Type": "audio/wav"})
    job = file_source(api, handle["id"], name="[sandbox:fail] memo.wav").json()["data"]
    failed = eventually(
        lambda: (j := api.get(f"jobs/{job['id']}").json()["data"])["status"] == "FAILED" and j
    )
    assert failed["errorCode"] == "transcription_failed"
    assert failed["errorMessage"]


def test_a_text_source_is_stored_at_once_and_announced(api):
    receiver = Receiver()
    try:
        api.post(
            "webhook-endpoints",
            json={"name": "r", "url": receiver.url, "events": ["source.created"]},
        ).raise_for_status()
        body = {"type": "text", "projectId": PROJECT, "text": "We hired three people.", "name": "n"}
        created = api.post("sources", json=body, headers={"Idempotency-Key": "t1"})
        assert created.status_code == 200
        source = created.json()["data"]
        assert source["id"].startswith("src_")
        assert source["textPreview"] == "We hired three people."
        assert source["topics"]
        eventually(lambda: receiver.types() == ["source.created"])
    finally:
        receiver.stop()


def test_the_client_streams_a_file_and_reports_progress(fast, tmp_path):
    path = tmp_path / "memo.wav"
    path.write_bytes(wav_bytes(4))
    seen: list[int] = []
    with fast.client() as scripe:
        handle = scripe.create_upload("audio/wav", max_size_bytes=path.stat().st_size)
        scripe.put_upload(
            handle, str(path), size=path.stat().st_size, on_progress=seen.append, chunk_size=4096
        )
        job = scripe.create_file_source(PROJECT, handle.id, name="memo.wav", idempotency_key="k1")
        replay = scripe.create_file_source(
            PROJECT, handle.id, name="memo.wav", idempotency_key="k1"
        )
        assert replay.replayed and replay.id == job.id
        with pytest.raises(ScripeError) as used:
            scripe.put_upload(handle, str(path), size=path.stat().st_size)
        assert used.value.code == "upload_used"
        deadline = time.monotonic() + 10
        while not (job := scripe.get_job(job.id)).is_terminal:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        source = scripe.get_source(job.source_id)
    assert seen[-1] == path.stat().st_size and len(seen) > 1
    assert source.duration_seconds == 4
    assert source.topics and source.topics[0].hooks


def test_the_client_refuses_a_type_or_size_before_sending(fast):
    with fast.client() as scripe:
        with pytest.raises(ScripeInputError):
            scripe.create_upload("application/zip", max_size_bytes=10)
        with pytest.raises(ScripeInputError):
            scripe.create_upload("application/pdf", max_size_bytes=100 * MB + 1)
        assert scripe.calls == 0


def test_a_finished_file_source_is_announced(api):
    receiver = Receiver()
    try:
        api.post(
            "webhook-endpoints",
            json={"name": "r", "url": receiver.url, "events": ["source.created", "job.completed"]},
        ).raise_for_status()
        handle = upload(api)
        httpx.put(handle["uploadUrl"], content=wav_bytes(1), headers={"Content-Type": "audio/wav"})
        job = file_source(api, handle["id"]).json()["data"]
        eventually(lambda: sorted(receiver.types()) == ["job.completed", "source.created"])
        completed = next(e for e in receiver.events() if e["type"] == "job.completed")
        assert completed["data"]["object"]["id"] == job["id"]
        assert completed["data"]["object"]["type"] == "SOURCE_INGEST_FILE"
    finally:
        receiver.stop()
