import django.db.models.deletion
from django.db import migrations, models

from ketaminecare.db import content_types_relabel


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('courses', '0002_feeds_and_reschedule_requests'),
        ('clinic', '0001_initial'),
        ('patients', '0001_initial'),
    ]

    # The models keep their tables and rows: only Django's picture of which app holds them
    # changes here, so no statement reaches the database.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='CalendarFeed',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('token_hash', models.CharField(max_length=64, unique=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('revoked_at', models.DateTimeField(blank=True, null=True)),
                        ('patient', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='feeds', to='patients.patient')),
                        ('staff', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='feeds', to='clinic.staffmember')),
                    ],
                    options={
                        'db_table': 'courses_calendarfeed',
                        'ordering': ['-created_at'],
                        'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('staff__isnull', False), ('patient__isnull', True)), models.Q(('staff__isnull', True), ('patient__isnull', False)), _connector='OR'), name='feed_has_one_owner')],
                    },
                ),
            ],
        ),
        # Permissions granted on the models, and the admin's history of them, follow them.
        content_types_relabel("courses", "calendars", ['calendarfeed']),
    ]
