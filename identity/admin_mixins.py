"""Admin pieces shared by the identity app and the registry's apps (which may import identity,
never the reverse)."""

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
