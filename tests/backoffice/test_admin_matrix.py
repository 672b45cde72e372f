"""The admin matrix, derived from the access policy: every ModelAdmin, every page, every role.

The admins come from ``admin.site._registry``, not from a list: a model without a row in the
policy's admin table or its records' scope fails. For each page (changelist, add, change, delete,
history) and role the answer follows from the policy: signed out or a patient (no admin) is sent
to the login page, a staff role without the right gets 403, a row outside its scope 404, else
200; and no page shows a role the sentinel text of a private field hidden from it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import models, transaction
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone

from accounts.roles import roles_ensure
from audit.models import AuditEvent
from clinic.models import ClosureDay
from ketaminecare.access.admin_rights import ADMIN_RIGHTS, admin_rights_of
from ketaminecare.access.fields import PRIVATE_FIELDS, hidden_fields
from ketaminecare.access.records import SCOPES, scope_q
from ketaminecare.roles import Role, user_roles
from measures.services import measure_record
from reminders.models import InboundMessage, ReminderKind, ReminderRule
from sessions.models import RuleOverride
from sessions.services.integration import window_appointment_book
from tests import factories
from tests.api.conftest import ROLES, World
from tests.conftest import at

pytestmark = pytest.mark.django_db

PAGES = ("changelist", "add", "change", "delete", "history")
# The right each page asks for ("view" covers change too: a change page opens read-only). A page
# of an admin's own (``get_urls``: the session's reschedule form) acts on its row: "change".
PAGE_RIGHTS = {"changelist": "view", "add": "add", "change": "view", "delete": "delete", "history": "view"}
CUSTOM_PAGE_RIGHT = "change"
OBJECT_PAGES = ("change", "delete", "history")
ROWS_PER_MODEL = 3


def sentinel(label: str, field: str) -> str:
    return f"SENTINEL-{label}-{field}"


def registered() -> dict[str, type[models.Model]]:
    return {model._meta.label_lower: model for model in admin.site._registry}


@pytest.fixture
def admin_world(world: World) -> World:
    """The API's clinic, with one row of every registered model and sentinels in private fields."""
    roles_ensure()
    clinic = world.clinic
    other_therapist = factories.staff(Role.THERAPIST, starts=dt.time(9), ends=dt.time(17))
    # Another therapist's appointment: out of the therapist's scope, so 404 on its pages.
    window_appointment_book(
        window_id=world.window_b.pk,
        therapist_id=other_therapist.pk,
        starts_at=at(world.session_b.local_date + dt.timedelta(days=1), 10),
        now=world.session_b.starts_at - dt.timedelta(days=7),
    )
    ClosureDay.objects.get_or_create(date=world.session_a.local_date + dt.timedelta(days=60))
    RuleOverride.objects.create(
        session=world.session_a, rule="min_gap", reason="Travel", authorised_by=clinic.clinicians[0].user
    )
    ReminderRule.objects.create(protocol=clinic.protocol, kind=ReminderKind.values[0], minutes_before=90)
    InboundMessage.objects.create(
        provider_id="SM-admin",
        from_number=world.patient_a.phone,
        body="Can I bring my sister?",
        received_at=timezone.now(),
        patient=world.patient_a,
        action=InboundMessage.Action.INBOX,
    )
    AccessAttempt.objects.create(username="someone", ip_address="10.0.0.1", failures_since_start=1)
    AccessLog.objects.create(username="someone", ip_address="10.0.0.1", attempt_time=timezone.now())
    AccessFailureLog.objects.create(username="someone", ip_address="10.0.0.1", attempt_time=timezone.now())
    AuditEvent.objects.create(channel="api", action="read", actor_username="someone")
    world.client("patient_a")  # issues an API token
    # A measure whose PHQ-9 item 9 raised an alert (and its staff messages in the outbox).
    measure_record(patient=world.patient_a, instrument="phq9", answers=[0, 0, 0, 0, 0, 0, 0, 0, 1], entered_by=None)
    for label, fields in PRIVATE_FIELDS.items():
        model = registered()[label]
        text = [f for f in fields if isinstance(model._meta.get_field(f), models.CharField | models.TextField)]
        model.objects.update(**{f: sentinel(label, f) for f in text})
    return world


def admin_client(world: World, role: str) -> Client:
    client = Client()
    if world.users[role] is not None:
        client.force_login(world.users[role])
    return client


def pages_of(label: str) -> dict[str, bool]:
    """Every named page of the label's ModelAdmin, Django's and its own: page -> takes an object."""
    model_admin = admin.site._registry[registered()[label]]
    prefix = label.replace(".", "_") + "_"
    pages = {page: page in OBJECT_PAGES for page in PAGES}
    for pattern in model_admin.get_urls():
        if isinstance(pattern, URLPattern) and pattern.name and pattern.name[len(prefix) :] not in pages:
            pages[pattern.name[len(prefix) :]] = "<" in str(pattern.pattern)
    return pages


