"""Tokens end with the access they stood for: a new password or a closed account revokes them.

Every path that changes a password (the admin, ``set_password`` in code, ``changepassword``) or
deactivates a user ends in a save of the user, so the check sits on the save: the stored hash or
``is_active`` differs from what the row held before.

One change of the hash is not a new password: Django re-hashes a password with stronger
parameters when its owner signs in (``check_password``'s setter saves ``password`` alone, having
already forgotten the raw password). That save keeps the tokens: the password is the same.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import pre_save

from accounts.models import ApiToken
from accounts.roles import roles_ensure
from accounts.services import tokens_revoke_for_user

User = get_user_model()


def _rehash_at_sign_in(instance: Any, update_fields: Any) -> bool:
    # set_password() keeps the raw password in _password until the save; the re-hash at sign-in
    # has cleared it by then and saves the one field.
    return getattr(instance, "_password", None) is None and set(update_fields or ()) == {"password"}


def _revoke_on_credential_change(instance: Any, raw: bool = False, update_fields: Any = None, **_: Any) -> None:
    if raw or instance.pk is None or (update_fields is not None and not {"password", "is_active"} & set(update_fields)):
        return
    before = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if before is None:
        return
    because = None
    if before["is_active"] and not instance.is_active:
        because = ApiToken.RevokedBecause.DEACTIVATED
    elif before["password"] != instance.password and not _rehash_at_sign_in(instance, update_fields):
        because = ApiToken.RevokedBecause.PASSWORD_CHANGED
    if because is not None:
        # In the transaction of the user's own save, when it has one.
        tokens_revoke_for_user(user_id=instance.pk, because=because)


def roles_ensure_after_migrate(**_: Any) -> None:
    """After ``migrate``: the role groups, with what the access policy grants each (accounts/apps.py)."""
    roles_ensure()


pre_save.connect(_revoke_on_credential_change, sender=User, dispatch_uid="accounts.revoke_on_credential_change")
