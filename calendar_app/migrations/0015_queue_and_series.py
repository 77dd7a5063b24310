# Planning at volume (#15): posting schedules and the queue's entries, recurring series and
# their occurrences; and the hourly django-q2 schedule that makes a rolling eight weeks of
# occurrences, made here the way scripe_integration 0003 made the sweep's.

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models


MATERIALISE = "Materialise recurring series"


def create_materialise_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=MATERIALISE,
        defaults={
            "func": "calendar_app.tasks.materialise_series",
            "schedule_type": "H",  # HOURLY
            "repeats": -1,
        },
    )


def remove_materialise_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=MATERIALISE).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('calendar_app', '0014_auto_generation'),
        ("django_q", "0018_task_success_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='QueueEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('slot', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='queue_entry', to='calendar_app.plannedslot')),
            ],
        ),
        migrations.CreateModel(
            name='Series',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ('starts_on', models.DateField()),
                ('clock', models.TimeField()),
                ('frequency', models.CharField(choices=[('weekly', 'Weekly'), ('monthly', 'Monthly')], max_length=8)),
                ('interval', models.PositiveSmallIntegerField(default=1)),
                ('weekdays', models.CharField(blank=True, max_length=20)),
                ('monthly_by', models.CharField(blank=True, choices=[('day', 'On a day of the month'), ('weekday', 'On a weekday of the month')], max_length=8)),
                ('month_day', models.PositiveSmallIntegerField(blank=True, null=True)),
                ('week_of_month', models.SmallIntegerField(blank=True, null=True)),
                ('month_weekday', models.PositiveSmallIntegerField(blank=True, null=True)),
                ('until', models.DateField(blank=True, null=True)),
                ('count', models.PositiveIntegerField(blank=True, null=True)),
                ('first_index', models.PositiveIntegerField(default=1)),
                ('ended_at', models.DateTimeField(blank=True, null=True)),
                ('materialised_until', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('labels', models.ManyToManyField(blank=True, related_name='series', to='calendar_app.label')),
                ('note', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='series', to='calendar_app.sourcenote')),
                ('previous', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='continued_by', to='calendar_app.series')),
                ('project', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='series', to='calendar_app.project')),
                ('workspace', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='series', to='calendar_app.workspace')),
            ],
            options={
                'verbose_name_plural': 'series',
                'ordering': ['created_at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='ScheduleTime',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('weekday', models.PositiveSmallIntegerField(choices=[(0, 'Monday'), (1, 'Tuesday'), (2, 'Wednesday'), (3, 'Thursday'), (4, 'Friday'), (5, 'Saturday'), (6, 'Sunday')])),
                ('time', models.TimeField()),
                ('project', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='schedule_times', to='calendar_app.project')),
            ],
            options={
                'ordering': ['weekday', 'time'],
                'constraints': [models.UniqueConstraint(fields=('project', 'weekday', 'time'), name='one_schedule_time_per_slot')],
            },
        ),
        migrations.CreateModel(
            name='SeriesOccurrence',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('index', models.PositiveIntegerField()),
                ('occurs_on', models.DateField()),
                ('detached', models.BooleanField(default=False)),
                ('steering', models.CharField(blank=True, max_length=300)),
                ('skipped', models.CharField(blank=True, max_length=300)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('series', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='occurrences', to='calendar_app.series')),
                ('slot', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='occurrence', to='calendar_app.plannedslot')),
            ],
            options={
                'ordering': ['series_id', 'index'],
                'constraints': [models.UniqueConstraint(fields=('series', 'index'), name='one_occurrence_per_index')],
            },
        ),
        migrations.RunPython(create_materialise_schedule, remove_materialise_schedule),
    ]
