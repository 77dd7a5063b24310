# Generation attempts belong to the calendar's pipeline, not to the Scripe library: the table
# is renamed for calendar_app (which takes the model over in its 0003), and every row is kept.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("scripe_integration", "0003_sweep_schedule")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable("generationjob", "calendar_app_generationjob")
            ],
            state_operations=[migrations.DeleteModel("generationjob")],
        )
    ]
