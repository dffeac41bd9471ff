"""The audit trail in the admin: read-only, filterable, exportable as JSON lines. Registry
administrators only (superusers, or the REGISTRY_ADMIN_GROUP group)."""

from __future__ import annotations

from django.contrib import admin
from django.http import StreamingHttpResponse

from identity.admin_mixins import ReadOnlyAdminMixin
from registry.trust.roles import is_registry_admin

from .models import AuditEvent
from .services import audit_export_lines, audit_record


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "actor_type", "actor_label", "office", "action", "target", "ip")
    list_filter = ("action", "actor_type", "office", "created_at")
    search_fields = ("actor_label", "target", "action", "ip")
    date_hierarchy = "created_at"
    actions = ["export_json_lines"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_module_permission(self, request):
        return is_registry_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return is_registry_admin(request.user)

    @admin.action(description="Export selected events as JSON lines")
    def export_json_lines(self, request, queryset):
        if not is_registry_admin(request.user):  # belt and braces: the changelist checks it
            return None
        events = queryset.order_by("created_at", "id")
        audit_record(
            actor=request.user,
            action="audit.export",
            target="audit",
            data={"count": events.count(), "via": "admin"},
            request=request,
        )
        response = StreamingHttpResponse(
            audit_export_lines(events.iterator()), content_type="application/x-ndjson"
        )
        response["Content-Disposition"] = 'attachment; filename="audit.jsonl"'
        return response
