# Load the Celery app with Django, so that shared tasks bind to it and delay_on_commit works.
from ketaminecare.celery import app as celery_app

__all__ = ("celery_app",)
