# Webhook endpoint and deliveries. `public_id` is added without its unique index first, since
# every existing row would get the same default: 0008 gives each row its own, 0009 adds the
# index (the three steps Django's docs give for a unique field on a table with rows).

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("scripe_integration", "0006_workspace_hold"),
    ]

    operations = [
        migrations.AddField(
            model_name="scripeconnection",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="scripeconnection",
            name="webhook_endpoint_id",
            field=models.CharField(blank=True, editable=False, max_length=80),
        ),
        migrations.AddField(
            model_name="scripeconnection",
            name="webhook_url",
            field=models.URLField(blank=True, editable=False, max_length=1024),
        ),
        migrations.AddField(
            model_name="scripeconnection",
            name="encrypted_webhook_secret",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name="scripeconnection",
            name="webhook_secret_hint",
            field=models.CharField(blank=True, editable=False, max_length=40),
        ),
        migrations.AddField(
            model_name="scripeconnection",
            name="webhook_secret_set_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="scripeconnection",
            name="encrypted_previous_webhook_secret",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name="scripeconnection",
            name="previous_webhook_secret_until",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.CreateModel(
            name="WebhookDelivery",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("event_id", models.CharField(max_length=100)),
                ("type", models.CharField(max_length=40)),
                ("object_id", models.CharField(blank=True, max_length=80)),
                ("body", models.TextField()),
                ("received_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("processed_at", models.DateTimeField(blank=True, null=True)),
                ("outcome", models.CharField(blank=True, max_length=300)),
                ("connection", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="webhook_deliveries", to="scripe_integration.scripeconnection")),
            ],
            options={
                "verbose_name_plural": "webhook deliveries",
                "constraints": [models.UniqueConstraint(fields=("connection", "event_id"), name="one_delivery_per_event")],
            },
        ),
    ]
