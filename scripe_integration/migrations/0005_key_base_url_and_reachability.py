# A key is only sent to the base URL it was entered for. Existing keys were entered for the
# base URL they sit next to, so that is what they get; rows without a key get nothing.

from __future__ import annotations

from django.db import migrations, models
from django.db.models import F


def keys_belong_to_their_base_url(apps, schema_editor):
    ScripeConnection = apps.get_model("scripe_integration", "ScripeConnection")
    ScripeConnection.objects.exclude(encrypted_key="").update(key_base_url=F("base_url"))


class Migration(migrations.Migration):
    dependencies = [("scripe_integration", "0004_generationjob_moves_to_calendar_app")]

    operations = [
        migrations.AddField(
            model_name="scripeconnection",
            name="key_base_url",
            field=models.URLField(blank=True, editable=False, max_length=300),
        ),
        migrations.AddField(
            model_name="scripeconnection",
            name="unreachable_since",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(keys_belong_to_their_base_url, migrations.RunPython.noop),
    ]
