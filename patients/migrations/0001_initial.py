import datetime
import django.db.models.deletion
import patients.models
from django.conf import settings
from django.db import migrations, models

from ketaminecare.db import content_types_relabel


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('courses', '0002_feeds_and_reschedule_requests'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The models keep their tables and rows: only Django's picture of which app holds them
    # changes here, so no statement reaches the database.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Patient',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('first_name', models.CharField(max_length=100)),
                        ('last_name', models.CharField(max_length=100)),
                        ('date_of_birth', models.DateField()),
                        ('phone', models.CharField(blank=True, help_text='E.164, for SMS reminders.', max_length=32)),
                        ('email', models.EmailField(blank=True, max_length=254)),
                        ('time_zone', models.CharField(default=patients.models.default_time_zone, max_length=64, validators=[patients.models.validate_time_zone])),
                        ('remind_by_sms', models.BooleanField(default=True)),
                        ('remind_by_email', models.BooleanField(default=True)),
                        ('sms_opted_out_at', models.DateTimeField(blank=True, null=True)),
                        ('email_opted_out_at', models.DateTimeField(blank=True, null=True)),
                        ('quiet_hours_start', models.TimeField(default=datetime.time(21, 0))),
                        ('quiet_hours_end', models.TimeField(default=datetime.time(8, 0))),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('user', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='patient', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'courses_patient',
                        'ordering': ['last_name', 'first_name', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='Screening',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('performed_on', models.DateField()),
                        ('contraindications_checked', models.JSONField(blank=True, default=list)),
                        ('contraindications_found', models.JSONField(blank=True, default=list)),
                        ('informed_consent_off_label', models.BooleanField(default=False)),
                        ('outcome', models.CharField(choices=[('eligible', 'Eligible'), ('not_eligible', 'Not eligible'), ('needs_review', 'Needs review')], max_length=20)),
                        ('valid_until', models.DateField()),
                        ('notes', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('clinician', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='screenings_performed', to=settings.AUTH_USER_MODEL)),
                        ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='screenings', to='patients.patient')),
                    ],
                    options={
                        'db_table': 'courses_screening',
                        'ordering': ['-performed_on', '-id'],
                    },
                ),
                migrations.AddIndex(
                    model_name='patient',
                    index=models.Index(fields=['last_name', 'first_name'], name='courses_pat_last_na_7da7ed_idx'),
                ),
                migrations.AddConstraint(
                    model_name='screening',
                    constraint=models.CheckConstraint(condition=models.Q(('valid_until__gte', models.F('performed_on'))), name='screening_valid_after_performed'),
                ),
                migrations.AddConstraint(
                    model_name='screening',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('outcome', 'eligible'), _negated=True), ('informed_consent_off_label', True), _connector='OR'), name='screening_eligible_requires_consent'),
                ),
            ],
        ),
        # Permissions granted on the models, and the admin's history of them, follow them.
        content_types_relabel("courses", "patients", ['patient', 'screening']),
    ]
