# Generation attempts move from scripe_integration to calendar_app, rows and all: the table was
# renamed by scripe_integration 0004; here calendar_app takes the model over in the migration
# state, its content type (and so its permissions and admin log entries) follows, and the
# sweep schedule calls the task where it now lives (which also settles interrupted approvals).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

SWEEP = "Resume due Scripe generations"


def forward(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="scripe_integration", model="generationjob").update(
        app_label="calendar_app"
    )
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name=SWEEP).update(func="calendar_app.tasks.sweep")


def backward(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="calendar_app", model="generationjob").update(
        app_label="scripe_integration"
    )
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name=SWEEP).update(func="scripe_integration.tasks.sweep_generations")


class Migration(migrations.Migration):
    dependencies = [
        ("calendar_app", "0002_review"),
        ("scripe_integration", "0004_generationjob_moves_to_calendar_app"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_q", "0018_task_success_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='GenerationJob',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('attempt', models.PositiveSmallIntegerField(default=1)),
                        ('is_current', models.BooleanField(default=True)),
                        ('idempotency_key', models.CharField(max_length=64, unique=True)),
                        ('steering', models.TextField(blank=True, help_text="Reviewer's comment appended to the note.")),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('scripe_job_id', models.CharField(blank=True, db_index=True, max_length=80)),
                        ('scripe_status', models.CharField(blank=True, max_length=24)),
                        ('progress', models.FloatField(blank=True, null=True)),
                        ('progress_message', models.CharField(blank=True, max_length=200)),
                        ('attempt_count', models.PositiveIntegerField(default=0)),
                        ('estimated_completion_ms', models.PositiveIntegerField(blank=True, null=True)),
                        ('submitted_at', models.DateTimeField(blank=True, null=True)),
                        ('accepted_at', models.DateTimeField(blank=True, null=True)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('completed_at', models.DateTimeField(blank=True, null=True)),
                        ('error_code', models.CharField(blank=True, max_length=60)),
                        ('error_message', models.CharField(blank=True, max_length=500)),
                        ('post_id', models.CharField(blank=True, max_length=80)),
                        ('post_title', models.CharField(blank=True, max_length=500)),
                        ('post_content', models.TextField(blank=True)),
                        ('finished', models.BooleanField(db_index=True, default=False)),
                        ('next_poll_at', models.DateTimeField(blank=True, db_index=True, null=True)),
                        ('lease_until', models.DateTimeField(blank=True, null=True)),
                        ('submit_tries', models.PositiveIntegerField(default=0)),
                        ('error_streak', models.PositiveIntegerField(default=0)),
                        ('polls', models.PositiveIntegerField(default=0)),
                        ('scripe_calls', models.PositiveIntegerField(default=0)),
                        ('retry_reason', models.CharField(blank=True, max_length=200)),
                        ('stalled', models.BooleanField(default=False)),
                        ('requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('slot', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='jobs', to='calendar_app.plannedslot')),
                    ],
                    options={
                        'ordering': ['slot_id', 'attempt'],
                        'constraints': [models.UniqueConstraint(fields=('slot', 'attempt'), name='one_job_per_attempt'), models.UniqueConstraint(condition=models.Q(('is_current', True)), fields=('slot',), name='one_current_job_per_slot')],
                    },
                ),

            ]
        ),
        migrations.RunPython(forward, backward),
    ]
