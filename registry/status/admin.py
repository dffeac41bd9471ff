"""Admin for status lists: read-only views, and revoke / suspend / reinstate actions that go
through `credential_status_change` (the same service as the API and the portal). For registry
administrators."""

from __future__ import annotations

from django.contrib import admin, messages

from identity.admin_mixins import ReadOnlyAdminMixin
from identity.errors import IdentityError
from registry.trust.admin_mixins import RegistryAdminsMixin

from .models import StatusChange, StatusEntry, StatusList, StatusListVersion
from .services import credential_status_change


@admin.register(StatusList)
class StatusListAdmin(RegistryAdminsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("public_id", "issuer", "purpose", "sequence", "size", "is_full", "created_at")
    list_filter = ("purpose", "is_full")
    search_fields = ("public_id", "issuer__did")


@admin.register(StatusListVersion)
class StatusListVersionAdmin(RegistryAdminsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "status_list",
        "version",
        "bits_set",
        "sha256",
        "anchor_leaf_index",
        "published_at",
    )
    search_fields = ("status_list__public_id", "sha256")
    exclude = ("body",)
    readonly_fields = list_display


@admin.register(StatusChange)
class StatusChangeAdmin(RegistryAdminsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("entry", "action", "from_state", "to_state", "actor", "at")
    list_filter = ("action",)
    search_fields = ("entry__credential_id", "actor")


def _change_action(action: str):
    def run(modeladmin, request, queryset):
        done = 0
        for entry in queryset.select_related("status_list__issuer"):
            try:
                result = credential_status_change(
                    issuer=entry.status_list.issuer,
                    credential_id=entry.credential_id,
                    action=action,
                    actor=request.user,
                    request=request,
                )
            except IdentityError as exc:
                modeladmin.message_user(request, f"{entry.credential_id}: {exc}", messages.ERROR)
            else:
                done += int(result.changed)
        modeladmin.message_user(request, f"{action}: {done} credential(s) changed")

    run.__name__ = f"{action}_selected"
    run.short_description = f"{action.capitalize()} the selected credentials"
    # Without it Django offers the action to anyone who may view the list.
    run.allowed_permissions = ("change",)
    return run


@admin.register(StatusEntry)
class StatusEntryAdmin(RegistryAdminsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("credential_id", "status_list", "index", "purpose", "state", "updated_at")
    list_filter = ("state", "purpose")
    search_fields = ("credential_id",)
    actions = [_change_action("revoke"), _change_action("suspend"), _change_action("reinstate")]
    # "change": the actions need it (registry administrators only; ReadOnlyAdminMixin refuses
    # everyone else); every field stays read-only (no form edits of state or index).
    admin_role_rights = ("view", "change")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def save_model(self, request, obj, form, change):
        # Nothing on the change page is editable, yet Django would write the whole row back as
        # read at the start of the request, undoing a status change made meanwhile. Status
        # changes go through the actions (credential_status_change) only.
        return
