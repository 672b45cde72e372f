"""Reminders as rows (an outbox) and the per-protocol plan that makes them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from clinic.models import StaffMember
from courses.models import Course, TreatmentProtocol
from measures.models import MeasureAlert
from patients.models import Patient
from sessions.models import IntegrationAppointment, IntegrationWindow, TreatmentSession


class ReminderKind(models.TextChoices):
    # To the patient, before a session (anchored at the session's start).
    SESSION_CONFIRM = "session_confirm", "Session: confirm and arrange a ride home"
    SESSION_PREPARE = "session_prepare", "Session: preparation and arrival"
    SESSION_SOON = "session_soon", "Session: starting soon"
    # To the patient, before an integration appointment.
    APPOINTMENT_DAY_BEFORE = "appointment_day_before", "Follow-up appointment: the day before"
    APPOINTMENT_SOON = "appointment_soon", "Follow-up appointment: starting soon"
    # To the patient, before the day the next maintenance session falls due.
    MAINTENANCE_DUE = "maintenance_due", "Maintenance session due"
    # To staff, from the integration window's life.
    WINDOW_OPENED = "window_opened", "Window opened with no appointment (therapists)"
    WINDOW_CLOSING = "window_closing", "Window closing with no appointment (front desk)"
    # Change notices (reminders.services.notices): sent once, as soon as quiet hours allow, when
    # the plan changes. To the patient: a booking (one notice for a whole course), a move, a cancel.
    COURSE_BOOKED = "course_booked", "Notice: visits booked (the next one's time)"
    COURSE_CANCELLED = "course_cancelled", "Notice: remaining visits cancelled"
    SESSION_MOVED = "session_moved", "Notice: session moved"
    SESSION_CANCELLED = "session_cancelled", "Notice: session cancelled"
    APPOINTMENT_BOOKED = "appointment_booked", "Notice: follow-up appointment booked"
    APPOINTMENT_MOVED = "appointment_moved", "Notice: follow-up appointment moved"
    APPOINTMENT_CANCELLED = "appointment_cancelled", "Notice: follow-up appointment cancelled"
    # To staff: someone else moved or cancelled a therapist's appointment; a patient asked to move.
    APPOINTMENT_CHANGED_BY_OTHER = "appointment_changed_by_other", "Notice: appointment changed by someone else"
    REQUEST_NEEDS_HANDLING = "request_needs_handling", "Notice: a patient asked to move a session (front desk)"
    # To the patient's clinicians, at once: an answer on a measure calls for them (PHQ-9 item 9).
    # Its label says no more than "clinical": the front desk reads the reminders' list.
    MEASURE_ALERT = "measure_alert", "Clinical alert (clinicians)"


SESSION_KINDS = (ReminderKind.SESSION_CONFIRM, ReminderKind.SESSION_PREPARE, ReminderKind.SESSION_SOON)
APPOINTMENT_KINDS = (ReminderKind.APPOINTMENT_DAY_BEFORE, ReminderKind.APPOINTMENT_SOON)
STAFF_KINDS = (ReminderKind.WINDOW_OPENED, ReminderKind.WINDOW_CLOSING, ReminderKind.MEASURE_ALERT)

# The notices, in families: at most one live notice of a family per subject, recipient and channel
# (a newer change replaces the pending one, so a notice never tells a stale time).
COURSE_NOTICE_KINDS = (ReminderKind.COURSE_BOOKED, ReminderKind.COURSE_CANCELLED)
SESSION_NOTICE_KINDS = (ReminderKind.SESSION_MOVED, ReminderKind.SESSION_CANCELLED)
APPOINTMENT_NOTICE_KINDS = (
    ReminderKind.APPOINTMENT_BOOKED,
    ReminderKind.APPOINTMENT_MOVED,
    ReminderKind.APPOINTMENT_CANCELLED,
)
STAFF_NOTICE_KINDS = (ReminderKind.APPOINTMENT_CHANGED_BY_OTHER, ReminderKind.REQUEST_NEEDS_HANDLING)
NOTICE_KINDS = (*COURSE_NOTICE_KINDS, *SESSION_NOTICE_KINDS, *APPOINTMENT_NOTICE_KINDS, *STAFF_NOTICE_KINDS)
# The kinds a protocol plans with its rules (a notice is not planned ahead: a change calls for it;
# a clinical alert is sent when a measure raises one, to the channels MEASURES_ALERT_CHANNELS names).
PLANNED_KINDS = tuple(kind for kind in ReminderKind if kind not in (*NOTICE_KINDS, ReminderKind.MEASURE_ALERT))
# Each notice family with the subject field and the recipient field it is unique on.
NOTICE_FAMILIES: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    ("course", COURSE_NOTICE_KINDS, "course", "patient"),
    ("session", SESSION_NOTICE_KINDS, "session", "patient"),
    ("appointment", APPOINTMENT_NOTICE_KINDS, "appointment", "patient"),
    ("staff_appointment", (ReminderKind.APPOINTMENT_CHANGED_BY_OTHER,), "appointment", "staff"),
    ("staff_request", (ReminderKind.REQUEST_NEEDS_HANDLING,), "session", "staff"),
)


class Channel(models.TextChoices):
    SMS = "sms", "SMS"
    EMAIL = "email", "Email"


class DeliveryStatus(models.TextChoices):
    """What a provider's status callback says of a message it accepted."""

    DELIVERED = "delivered", "Delivered"
    UNDELIVERED = "undelivered", "Undelivered"
    FAILED = "failed", "Failed"


