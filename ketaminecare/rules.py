"""Every rule name an error can carry: the ``rule`` of the API's error body.

The names are part of the interface (clients branch on them, tests assert them), so they are
stated once, here, at the ground of the project: any app may import this module and it imports
nothing. ``Rule`` is a ``StrEnum``: a member is the string itself, so the JSON stays as it was.

A refused status change is named ``<action>_from_<status>``; ``Rule.transition`` builds that name
and refuses one that is not listed here, so a new status or action has to be added below.
"""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class Rule(StrEnum):
    """Names of the rules a request or a change can break; stable, shown to users and clients."""

    # Course rules and the calendar (the planner and every booking).
    SESSION_COUNT = "session_count"
    INDUCTION_SPAN = "induction_span"
    MIN_GAP = "min_gap"
    ONE_PER_DAY = "one_session_per_day"
    CLINIC_CLOSED = "clinic_closed"
    CLINIC_HOURS = "clinic_hours"
    CHAIR_UNAVAILABLE = "chair_unavailable"
    CLINICIAN_UNAVAILABLE = "clinician_unavailable"
    PATIENT_UNAVAILABLE = "patient_unavailable"
    WEEKLY_CADENCE = "weekly_cadence"
    NONEXISTENT_LOCAL_TIME = "nonexistent_local_time"
    IN_THE_PAST = "in_the_past"

    # Booking a course, a reschedule, a maintenance series.
    CONFLICT = "conflict"
    PROTOCOL_ACTIVE = "protocol_active"
    SCREENING_REQUIRED = "screening_required"
    SESSIONS_REQUIRED = "sessions_required"
    ONE_ACTIVE_COURSE = "one_active_course"
    SESSION_NOT_SCHEDULED = "session_not_scheduled"
    COURSE_NOT_ACTIVE = "course_not_active"
    RECURRENCE_INVALID = "recurrence_invalid"
    SERIES_BOUNDED = "series_bounded"
    OVERRIDE_REASON_REQUIRED = "override_reason_required"
    OVERRIDE_NOT_AUTHORISED = "override_not_authorised"
    MAINTENANCE_BEFORE_INDUCTION = "maintenance_before_induction"
    MAKE_UP_NOT_MISSED = "make_up_not_missed"
    MAKE_UP_EXISTS = "make_up_exists"
    # Not a refusal: the warning a cancellation's answer carries when the course falls short.
    INDUCTION_BELOW_MINIMUM = "induction_below_minimum"

    # A session's life.
    CHECK_IN_SAME_DAY = "check_in_same_day"
    NO_SHOW_AFTER_START = "no_show_after_start"
    HOLD_REASON_REQUIRED = "hold_reason_required"
    CANCEL_REASON_REQUIRED = "cancel_reason_required"
    SESSION_OPEN = "session_open"
    POSITIVE = "positive"

    # Integration windows and appointments.
    WINDOW_CANCELLED = "window_cancelled"
    WINDOW_CLOSED = "window_closed"
    WINDOW_ALREADY_BOOKED = "window_already_booked"
    INSIDE_WINDOW = "inside_window"
    THERAPIST_HOURS = "therapist_hours"
    THERAPIST_UNAVAILABLE = "therapist_unavailable"
    RECORD_AFTER_START = "record_after_start"

    # Staff time.
    STAFF_HAS_BOOKINGS = "staff_has_bookings"
    WEEKDAY = "weekday"
    WORKING_HOURS_OVERLAP = "working_hours_overlap"

    # Patients, screenings and reschedule requests.
    IANA_TIME_ZONE = "iana_time_zone"
    KNOWN_CODE = "known_code"
    AFTER_PERFORMED = "after_performed"
    CONSENT_REQUIRED = "consent_required"
    CONTRAINDICATION_FOUND = "contraindication_found"
    ALL_CHECKED = "all_checked"
    NOT_EDITABLE = "not_editable"
    RESCHEDULE_ONE_OPEN = "reschedule_one_open"

    # Outcome measures (PHQ-9, GAD-7, PCL-5) and their alerts.
    ANSWER_COUNT = "answer_count"
    INTEGER = "integer"
    COURSE_OF_PATIENT = "course_of_patient"

    # Calendar feeds and the calendar's query.
    OWN_FEED_ONLY = "own_feed_only"
    OWNER_REQUIRED = "owner_required"
    FEED_OWNER_ACTIVE = "feed_owner_active"
    FEED_LIVE = "feed_live"
    FEED_EXISTS = "feed_exists"
    CALENDAR_ROLE = "calendar_role"
    STAFF_ONLY = "staff_only"
    EVENT_TYPE = "event_type"
    ID_LIST = "id_list"
    BOOLEAN = "boolean"

    # Sign-in.
    LOGIN_LOCKOUT = "login_lockout"
    TOKEN_LIVE = "token_live"  # noqa: S105 (a rule's name, not a secret)

    # Input in general (also the codes of the API's own validation errors).
    EXISTS = "exists"
    REQUIRED = "required"
    INVALID = "invalid"
    BLANK = "blank"
    CHOICE = "choice"
    ONE_OF = "one_of"
    AWARE_DATETIME = "aware_datetime"
    NAIVE_DATETIME = "naive_datetime"
    ENDS_AFTER_START = "ends_after_start"
    IN_THE_FUTURE = "in_the_future"
    INVERTED = "inverted"
    OUT_OF_RANGE = "out_of_range"
    RANGE_REQUIRED = "range_required"
    RANGE_INVERTED = "range_inverted"
    RANGE_TOO_LONG = "range_too_long"
    UNKNOWN_FIELD = "unknown_field"
    FORBIDDEN_FIELD = "forbidden_field"
    READ_ONLY = "read_only"

    # Limits of a request (the middleware, the exception handler and gunicorn's own answers).
    MAX_URL_LENGTH = "max_url_length"
    MAX_BODY_SIZE = "max_body_size"
    MAX_FIELDS = "max_fields"
    MAX_HEADER_SIZE = "max_header_size"

    # Refused status changes, <action>_from_<status> (see ``transition``). Sessions:
    CHECK_IN_FROM_CHECKED_IN = "check_in_from_checked_in"
    CHECK_IN_FROM_COMPLETED = "check_in_from_completed"
    CHECK_IN_FROM_NO_SHOW = "check_in_from_no_show"
    CHECK_IN_FROM_CANCELLED = "check_in_from_cancelled"
    CHECK_IN_FROM_HELD = "check_in_from_held"
    COMPLETE_FROM_SCHEDULED = "complete_from_scheduled"
    COMPLETE_FROM_COMPLETED = "complete_from_completed"
    COMPLETE_FROM_NO_SHOW = "complete_from_no_show"
    COMPLETE_FROM_CANCELLED = "complete_from_cancelled"
    COMPLETE_FROM_HELD = "complete_from_held"
    NO_SHOW_FROM_CHECKED_IN = "no_show_from_checked_in"
    NO_SHOW_FROM_COMPLETED = "no_show_from_completed"
    NO_SHOW_FROM_NO_SHOW = "no_show_from_no_show"
    NO_SHOW_FROM_CANCELLED = "no_show_from_cancelled"
    NO_SHOW_FROM_HELD = "no_show_from_held"
    HOLD_FROM_COMPLETED = "hold_from_completed"
    HOLD_FROM_NO_SHOW = "hold_from_no_show"
    HOLD_FROM_CANCELLED = "hold_from_cancelled"
    HOLD_FROM_HELD = "hold_from_held"
    # A session's cancel_from_completed and cancel_from_cancelled are a course's too.
    CANCEL_FROM_CHECKED_IN = "cancel_from_checked_in"
    CANCEL_FROM_COMPLETED = "cancel_from_completed"
    CANCEL_FROM_NO_SHOW = "cancel_from_no_show"
    CANCEL_FROM_CANCELLED = "cancel_from_cancelled"
    CANCEL_FROM_HELD = "cancel_from_held"
    # Integration appointments and reschedule requests.
    MOVE_FROM_BOOKED = "move_from_booked"
    CANCEL_FROM_BOOKED = "cancel_from_booked"
    RECORD_FROM_BOOKED = "record_from_booked"
    HANDLE_FROM_OPEN = "handle_from_open"
    # Measure alerts.
    ACKNOWLEDGE_FROM_ACKNOWLEDGED = "acknowledge_from_acknowledged"

    @classmethod
    def transition(cls, action: str, status: str) -> Rule:
        """The rule a refused ``action`` from ``status`` names; ValueError when none is listed."""
        return cls(f"{action}_from_{status}")
