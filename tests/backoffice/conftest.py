# The API's small clinic, one login per role (tests/api/conftest.py).
from tests.api.conftest import _fast_passwords, _fresh_throttles, world

__all__ = ["_fast_passwords", "_fresh_throttles", "world"]
