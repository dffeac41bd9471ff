"""Status API: `POST /credentials/status` (VC API updateStatus) and the public status lists.

`POST /credentials/status` takes the VC API shape

    {"credentialId": "urn:uuid:...",
     "credentialStatus": [{"type": "StatusList2021Credential", "status": "revoked"}],
     "reason": "optional free text"}

with exactly one status item; `status` is `revoked`, `suspended` or `active` (`reinstated` is
accepted as a synonym of `active`); `type`, when given, must name a status list type we support.
Offices authenticate with an API key having the `revoke` scope and act on their own credentials
only (another office's credential is a 404, like an unknown one).
"""

from __future__ import annotations

from django.http import Http404, HttpResponse, HttpResponseNotModified
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from registry.api.authentication import ApiKeyAuthentication
from registry.api.permissions import HasApiKeyScope
from registry.api.views import PublicApi

from .models import StatusListVersion
from .services import (
    credential_status_change,
    status_list_current_version,
    status_list_version_get,
)

CACHE_CONTROL = "public, max-age=300"  # the spec's default time to live
LIST_MEDIA_TYPE = "application/json"
SUPPORTED_TYPES = ("StatusList2021Credential", "StatusList2021Entry", "StatusList2021")
STATUS_TO_ACTION = {
    "revoked": "revoke",
    "suspended": "suspend",
    "active": "reinstate",
    "reinstated": "reinstate",
}
STATUS_VALUES = tuple(STATUS_TO_ACTION)


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    message = serializers.CharField()


class StatusItemSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=SUPPORTED_TYPES, required=False)
    status = serializers.ChoiceField(choices=STATUS_VALUES)


class StatusUpdateInputSerializer(serializers.Serializer):
    credentialId = serializers.CharField(max_length=300)  # noqa: N815
    credentialStatus = serializers.ListField(  # noqa: N815
        child=StatusItemSerializer(), min_length=1, max_length=1
    )
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)

    def validate(self, attrs):
        unknown = (
            set(self.initial_data) - set(self.fields)
            if isinstance(self.initial_data, dict)
            else set()
        )
        if unknown:
            raise serializers.ValidationError(f"unknown fields: {', '.join(sorted(unknown))}")
        return attrs


class StatusUpdateOutputSerializer(serializers.Serializer):
    credentialId = serializers.CharField()  # noqa: N815
    status = serializers.CharField(
        help_text="The credential's status now: active, suspended or revoked."
    )
    statusPurpose = serializers.CharField(help_text="revocation or suspension.")  # noqa: N815
    changed = serializers.BooleanField(
        help_text="False when the credential already had this status (nothing was published)."
    )
    statusListCredential = serializers.URLField()  # noqa: N815


class CredentialStatusUpdateApi(APIView):
    """`POST /credentials/status`: revoke, suspend or reinstate one of the office's credentials.

    The change is committed at once; the new list version is signed, published and anchored by a
    worker right after (or by the periodic sweep if the queue is unavailable).
    """

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKeyScope]
    required_scope = "revoke"

    @extend_schema(
        operation_id="credentials_status_update",
        summary="Update the status of a credential (VC API updateStatus)",
        request=StatusUpdateInputSerializer,
        responses={
            200: StatusUpdateOutputSerializer,
            400: ErrorSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
        },
        examples=[
            OpenApiExample(
                "Revoke",
                request_only=True,
                value={
                    "credentialId": "urn:uuid:8f3c0c9e-0d43-4bd2-a1e4-0c3c6b9e1f10",
                    "credentialStatus": [{"type": "StatusList2021Credential", "status": "revoked"}],
                },
            )
        ],
        tags=["status"],
    )
    def post(self, request: Request) -> Response:
        serializer = StatusUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = credential_status_change(
            issuer=request.auth.office,
            credential_id=data["credentialId"],
            action=STATUS_TO_ACTION[data["credentialStatus"][0]["status"]],
            reason=data.get("reason"),
            actor=request.auth,
            request=request,
        )
        entry = result.entry
        return Response(
            StatusUpdateOutputSerializer(
                {
                    "credentialId": entry.credential_id,
                    "status": entry.state,
                    "statusPurpose": entry.purpose,
                    "changed": result.changed,
                    "statusListCredential": entry.status_list.url,
                }
            ).data
        )


def _list_response(request, version: StatusListVersion) -> HttpResponse:
    etag = version.etag
    if_none_match = request.headers.get("If-None-Match", "")
    if (
        etag in [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        or if_none_match.strip() == "*"
    ):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(version.body, content_type=LIST_MEDIA_TYPE)
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    return response


_LIST_RESPONSES = {
    200: OpenApiResponse(OpenApiTypes.OBJECT, description="The signed StatusList2021Credential."),
    304: OpenApiResponse(description="Not modified (If-None-Match matched the ETag)."),
    404: ErrorSerializer,
}


class StatusListApi(PublicApi):
    """`GET /status-lists/{id}`: the current signed list credential (public), with ETag."""

    throttle_scope = "public"

    @extend_schema(
        operation_id="status_list_get",
        summary="The current StatusList2021Credential of a status list",
        responses=_LIST_RESPONSES,
        tags=["status"],
    )
    def get(self, request: Request, list_id: str) -> HttpResponse:
        version = status_list_current_version(list_id)
        if version is None:
            raise Http404("No such status list.")
        return _list_response(request, version)


class StatusListVersionApi(PublicApi):
    """`GET /status-lists/{id}/versions/{n}`: a past published version, byte for byte as it was
    anchored (so anyone can hash it and check its inclusion in the log)."""

    throttle_scope = "public"

    @extend_schema(
        operation_id="status_list_version_get",
        summary="A published version of a status list, as anchored",
        responses=_LIST_RESPONSES,
        tags=["status"],
    )
    def get(self, request: Request, list_id: str, version: int) -> HttpResponse:
        row = status_list_version_get(list_id, version)
        if row is None:
            raise Http404("No such status list version.")
        return _list_response(request, row)
