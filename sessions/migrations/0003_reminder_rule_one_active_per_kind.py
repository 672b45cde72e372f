from django.db import migrations, models
from django.db.models import Count


def refuse_duplicate_active_rules(apps, schema_editor):
    """Stop with the rules to fix rather than turn any off: which one a clinic meant is its call.

    With two active rules of one kind, every booking on the protocol already failed, so a clinic
    that has them has noticed; the message names each protocol and kind to settle in the admin.
    """
    ReminderRule = apps.get_model("treatment_sessions", "ReminderRule")
    duplicates = (
        ReminderRule.objects.filter(is_active=True)
        .values("protocol_id", "kind")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("protocol_id", "kind")
    )
    if duplicates:
        listed = "; ".join(f"protocol {d['protocol_id']}: {d['kind']} ({d['n']} active)" for d in duplicates)
        raise RuntimeError(
            "Each protocol may have one active reminder rule per kind. Turn off all but one of: " + listed
        )


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0002_feeds_and_reschedule_requests"),
        ("treatment_sessions", "0002_reminders"),
    ]

    operations = [
        migrations.RunPython(refuse_duplicate_active_rules, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="reminderrule",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_active", True)),
                fields=("protocol", "kind"),
                name="reminder_rule_one_active_per_kind",
                violation_error_code="reminder_rule_one_active_per_kind",
                violation_error_message=(
                    "This protocol already has an active rule of this kind: change that rule, or turn it off first."
                ),
            ),
        ),
    ]
