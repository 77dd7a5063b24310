from __future__ import annotations

from django.apps import AppConfig


class ScripeIntegrationConfig(AppConfig):
    name = "scripe_integration"
    verbose_name = "Scripe"
