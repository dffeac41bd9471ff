"""Roles: who the acting user is to the registry and to each office.

- registry administrator: a superuser, or a member of the group settings.REGISTRY_ADMIN_GROUP;
- office administrator / office officer: an `OfficeMembership` with that role;
- agent / applicant: the user of a Participant of that kind (`participant.user`).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied

from .models import OfficeMembership


def is_registry_admin(user) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    group = getattr(settings, "REGISTRY_ADMIN_GROUP", "registry-administrators")
    return user.groups.filter(name=group).exists()


def office_role(user, office) -> str | None:
    """ "admin", "officer" or None: the user's role at `office`."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return (
        OfficeMembership.objects.filter(user=user, office=office)
        .values_list("role", flat=True)
        .first()
    )


def offices_of(user, *, role: str | None = None):
    """The offices (Participants) the user is a member of (with that role, if given)."""
    from registry.participants.models import Participant

    if user is None or not getattr(user, "is_authenticated", False):
        return Participant.objects.none()
    memberships = OfficeMembership.objects.filter(user=user)
    if role:
        memberships = memberships.filter(role=role)
    return Participant.objects.filter(pk__in=memberships.values("office_id"))


def can_administer_office(user, office) -> bool:
    return is_registry_admin(user) or office_role(user, office) == OfficeMembership.Role.ADMIN


def require_registry_admin(user) -> None:
    if not is_registry_admin(user):
        raise PermissionDenied("Only a registry administrator may do this.")


def require_office_admin(user, office) -> None:
    if not can_administer_office(user, office):
        raise PermissionDenied(
            f"Only an administrator of {office.display_name} (or a registry administrator) "
            "may do this."
        )


def is_system_actor(actor) -> bool:
    """None or a label (management command, demo data, a task): trusted, no permission check.
    Any user object, including an anonymous one, is checked."""
    return actor is None or isinstance(actor, str)
