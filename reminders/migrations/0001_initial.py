import django.db.models.deletion
from django.db import migrations, models

from ketaminecare.db import content_types_relabel


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('clinic', '0001_initial'),
        ('courses', '0004_moved_models_removed'),
        ('patients', '0001_initial'),
        ('treatment_sessions', '0004_models_moved_between_apps'),
    ]

    # The models keep their tables and rows: only Django's picture of which app holds them
    # changes here, so no statement reaches the database.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Reminder',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('session_confirm', 'Session: confirm and arrange a ride home'), ('session_prepare', 'Session: preparation and arrival'), ('session_soon', 'Session: starting soon'), ('appointment_day_before', 'Follow-up appointment: the day before'), ('appointment_soon', 'Follow-up appointment: starting soon'), ('maintenance_due', 'Maintenance session due'), ('window_opened', 'Window opened with no appointment (therapists)'), ('window_closing', 'Window closing with no appointment (front desk)')], max_length=30)),
                        ('channel', models.CharField(choices=[('sms', 'SMS'), ('email', 'Email')], max_length=10)),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('claimed', 'Claimed (being sent)'), ('sent', 'Sent'), ('failed', 'Failed'), ('cancelled', 'Cancelled'), ('skipped', 'Skipped (channel not allowed)')], default='pending', max_length=20)),
                        ('anchor_at', models.DateTimeField()),
                        ('subject_revision', models.PositiveIntegerField(default=0)),
                        ('planned_at', models.DateTimeField()),
                        ('due_at', models.DateTimeField()),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('claim_token', models.UUIDField(blank=True, null=True)),
                        ('claimed_at', models.DateTimeField(blank=True, null=True)),
                        ('lease_until', models.DateTimeField(blank=True, null=True)),
                        ('sent_at', models.DateTimeField(blank=True, null=True)),
                        ('provider_message_id', models.CharField(blank=True, max_length=200)),
                        ('last_error', models.CharField(blank=True, max_length=300)),
                        ('cancelled_at', models.DateTimeField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('appointment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='reminders', to='treatment_sessions.integrationappointment')),
                        ('course', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='reminders', to='courses.course')),
                        ('patient', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='reminders', to='patients.patient')),
                        ('session', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='reminders', to='treatment_sessions.treatmentsession')),
                        ('staff', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='reminders', to='clinic.staffmember')),
                        ('window', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='reminders', to='treatment_sessions.integrationwindow')),
                    ],
                    options={
                        'db_table': 'treatment_sessions_reminder',
                        'ordering': ['due_at', 'id'],
                        'indexes': [models.Index(condition=models.Q(('status', 'pending')), fields=['due_at'], name='reminder_pending_due'), models.Index(condition=models.Q(('status', 'claimed')), fields=['lease_until'], name='reminder_claimed_lease'), models.Index(fields=['status', 'due_at'], name='reminder_status_due')],
                        'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('patient__isnull', False), ('staff__isnull', True)), models.Q(('patient__isnull', True), ('staff__isnull', False)), _connector='OR'), name='reminder_one_recipient'), models.CheckConstraint(condition=models.Q(models.Q(('status', 'sent'), _negated=True), models.Q(('sent_at__isnull', False), models.Q(('provider_message_id', ''), _negated=True)), _connector='OR'), name='reminder_sent_has_message_id'), models.CheckConstraint(condition=models.Q(models.Q(('status', 'claimed'), _negated=True), models.Q(('claim_token__isnull', False), ('lease_until__isnull', False)), _connector='OR'), name='reminder_claimed_has_lease'), models.UniqueConstraint(condition=models.Q(('session__isnull', False), ('status__in', ['pending', 'claimed'])), fields=('kind', 'channel', 'session', 'patient'), name='reminder_live_unique_session'), models.UniqueConstraint(condition=models.Q(('appointment__isnull', False), ('status__in', ['pending', 'claimed'])), fields=('kind', 'channel', 'appointment', 'patient'), name='reminder_live_unique_appointment'), models.UniqueConstraint(condition=models.Q(('course__isnull', False), ('status__in', ['pending', 'claimed'])), fields=('kind', 'channel', 'course', 'patient'), name='reminder_live_unique_course'), models.UniqueConstraint(condition=models.Q(('status__in', ['pending', 'claimed']), ('window__isnull', False)), fields=('kind', 'channel', 'window', 'staff'), name='reminder_live_unique_window')],
                    },
                ),
                migrations.CreateModel(
                    name='ReminderRule',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('session_confirm', 'Session: confirm and arrange a ride home'), ('session_prepare', 'Session: preparation and arrival'), ('session_soon', 'Session: starting soon'), ('appointment_day_before', 'Follow-up appointment: the day before'), ('appointment_soon', 'Follow-up appointment: starting soon'), ('maintenance_due', 'Maintenance session due'), ('window_opened', 'Window opened with no appointment (therapists)'), ('window_closing', 'Window closing with no appointment (front desk)')], max_length=30)),
                        ('minutes_before', models.PositiveIntegerField(default=0)),
                        ('send_sms', models.BooleanField(default=True)),
                        ('send_email', models.BooleanField(default=True)),
                        ('is_active', models.BooleanField(default=True)),
                        ('protocol', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='reminder_rules', to='courses.treatmentprotocol')),
                    ],
                    options={
                        'db_table': 'treatment_sessions_reminderrule',
                        'ordering': ['protocol', 'kind', '-minutes_before'],
                        'constraints': [models.UniqueConstraint(fields=('protocol', 'kind', 'minutes_before'), name='reminder_rule_unique'), models.UniqueConstraint(condition=models.Q(('is_active', True), ('send_sms', True)), fields=('protocol', 'kind'), name='reminder_rule_one_active_sms', violation_error_code='reminder_rule_one_active_per_channel', violation_error_message='This protocol already has an active SMS rule of this kind: change that rule, or turn it off first.'), models.UniqueConstraint(condition=models.Q(('is_active', True), ('send_email', True)), fields=('protocol', 'kind'), name='reminder_rule_one_active_email', violation_error_code='reminder_rule_one_active_per_channel', violation_error_message='This protocol already has an active email rule of this kind: change that rule, or turn it off first.')],
                    },
                ),
            ],
        ),
        # Permissions granted on the models, and the admin's history of them, follow them.
        content_types_relabel("treatment_sessions", "reminders", ['reminderrule', 'reminder']),
    ]
