# The sweep that resumes due polls and interrupted submissions, as a django-q2 schedule.

from django.db import migrations

NAME = "Resume due Scripe generations"


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={
            "func": "scripe_integration.tasks.sweep_generations",
            "schedule_type": "I",  # MINUTES
            "minutes": 1,
            "repeats": -1,
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("scripe_integration", "0002_generation_job"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [migrations.RunPython(create, remove)]
