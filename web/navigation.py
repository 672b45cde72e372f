"""Where each role starts, and the pages a person's menu lists: the policy decides both."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from ketaminecare.access.operations import may
from ketaminecare.roles import Role, user_roles


@dataclass(frozen=True)
class Link:
    url_name: str
    label: str
    resource: str


# In the order a menu lists them; the first a person may open is their home page.
LINKS = (
    Link("web:desk", "Calendar", "web.desk"),
    Link("web:desk-today", "Today", "web.desk"),
    Link("web:chairs", "Chairs today", "web.chairs"),
    Link("web:board", "Window board", "web.board"),
    Link("web:me", "My treatment", "web.me"),
)
# Administrators keep the Django admin as their home.
ADMIN_HOME = "admin:index"


def links_for(user: Any) -> list[Link]:
    return [link for link in LINKS if may(user, f"{link.resource}.get")]


def home_url(user: Any) -> str:
    """The page ``user`` lands on after signing in (the sign-in page again if none is theirs)."""
    links = links_for(user)
    if links:
        return reverse(links[0].url_name)
    if Role.ADMINISTRATOR in user_roles(user):
        return reverse(ADMIN_HOME)
    return reverse("web:sign-in")


def menu(request: HttpRequest) -> dict[str, Any]:
    """Template context: the signed-in person's menu, each link marked when it is this page."""
    if not request.user.is_authenticated:
        return {"menu": []}
    here = request.resolver_match.view_name if request.resolver_match else ""
    items = [
        {"url": reverse(link.url_name), "label": link.label, "current": link.url_name == here}
        for link in links_for(request.user)
    ]
    if Role.ADMINISTRATOR in user_roles(request.user):
        items.append({"url": reverse(ADMIN_HOME), "label": "Administration", "current": False})
    return {"menu": items}
