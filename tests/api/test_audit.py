"""Reads and writes of a patient's records through the API and the admin leave audit rows."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from calendars.services import feed_issue


@pytest.fixture
def events():
    def touching(patient_id: int) -> list[AuditEvent]:
        return [e for e in AuditEvent.objects.order_by("id") if patient_id in e.patient_ids]

    return touching


@pytest.mark.django_db
def test_reading_a_patient_through_the_api_leaves_a_row(world, events):
    response = world.client("front_desk").get(f"/api/v1/patients/{world.patient_a.pk}/", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    [event] = events(world.patient_a.pk)
    assert event.channel == AuditEvent.Channel.API
    assert event.action == AuditEvent.Action.VIEW
    assert event.actor_id == world.users["front_desk"].pk
    assert "front_desk" in event.roles
    assert (event.object_type, event.object_id) == ("patients.patient", str(world.patient_a.pk))
    assert event.ip_address == "10.1.2.3"
    assert event.status_code == 200
    assert event.request_id == response["X-Request-ID"]


@pytest.mark.django_db
def test_a_list_records_every_patient_on_the_page(world):
    assert world.client("front_desk").get("/api/v1/sessions/").status_code == 200
    event = AuditEvent.objects.get(verb="list")
    assert event.action == AuditEvent.Action.LIST
    assert set(event.patient_ids) == {world.patient_a.pk, world.patient_b.pk}


@pytest.mark.django_db
def test_a_booking_action_records_the_patient_and_the_verb(world, events):
    session = world.session_a
    response = world.client("front_desk").post(f"/api/v1/sessions/{session.pk}/cancel/", {}, format="json")
    assert response.status_code == 200, response.json()
    [event] = events(world.patient_a.pk)
    assert (event.action, event.verb, event.object_id) == (AuditEvent.Action.ACTION, "cancel", str(session.pk))


@pytest.mark.django_db
def test_the_calendar_records_the_patients_it_showed(world):
    response = world.client("clinician").get(
        "/api/v1/calendar/", {"start": "2031-06-01T00:00:00-04:00", "end": "2031-06-30T00:00:00-04:00"}
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(object_type="")
    assert {world.patient_a.pk, world.patient_b.pk} <= set(event.patient_ids)


@pytest.mark.django_db
def test_a_refused_foreign_id_records_nothing_about_that_patient(world, events):
    response = world.client("patient_b").get(f"/api/v1/patients/{world.patient_a.pk}/")
    assert response.status_code == 404
    assert events(world.patient_a.pk) == []


@pytest.mark.django_db
def test_a_patient_feed_read_is_recorded_on_the_feed_channel(world, events):
    issued = feed_issue(owner=("patient", world.patient_a.pk))
    response = world.client("anonymous").get(f"/api/v1/feeds/{issued.token}.ics")
    assert response.status_code == 200
    [event] = events(world.patient_a.pk)
    assert (event.channel, event.actor_id) == (AuditEvent.Channel.FEED, None)


@pytest.mark.django_db
def test_the_admin_records_a_patient_page_view(world, events, client):
    client.force_login(world.users["administrator"])
    world.users["administrator"].is_superuser = True
    world.users["administrator"].save(update_fields=["is_superuser"])
    assert client.get(f"/admin/patients/patient/{world.patient_a.pk}/change/").status_code == 200
    [event] = events(world.patient_a.pk)
    assert (event.channel, event.action) == (AuditEvent.Channel.ADMIN, AuditEvent.Action.VIEW)


@pytest.mark.django_db
def test_free_times_asked_for_a_named_patient_are_a_read_of_that_patient(world, events):
    day = world.session_a.local_date
    query = {"start": day.isoformat(), "end": day.isoformat(), "protocol": world.clinic.protocol.pk}
    client = world.client("front_desk")
    assert client.get("/api/v1/availability/", query).status_code == 200
    assert not AuditEvent.objects.exists()  # nobody named, nobody read
    assert client.get("/api/v1/availability/", {**query, "patient": world.patient_b.pk}).status_code == 200
    [event] = events(world.patient_b.pk)
    assert (event.actor_id, event.status_code) == (world.users["front_desk"].pk, 200)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/staff/{staff}/bookings-to-move/", "/api/v1/staff/bookings-to-move/"])
def test_bookings_to_move_record_the_patients_whose_bookings_they_list(world, events, url):
    clinician = world.session_a.clinician
    clinician.is_active = False  # everything they were booked for is left to move
    clinician.save(update_fields=["is_active"])
    response = world.client("front_desk").get(url.format(staff=clinician.pk))
    assert response.status_code == 200
    listed = {row["id"] for row in response.json() if row["type"] == "session"}
    assert world.session_a.pk in listed
    [event] = AuditEvent.objects.all()
    assert world.patient_a.pk in event.patient_ids
    assert "patient" not in str(response.json())  # the answer itself is unchanged: no patient ids
