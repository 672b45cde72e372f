"""The admin of measures and alerts: measures read-only, an alert acknowledged by a clinician
through the service (once, by whom), the audit trail recording it."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from accounts.roles import roles_ensure
from audit.models import AuditEvent
from ketaminecare.roles import Role
from measures.models import Measure, MeasureAlert
from measures.services import measure_record
from reminders.models import Reminder
from tests import factories

pytestmark = pytest.mark.django_db

ITEM9 = [0, 0, 0, 0, 0, 0, 0, 0, 3]


def logged_in(user: Any) -> Client:
    roles_ensure()
    client = Client()
    client.force_login(user)
    return client


def acknowledge(client: Client, alert: MeasureAlert) -> Any:
    return client.post(
        reverse("admin:measures_measurealert_changelist"),
        {"action": "acknowledge", "_selected_action": [alert.pk]},
        follow=True,
    )


def test_a_clinician_acknowledges_an_alert_in_the_admin(clinic: factories.Clinic, patient: Any) -> None:
    alert = measure_record(patient=patient, instrument="phq9", answers=ITEM9, entered_by=None).alert
    assert alert is not None
    clinician = clinic.clinicians[0].user

    response = acknowledge(logged_in(clinician), alert)

    assert response.status_code == 200
    alert.refresh_from_db()
    assert (alert.status, alert.acknowledged_by) == ("acknowledged", clinician)
    assert not Reminder.objects.filter(alert=alert, status__in=Reminder.LIVE_STATUSES).exists()
    assert AuditEvent.objects.filter(channel="admin", verb="acknowledge", patient_ids=[patient.pk]).exists()


def test_an_administrator_reads_alerts_but_does_not_acknowledge_them(clinic: factories.Clinic, patient: Any) -> None:
    alert = measure_record(patient=patient, instrument="phq9", answers=ITEM9, entered_by=None).alert
    assert alert is not None
    administrator: Any = factories.UserFactory(username="admin.reader", is_staff=True)
    administrator.groups.add(Group.objects.get_or_create(name=Role.ADMINISTRATOR)[0])
    client = logged_in(administrator)

    assert client.get(reverse("admin:measures_measurealert_change", args=[alert.pk])).status_code == 200
    acknowledge(client, alert)

    alert.refresh_from_db()
    assert alert.status == "open"


def test_a_measure_is_shown_and_never_changed_in_the_admin(clinic: factories.Clinic, patient: Any) -> None:
    measure = measure_record(patient=patient, instrument="gad7", answers=[2] * 7, entered_by=None).measure
    client = logged_in(clinic.clinicians[0].user)
    url = reverse("admin:measures_measure_change", args=[measure.pk])

    page = client.get(url)
    assert page.status_code == 200
    assert "2,2,2,2,2,2,2" in page.content.decode().replace(", ", ",")
    assert client.post(url, {"total": 0}).status_code == 403
    assert client.get(reverse("admin:measures_measure_add")).status_code == 403
    measure.refresh_from_db()
    assert (measure.total, Measure.objects.count()) == (14, 1)
