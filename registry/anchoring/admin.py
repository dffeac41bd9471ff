"""Read-only admin views of the anchoring log: the log is append-only and written only by
`registry.anchoring.services`, so nothing here can add, change or delete a row."""

from django.contrib import admin

from .models import AnchorReceipt, Checkpoint, LogLeaf


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LogLeaf)
class LogLeafAdmin(ReadOnlyAdmin):
    list_display = ["index", "kind", "key", "leaf_hash", "created_at"]
    list_filter = ["kind"]
    search_fields = ["key", "leaf_hash"]
    ordering = ["-index"]


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["tree_size", "root_hash", "signer_did_key", "created_at"]
    ordering = ["-tree_size"]


@admin.register(AnchorReceipt)
class AnchorReceiptAdmin(ReadOnlyAdmin):
    list_display = ["leaf", "backend", "receipt", "created_at"]
    list_filter = ["backend"]
