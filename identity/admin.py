"""Read-only admin for the DID engine.

Everything here is written only by `identity.services` (append-only history), so the admin
never adds, changes or deletes: it shows, to users with the view permission and to the role
`settings.IDENTITY_ADMIN_ROLE` names (the registry's administrators). Key material is shown only in its public forms (the
did:key and the multibase public key); the private key's ciphertext is never selected into a
form, a list or a page.
"""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html

from .admin_mixins import AdminRoleMixin, ReadOnlyAdminMixin, SecretFieldsAdminMixin
from .models import Did, DidDocumentVersion, DidKey, LinkedDid

# The public fields of a key; `private_key_ciphertext` is deliberately absent.
KEY_PUBLIC_FIELDS = (
    "did",
    "number",
    "did_key",
    "public_key_multibase",
    "master_key_id",
    "activated_at",
    "retired_at",
    "compromised_at",
)


class ReadOnlyAdmin(SecretFieldsAdminMixin, AdminRoleMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """View-only (for IDENTITY_ADMIN_ROLE too); the detail page shows `fields`, all read-only.
    No list filters on the private key, from any of these models."""

    secret_fields = ("private_key_ciphertext",)

    def get_readonly_fields(self, request, obj=None):
        return self.fields or ()


class ReadOnlyInline(AdminRoleMixin, ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True


class DidKeyInline(ReadOnlyInline):
    model = DidKey
    fields = ("number", "did_key", "activated_at", "retired_at", "compromised_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("private_key_ciphertext")


class LinkedDidInline(ReadOnlyInline):
    model = LinkedDid
    fields = ("linked_did", "linked_at", "unlinked_at")
    readonly_fields = fields


class DidDocumentVersionInline(ReadOnlyInline):
    model = DidDocumentVersion
    fields = ("version_id", "reason", "created_at", "deactivated")
    readonly_fields = fields
    ordering = ("-version_id",)


def _pretty_json(value) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False))


@admin.register(Did)
class DidAdmin(ReadOnlyAdmin):
    list_display = ("did", "created_at", "updated_at", "deactivated_at")
    list_filter = (("deactivated_at", admin.EmptyFieldListFilter),)
    search_fields = ("did", "keys__did_key")
    date_hierarchy = "created_at"
    fields = ("did", "path", "created_at", "updated_at", "deactivated_at", "services_json")
    inlines = (DidKeyInline, LinkedDidInline, DidDocumentVersionInline)

    @admin.display(description="services")
    def services_json(self, obj: Did) -> str:
        return _pretty_json(obj.services)

    def get_search_results(self, request, queryset, search_term):
        queryset, _ = super().get_search_results(request, queryset, search_term)
        return queryset.distinct(), False


@admin.register(DidKey)
class DidKeyAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__",
        "did_key",
        "activated_at",
        "retired_at",
        "compromised_at",
        "master_key_id",
    )
    list_filter = (
        ("retired_at", admin.EmptyFieldListFilter),
        ("compromised_at", admin.EmptyFieldListFilter),
        "master_key_id",
    )
    list_select_related = ("did",)
    search_fields = ("did_key", "did__did")
    fields = KEY_PUBLIC_FIELDS

    def get_queryset(self, request):
        # Never even load the ciphertext into admin pages.
        return super().get_queryset(request).defer("private_key_ciphertext")


@admin.register(DidDocumentVersion)
class DidDocumentVersionAdmin(ReadOnlyAdmin):
    list_display = ("did", "version_id", "reason", "created_at", "deactivated")
    list_filter = ("reason", "deactivated")
    list_select_related = ("did",)
    search_fields = ("did__did",)
    date_hierarchy = "created_at"
    fields = ("did", "version_id", "reason", "created_at", "deactivated", "document_json")

    @admin.display(description="document")
    def document_json(self, obj: DidDocumentVersion) -> str:
        return _pretty_json(obj.document)


@admin.register(LinkedDid)
class LinkedDidAdmin(ReadOnlyAdmin):
    list_display = ("linked_did_short", "did", "linked_at", "unlinked_at")
    list_select_related = ("did",)
    search_fields = ("linked_did", "did__did")
    fields = ("did", "linked_did", "linked_at", "unlinked_at")

    @admin.display(description="wallet DID")
    def linked_did_short(self, obj: LinkedDid) -> str:
        return obj.linked_did if len(obj.linked_did) <= 80 else obj.linked_did[:77] + "..."
