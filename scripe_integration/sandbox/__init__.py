"""A local Scripe that honours the documented v1 contract over real HTTP.

`python -m scripe_integration.sandbox --help` lists its options; `Sandbox(Config(...))` runs it
in a background thread for tests.
"""

from __future__ import annotations

from scripe_integration.sandbox.server import Sandbox
from scripe_integration.sandbox.state import ALL_SCOPES, API_VERSION, DEFAULT_TEST_KEY, Config

__all__ = ["ALL_SCOPES", "API_VERSION", "DEFAULT_TEST_KEY", "Config", "Sandbox"]
