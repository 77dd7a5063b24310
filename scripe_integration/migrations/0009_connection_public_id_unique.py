import uuid

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("scripe_integration", "0008_connection_public_ids"),
    ]

    operations = [
        migrations.AlterField(
            model_name="scripeconnection",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
