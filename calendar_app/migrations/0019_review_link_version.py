# A review link is for one version of its draft (#24): the attempt and the fingerprint of
# its text when the link was made. A link made before links knew this is given the draft as
# it is now only when nothing changed it since (no later attempt, no edit on the trail);
# otherwise it stays without a version, which shows the guest that the draft changed.

import hashlib

import django.db.models.deletion
from django.db import migrations, models


def draft_version(job):
    # As GenerationJob.draft_version computes it today (a migration keeps its own copy).
    title = job.post_title.replace("\r\n", "\n").strip()
    content = job.post_content.replace("\r\n", "\n").strip()
    return hashlib.sha256(f"{title}\x00{content}".encode()).hexdigest()[:16]


def pin_links_to_their_draft(apps, schema_editor):
    ReviewLink = apps.get_model("calendar_app", "ReviewLink")
    GenerationJob = apps.get_model("calendar_app", "GenerationJob")
    SlotEvent = apps.get_model("calendar_app", "SlotEvent")
    for link in ReviewLink.objects.filter(job__isnull=True).iterator():
        job = GenerationJob.objects.filter(slot_id=link.slot_id, is_current=True).first()
        if job is None or job.created_at > link.created_at:
            continue
        edited = SlotEvent.objects.filter(
            slot_id=link.slot_id, kind="edit", created_at__gt=link.created_at
        ).exists()
        if not edited:
            link.job, link.draft_version = job, draft_version(job)
            link.save(update_fields=["job", "draft_version"])


class Migration(migrations.Migration):

    dependencies = [
        ('calendar_app', '0018_notification_email_state_at'),
    ]

    operations = [
        migrations.AddField(
            model_name='reviewlink',
            name='draft_version',
            field=models.CharField(blank=True, max_length=16),
        ),
        migrations.AddField(
            model_name='reviewlink',
            name='job',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='calendar_app.generationjob'),
        ),
        migrations.RunPython(pin_links_to_their_draft, migrations.RunPython.noop),
    ]
