from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('courses', '0003_moved_models_unlinked'),
        ('treatment_sessions', '0004_models_moved_between_apps'),
    ]

    # The models keep their tables and rows: only Django's picture of which app holds them
    # changes here, so no statement reaches the database.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='Patient',
                ),
                migrations.DeleteModel(
                    name='RescheduleRequest',
                ),
                migrations.DeleteModel(
                    name='Screening',
                ),
            ],
        ),
    ]
