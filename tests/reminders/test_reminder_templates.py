"""Every reminder text names the clinic, the time, the place and what to do, and never a drug, a
diagnosis or a mental-health treatment."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from backoffice.management.commands.seed_demo import PROTOCOLS
from ketaminecare.access.privacy import forbidden_words
from reminders.messages import (
    TEMPLATE_ROOT,
    ForbiddenContent,
    all_template_names,
    clean_free_text,
    reminder_engine,
    render,
)
from reminders.models import Channel, Reminder, ReminderKind
from reminders.services.send import reminders_send_batch
from reminders.services.sweep import reminders_sweep
from sessions.scheduling import Preferences
from sessions.services.booking import course_plan_and_book
from tests.conftest import at

CONTEXT = {
    "when": "Monday 2 June at 9:30 AM EDT",
    "time": "9:30 AM EDT",
    "place": "Room 2",
    "preparation": "Please do not eat for 2 hours before your visit.",
    "due_date": "Monday 23 June",
    "patient_ref": "AB-12",
    "opens": "Tuesday 3 June at 11:10 AM EDT",
    "closes": "Wednesday 4 June at 11:10 AM EDT",
    "raised": "Monday 2 June at 8:05 PM EDT",
}


@pytest.fixture(autouse=True)
def _fresh_engine() -> Any:
    reminder_engine.cache_clear()
    yield
    reminder_engine.cache_clear()


def test_the_check_catches_the_words_it_must(settings):
    text = "Your Ketamine infusion for PTSD and depression; see your therapist, psychiatric dose."
    assert forbidden_words(text) == ["depression", "dose", "infusion", "ketamine", "psychiatric", "ptsd", "therapist"]
    assert forbidden_words("Esketamine, Spravato, integration session") == ["esketamine", "integration", "spravato"]
    assert forbidden_words("Riverside Wellness Clinic, Treatment room 2, arrange a ride home") == []


def test_every_template_file_is_free_of_forbidden_words():
    files = sorted((TEMPLATE_ROOT / "reminders").glob("*.txt"))
    assert len(files) == len(all_template_names())
    for path in files:
        assert forbidden_words(path.read_text()) == [], path.name


@pytest.mark.parametrize("kind", ReminderKind.values)
@pytest.mark.parametrize("channel", Channel.values)
def test_every_rendered_template_names_the_clinic_and_nothing_forbidden(kind, channel, settings):
    message = render(kind, channel, CONTEXT)

    text = message.subject + "\n" + message.body
    assert forbidden_words(text) == []
    assert settings.CLINIC_NAME in text
    if kind.startswith("session_"):
        assert "9:30 AM EDT" in text
        assert "Room 2" in text and settings.CLINIC_ADDRESS in text
        assert settings.CLINIC_PHONE in text
    if kind == ReminderKind.SESSION_PREPARE:
        assert CONTEXT["preparation"] in text
    if kind == ReminderKind.SESSION_CONFIRM:
        assert "drive you home" in text
    if kind == ReminderKind.MEASURE_ALERT:
        # Staff alerts name the patient as the others do (initials and record number) and when.
        assert "AB-12" in text and CONTEXT["raised"] in text
    if channel == Channel.EMAIL:
        assert message.subject


def test_the_demo_protocols_instructions_are_safe_to_send():
    for protocol in PROTOCOLS:
        text = str(protocol["preparation_instructions"])
        assert clean_free_text(text) == " ".join(text.split())


def test_free_text_that_names_a_drug_is_left_out():
    assert clean_free_text("Before your ketamine infusion, fast for 2 hours.", "fallback") == "fallback"
    assert clean_free_text("Infusion bay 3") == ""


def test_a_clinic_template_that_names_a_drug_is_refused_and_the_reminder_fails(
    settings, tmp_path: Path, clinic, patient, monday, now
):
    override = tmp_path / "templates"
    (override / "reminders").mkdir(parents=True)
    (override / "reminders" / "session_soon.sms.txt").write_text("{{ clinic_name }}: your ketamine at {{ time }}.")
    settings.REMINDER_TEMPLATES_DIR = str(override)
    settings.REMINDER_SMS_DIR = tmp_path / "sms"
    reminder_engine.cache_clear()

    with pytest.raises(ForbiddenContent):
        render(ReminderKind.SESSION_SOON, Channel.SMS, CONTEXT)

    course = course_plan_and_book(
        patient=patient, protocol=clinic.protocol, first_date=monday, preferences=Preferences(), now=now
    )
    session = course.sessions.order_by("starts_at").first()
    moment = session.starts_at - dt.timedelta(hours=2)
    for token, ids in reminders_sweep(now=moment, enqueue=lambda i, t: None).batches:
        reminders_send_batch(reminder_ids=ids, claim_token=token, now=moment)
    row = Reminder.objects.get(session=session, kind=ReminderKind.SESSION_SOON)
    assert row.status == Reminder.Status.FAILED
    assert "ketamine" in row.last_error
    assert not (tmp_path / "sms" / "delivered" / f"reminder-{row.pk}.json").exists()
    assert at(monday, 0) < moment
