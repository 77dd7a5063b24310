from __future__ import annotations

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """Review (#17): the optional no-self-approval rule, guests in the trail, client links."""

    dependencies = [
        ("calendar_app", "0016_bulk_runs"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="workspace",
            name="no_self_approval",
            field=models.BooleanField(
                default=False,
                help_text="A manager cannot approve a draft they requested changes on or edited "
                "themselves; another manager (or a client through a review link) approves it.",
                verbose_name="No self-approval",
            ),
        ),
        migrations.AddField(
            model_name="slotevent",
            name="guest_name",
            field=models.CharField(blank=True, max_length=80),
        ),
        migrations.CreateModel(
            name="ReviewLink",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("public_id", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("token_hash", models.CharField(max_length=64, unique=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("expires_at", models.DateTimeField()),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "slot",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="review_links",
                        to="calendar_app.plannedslot",
                    ),
                ),
            ],
            options={"ordering": ["-created_at"]},
        ),
    ]
