"""The audit trail: recorded, append-only at every layer, readable by administrators only."""

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from audit.hooks import patient_id_of
from audit.models import AppendOnlyError, AuditEvent
from audit.services import audit_record
from tests.factories import PatientFactory, UserFactory


def _request(user, path="/api/v1/patients/1/"):
    request = RequestFactory().get(path, REMOTE_ADDR="10.0.0.7", HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.1")
    request.user = user
    return request


@pytest.mark.django_db
def test_audit_record_keeps_who_which_patient_what_and_where():
    user = UserFactory(username="fd1")
    patient = PatientFactory()
    event = audit_record(
        request=_request(user),
        channel=AuditEvent.Channel.API,
        action=AuditEvent.Action.VIEW,
        patient_ids=[patient.pk],
        object_type="patients.patient",
        object_id=patient.pk,
    )
    assert event is not None
    event.refresh_from_db()
    assert (event.actor_id, event.actor_username) == (user.pk, "fd1")
    assert event.patient_ids == [patient.pk]
    # No proxy is trusted by default: the header as sent is not believed, the peer is recorded.
    assert event.ip_address == "10.0.0.7"
    assert event.path == "/api/v1/patients/1/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("proxies", "recorded"), [(0, "10.0.0.7"), (1, "10.0.0.1"), (2, "203.0.113.9"), (5, "203.0.113.9")]
)
def test_audit_record_takes_the_address_the_outermost_trusted_proxy_saw(settings, proxies, recorded):
    settings.TRUSTED_PROXY_COUNT = proxies
    event = audit_record(
        request=_request(UserFactory()),
        channel=AuditEvent.Channel.API,
        action=AuditEvent.Action.VIEW,
        patient_ids=[PatientFactory().pk],
    )
    assert event is not None
    assert event.ip_address == recorded


@pytest.mark.django_db
def test_audit_record_skips_requests_that_touched_no_patient():
    assert audit_record(request=_request(UserFactory()), channel="api", action="list", patient_ids=[None]) is None
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_audit_event_refuses_update_and_delete_through_the_orm():
    event = audit_record(request=_request(UserFactory()), channel="api", action="view", patient_ids=[1])
    event.verb = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(verb="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).verb == ""


@pytest.mark.postgres
@pytest.mark.django_db
def test_audit_trigger_refuses_raw_update_delete_and_truncate_on_postgres():
    event = audit_record(request=_request(UserFactory()), channel="api", action="view", patient_ids=[1])
    # As the table's owner (the tests connect as the superuser that made it): the triggers hold.
    for statement in (
        "UPDATE audit_auditevent SET verb = 'x' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
        "TRUNCATE audit_auditevent",
        "TRUNCATE audit_auditevent, auth_user CASCADE",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event.pk] if "%s" in statement else None)
    assert AuditEvent.objects.filter(pk=event.pk, verb="").exists()


@pytest.mark.django_db
def test_admin_offers_no_add_change_or_delete_on_audit_events(client):
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw-123456")
    event = audit_record(request=_request(admin), channel="api", action="view", patient_ids=[3])
    client.force_login(admin)
    listing = client.get("/admin/audit/auditevent/")
    assert listing.status_code == 200
    assert b"Add audit event" not in listing.content
    detail = client.get(f"/admin/audit/auditevent/{event.pk}/change/")
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content
    assert client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"verb": "x"}).status_code == 403
    assert client.get(f"/admin/audit/auditevent/{event.pk}/delete/").status_code == 403
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).verb == ""


@pytest.mark.django_db
def test_admin_filters_the_trail_by_patient(client):
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw-123456")
    audit_record(request=_request(admin), channel="api", action="view", patient_ids=[42], object_id="first")
    audit_record(request=_request(admin), channel="api", action="view", patient_ids=[142, 7], object_id="second")
    client.force_login(admin)
    page = client.get("/admin/audit/auditevent/", {"q": "patient:42"})
    assert page.status_code == 200
    assert list(page.context["cl"].result_list.values_list("object_id", flat=True)) == ["first"]


@pytest.mark.django_db
def test_staff_without_the_view_permission_cannot_read_the_trail(client):
    user = UserFactory(is_staff=True)
    client.force_login(user)
    assert client.get("/admin/audit/auditevent/").status_code == 403


def test_patient_id_of_reads_models_and_dicts():
    assert patient_id_of({"patient_id": 5}) == 5
    assert patient_id_of({"patient": {"id": 6}}) == 6
    assert patient_id_of({"title": "closure"}) is None
