"""What the sign-in endpoints do, beyond who may call them: logout and the browsable API's login."""

from __future__ import annotations

import pytest

from accounts.models import ApiToken
from tests.api.conftest import World

pytestmark = pytest.mark.django_db


def test_logout_revokes_the_token(world: World):
    client = world.client("front_desk")
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert not ApiToken.objects.filter(user=world.users["front_desk"], revoked_at__isnull=True).exists()
    assert client.get("/api/v1/sessions/").status_code == 401


def test_session_login_for_the_browsable_api(world: World):
    from rest_framework.test import APIClient

    client = APIClient()
    assert client.get("/api/auth/login/").status_code == 200
    client.force_login(world.users["front_desk"])
    assert client.get("/api/v1/sessions/", HTTP_ACCEPT="text/html").status_code == 200
