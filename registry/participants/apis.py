"""The public participant directory: offices and agents with their registry DIDs.

Read-only and unauthenticated. Applicants are never listed or disclosed: `kind=applicant` is
refused with 400, and an applicant's DID gets the same 404 as an unknown one.
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from identity.dids import did_web_url
from registry.api.errors import ApiError
from registry.api.throttles import ScopedRateThrottle

from .models import Participant
from .selectors import PUBLIC_KINDS, participant_directory_list, participant_public_get


class DirectoryErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    message = serializers.CharField()


class ParticipantLinksSerializer(serializers.Serializer):
    didDocument = serializers.URLField(help_text="The DID document (did:web mapping).")  # noqa: N815
    resolution = serializers.URLField(
        help_text="The DID resolution result from this registry's Universal Resolver API."
    )


def participant_links(participant: Participant) -> dict:
    did = participant.did.did
    return {
        "didDocument": did_web_url(did, scheme=settings.REGISTRY_SCHEME),
        # The DID goes into the path as is (":" and "%3A" kept), the Universal Resolver way.
        "resolution": f"{settings.REGISTRY_BASE_URL}/1.0/identifiers/{quote(did, safe=':%')}",
    }


class ParticipantOutputSerializer(serializers.Serializer):
    """One directory entry: an office or an agent."""

    did = serializers.CharField(source="did.did")
    kind = serializers.CharField(help_text="`office` or `agent`.")
    displayName = serializers.CharField(source="display_name")  # noqa: N815
    country = serializers.CharField(help_text="WIPO ST.3 code of the country or organisation.")
    st3Code = serializers.CharField(  # noqa: N815
        source="st3_code", allow_null=True, help_text="Offices only: the office's ST.3 code."
    )
    created = serializers.DateTimeField(source="created_at")
    deactivated = serializers.DateTimeField(
        source="did.deactivated_at",
        allow_null=True,
        help_text="When the participant's DID was deactivated; null while it is active.",
    )
    links = serializers.SerializerMethodField()

    @extend_schema_field(ParticipantLinksSerializer)
    def get_links(self, participant: Participant) -> dict:
        return participant_links(participant)


class DirectoryPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "pageSize"
    max_page_size = 200


class ParticipantListApi(GenericAPIView):
    """`GET /api/participants/`: the public directory."""

    cors_public = True  # registry.api.cors

    pagination_class = DirectoryPagination
    serializer_class = ParticipantOutputSerializer
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "public"

    class FilterSerializer(serializers.Serializer):
        kind = serializers.CharField(required=False, allow_blank=True)
        q = serializers.CharField(required=False, allow_blank=True, max_length=200)

    @extend_schema(
        operation_id="participants_list",
        summary="List offices and agents",
        description=(
            "Offices and agents with their registry DIDs, ordered by kind then name. "
            "`q` matches a display name (substring, case-insensitive) or an office's ST.3 code. "
            "Applicants are never listed: `kind=applicant` is refused with 400 `invalidInput`."
        ),
        parameters=[
            OpenApiParameter("kind", str, enum=["office", "agent"], description="Only this kind."),
            OpenApiParameter("q", str, description="Search text (at most 200 characters)."),
            OpenApiParameter("page", int, description="Page number, from 1."),
            OpenApiParameter(
                "pageSize", int, description="Entries per page (default 50, max 200)."
            ),
        ],
        responses={
            200: ParticipantOutputSerializer(many=True),
            400: DirectoryErrorSerializer,
            429: DirectoryErrorSerializer,
        },
        tags=["participants"],
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        if not filters.is_valid():
            raise ApiError("Invalid query parameters.", code="invalidInput", fields=filters.errors)
        kind = filters.validated_data.get("kind") or None
        if kind == Participant.Kind.APPLICANT:
            raise ApiError("Applicants are never listed publicly.", code="invalidInput")
        if kind is not None and kind not in PUBLIC_KINDS:
            raise ApiError("kind must be 'office' or 'agent'.", code="invalidInput")
        queryset = participant_directory_list(kind=kind, q=filters.validated_data.get("q"))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class ParticipantDetailApi(GenericAPIView):
    """`GET /api/participants/{did}/`: one office or agent."""

    cors_public = True  # registry.api.cors

    serializer_class = ParticipantOutputSerializer
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "public"

    @extend_schema(
        operation_id="participants_retrieve",
        summary="One office or agent, by registry DID",
        description=(
            "The DID goes in the path as is, e.g. "
            "`/api/participants/did:web:localhost%3A8000:offices:ep/` (the `%3A` of a port may "
            "arrive decoded; the registry maps it back). 404 for unknown DIDs and for applicants."
        ),
        parameters=[
            OpenApiParameter("did", str, OpenApiParameter.PATH, description="A registry DID.")
        ],
        responses={
            200: ParticipantOutputSerializer,
            404: DirectoryErrorSerializer,
            429: DirectoryErrorSerializer,
        },
        tags=["participants"],
    )
    def get(self, request: Request, did: str) -> Response:
        participant = participant_public_get(did=did)
        return Response(self.get_serializer(participant).data)