def url(label: str, page: str, pk: Any = None) -> str:
    app_label, model = label.split(".")
    return reverse(f"admin:{app_label}_{model}_{page}", args=[] if pk is None else [pk])


def expected(world: World, role: str, label: str, page: str, pk: Any) -> int:
    user = world.users[role]
    if user is None or not user.is_staff:
        return 302  # to the admin's login page
    rights = admin_rights_of(user_roles(user), label)
    if page == "change" and "change" in rights:
        rights.add("view")
    if PAGE_RIGHTS.get(page, CUSTOM_PAGE_RIGHT) not in rights:
        return 403
    model = registered()[label]
    if pk is not None and not model._default_manager.filter(scope_q(user, label), pk=pk).exists():
        return 404
    return 200


def test_every_admin_has_a_policy_entry():
    missing = [label for label in registered() if label not in ADMIN_RIGHTS or label not in SCOPES]
    assert not missing, f"admins without a row in the access policy: {missing}"


@pytest.mark.parametrize("label", sorted(registered()))
def test_admin_pages_answer_as_the_policy_says(admin_world: World, label: str):
    model = registered()[label]
    objects = list(model._default_manager.order_by("pk").values_list("pk", flat=True)[:ROWS_PER_MODEL])
    assert objects, f"no {label} row to open"
    answers, wanted, leaked = {}, {}, {}
    for role in ROLES:
        client = admin_client(admin_world, role)
        for page, takes_object in pages_of(label).items():
            for pk in objects if takes_object else [None]:
                key = f"{role} {page} {pk or ''}"
                wanted[key] = expected(admin_world, role, label, page, pk)
                with transaction.atomic():
                    response = client.get(url(label, page, pk))
                    transaction.set_rollback(True)
                answers[key] = response.status_code
                if response.status_code == 200:
                    shown = _leaks(admin_world, role, response.content.decode())
                    if shown:
                        leaked[key] = shown
    assert answers == wanted
    assert not leaked, f"private fields shown to roles that may not see them: {leaked}"


def _leaks(world: World, role: str, html: str) -> list[str]:
    user = world.users[role]
    return [
        f"{label}.{field}"
        for label in PRIVATE_FIELDS
        for field in hidden_fields(user, label)
        if sentinel(label, field) in html
    ]


def test_front_desk_sees_no_clinical_field_on_any_admin_page(admin_world: World):
    """Beyond each model's own pages: lists, inlines and related pages of every admin."""
    client = admin_client(admin_world, "front_desk")
    hidden = {label: hidden_fields(admin_world.users["front_desk"], label) for label in PRIVATE_FIELDS}
    assert all(hidden.values()), "the front desk should have private fields hidden from it"
    for label, model in registered().items():
        for pk in model._default_manager.order_by("pk").values_list("pk", flat=True)[:ROWS_PER_MODEL]:
            response = client.get(url(label, "change", pk))
            if response.status_code == 200:
                assert not _leaks(admin_world, "front_desk", response.content.decode()), label


@pytest.mark.parametrize("label", sorted(registered()))
def test_a_missing_row_answers_404_on_every_admin(admin_world: World, label: str):
    client = admin_client(admin_world, "administrator")
    missing = registered()[label]._default_manager.order_by("-pk").values_list("pk", flat=True).first() or 0
    rights = admin_rights_of({Role.ADMINISTRATOR}, label)
    for page in OBJECT_PAGES:
        wanted = 404 if PAGE_RIGHTS[page] in rights else 403
        assert client.get(url(label, page, missing + 1000)).status_code == wanted, page


def test_therapist_gets_403_on_patients_in_the_admin(admin_world: World):
    client = admin_client(admin_world, "therapist")
    assert client.get("/admin/patients/patient/").status_code == 403
    assert client.get(f"/admin/patients/patient/{admin_world.patient_a.pk}/change/").status_code == 403


def test_an_object_outside_the_scope_answers_404_not_a_redirect(admin_world: World):
    therapist = admin_world.users["therapist"]
    foreign = (
        registered()["treatment_sessions.integrationappointment"]
        ._default_manager.exclude(therapist__user=therapist)
        .first()
    )
    assert foreign is not None
    response = admin_client(admin_world, "therapist").get(url(foreign._meta.label_lower, "change", foreign.pk))
    assert response.status_code == 404


def test_patients_have_no_admin(admin_world: World):
    assert not Group.objects.get(name=Role.PATIENT).permissions.exists()
