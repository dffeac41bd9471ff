"""Admin pieces shared by the apps: identity's and the registry's (the registry may import
identity, never the reverse)."""

from __future__ import annotations


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
