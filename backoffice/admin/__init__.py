"""The admin site over every app: one module per kind of record, each registering its models.

Django's admin finds this package (``backoffice.admin``); importing it registers them all. Every
ModelAdmin asks the access policy (``ketaminecare.access``) for its rows, fields and rights.
"""

from backoffice.admin import accounts, audit, clinic, courses, measures, patients, reminders, sessions

__all__ = ["accounts", "audit", "clinic", "courses", "measures", "patients", "reminders", "sessions"]
