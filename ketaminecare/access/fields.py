"""The private fields of each kind of record: who may see them, whatever the face that shows them.

A field listed here is shown only to the roles named beside it; every other field of a record is
shown to whoever may see the record at all. The API's serializers, the calendar and the admin ask
``hidden_fields`` and drop what it returns, so the front desk reads no dose, note or hold reason
through any of them.
"""

from __future__ import annotations

from typing import Any

from ketaminecare.access.labels import SCREENING, SESSION
from ketaminecare.roles import Role, user_roles

CLINICAL = frozenset({Role.CLINICIAN, Role.ADMINISTRATOR})

# Record label -> {field: the roles that see it}.
PRIVATE_FIELDS: dict[str, dict[str, frozenset[str]]] = {
    # What happened in the chair, and why a dose was held back, is the clinicians' record.
    SESSION: {"dose_mg": CLINICAL, "clinical_notes": CLINICAL, "hold_reason": CLINICAL},
    # The front desk books on the outcome; what was found and noted is clinical.
    SCREENING: {"notes": CLINICAL, "contraindications_checked": CLINICAL, "contraindications_found": CLINICAL},
}


def hidden_for_roles(roles: set[str], label: str) -> frozenset[str]:
    """The fields of ``label`` records that someone holding ``roles`` may not see."""
    return frozenset(name for name, seen_by in PRIVATE_FIELDS.get(label, {}).items() if not roles & seen_by)


def hidden_fields(user: Any, label: str) -> frozenset[str]:
    """The fields of ``label`` records that ``user`` may not see (every private one when signed out)."""
    return hidden_for_roles(user_roles(user), label)


__all__ = ["CLINICAL", "PRIVATE_FIELDS", "SCREENING", "SESSION", "hidden_fields", "hidden_for_roles"]
