"""Base classes for the registry's API views."""

from __future__ import annotations

from rest_framework.views import APIView

from .throttles import ScopedRateThrottle


# No docstring: drf-spectacular would describe every subclass without one with it.
class PublicApi(APIView):
    # For anyone: no authentication, no permission check (stated here, not left to the
    # defaults), throttled per client under the subclass's `throttle_scope`.
    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    # Readable from any web origin (registry.api.cors).
    cors_public = True
