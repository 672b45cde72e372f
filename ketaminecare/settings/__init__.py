"""Settings for KetamineCare, read from the environment (``DJANGO_SETTINGS_MODULE=ketaminecare.settings``).

They fail closed: DEBUG is off unless DEBUG=1 says otherwise, and a server without SECRET_KEY
refuses to start unless DEBUG is explicitly on (``bin/demo`` and ``bin/test`` set DEBUG=1).
Production sets DATABASE_URL, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS and TIME_ZONE.

One module per thing configured, composed here in this order:

- ``security``: DEBUG and SECRET_KEY first (the fail-closed check runs before anything else),
  hosts, request limits, the sign-in lockout, the Content-Security-Policy, the deploy hardening;
- ``base``: apps, middleware, templates, databases, the cache, authentication and API tokens,
  language and time zone, static files;
- ``clinic``: what patient-facing texts say about the clinic, and the booking grid;
- ``messaging``: Celery and its broker, the reminder sweep, SMS and email;
- ``api``: Django REST framework and the OpenAPI schema;
- ``logging``: the log format and handlers.

Each module reads its own environment variables and imports by name the few settings it builds
on (``environment`` holds BASE_DIR and the readers ``env_bool``/``env_list``). They are composed
with star imports because some settings exist only under a condition (the deploy hardening when
DEBUG is off, the filesystem broker's options without Redis): Django reads a settings module as
whatever upper-case names it holds, and a list of names imported one by one could not say
"this one, when it is there" without repeating every condition here.
"""

from ketaminecare.settings.security import *  # noqa: F403, I001 (security first: the SECRET_KEY check)
from ketaminecare.settings.base import *  # noqa: F403
from ketaminecare.settings.clinic import *  # noqa: F403
from ketaminecare.settings.messaging import *  # noqa: F403
from ketaminecare.settings.api import *  # noqa: F403
from ketaminecare.settings.logging import *  # noqa: F403
