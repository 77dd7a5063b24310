from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from scripe_integration.client import ScripeClient
from scripe_integration.sandbox import ALL_SCOPES, DEFAULT_TEST_KEY, Config, Sandbox

FAST = (0.3, 0.5)


class RunningSandbox:
    """A sandbox on a free port, with helpers that use its HTTP control surface."""

    def __init__(self, sandbox: Sandbox, key: str) -> None:
        self.sandbox = sandbox
        self.key = key
        self.base_url = sandbox.base_url
        self.root_url = sandbox.root_url

    def client(self, key: str | None = None, **kwargs) -> ScripeClient:
        return ScripeClient(self.base_url, key or self.key, **kwargs)

    def stats(self) -> dict:
        return httpx.get(f"{self.root_url}/_sandbox/stats").json()

    def fault(self, route: str, **spec) -> None:
        response = httpx.post(f"{self.root_url}/_sandbox/faults", json={"route": route, **spec})
        response.raise_for_status()

    def patch_project(self, project_id: str, **changes) -> None:
        url = f"{self.root_url}/_sandbox/projects/{project_id}"
        httpx.patch(url, json=changes).raise_for_status()

    def revoke(self, key: str) -> None:
        httpx.post(f"{self.root_url}/_sandbox/keys/revoke", json={"key": key}).raise_for_status()


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., RunningSandbox]]:
    """Starts sandboxes with the given Config fields; fast, failure-free jobs by default."""
    started: list[Sandbox] = []

    def start(**overrides) -> RunningSandbox:
        options = {
            "keys": {DEFAULT_TEST_KEY: ALL_SCOPES},
            "generation_seconds": FAST,
            "queue_seconds": 0.2,
            "failure_rate": 0.0,
            "seed": 7,
            **overrides,
        }
        sandbox = Sandbox(Config(**options)).start()
        started.append(sandbox)
        return RunningSandbox(sandbox, next(iter(options["keys"])))

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def sandbox(sandbox_factory) -> RunningSandbox:
    return sandbox_factory()
