"""`GET /api/health` (liveness: the process answers; no database) and `GET /api/ready`
(readiness and the status pipeline's health, registry.health)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from registry.health import DOWN, STATUSES, health_report

from .views import PublicApi


class HealthApi(APIView):
    """The trivial endpoint: the benchmark baseline and a liveness probe (no database)."""

    cors_public = True  # registry.api.cors

    @extend_schema(
        operation_id="health",
        summary="Liveness",
        responses={200: inline_serializer("Health", fields={"status": serializers.CharField()})},
        tags=["health"],
    )
    def get(self, request):
        return Response({"status": "ok"})


class ReadinessCheckSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=STATUSES)
    detail = serializers.CharField()
    ms = serializers.FloatField(required=False, help_text="database: time to answer SELECT 1")
    shared = serializers.BooleanField(
        required=False, help_text="cache: whether every process shares it (Redis reachable)"
    )
    pending = serializers.IntegerField(
        required=False, help_text="statusPublishing: status changes not yet published"
    )
    oldestSeconds = serializers.FloatField(  # noqa: N815
        required=False, help_text="statusPublishing: how long the oldest of them has waited"
    )


class ReadinessSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=STATUSES, help_text="the worst of the checks")
    checks = serializers.DictField(
        child=ReadinessCheckSerializer(),
        help_text="database, cache, statusPublishing and signingKeys",
    )


class ReadinessApi(PublicApi):
    """Readiness and the status pipeline's health, for probes and monitoring: 200 while the
    database answers (`status` ok, or degraded: Redis unreachable, status changes waiting longer
    than HEALTH_PUBLISH_LAG_SECONDS), 503 while it does not."""

    throttle_scope = "public"

    @extend_schema(
        operation_id="readiness",
        summary="Readiness and publishing health",
        responses={200: ReadinessSerializer, 503: ReadinessSerializer},
        tags=["health"],
    )
    def get(self, request):
        report = health_report()
        return Response(
            report.as_dict(),
            status=503 if report.status == DOWN else 200,
            headers={"Cache-Control": "no-store"},
        )
