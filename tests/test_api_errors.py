"""The one error shape, for errors raised before any view of ours runs."""

import pytest
from rest_framework.test import APIClient


@pytest.mark.django_db
def test_schema_is_served_to_a_signed_in_user_and_unknown_api_path_is_json_404():
    from tests.factories import UserFactory

    client = APIClient()
    assert client.get("/api/schema/").status_code == 401
    client.force_authenticate(UserFactory())
    assert client.get("/api/schema/").status_code == 200
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
