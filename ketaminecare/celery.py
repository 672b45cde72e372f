"""The Celery app: broker and every setting from Django's settings (the CELERY_* names).

Run one worker per machine or more, and exactly one scheduler (beat) for the whole service:
``celery -A ketaminecare worker`` and ``celery -A ketaminecare beat`` (see README.md).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaminecare.settings")

app = Celery("ketaminecare")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
