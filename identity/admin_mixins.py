"""Admin pieces shared by the apps: identity's and the registry's (the registry may import
identity, never the reverse)."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string


class AdminRoleMixin:
    """Opens a screen to the administrators of the project using identity, who need no Django
    model permissions: they may do what `admin_role_rights` lists ("view", "add", "change",
    "delete"); anyone else keeps Django's permission checks. Put it before ReadOnlyAdminMixin
    (whose refusals then still bind everyone for the rights not listed).

    Who the administrators are is `admin_role(user)`: here the function named by
    `settings.IDENTITY_ADMIN_ROLE` (a dotted path; unset, nobody), since identity cannot import
    the project that uses it; the registry's screens override it."""

    admin_role_rights: tuple[str, ...] = ("view",)

    def admin_role(self, user) -> bool:
        path = getattr(settings, "IDENTITY_ADMIN_ROLE", "")
        return bool(path) and import_string(path)(user)

    def _admin_role_allows(self, request, right: str) -> bool:
        if right not in self.admin_role_rights:
            return False
        # Asked several times for every screen on each admin page: once per request is enough.
        known = request.__dict__.setdefault("_admin_role", {})
        check = type(self).admin_role
        if check not in known:
            known[check] = self.admin_role(request.user)
        return known[check]

    def has_module_permission(self, request) -> bool:
        return self._admin_role_allows(request, "view") or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._admin_role_allows(request, "view") or super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args) -> bool:  # an inline's takes `obj` as well
        return self._admin_role_allows(request, "add") or super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._admin_role_allows(request, "change") or super().has_change_permission(
            request, obj
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._admin_role_allows(request, "delete") or super().has_delete_permission(
            request, obj
        )


class ReadOnlyAdminMixin:
    """No add, change or delete, whatever the user's permissions: these rows are written by
    services only. For a ModelAdmin or an inline; Django then also drops the delete action."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AddFormMixin:
    """The add page shows `add_form` (which creates the row through a service) with its
    `add_fields`; a row's own page shows its `readonly_fields`, all read-only."""

    add_form: type
    add_fields: tuple[str, ...] | list[str]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return self.add_fields if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields


class NoSaveOnChangeMixin:
    """For rows the add form creates through a service: their change page only shows them (no
    save buttons); any later change goes through an action or a service."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)


class SecretFieldsAdminMixin:
    """Refuse query-string lookups on `secret_fields` (`?field__startswith=...`): Django allows
    them on any local field, and a list that answers "found" or "not found" reads a secret one
    character at a time. A refused lookup is a 400 (DisallowedModelAdminLookup)."""

    secret_fields: tuple[str, ...] = ()

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        if any(part in self.secret_fields for part in lookup.split("__")):
            return False
        return super().lookup_allowed(lookup, value, request)
