"""Authentication endpoints: obtain a token (throttled), log out (token and session), who am I."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import logout
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from ketaminecare.api.schema import error_responses
from ketaminecare.api.serializers import StrictInputMixin
from ketaminecare.roles import user_roles


class LoginSerializer(StrictInputMixin, AuthTokenSerializer):
    pass


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text='Send it as "Authorization: Token <token>".')


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    patient = serializers.IntegerField(allow_null=True, help_text="The patient record of a patient login.")
    staff_member = serializers.IntegerField(allow_null=True, help_text="The staff record of a staff login.")


class TokenObtainView(ObtainAuthToken):
    """Exchange a username and password for an API token. Throttled per client address."""

    permission_classes = (AllowAny,)
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "login"
    serializer_class = LoginSerializer

    @extend_schema(
        operation_id="auth_token_obtain",
        request=LoginSerializer,
        responses={200: TokenSerializer, **error_responses(400, 429)},
        auth=[],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)


class LogoutView(APIView):
    """Revoke the caller's token and end their session."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(operation_id="auth_logout", request=None, responses={204: None, **error_responses(401)})
    def post(self, request: Request) -> Response:
        user: Any = request.user
        Token.objects.filter(user=user).delete()
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """The caller: their roles and the patient or staff record they are."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(operation_id="auth_me", responses={200: MeSerializer})
    def get(self, request: Request) -> Response:
        user: Any = request.user
        patient = getattr(user, "patient", None)
        staff = getattr(user, "staff_member", None)
        body = {
            "id": user.pk,
            "username": user.get_username(),
            "roles": sorted(user_roles(user)),
            "patient": patient.pk if patient else None,
            "staff_member": staff.pk if staff else None,
        }
        return Response(MeSerializer(body).data)
