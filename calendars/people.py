"""The people an answer of the calendar reader names: one ``Party`` each, however many rows name
them, and the initials a staff member's titles carry."""

from __future__ import annotations

from calendars.events import Party


class People:
    """One Party per chair, staff member and patient per answer: rows repeat the same people."""

    def __init__(self, *, initials: bool) -> None:
        self.initials = initials
        self.chairs: dict[int, Party] = {}
        self.staff: dict[int, Party] = {}
        # A patient and the title suffix staff see (their initials; nothing for a patient).
        self.patients: dict[int, tuple[Party, str]] = {}

    def patient(self, pk: int, first: str, last: str) -> tuple[Party, str]:
        entry = self.patients.get(pk)
        if entry is None:
            suffix = f" · {first[:1]}.{last[:1]}.".upper() if self.initials else ""
            entry = self.patients[pk] = (Party(pk, f"{first} {last}"), suffix)
        return entry

    def chair(self, pk: int, name: str) -> Party:
        party = self.chairs.get(pk)
        if party is None:
            party = self.chairs[pk] = Party(pk, name)
        return party

    def member(self, pk: int, name: str) -> Party:
        party = self.staff.get(pk)
        if party is None:
            party = self.staff[pk] = Party(pk, name)
        return party
