"""`GET /audit/events`: the audit trail as JSON lines, for registry administrators (session
login). Filters: since, until (ISO 8601), action (exact, or a prefix ending in "."), office,
actor, target."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotAuthenticated
from rest_framework.views import APIView

from registry.api.errors import ApiError
from registry.trust.roles import require_registry_admin

from .selectors import audit_events_filter
from .services import audit_export_lines, audit_record


class AuditErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    message = serializers.CharField()


class AuditExportApi(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes: list = []

    @extend_schema(
        operation_id="audit_export",
        summary="Export audit events as JSON lines (registry administrators)",
        parameters=[
            OpenApiParameter("since", str, required=False),
            OpenApiParameter("until", str, required=False),
            OpenApiParameter("action", str, required=False),
            OpenApiParameter("office", str, required=False),
            OpenApiParameter("actor", str, required=False),
            OpenApiParameter("target", str, required=False),
        ],
        responses={
            (200, "application/x-ndjson"): OpenApiResponse(
                OpenApiTypes.STR, description="One JSON object per line, oldest first."
            ),
            400: AuditErrorSerializer,
            403: AuditErrorSerializer,
        },
        tags=["audit"],
    )
    def get(self, request):
        user = request.user
        if user is None or not user.is_authenticated:
            raise NotAuthenticated("Log in as a registry administrator.")
        require_registry_admin(user)
        filters = {}
        for name in ("since", "until"):
            raw = request.query_params.get(name)
            if raw:
                try:
                    value = parse_datetime(raw.replace(" ", "+")) if raw.isprintable() else None
                except ValueError:
                    value = None
                if value is None or value.tzinfo is None:
                    raise ApiError(f"{name} must be an ISO 8601 date-time with a time zone")
                filters[name] = value
        for name in ("action", "office", "actor", "target"):
            value = request.query_params.get(name)
            if value:
                if not value.isprintable() or len(value) > 500:
                    raise ApiError(f"{name} is not a valid filter value")
                filters[name] = value
        events = audit_events_filter(**filters)
        audit_record(
            actor=user,
            action="audit.export",
            target="audit",
            data={"filters": filters, "via": "api"},
            request=request,
        )
        return StreamingHttpResponse(
            audit_export_lines(events.iterator()), content_type="application/x-ndjson"
        )
