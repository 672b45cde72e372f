"""The product's settings with the benchmarks' URLconf (bench/urls.py: one constant view more).

For the benchmarks' gunicorn only: ``DJANGO_SETTINGS_MODULE=bench.settings``.
"""

from ketaminecare.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
