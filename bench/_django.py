"""Configure Django when a benchmark runs as ``python -m bench.<name>`` (harmless when it already is)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaminecare.settings")
django.setup()
