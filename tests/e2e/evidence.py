"""What the end-to-end test reads back: the providers' records, the logs, the sessions table."""

from __future__ import annotations

import collections
import json
import re
from pathlib import Path
from typing import Any

from django.db import connection

from sessions.models import TreatmentSession


def log_lines(path: Path) -> list[list[str]]:
    """The complete lines of a log that other processes may be appending to, split in fields."""
    if not path.exists():
        return []
    text = path.read_text()
    return [line.split() for line in text[: text.rfind("\n") + 1].splitlines() if line.strip()]


def callers(sms_dir: Path) -> list[tuple[int, str]]:
    return [(int(pid), key) for pid, key in log_lines(sms_dir / "callers.log")]


def reminder_id(key: str) -> int:
    return int(key.removeprefix("reminder-"))


def sms_calls(sms_dir: Path) -> list[tuple[str, str, str]]:
    return [(key, message_id, outcome) for key, message_id, outcome in log_lines(sms_dir / "calls.log")]


def sms_delivered(sms_dir: Path) -> set[str]:
    folder = sms_dir / "delivered"
    return {p.stem for p in folder.glob("reminder-*.json")} if folder.exists() else set()


def emails_by_key(mail_dir: Path) -> collections.Counter[str]:
    keys: collections.Counter[str] = collections.Counter()
    for path in mail_dir.glob("*") if mail_dir.exists() else []:
        keys.update(re.findall(r"^X-Idempotency-Key: (\S+)$", path.read_text(errors="replace"), re.M))
    return keys


def overlaps() -> dict[str, list[tuple[int, int]]]:
    """Pairs of active sessions that overlap in time on one chair, clinician or patient."""
    table = connection.ops.quote_name(TreatmentSession._meta.db_table)
    active = list(TreatmentSession.OCCUPYING_STATUSES)
    found: dict[str, list[tuple[int, int]]] = {}
    with connection.cursor() as cursor:
        for column in ("chair_id", "clinician_id", "patient_id"):
            cursor.execute(
                f"SELECT a.id, b.id FROM {table} a JOIN {table} b ON a.id < b.id AND a.{column} = b.{column} "  # noqa: S608 (fixed names)
                "AND a.status = ANY(%s) AND b.status = ANY(%s) "
                "AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)",
                [active, active],
            )
            found[column] = [(a, b) for a, b in cursor.fetchall()]
    return found


def access_log_statuses(log: Path) -> collections.Counter[int]:
    statuses: collections.Counter[int] = collections.Counter()
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if "request" in entry and isinstance(entry.get("status"), int):
                statuses[entry["status"]] += 1
    return statuses


def django_request_lines(log: Path) -> list[dict[str, Any]]:
    """The web processes' django.request lines (one per 4xx or 5xx answer)."""
    lines = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith('{"time"'):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("logger") == "django.request":
                lines.append(entry)
    return lines
