"""Signing in for the API: obtain a token (throttled per client, locked per account), log out,
who am I, and the caller's own tokens (list, revoke)."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.lockout import AccountLocked, locked_out
from accounts.models import ApiToken
from accounts.services import token_issue, token_revoke
from api.accounts.serializers import ApiTokenSerializer
from ketaminecare.api.permissions import ActionRoles
from ketaminecare.api.schema import error_responses
from ketaminecare.api.serializers import StrictInputMixin
from ketaminecare.api.throttling import ClientAddressThrottle
from ketaminecare.roles import user_roles


class LoginSerializer(StrictInputMixin, AuthTokenSerializer):
    pass


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text='Send it as "Authorization: Token <token>".')
    expires_at = serializers.DateTimeField(help_text="The latest the token lives; it ends sooner when left idle.")
    idle_minutes = serializers.IntegerField(help_text="Unused for this long, the token ends.")


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    patient = serializers.IntegerField(allow_null=True, help_text="The patient record of a patient login.")
    staff_member = serializers.IntegerField(allow_null=True, help_text="The staff record of a staff login.")


class TokenObtainView(APIView):
    """Exchange a username and password for an API token.

    Throttled per client address (LOGIN_THROTTLE_RATE); an account with LOGIN_LOCKOUT_FAILURES
    failures in a row is locked for LOGIN_LOCKOUT_MINUTES whatever address it is tried from.
    """

    authentication_classes = ()
    permission_classes = (ActionRoles,)
    policy_resource = "auth.token"
    throttle_classes = (ClientAddressThrottle,)
    throttle_scope = "login"

    @extend_schema(
        operation_id="auth_token_obtain",
        request=LoginSerializer,
        responses={200: TokenSerializer, **error_responses(400, 429)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = LoginSerializer(data=request.data, context={"request": request})
        if not serializer.is_valid():
            if locked_out(request):
                raise AccountLocked()
            serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        # A sign-in like any other: axes clears the account's failures, last_login moves.
        user_logged_in.send(sender=type(user), request=request._request, user=user)
        issued = token_issue(user=user, user_agent=request.headers.get("User-Agent", ""))
        body = {
            "token": issued.key,
            "expires_at": issued.token.expires_at,
            "idle_minutes": settings.API_TOKEN_IDLE_MINUTES,
        }
        return Response(TokenSerializer(body).data)


class LogoutView(APIView):
    """Revoke the token this request was made with and end the caller's session."""

    permission_classes = (ActionRoles,)
    policy_resource = "auth.logout"

    @extend_schema(operation_id="auth_logout", request=None, responses={204: None, **error_responses(401)})
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, ApiToken):
            token_revoke(token_id=request.auth.pk, because=ApiToken.RevokedBecause.LOGOUT)
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """The caller: their roles and the patient or staff record they are."""

    permission_classes = (ActionRoles,)
    policy_resource = "auth.me"

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


def _own_live_tokens(request: Request) -> Any:
    return ApiToken.objects.filter(user=cast(Any, request.user), revoked_at__isnull=True)


class TokenListView(APIView):
    """The caller's own live tokens (never the secrets: only their first characters)."""

    permission_classes = (ActionRoles,)
    policy_resource = "auth.tokens"

    @extend_schema(operation_id="auth_tokens_list", responses={200: ApiTokenSerializer(many=True)})
    def get(self, request: Request) -> Response:
        now = timezone.now()
        live = [token for token in _own_live_tokens(request) if token.live_at(now)]
        return Response(ApiTokenSerializer(live, many=True, context={"request": request}).data)


class TokenRevokeView(APIView):
    """Revoke one of the caller's own tokens (another person's id answers 404)."""

    permission_classes = (ActionRoles,)
    policy_resource = "auth.token_revoke"

    @extend_schema(
        operation_id="auth_token_revoke",
        request=None,
        responses={204: None, **error_responses(401, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        token = get_object_or_404(ApiToken.objects.filter(user=cast(Any, request.user)).only("id"), pk=pk)
        token_revoke(token_id=token.pk, because=ApiToken.RevokedBecause.USER)
        return Response(status=status.HTTP_204_NO_CONTENT)
