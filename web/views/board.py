"""The therapists' window board: the integration windows that need them, and their own week.

Reads go through the sessions selectors, scoped by the access policy: a therapist sees the
windows and their own appointments, never a treatment session (dose and notes live there), so
nothing here touches one. Writes go through the integration services as the signed-in
therapist's own staff record, whatever the request says. A refusal answers the rule in words
with the error's status (400, 404 or 409), which the page's htmx swaps in like any answer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.middleware import HtmxDetails

from audit.models import AuditEvent
from audit.services import audit_record
from clinic.selectors import staff_member_id_of
from ketaminecare.errors import DomainError, InvalidInput, NotFound
from ketaminecare.rules import Rule
from sessions.models import IntegrationAppointment
from sessions.selectors import (
    clinic_zone,
    day_bounds,
    windows_visible_to,
)
from sessions.services.integration import (
    integration_appointment_cancel,
    integration_appointment_move,
    window_appointment_book,
)
from web.pages import audit_shown, page
from web.views.board_rows import (
    AppointmentRow,
    Moment,
    appointment_row,
    board_body,
    my_appointments,
    stretches,
    window_row,
)

MSG_NOT_STAFF = "Your sign-in is not linked to a therapist's staff record, so it cannot book."
MSG_PICK_TIME = "Pick one of the free times offered."
MSG_REASON_NEEDED = "Say why the appointment is cancelled."
MSG_REASON_TOO_LONG = "Keep the reason under 200 characters."
MSG_NO_APPOINTMENT = "No such appointment of yours."
MSG_NO_WINDOW = "No such integration window."
REASON_MAX = IntegrationAppointment._meta.get_field("cancel_reason").max_length or 200


class HtmxHttpRequest(HttpRequest):
    """A request as django-htmx's middleware leaves it (``request.htmx``), for the type checker."""

    htmx: HtmxDetails


# ---------------------------------------------------------------------------------------------
# Pages


@page("web.board")
@require_GET
def board(request: HtmxHttpRequest) -> HttpResponse:
    moment = _moment(request)
    monday = moment.week[0]
    body = board_body(request.user, moment)
    audit_shown(request, _patients_shown(body), verb="board")
    context = {
        **body,
        "today": timezone.now().astimezone(clinic_zone()).date(),
        "previous_week": monday - dt.timedelta(days=7),
        "next_week": monday + dt.timedelta(days=7),
    }
    return render(request, "web/board.html", context)


@page("web.board")
@require_http_methods(["GET", "POST"])
def board_window(request: HtmxHttpRequest, window_id: int) -> HttpResponse:
    """GET: the window's row, unfolded to its free times with ``?slots=1``. POST: book one."""
    moment = _moment(request)
    if request.method == "GET":
        if not request.htmx:
            return _back_to_board(moment)
        window = get_object_or_404(windows_visible_to(request.user), pk=window_id)
        unfold = bool(request.GET.get("slots"))
        row = window_row(window, moment, staff_id=staff_member_id_of(request.user), unfold=unfold)
        audit_shown(request, [window.patient_id], verb="board_window")
        return render(request, "web/partials/board_window.html", {"row": row, "moment": moment})
    try:
        if not windows_visible_to(request.user).filter(pk=window_id).exists():
            raise NotFound(MSG_NO_WINDOW, field="window", rule=Rule.EXISTS)
        appointment = window_appointment_book(
            window_id=window_id,
            therapist_id=_my_staff_id(request),
            starts_at=_instant(request.POST.get("starts_at", "")),
            actor=request.user,
        )
    except DomainError as error:
        return _answer(request, moment, error=error, window_id=window_id)
    _audit_write(request, appointment, AuditEvent.Action.CREATE, verb="board_book")
    said = f"Booked {_name(appointment)} on {_when(appointment.starts_at)}."
    return _answer(request, moment, said=said, appointment_id=appointment.pk)


@page("web.board")
@require_GET
def board_appointment(request: HtmxHttpRequest, appointment_id: int) -> HttpResponse:
    """One of the therapist's appointments as its row in their week (folded again)."""
    moment = _moment(request)
    if not request.htmx:
        return _back_to_board(moment)
    appointment = get_object_or_404(my_appointments(request.user), pk=appointment_id)
    row = appointment_row(appointment, moment)
    row.focus = True
    return _appointment_partial(request, moment, row)


@page("web.board")
@require_http_methods(["GET", "POST"])
def board_move(request: HtmxHttpRequest, appointment_id: int) -> HttpResponse:
    """GET: the free times the appointment can move to in its window. POST: move it there."""
    moment = _moment(request)
    if request.method == "GET":
        if not request.htmx:
            return _back_to_board(moment)
        appointment = get_object_or_404(my_appointments(request.user), pk=appointment_id)
        row = appointment_row(appointment, moment)
        row.moving = stretches(appointment.window, appointment.therapist_id, moment.now)
        return _appointment_partial(request, moment, row)
    try:
        appointment = _my_appointment(request, appointment_id)
        moved = integration_appointment_move(
            appointment_id=appointment.pk, starts_at=_instant(request.POST.get("starts_at", "")), actor=request.user
        )
    except DomainError as error:
        return _answer(request, moment, error=error, appointment_id=appointment_id, action="move")
    _audit_write(request, moved, AuditEvent.Action.ACTION, verb="board_move")
    said = f"Moved {_name(moved)} to {_when(moved.starts_at)}."
    return _answer(request, moment, said=said, appointment_id=moved.pk)


