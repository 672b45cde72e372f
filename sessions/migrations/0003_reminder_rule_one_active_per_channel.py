from django.db import migrations, models
from django.db.models import Count, Q

CHANNELS = (("SMS", "send_sms"), ("email", "send_email"))


def refuse_duplicate_active_rules(apps, schema_editor):
    """Stop with the rules to fix rather than turn any off: which one a clinic meant is its call.

    Two active rules of one kind on one channel already made every booking on the protocol fail,
    so a clinic that has them has noticed; the message names each protocol, kind and channel.
    """
    ReminderRule = apps.get_model("treatment_sessions", "ReminderRule")
    found = []
    for label, flag in CHANNELS:
        duplicates = (
            ReminderRule.objects.filter(Q(is_active=True) & Q(**{flag: True}))
            .values("protocol_id", "kind")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .order_by("protocol_id", "kind")
        )
        found += [f"protocol {d['protocol_id']}: {d['kind']} by {label} ({d['n']} active)" for d in duplicates]
    if found:
        raise RuntimeError(
            "Each protocol may have one active reminder rule per kind and channel. "
            "Turn off all but one of: " + "; ".join(found)
        )


def one_active_per_channel(label, flag):
    return models.UniqueConstraint(
        condition=models.Q(("is_active", True), (flag, True)),
        fields=("protocol", "kind"),
        name=f"reminder_rule_one_active_{label.lower()}",
        violation_error_code="reminder_rule_one_active_per_channel",
        violation_error_message=(
            f"This protocol already has an active {label} rule of this kind: change that rule, or turn it off first."
        ),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0002_feeds_and_reschedule_requests"),
        ("treatment_sessions", "0002_reminders"),
    ]

    operations = [
        migrations.RunPython(refuse_duplicate_active_rules, migrations.RunPython.noop),
        *(
            migrations.AddConstraint(model_name="reminderrule", constraint=one_active_per_channel(label, flag))
            for label, flag in CHANNELS
        ),
    ]
