# Notifications (#17): what people are told (in the app, by email), their email choices per
# kind, and who watches which slot; and the daily digest as a django-q2 schedule, made here
# the way scripe_integration 0003 made the sweep's.

import datetime

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models

DIGEST = "Daily notification digest"
# The digest goes out at this hour, UTC, every day.
DIGEST_HOUR = 7


def create_digest_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    now = datetime.datetime.now(datetime.UTC)
    first = now.replace(hour=DIGEST_HOUR, minute=0, second=0, microsecond=0)
    if first <= now:
        first += datetime.timedelta(days=1)
    Schedule.objects.update_or_create(
        name=DIGEST,
        defaults={
            "func": "calendar_app.tasks.notification_digests",
            "schedule_type": "D",  # DAILY
            "repeats": -1,
            "next_run": first,
        },
    )


def remove_digest_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=DIGEST).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('calendar_app', '0009_post_id_index'),
        ("django_q", "0018_task_success_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Notification',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ('kind', models.CharField(choices=[('review_ready', 'A draft is ready for review'), ('changes_requested', 'Changes were requested'), ('rejected', 'A draft was rejected'), ('approved', 'A post was approved and scheduled'), ('published', 'A post was published'), ('failed', 'A generation failed'), ('missed', 'A draft missed its time'), ('removed', 'A post was removed in Scripe'), ('key_invalid', 'The Scripe key stopped working'), ('spend_cap', "Scripe's daily spend cap was reached")], max_length=24)),
                ('text', models.CharField(max_length=500)),
                ('detail', models.TextField(blank=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('read_at', models.DateTimeField(blank=True, null=True)),
                ('dedupe_key', models.CharField(blank=True, max_length=120)),
                ('email', models.CharField(choices=[('none', 'Not emailed'), ('pending', 'To be sent'), ('digest', 'For the daily digest'), ('sending', 'Being sent'), ('sent', 'Sent'), ('failed', 'Failed')], default='none', max_length=8)),
                ('email_attempts', models.PositiveSmallIntegerField(default=0)),
                ('email_error', models.CharField(blank=True, max_length=300)),
                ('emailed_at', models.DateTimeField(blank=True, null=True)),
                ('slot', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to='calendar_app.plannedslot')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL)),
                ('workspace', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='calendar_app.workspace')),
            ],
            options={
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(fields=['user', '-created_at'], name='notification_user_recent'), models.Index(condition=models.Q(('read_at__isnull', True)), fields=['user'], name='notification_unread'), models.Index(condition=models.Q(('email__in', ['pending', 'digest', 'sending'])), fields=['email', 'user'], name='notification_email_due')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('dedupe_key', ''), _negated=True), fields=('user', 'dedupe_key'), name='one_notification_per_dedupe_key')],
            },
        ),
        migrations.CreateModel(
            name='NotificationPreference',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('review_ready', 'A draft is ready for review'), ('changes_requested', 'Changes were requested'), ('rejected', 'A draft was rejected'), ('approved', 'A post was approved and scheduled'), ('published', 'A post was published'), ('failed', 'A generation failed'), ('missed', 'A draft missed its time'), ('removed', 'A post was removed in Scripe'), ('key_invalid', 'The Scripe key stopped working'), ('spend_cap', "Scripe's daily spend cap was reached")], max_length=24)),
                ('email', models.CharField(choices=[('immediate', 'Email at once'), ('digest', 'Daily digest'), ('off', 'No email')], max_length=12)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notification_preferences', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('user', 'kind'), name='one_preference_per_kind')],
            },
        ),
        migrations.CreateModel(
            name='SlotWatch',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('slot', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='watches', to='calendar_app.plannedslot')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('slot', 'user'), name='one_watch_per_user')],
            },
        ),
        migrations.RunPython(create_digest_schedule, remove_digest_schedule),
    ]
