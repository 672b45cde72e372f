"""What the session services announce as they change the calendar.

Each signal is sent synchronously by the service, inside its transaction and while it still
holds its locks (the course, the session, the window). A receiver's writes therefore commit or
roll back with the change: the reminder outbox's rows are written atomically with the booking,
and a change that is refused or rolled back, even after the signal went, leaves none behind.
So a receiver writes to the database only, stays quick (the locks are held), and raises only to
refuse the whole change; anything that leaves the machine waits for ``transaction.on_commit``.

The sender is the model class of what changed; the keyword arguments are named with each signal.
Every ``now`` is the aware instant the service took as the time of the change.
"""

from __future__ import annotations

from django.dispatch import Signal

# A course's sessions were booked: its induction, or a maintenance series added to it.
# Sender: Course. Kwargs: course (Course), now (datetime).
course_booked = Signal()

# One session moved, was cancelled, held or marked a no-show.
# Sender: TreatmentSession. Kwargs: session_id (int), now (datetime).
session_changed = Signal()

# A course ended before its time (it was cancelled with the sessions it still had).
# Sender: Course. Kwargs: course (Course), now (datetime).
course_ended = Signal()

# An integration appointment was booked, moved or cancelled.
# Sender: IntegrationAppointment. Kwargs: appointment_id (int), now (datetime).
appointment_changed = Signal()
