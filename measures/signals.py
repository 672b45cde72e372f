"""What the measure services announce, for the apps above to react to (the staff messages).

As the session services' signals (sessions/signals.py), each is sent synchronously inside the
service's transaction: a receiver's rows commit or roll back with the alert, so an alert is never
left without its messages, nor a message without its alert. The measures app knows nothing of
who listens; ``reminders`` connects its receivers in its ``ready()``.
"""

from __future__ import annotations

from django.dispatch import Signal

# An answer raised an alert for the patient's clinicians.
# Sender: MeasureAlert. Kwargs: alert (MeasureAlert), recipient_ids (list[int]: StaffMember ids), now (datetime).
alert_raised = Signal()

# A clinician acknowledged an alert: whatever still waits to tell them of it can stop.
# Sender: MeasureAlert. Kwargs: alert_id (int), now (datetime).
alert_acknowledged = Signal()
