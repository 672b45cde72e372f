"""The clinic: what patient-facing texts say about it, and the grid its bookings are planned on."""

import os

# What patient-facing texts say about the clinic (name, place, phone). Never a drug or diagnosis.
CLINIC_NAME = os.environ.get("CLINIC_NAME", "Riverside Wellness Clinic")
CLINIC_ADDRESS = os.environ.get("CLINIC_ADDRESS", "120 Main Street, Suite 4")
CLINIC_PHONE = os.environ.get("CLINIC_PHONE", "+1 555 0100")
# The domain in calendar-feed UIDs (session-12@<domain>): set it to the clinic's own domain so
# that UIDs stay unique in a calendar that subscribes to two clinics. Never a drug's name.
CALENDAR_UID_DOMAIN = os.environ.get("CALENDAR_UID_DOMAIN", "clinic.invalid")

# Outcome measures (measures/). The PCL-5 total at or above which PTSD is probable (the National
# Center for PTSD suggests 31-33); a PCL-5 drop counted as clinically meaningful (VA: 10 points);
# PHQ-9 response (a drop of at least this percentage from the course's baseline) and remission
# (a total below this).
MEASURES_PCL5_PROBABLE_PTSD_CUTOFF = int(os.environ.get("MEASURES_PCL5_PROBABLE_PTSD_CUTOFF", "33"))
MEASURES_PCL5_MEANINGFUL_CHANGE = int(os.environ.get("MEASURES_PCL5_MEANINGFUL_CHANGE", "10"))
MEASURES_PHQ9_RESPONSE_DROP_PERCENT = int(os.environ.get("MEASURES_PHQ9_RESPONSE_DROP_PERCENT", "50"))
MEASURES_PHQ9_REMISSION_BELOW = int(os.environ.get("MEASURES_PHQ9_REMISSION_BELOW", "5"))
# The channels an alert to the patient's clinicians goes on (the staff member's phone and email).
MEASURES_ALERT_CHANNELS = [
    c.strip() for c in os.environ.get("MEASURES_ALERT_CHANNELS", "sms,email").split(",") if c.strip()
]

# Booking arithmetic: the grid on which the planner tries start times.
BOOKING_SLOT_MINUTES = int(os.environ.get("BOOKING_SLOT_MINUTES", "15"))
# How far ahead the planner looks for the next feasible first date when a course cannot fit.
PLANNING_SEARCH_DAYS = int(os.environ.get("PLANNING_SEARCH_DAYS", "42"))
# Length of an integration appointment the planner looks for when it prefers covered windows.
INTEGRATION_APPOINTMENT_MINUTES = int(os.environ.get("INTEGRATION_APPOINTMENT_MINUTES", "60"))
