"""The reminder services' tests: every SMS to files under the test's own folder, a patient always awake."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tests import factories


@pytest.fixture(autouse=True)
def _sms_to_files(settings: Any, tmp_path: Path) -> Path:
    settings.REMINDER_SMS_BACKEND = "reminders.channels.FileSMSBackend"
    settings.REMINDER_SMS_DIR = tmp_path / "sms"
    return tmp_path / "sms"


@pytest.fixture
def awake_patient(clinic: factories.Clinic) -> Any:
    """A patient with no quiet hours (start == end), so that any moment may send."""
    return factories.screened_patient(
        clinician=clinic.clinicians[0], quiet_hours_start=dt.time(0), quiet_hours_end=dt.time(0)
    )
