import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('courses', '0002_feeds_and_reschedule_requests'),
        ('patients', '0001_initial'),
    ]

    # The models keep their tables and rows: only Django's picture of which app holds them
    # changes here, so no statement reaches the database.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='patient',
                    name='user',
                ),
                migrations.AlterField(
                    model_name='course',
                    name='patient',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='courses', to='patients.patient'),
                ),
                migrations.RemoveField(
                    model_name='reschedulerequest',
                    name='patient',
                ),
                migrations.RemoveField(
                    model_name='screening',
                    name='patient',
                ),
                migrations.RemoveField(
                    model_name='reschedulerequest',
                    name='handled_by',
                ),
                migrations.RemoveField(
                    model_name='reschedulerequest',
                    name='session',
                ),
                migrations.RemoveField(
                    model_name='screening',
                    name='clinician',
                ),
                migrations.AlterField(
                    model_name='course',
                    name='screening',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='courses', to='patients.screening'),
                ),
                migrations.DeleteModel(
                    name='CalendarFeed',
                ),
            ],
        ),
    ]