@page("web.board")
@require_http_methods(["GET", "POST"])
def board_cancel(request: HtmxHttpRequest, appointment_id: int) -> HttpResponse:
    """GET: the row asking for the reason. POST: cancel the appointment with it."""
    moment = _moment(request)
    if request.method == "GET":
        if not request.htmx:
            return _back_to_board(moment)
        appointment = get_object_or_404(my_appointments(request.user), pk=appointment_id)
        row = appointment_row(appointment, moment)
        row.cancelling = True
        return _appointment_partial(request, moment, row)
    reason = request.POST.get("reason", "").strip()
    try:
        appointment = _my_appointment(request, appointment_id)
        if not reason:
            raise InvalidInput(MSG_REASON_NEEDED, field="reason", rule=Rule.REQUIRED)
        if len(reason) > REASON_MAX:
            raise InvalidInput(MSG_REASON_TOO_LONG, field="reason")
        cancelled = integration_appointment_cancel(appointment_id=appointment.pk, reason=reason, actor=request.user)
    except DomainError as error:
        return _answer(request, moment, error=error, appointment_id=appointment_id, action="cancel", reason=reason)
    _audit_write(request, cancelled, AuditEvent.Action.ACTION, verb="board_cancel")
    said = f"Cancelled the appointment with {_name(cancelled)} on {_when(cancelled.starts_at)}."
    return _answer(request, moment, said=said)


# ---------------------------------------------------------------------------------------------
# What the pages show


def _moment(request: HtmxHttpRequest) -> Moment:
    zone = clinic_zone()
    now = timezone.now()
    raw = request.POST.get("date") or request.GET.get("date") or ""
    try:
        chosen = dt.date.fromisoformat(raw)
    except ValueError:
        chosen = now.astimezone(zone).date()
    start, _ = day_bounds(chosen, chosen, zone)
    return Moment(date=chosen, at=max(now, start), now=now)


# ---------------------------------------------------------------------------------------------
# Who asks, what they sent, and the answer


def _my_staff_id(request: HtmxHttpRequest) -> int:
    staff_id = staff_member_id_of(request.user)
    if staff_id is None:
        raise InvalidInput(MSG_NOT_STAFF, field="therapist", rule=Rule.EXISTS)
    return staff_id


def _my_appointment(request: HtmxHttpRequest, appointment_id: int) -> IntegrationAppointment:
    appointment: IntegrationAppointment | None = my_appointments(request.user).filter(pk=appointment_id).first()
    if appointment is None:
        raise NotFound(MSG_NO_APPOINTMENT, field="appointment", rule=Rule.EXISTS)
    return appointment


def _instant(raw: str) -> dt.datetime:
    try:
        instant = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(MSG_PICK_TIME, field="starts_at", rule=Rule.REQUIRED) from None
    if instant.tzinfo is None:
        raise InvalidInput(MSG_PICK_TIME, field="starts_at", rule=Rule.REQUIRED)
    return instant


def _name(appointment: IntegrationAppointment) -> str:
    return f"{appointment.patient.first_name} {appointment.patient.last_name}"


def _when(instant: dt.datetime) -> str:
    return date_format(timezone.localtime(instant, clinic_zone()), "D j M, H:i")


def _answer(
    request: HtmxHttpRequest,
    moment: Moment,
    *,
    said: str = "",
    error: DomainError | None = None,
    window_id: int | None = None,
    appointment_id: int | None = None,
    action: str = "",
    reason: str = "",
) -> HttpResponse:
    """After a write: the board's body again (htmx), or back to the board (a plain form post)."""
    text = error.message if error else said
    if not request.htmx:
        messages.add_message(request, messages.ERROR if error else messages.SUCCESS, text)
        return _back_to_board(moment)
    context = board_body(
        request.user,
        moment,
        window_id=window_id,
        appointment_id=appointment_id,
        action=action,
        error=text if error else "",
        reason=reason,
    )
    context["notice"] = {"text": text, "kind": "error" if error else "success"}
    audit_shown(request, _patients_shown(context), verb="board")
    status = 200
    if error:
        # The statuses the page swaps in (static/web/app.js); a refusal is never shown as a crash.
        status = error.http_status if error.http_status in (400, 404, 409) else 409
    return render(request, "web/partials/board_body.html", context, status=status)


def _appointment_partial(request: HtmxHttpRequest, moment: Moment, row: AppointmentRow) -> HttpResponse:
    audit_shown(request, [row.appointment.patient_id], verb="board_appointment")
    return render(request, "web/partials/board_appointment.html", {"row": row, "moment": moment})


def _patients_shown(body: dict[str, Any]) -> list[int]:
    """The patients whose names the board's body shows: its windows' and the week's."""
    windows = [row.window.patient_id for group in body["groups"] for row in group.rows]
    return windows + [row.appointment.patient_id for day in body["week"] for row in day["rows"]]


def _audit_write(request: HtmxHttpRequest, appointment: IntegrationAppointment, action: str, *, verb: str) -> None:
    """Record a booking, a move or a cancellation made on the board, as the API records its own."""
    audit_record(
        request=request,
        channel=AuditEvent.Channel.WEB,
        action=action,
        verb=verb,
        patient_ids=[appointment.patient_id],
        object_type=IntegrationAppointment._meta.label_lower,
        object_id=appointment.pk,
        status_code=200,
    )


def _back_to_board(moment: Moment) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse('web:board')}?date={moment.date.isoformat()}")
