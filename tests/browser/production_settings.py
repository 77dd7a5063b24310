"""The production settings with the static files collected into a folder of the test's own
(STATIC_ROOT is fixed in config/settings.py), for test_production_static.py."""

from __future__ import annotations

import os

from config.settings import *  # noqa: F403

STATIC_ROOT = os.environ["TEST_STATIC_ROOT"]
