"""The model labels the policy keys its tables by, held here and nowhere else.

The policy imports no model: it names each kind of record by its label ("app_label.modelname").
When a model moves to another app, change its label here and every table follows.
"""

from __future__ import annotations

# Patients, their screening, protocols and courses, feeds
PATIENT = "patients.patient"
SCREENING = "patients.screening"
PROTOCOL = "courses.treatmentprotocol"
COURSE = "courses.course"
RESCHEDULE_REQUEST = "treatment_sessions.reschedulerequest"
CALENDAR_FEED = "calendars.calendarfeed"

# The clinic: chairs, opening hours, closures, staff and their time
CHAIR = "clinic.chair"
CLINIC_HOURS = "clinic.clinichours"
CLOSURE_DAY = "clinic.closureday"
STAFF_MEMBER = "clinic.staffmember"
WORKING_HOURS = "clinic.workinghours"
TIME_OFF = "clinic.timeoff"

# Treatment sessions, integration windows and appointments
SESSION = "treatment_sessions.treatmentsession"
WINDOW = "treatment_sessions.integrationwindow"
APPOINTMENT = "treatment_sessions.integrationappointment"
RULE_OVERRIDE = "treatment_sessions.ruleoverride"

# Outcome measures and the alerts their answers raise
MEASURE = "measures.measure"
MEASURE_ALERT = "measures.measurealert"

# Reminders
REMINDER_RULE = "reminders.reminderrule"
REMINDER = "reminders.reminder"
INBOUND_MESSAGE = "reminders.inboundmessage"

# Sign-in, the audit trail, Django's own
API_TOKEN = "accounts.apitoken"  # noqa: S105 (a model label, not a secret)
ACCESS_ATTEMPT = "axes.accessattempt"
ACCESS_LOG = "axes.accesslog"
ACCESS_FAILURE_LOG = "axes.accessfailurelog"
AUDIT_EVENT = "audit.auditevent"
USER = "auth.user"
GROUP = "auth.group"
