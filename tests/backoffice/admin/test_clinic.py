"""The clinic's admin: a member of staff's hours and time off are saved with the bookings they
leave behind listed to move, and two blocks of one day may not overlap."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from clinic.models import TimeOff, WorkingHours
from sessions.services.staff_bookings import bookings_outside_availability
from sessions.services.staff_time import working_hours_add
from tests.sessions.services.test_staff_time import book, session_on

pytestmark = pytest.mark.django_db


def staff_admin_form(superuser: Any, member: Any) -> tuple[str, dict[str, Any]]:
    """The admin's change page of a member of staff, as its form would post it unchanged."""
    url = reverse("admin:clinic_staffmember_change", args=[member.pk])
    form = superuser.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data["user"] = member.user_id
    data["is_active"] = "on"
    hours = list(WorkingHours.objects.filter(staff=member).order_by("id"))
    data |= {
        "working_hours-TOTAL_FORMS": len(hours),
        "working_hours-INITIAL_FORMS": len(hours),
        "time_off-TOTAL_FORMS": 0,
        "time_off-INITIAL_FORMS": 0,
    }
    for index, row in enumerate(hours):
        data |= {
            f"working_hours-{index}-id": row.pk,
            f"working_hours-{index}-staff": member.pk,
            f"working_hours-{index}-weekday": row.weekday,
            f"working_hours-{index}-starts": row.starts.isoformat(),
            f"working_hours-{index}-ends": row.ends.isoformat(),
        }
    return url, data


def warnings_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_admin_saves_time_off_and_lists_the_sessions_to_move(clinic, patient, monday, now, superuser):
    course = book(clinic, patient, monday, now)
    clinician = clinic.clinicians[0]
    url, data = staff_admin_form(superuser, clinician)
    data |= {
        "time_off-TOTAL_FORMS": 1,
        "time_off-0-starts_at_0": monday.isoformat(),
        "time_off-0-starts_at_1": "07:00",
        "time_off-0-ends_at_0": monday.isoformat(),
        "time_off-0-ends_at_1": "12:00",
        "time_off-0-reason": "Sick",
    }

    response = superuser.post(url, data, follow=True)

    assert response.status_code == 200
    assert TimeOff.objects.filter(staff=clinician).count() == 1
    link = reverse("admin:treatment_sessions_treatmentsession_change", args=[session_on(course, monday).pk])
    assert any("1 booking(s)" in m and link in m for m in warnings_of(response)), warnings_of(response)


def test_the_admin_refuses_overlapping_blocks_of_one_day(clinic, superuser):
    clinician = clinic.clinicians[0]
    url, data = staff_admin_form(superuser, clinician)
    count = data["working_hours-TOTAL_FORMS"]
    data |= {  # Monday 08:00-18:00 is there already
        "working_hours-TOTAL_FORMS": count + 1,
        f"working_hours-{count}-staff": clinician.pk,
        f"working_hours-{count}-weekday": 0,
        f"working_hours-{count}-starts": "17:00",
        f"working_hours-{count}-ends": "20:00",
    }

    response = superuser.post(url, data)

    assert response.status_code == 200  # the page again, with the error
    assert "The block overlaps another of the same day." in response.content.decode()
    assert WorkingHours.objects.filter(staff=clinician, weekday=0).count() == 1


def test_the_admin_counts_a_block_added_elsewhere_after_the_page_loaded(clinic, superuser, now):
    clinician = clinic.clinicians[0]
    url, data = staff_admin_form(superuser, clinician)
    working_hours_add(staff_id=clinician.pk, weekday=0, starts=dt.time(18), ends=dt.time(21), now=now)  # the API
    count = data["working_hours-TOTAL_FORMS"]
    data |= {
        "working_hours-TOTAL_FORMS": count + 1,
        f"working_hours-{count}-staff": clinician.pk,
        f"working_hours-{count}-weekday": 0,
        f"working_hours-{count}-starts": "19:00",
        f"working_hours-{count}-ends": "22:00",
    }

    response = superuser.post(url, data)

    assert response.status_code == 200
    assert "The block overlaps another of the same day." in response.content.decode()
    assert WorkingHours.objects.filter(staff=clinician, weekday=0).count() == 2


def test_an_unchanged_save_in_the_admin_warns_of_nothing(clinic, patient, monday, now, superuser):
    book(clinic, patient, monday, now)
    url, data = staff_admin_form(superuser, clinic.clinicians[0])

    response = superuser.post(url, data, follow=True)

    assert response.status_code == 200
    assert not any("booking(s)" in m for m in warnings_of(response))


def test_deactivating_or_changing_the_role_of_a_clinician_in_the_admin_lists_every_session_ahead(
    clinic, patient, monday, now, superuser, client
):
    # Through the admin: the real clock, so the test's sessions (years ahead) are all ahead.
    course = book(clinic, patient, monday, now)
    clinician = clinic.clinicians[0]
    url, data = staff_admin_form(superuser, clinician)

    response = superuser.post(url, {**data, "is_active": ""}, follow=True)

    assert any("6 booking(s)" in m for m in warnings_of(response)), warnings_of(response)
    clinician.refresh_from_db()
    assert not clinician.is_active
    # The list can be had again for an inactive person, who is no longer in the staff list.
    client.force_login(clinic.front_desk.user)
    listed_again = client.get(f"/api/v1/staff/{clinician.pk}/bookings-to-move/")
    assert listed_again.status_code == 200
    assert sorted(b["id"] for b in listed_again.json()) == sorted(course.sessions.values_list("pk", flat=True))

    # Active again but a therapist now: their sessions still need a clinician.
    clinician.is_active = True
    clinician.role = "therapist"
    clinician.clinician_kind = ""
    clinician.save()
    assert len(bookings_outside_availability(clinician, now=now)) == 6
