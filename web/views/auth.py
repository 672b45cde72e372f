"""Signing in and out by Django session, with the same lockout and throttle as the API."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from accounts.lockout import MSG_LOCKED, locked_out
from web.navigation import home_url
from web.pages import page


@method_decorator(page("sign_in"), name="dispatch")
class SignInView(auth_views.LoginView):
    """The front page. A locked account is told so (429) in the page's own words, never which of
    the name or the password was wrong."""

    template_name = "web/sign_in.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return home_url(self.request.user)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        if locked_out(self.request):
            return self.render_to_response(self.get_context_data(form=form, locked=MSG_LOCKED), status=429)
        return super().form_invalid(form)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(clinic_name=settings.CLINIC_NAME, **kwargs)


@require_POST
@page("sign_in")
def sign_out(request: HttpRequest) -> HttpResponseBase:
    return auth_views.LogoutView.as_view()(request)


@page("home")
def home(request: HttpRequest) -> HttpResponse:
    """Where a signed-in person starts: their role's page."""
    return HttpResponseRedirect(home_url(request.user))
