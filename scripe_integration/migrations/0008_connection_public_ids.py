# Each existing connection gets its own public id (see 0007).

import uuid

from django.db import migrations


def give_public_ids(apps, schema_editor):
    ScripeConnection = apps.get_model("scripe_integration", "ScripeConnection")
    for connection in ScripeConnection.objects.filter(public_id__isnull=True):
        connection.public_id = uuid.uuid4()
        connection.save(update_fields=["public_id"])


class Migration(migrations.Migration):

    dependencies = [
        ("scripe_integration", "0007_webhooks"),
    ]

    operations = [
        migrations.RunPython(give_public_ids, migrations.RunPython.noop),
    ]
