# Insights (#18): per workspace, drafts generated on their own N hours before their time;
# the mark that a slot was auto-generated once.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("calendar_app", "0013_labels"),
    ]

    operations = [
        migrations.AddField(
            model_name="workspace",
            name="auto_generate_hours",
            field=models.PositiveSmallIntegerField(
                blank=True,
                help_text="Have Scripe write each draft this many hours before its time, once, "
                "while the daily spend cap allows. Empty or 0: off.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="plannedslot",
            name="auto_generated_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
