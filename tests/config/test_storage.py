"""The static files' storage rewrites our ES modules' imports with Django's own rules."""

from __future__ import annotations

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage

from config.storage import MODULE_IMPORTS


def test_the_module_import_rules_are_djangos_own():
    # Written out in config/storage.py rather than read from Django's private attribute: a
    # Django that changes them is noticed here (the deployment test checks the result).
    assert ManifestStaticFilesStorage._js_module_import_aggregation_patterns[1] == MODULE_IMPORTS
