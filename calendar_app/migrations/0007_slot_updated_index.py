from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    """The live poll asks what changed in a workspace since a moment: one index scan."""

    dependencies = [
        ("calendar_app", "0006_generation_dispatch"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="plannedslot",
            index=models.Index(fields=["workspace", "updated_at"], name="slot_workspace_updated"),
        ),
    ]
