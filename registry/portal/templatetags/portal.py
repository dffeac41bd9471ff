from django import template
from django.utils.translation import gettext_lazy as _

from registry.portal import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def portal_roles(context) -> dict:
    """What the navigation offers the current user."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"authenticated": False}
    return {
        "authenticated": True,
        "participant": selectors.participant_of(user),
        "officer": selectors.officer_offices(user).exists(),
        "admin": selectors.is_registry_admin(user) or selectors.is_office_admin(user),
    }


@register.filter
def short_did(value: str, length: int = 48) -> str:
    value = str(value or "")
    return value if len(value) <= length else value[: length - 12] + "…" + value[-10:]


_VERSION_REASONS = {
    "created": _("created"),
    "key-rotated": _("key rotated"),
    "wallet-linked": _("wallet linked"),
    "service-added": _("service added"),
    "service-removed": _("service removed"),
    "deactivated": _("deactivated"),
}


@register.filter
def version_reason(value: str) -> str:
    """A DID document version's reason code, in the user's language."""
    return _VERSION_REASONS.get(value, value)