# The delivery outcomes the front desk follows up (a call, a corrected number).
DELIVERY_PROBLEMS = (DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED)


class ReminderRule(models.Model):
    """One line of a protocol's reminder plan: what is sent, how long before, on which channels.

    A protocol with no rules follows ``DEFAULT_REMINDER_PLAN`` (reminders.services.outbox). A
    protocol with rules follows exactly its active rules. ``minutes_before`` counts elapsed time
    before the anchor: a session's or an appointment's start, the day maintenance falls due, the
    window's close; it is ignored for the window-opened nudge, which goes when the window opens.
    """

    protocol = models.ForeignKey(TreatmentProtocol, on_delete=models.CASCADE, related_name="reminder_rules")
    kind = models.CharField(max_length=30, choices=[(k.value, k.label) for k in PLANNED_KINDS])
    minutes_before = models.PositiveIntegerField(default=0)
    send_sms = models.BooleanField(default=True)
    send_email = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        # The table it had before it moved here: moving a model between apps kept its rows.
        db_table = "treatment_sessions_reminderrule"
        ordering = ["protocol", "kind", "-minutes_before"]
        constraints = [
            models.UniqueConstraint(fields=["protocol", "kind", "minutes_before"], name="reminder_rule_unique"),
            # A reminder is one live row per kind, channel and subject: two active rules of one
            # kind on one channel would ask for two such rows, and every booking on the protocol
            # would fail. One kind on two channels at different times (SMS 48 h, email 24 h) is fine.
            *(
                models.UniqueConstraint(
                    fields=["protocol", "kind"],
                    condition=Q(is_active=True, **{flag: True}),
                    name=f"reminder_rule_one_active_{channel}",
                    violation_error_code="reminder_rule_one_active_per_channel",
                    violation_error_message=(
                        f"This protocol already has an active {label} rule of this kind: change that rule, "
                        "or turn it off first."
                    ),
                )
                for channel, flag, label in (("sms", "send_sms", "SMS"), ("email", "send_email", "email"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.protocol}: {self.get_kind_display()} {self.minutes_before} min before"

    @property
    def channels(self) -> list[str]:
        return [c for c, on in ((Channel.SMS, self.send_sms), (Channel.EMAIL, self.send_email)) if on]


class Reminder(models.Model):
    """One message to one recipient on one channel, due at one instant.

    Written in the transaction of the change that calls for it; moved or cancelled by the changes
    that follow; claimed by the sweep with a lease and a token; marked sent with the provider's
    message id. The reminder's id is the provider's idempotency key.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CLAIMED = "claimed", "Claimed (in a batch)"
        # Handed to the provider, its answer not yet recorded. A row left in it (its worker died)
        # is the one whose message may or may not have gone: claimed again after its lease.
        SENDING = "sending", "Sending (with the provider)"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        SKIPPED = "skipped", "Skipped (channel not allowed)"

    LIVE_STATUSES = (Status.PENDING, Status.CLAIMED)
    # Held by a batch under a lease (its worker renews it; the sweep takes it back when it expires).
    LEASED_STATUSES = (Status.CLAIMED, Status.SENDING)
    FINISHED_OR_SENDING = (Status.SENDING, Status.SENT, Status.FAILED, Status.SKIPPED)

    kind = models.CharField(max_length=30, choices=ReminderKind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    # The recipient: a patient or a member of staff.
    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.CASCADE, related_name="reminders")
    staff = models.ForeignKey(StaffMember, null=True, blank=True, on_delete=models.CASCADE, related_name="reminders")
    # What it is about: exactly one of these.
    session = models.ForeignKey(
        TreatmentSession, null=True, blank=True, on_delete=models.CASCADE, related_name="reminders"
    )
    appointment = models.ForeignKey(
        IntegrationAppointment,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reminders",
    )
    window = models.ForeignKey(
        IntegrationWindow,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reminders",
    )
    course = models.ForeignKey(Course, null=True, blank=True, on_delete=models.CASCADE, related_name="reminders")
    alert = models.ForeignKey(MeasureAlert, null=True, blank=True, on_delete=models.CASCADE, related_name="reminders")
    # The subject's time and revision when the row was written or last moved: a send re-checks them.
    anchor_at = models.DateTimeField()
    subject_revision = models.PositiveIntegerField(default=0)
    # When the plan says (anchor minus the rule's offset), and when it may go (quiet hours, retries).
    planned_at = models.DateTimeField()
    due_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    # How many times its lease ran out with the row still claimed (its worker or broker message lost).
    lease_expiries = models.PositiveSmallIntegerField(default=0)
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    # What the provider's status callback said of a sent SMS, and when (reminders.services.delivery).
    delivery_status = models.CharField(max_length=20, choices=DeliveryStatus.choices, blank=True)
    delivery_updated_at = models.DateTimeField(null=True, blank=True)
    # The SMS this email stands in for, when that SMS was not delivered: a fallback never falls back.
    fallback_for = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="fallback"
    )
    # Why it failed, was cancelled or skipped. Never a name, a phone number or an address.
    last_error = models.CharField(max_length=300, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The table it had before it moved here: moving a model between apps kept its rows.
        db_table = "treatment_sessions_reminder"
        ordering = ["due_at", "id"]
        indexes = [
            # The sweep's query: live rows by due time (pending) or lease (claimed).
            models.Index(fields=["due_at"], condition=Q(status="pending"), name="reminder_pending_due"),
            models.Index(
                fields=["lease_until"], condition=Q(status__in=["claimed", "sending"]), name="reminder_leased_lease"
            ),
            models.Index(fields=["status", "due_at"], name="reminder_status_due"),
            # The status callback finds its message by the provider's id.
            models.Index(
                fields=["provider_message_id"], condition=~Q(provider_message_id=""), name="reminder_provider_message"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(patient__isnull=False) & Q(staff__isnull=True))
                | (Q(patient__isnull=True) & Q(staff__isnull=False)),
                name="reminder_one_recipient",
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | (Q(sent_at__isnull=False) & ~Q(provider_message_id="")),
                name="reminder_sent_has_message_id",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["claimed", "sending"])
                | (Q(claim_token__isnull=False) & Q(lease_until__isnull=False)),
                name="reminder_leased_has_lease",
            ),
            # At most one live row per message: a plan written twice cannot send twice.
            models.UniqueConstraint(
                fields=["kind", "channel", "session", "patient"],
                condition=Q(status__in=["pending", "claimed"], session__isnull=False),
                name="reminder_live_unique_session",
            ),
            models.UniqueConstraint(
                fields=["kind", "channel", "appointment", "patient"],
                condition=Q(status__in=["pending", "claimed"], appointment__isnull=False),
                name="reminder_live_unique_appointment",
            ),
            models.UniqueConstraint(
                fields=["kind", "channel", "course", "patient"],
                condition=Q(status__in=["pending", "claimed"], course__isnull=False),
                name="reminder_live_unique_course",
            ),
            models.UniqueConstraint(
                fields=["kind", "channel", "window", "staff"],
                condition=Q(status__in=["pending", "claimed"], window__isnull=False),
                name="reminder_live_unique_window",
            ),
            # One live notice per family, subject, recipient and channel: a change replaces the
            # pending notice of an earlier one (reminders.services.notices), and cannot add a second.
            *(
                models.UniqueConstraint(
                    fields=["channel", subject, recipient],
                    condition=Q(status__in=["pending", "claimed"], kind__in=list(kinds)),
                    name=f"notice_live_unique_{family}",
                )
                for family, kinds, subject, recipient in NOTICE_FAMILIES
            ),
            models.UniqueConstraint(
                fields=["kind", "channel", "alert", "staff"],
                condition=Q(status__in=["pending", "claimed"], alert__isnull=False),
                name="reminder_live_unique_alert",
            ),
        ]

    def __str__(self) -> str:
        return f"Reminder {self.pk} {self.kind} by {self.channel} due {self.due_at:%Y-%m-%d %H:%M} ({self.status})"


class InboundMessage(models.Model):
    """One SMS a patient (or an unknown number) sent the clinic, and what was done with it.

    ``provider_id`` is unique: a provider that delivers the same message twice (a retried webhook)
    finds the first row and nothing happens again. A reply the service understood (confirm, change,
    opt out or in) is recorded with its ``action``; anything else waits in the front desk's inbox
    as ``new`` until someone marks it handled. The text is the patient's own words: staff only.
    """

    class Status(models.TextChoices):
        NEW = "new", "New (front desk to read)"
        HANDLED = "handled", "Handled"

    class Action(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed the visit"
        CHANGE_REQUESTED = "change_requested", "Asked for a change"
        OPTED_OUT = "opted_out", "Opted out of SMS"
        OPTED_IN = "opted_in", "Opted back in to SMS"
        INBOX = "inbox", "For the front desk"

    provider_id = models.CharField(max_length=200, unique=True)
    from_number = models.CharField(max_length=32)
    body = models.TextField(blank=True, max_length=1600)
    received_at = models.DateTimeField()
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_messages"
    )
    # The message it answers (the latest SMS sent to that number about a visit), when there is one.
    in_reply_to = models.ForeignKey(Reminder, null=True, blank=True, on_delete=models.SET_NULL, related_name="replies")
    action = models.CharField(max_length=20, choices=Action.choices)
    # Why a keyword could not be acted on (the visit is over, a request is already open).
    note = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["status", "received_at"], name="inbound_status_received")]

    def __str__(self) -> str:
        return f"Inbound SMS {self.pk} ({self.action}, {self.status})"
