import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from ketaminecare.db import content_types_relabel


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('treatment_sessions', '0003_reminder_rule_one_active_per_channel'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The models keep their tables and rows: only Django's picture of which app holds them
    # changes here, so no statement reaches the database.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Chair',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=60, unique=True)),
                        ('location', models.CharField(blank=True, help_text='Shown in reminders.', max_length=120)),
                        ('is_active', models.BooleanField(default=True)),
                    ],
                    options={
                        'db_table': 'treatment_sessions_chair',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='ClosureDay',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('date', models.DateField(unique=True)),
                        ('reason', models.CharField(blank=True, max_length=200)),
                    ],
                    options={
                        'db_table': 'treatment_sessions_closureday',
                        'ordering': ['date'],
                    },
                ),
                migrations.CreateModel(
                    name='ClinicHours',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('weekday', models.PositiveSmallIntegerField(choices=[(0, 'Monday'), (1, 'Tuesday'), (2, 'Wednesday'), (3, 'Thursday'), (4, 'Friday'), (5, 'Saturday'), (6, 'Sunday')], unique=True)),
                        ('opens', models.TimeField()),
                        ('closes', models.TimeField()),
                    ],
                    options={
                        'verbose_name_plural': 'clinic hours',
                        'db_table': 'treatment_sessions_clinichours',
                        'ordering': ['weekday'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('closes__gt', models.F('opens'))), name='clinic_hours_order')],
                    },
                ),
                migrations.CreateModel(
                    name='StaffMember',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('role', models.CharField(choices=[('front_desk', 'Front desk'), ('clinician', 'Clinician'), ('therapist', 'Therapist'), ('administrator', 'Administrator')], max_length=20)),
                        ('clinician_kind', models.CharField(blank=True, choices=[('prescriber', 'Prescriber'), ('nurse', 'Nurse')], max_length=20)),
                        ('display_name', models.CharField(max_length=120)),
                        ('phone', models.CharField(blank=True, max_length=32)),
                        ('is_active', models.BooleanField(default=True)),
                        ('user', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='staff_member', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'treatment_sessions_staffmember',
                        'ordering': ['display_name'],
                    },
                ),
                migrations.CreateModel(
                    name='TimeOff',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('starts_at', models.DateTimeField()),
                        ('ends_at', models.DateTimeField()),
                        ('reason', models.CharField(blank=True, max_length=200)),
                        ('staff', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='time_off', to='clinic.staffmember')),
                    ],
                    options={
                        'verbose_name_plural': 'time off',
                        'db_table': 'treatment_sessions_timeoff',
                        'ordering': ['starts_at'],
                    },
                ),
                migrations.CreateModel(
                    name='WorkingHours',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('weekday', models.PositiveSmallIntegerField(choices=[(0, 'Monday'), (1, 'Tuesday'), (2, 'Wednesday'), (3, 'Thursday'), (4, 'Friday'), (5, 'Saturday'), (6, 'Sunday')])),
                        ('starts', models.TimeField()),
                        ('ends', models.TimeField()),
                        ('staff', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='working_hours', to='clinic.staffmember')),
                    ],
                    options={
                        'verbose_name_plural': 'working hours',
                        'db_table': 'treatment_sessions_workinghours',
                        'ordering': ['staff', 'weekday', 'starts'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='staffmember',
                    constraint=models.CheckConstraint(condition=models.Q(('role', 'clinician'), ('clinician_kind', ''), _connector='OR'), name='staff_kind_only_for_clinicians'),
                ),
                migrations.AddIndex(
                    model_name='timeoff',
                    index=models.Index(fields=['staff', 'starts_at'], name='treatment_s_staff_i_48973f_idx'),
                ),
                migrations.AddConstraint(
                    model_name='timeoff',
                    constraint=models.CheckConstraint(condition=models.Q(('ends_at__gt', models.F('starts_at'))), name='time_off_order'),
                ),
                migrations.AddConstraint(
                    model_name='workinghours',
                    constraint=models.CheckConstraint(condition=models.Q(('ends__gt', models.F('starts'))), name='working_hours_order'),
                ),
                migrations.AddConstraint(
                    model_name='workinghours',
                    constraint=models.UniqueConstraint(fields=('staff', 'weekday', 'starts'), name='working_hours_unique'),
                ),
            ],
        ),
        # Permissions granted on the models, and the admin's history of them, follow them.
        content_types_relabel("treatment_sessions", "clinic", ['chair', 'clinichours', 'closureday', 'staffmember', 'workinghours', 'timeoff']),
    ]
