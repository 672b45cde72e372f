import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from ketaminecare.db import content_types_relabel


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('clinic', '0001_initial'),
        ('courses', '0003_moved_models_unlinked'),
        ('patients', '0001_initial'),
        ('treatment_sessions', '0003_reminder_rule_one_active_per_channel'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The models keep their tables and rows: only Django's picture of which app holds them
    # changes here, so no statement reaches the database.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='RescheduleRequest',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('message', models.TextField(blank=True, max_length=1000)),
                        ('status', models.CharField(choices=[('open', 'Open'), ('handled', 'Handled'), ('declined', 'Declined')], default='open', max_length=20)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('handled_at', models.DateTimeField(blank=True, null=True)),
                        ('handled_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reschedule_requests', to='patients.patient')),
                    ],
                    options={
                        'db_table': 'courses_reschedulerequest',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.AlterField(
                    model_name='treatmentsession',
                    name='chair',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='sessions', to='clinic.chair'),
                ),
                migrations.DeleteModel(
                    name='ClinicHours',
                ),
                migrations.DeleteModel(
                    name='ClosureDay',
                ),
                migrations.RemoveField(
                    model_name='reminder',
                    name='appointment',
                ),
                migrations.RemoveField(
                    model_name='reminder',
                    name='course',
                ),
                migrations.RemoveField(
                    model_name='reminder',
                    name='patient',
                ),
                migrations.RemoveField(
                    model_name='reminder',
                    name='session',
                ),
                migrations.RemoveField(
                    model_name='reminder',
                    name='staff',
                ),
                migrations.RemoveField(
                    model_name='reminder',
                    name='window',
                ),
                migrations.RemoveField(
                    model_name='reminderrule',
                    name='protocol',
                ),
                migrations.RemoveField(
                    model_name='staffmember',
                    name='user',
                ),
                migrations.RemoveField(
                    model_name='timeoff',
                    name='staff',
                ),
                migrations.RemoveField(
                    model_name='workinghours',
                    name='staff',
                ),
                migrations.AlterField(
                    model_name='treatmentsession',
                    name='clinician',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='sessions', to='clinic.staffmember'),
                ),
                migrations.AlterField(
                    model_name='integrationappointment',
                    name='therapist',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='integration_appointments', to='clinic.staffmember'),
                ),
                migrations.AlterField(
                    model_name='integrationappointment',
                    name='patient',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='integration_appointments', to='patients.patient'),
                ),
                migrations.AlterField(
                    model_name='integrationwindow',
                    name='patient',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='integration_windows', to='patients.patient'),
                ),
                migrations.AlterField(
                    model_name='treatmentsession',
                    name='patient',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='sessions', to='patients.patient'),
                ),
                migrations.AddField(
                    model_name='reschedulerequest',
                    name='session',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='reschedule_requests', to='treatment_sessions.treatmentsession'),
                ),
                migrations.DeleteModel(
                    name='Chair',
                ),
                migrations.DeleteModel(
                    name='Reminder',
                ),
                migrations.DeleteModel(
                    name='ReminderRule',
                ),
                migrations.DeleteModel(
                    name='TimeOff',
                ),
                migrations.DeleteModel(
                    name='WorkingHours',
                ),
                migrations.DeleteModel(
                    name='StaffMember',
                ),
                migrations.AddConstraint(
                    model_name='reschedulerequest',
                    constraint=models.UniqueConstraint(condition=models.Q(('status', 'open')), fields=('session',), name='reschedule_one_open'),
                ),
            ],
        ),
        # Permissions granted on the models, and the admin's history of them, follow them.
        content_types_relabel("courses", "treatment_sessions", ['reschedulerequest']),
    ]
