"""Admin pieces for the registry's screens: `RegistryAdminsMixin` opens a screen to registry
administrators; `OfficeAdminsMixin` to office administrators as well (trust and API keys).
Writes go through the services, which check the actor again where the role matters."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from identity.admin_mixins import AdminRoleMixin, ReadOnlyAdminMixin
from registry.participants.models import Participant

from .models import OfficeMembership
from .roles import is_registry_admin, offices_of


def admin_offices(request):
    """The offices the requesting user administers."""
    return offices_of(request.user, role=OfficeMembership.Role.ADMIN)


def selectable_offices(request):
    """The offices the user may pick in a form: all for a registry administrator, else theirs."""
    if is_registry_admin(request.user):
        return Participant.objects.filter(kind=Participant.Kind.OFFICE)
    return admin_offices(request)


def refusal_text(exc: Exception) -> str:
    """A service's refusal as one line for an admin message."""
    return "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


class RegistryAdminsMixin(AdminRoleMixin):
    """Registry administrators (superusers, or members of REGISTRY_ADMIN_GROUP, who have no
    Django model permissions) may do here what `admin_role_rights` lists; others keep Django's
    permission checks (office administrators, staff without rights: none)."""

    def admin_role(self, user) -> bool:
        return is_registry_admin(user)


class OfficeAdminsMixin(ReadOnlyAdminMixin):
    """Open to registry administrators and office administrators (`get_queryset` narrows the
    latter to their offices' rows). Rows are added through a service in `save_model`, never
    changed or deleted here."""

    # The path from a row to the office it belongs to, for narrowing office administrators.
    office_lookup = "office"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if is_registry_admin(request.user):
            return qs
        return qs.filter(**{f"{self.office_lookup}__in": admin_offices(request)})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "office" and "queryset" not in kwargs:
            kwargs["queryset"] = selectable_offices(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request) -> bool:
        return is_registry_admin(request.user) or admin_offices(request).exists()

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def log_addition(self, request, obj, message):
        if obj.pk is not None:  # None: the service refused, save_model said why
            super().log_addition(request, obj, message)
