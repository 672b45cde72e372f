from django.urls import path

from api.accounts.views import LogoutView, MeView, TokenListView, TokenObtainView, TokenRevokeView

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="auth-token"),
    path("auth/logout/", LogoutView.as_view(), name="auth-logout"),
    path("auth/me/", MeView.as_view(), name="auth-me"),
    path("auth/tokens/", TokenListView.as_view(), name="auth-tokens"),
    path("auth/tokens/<int:pk>/revoke/", TokenRevokeView.as_view(), name="auth-token-revoke"),
]
