"""What the session services announce as they change the calendar.

Each signal is sent synchronously by the service, inside its transaction and while it still
holds its locks (the course, the session, the window). A receiver's writes therefore commit or
roll back with the change: the reminder outbox's rows are written atomically with the booking,
and a change that is refused or rolled back, even after the signal went, leaves none behind.
So a receiver writes to the database only, stays quick (the locks are held), and raises only to
refuse the whole change; anything that leaves the machine waits for ``transaction.on_commit``.

The sender is the model class of what changed; the keyword arguments are named with each signal.
Every ``now`` is the aware instant the service took as the time of the change. Every ``actor`` is
the user who made the change when the service was told (a view passes ``request.user``), else
None (a command, the sweep): a receiver may tell others of a change, and not the one who made it.
"""

from __future__ import annotations

from django.dispatch import Signal

# A course's sessions were booked: its induction, or a maintenance series added to it.
# Sender: Course. Kwargs: course (Course), now (datetime), actor.
course_booked = Signal()

# One session moved, was cancelled, held or marked a no-show. The appointments of its window that
# the change moved (they followed the session) or cancelled (they could not, or the window went)
# are named; ``appointment_changed`` is not sent for them.
# Sender: TreatmentSession. Kwargs: session_id (int), moved_appointment_ids (list of int),
# cancelled_appointment_ids (list of int), now (datetime), actor.
session_changed = Signal()

# A course ended before its time (it was cancelled with the sessions it still had, and the
# appointments booked in their windows, which are named).
# Sender: Course. Kwargs: course (Course), cancelled_appointment_ids (list of int), now (datetime), actor.
course_ended = Signal()

# An integration appointment was booked, moved or cancelled. A move names the therapist it had
# before (``previous_therapist_id``: the same one unless the move gave it to another).
# Sender: IntegrationAppointment. Kwargs: appointment_id (int), now (datetime), actor, and for a
# move previous_therapist_id (int).
appointment_changed = Signal()

# A patient asked the front desk to move one of their sessions.
# Sender: RescheduleRequest. Kwargs: request_id (int), now (datetime).
reschedule_requested = Signal()
