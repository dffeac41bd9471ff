"""Read-only admin views of the anchoring log: the log is append-only and written only by
`registry.anchoring.services`, so nothing here can add, change or delete a row. Registry
administrators view them."""

from django.contrib import admin

from identity.admin_mixins import ReadOnlyAdminMixin
from registry.trust.admin_mixins import RegistryAdminsMixin

from .models import AnchorReceipt, Checkpoint, LogLeaf


@admin.register(LogLeaf)
class LogLeafAdmin(RegistryAdminsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["index", "kind", "key", "leaf_hash", "created_at"]
    list_filter = ["kind"]
    search_fields = ["key", "leaf_hash"]
    ordering = ["-index"]


@admin.register(Checkpoint)
class CheckpointAdmin(RegistryAdminsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["tree_size", "root_hash", "signer_did_key", "created_at"]
    ordering = ["-tree_size"]


@admin.register(AnchorReceipt)
class AnchorReceiptAdmin(RegistryAdminsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["leaf", "backend", "receipt", "created_at"]
    list_filter = ["backend"]
