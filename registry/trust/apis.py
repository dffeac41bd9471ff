"""Trust registry HTTP API.

Public queries (Trust over IP Trust Registry Query Protocol in spirit), throttled as "trust":
    GET /trust/authorization?entity_id=&action=issue&resource=<type>[&time=]
    GET /trust/accreditations?entity_id=            which authority accredited X?
    GET /trust/issuers[?resource=<type>][&time=]    trusted issuers with their types and DIDs

Administration (session login; registry administrators and office administrators, each for
what is theirs; refusals are 401/403/404 with a clear error):
    POST /trust/accreditations                      grant (root: registry admin; delegated: parent's office admin)
    POST /trust/accreditations/{id}/suspend|reinstate|withdraw
    GET|POST /trust/offices/{st3}/members,  DELETE /trust/offices/{st3}/members/{username}
    GET|POST /trust/offices/{st3}/api-keys, POST /trust/api-keys/{prefix}/revoke|rotate
    POST /trust/offices/{st3}/signing-key/rotate,  POST /trust/keys/compromised
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from identity.dids import registry_did
from registry.api.errors import ApiError
from registry.api.models import API_KEY_SCOPES, ApiKey
from registry.api.services import api_key_create, api_key_get, api_key_revoke, api_key_rotate
from registry.api.views import PublicApi

from .models import IssuerAccreditation, OfficeMembership
from .roles import require_office_admin
from .selectors import trust_entity_get
from .services import (
    accreditation_as_dict,
    accreditation_check,
    accreditation_check_at_issuance,
    accreditation_grant,
    accreditation_reinstate,
    accreditation_suspend,
    accreditation_withdraw,
    issuer_key_mark_compromised,
    office_get,
    office_member_add,
    office_member_remove,
    office_signing_key_rotate,
    trusted_issuers,
)

# ---------------------------------------------------------------------------------------------
# Serializers (output shapes, for the OpenAPI schema)


class TrustErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    message = serializers.CharField()


class AccreditationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    issuer = serializers.CharField(help_text="The accredited issuer's registry DID.")
    issuer_name = serializers.CharField()
    issuer_kind = serializers.CharField()
    st3_code = serializers.CharField(allow_null=True)
    credential_types = serializers.ListField(child=serializers.CharField())
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField(allow_null=True)
    accredited_by = serializers.CharField(
        help_text="The DID of the authority that granted it: the registry, or the parent issuer."
    )
    parent = serializers.IntegerField(allow_null=True)
    depth = serializers.IntegerField(help_text="0 for accreditations granted by the registry.")
    status = serializers.CharField(
        help_text="Its own state now (not its parents'): active, pending, expired, suspended "
        "or withdrawn."
    )
    suspended_at = serializers.DateTimeField(allow_null=True)
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    credential_id = serializers.CharField(
        allow_null=True, help_text="The IPOfficeAccreditationCredential attesting it."
    )


class KeyOwnershipSerializer(serializers.Serializer):
    did_key = serializers.CharField()
    controller = serializers.CharField()
    active_from = serializers.DateTimeField()
    active_until = serializers.DateTimeField(allow_null=True)
    compromised_since = serializers.DateTimeField(allow_null=True)


class AuthorizationSerializer(serializers.Serializer):
    entity_id = serializers.CharField()
    action = serializers.CharField()
    resource = serializers.CharField()
    time = serializers.DateTimeField()
    authorized = serializers.BooleanField()
    code = serializers.CharField(
        help_text="accredited, notAccredited, notRegistered, pending, expired, suspended, "
        "withdrawn, parentNotAuthorized, keyNotActive or keyCompromised."
    )
    reason = serializers.CharField()
    issuer = serializers.CharField(allow_null=True, help_text="The entity's registry DID.")
    issuer_name = serializers.CharField(allow_null=True)
    ended_at = serializers.DateTimeField(
        allow_null=True, help_text="When the authorising accreditation ended since, if it has."
    )
    key = KeyOwnershipSerializer(allow_null=True)
    chain = AccreditationSerializer(many=True, help_text="From the entity's up to the root.")
    root = serializers.CharField(help_text="The registry's DID: the root of every chain.")


class AccreditationWithChainSerializer(AccreditationSerializer):
    chain = AccreditationSerializer(many=True)


class AccreditationsOfSerializer(serializers.Serializer):
    entity_id = serializers.CharField()
    issuer = serializers.CharField()
    issuer_name = serializers.CharField()
    root = serializers.CharField()
    accreditations = AccreditationWithChainSerializer(many=True)


class TrustedIssuerSerializer(serializers.Serializer):
    issuer = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    st3_code = serializers.CharField(allow_null=True)
    credential_types = serializers.ListField(child=serializers.CharField())
    accreditations = serializers.ListField(child=serializers.IntegerField())


class TrustedIssuersSerializer(serializers.Serializer):
    root = serializers.CharField()
    time = serializers.DateTimeField()
    issuers = TrustedIssuerSerializer(many=True)


ERRORS = {
    400: OpenApiResponse(TrustErrorSerializer, description="Invalid parameters."),
    404: OpenApiResponse(TrustErrorSerializer, description="Not found."),
    429: OpenApiResponse(TrustErrorSerializer, description="Rate limited (see Retry-After)."),
}


def _parse_iso(raw: str):
    try:
        return parse_datetime(raw) if raw.isprintable() and len(raw) < 64 else None
    except ValueError:  # well formed but impossible, e.g. month 13
        return None


def _time_param(request) -> timezone.datetime:
    raw = request.query_params.get("time")
    if not raw:
        return timezone.now()
    value = _parse_iso(raw.replace(" ", "+"))  # a "+" left unencoded arrives as a space
    if value is None or value.tzinfo is None:
        raise ApiError(
            "time must be an ISO 8601 date-time with a time zone (e.g. 2026-01-31T12:00:00Z)",
            code="invalidTime",
        )
    return value


def _entity(request):
    entity_id = request.query_params.get("entity_id", "")
    if not entity_id:
        raise ApiError("entity_id is required (a DID or did:key)", code="invalidInput")
    return trust_entity_get(entity_id)


class PublicTrustApi(PublicApi):
    throttle_scope = "trust"


class TrustAuthorizationApi(PublicTrustApi):
    @extend_schema(
        operation_id="trust_authorization",
        summary="Is this entity authorised to issue this credential type (at this time)?",
        parameters=[
            OpenApiParameter("entity_id", str, required=True, description="A DID or did:key"),
            OpenApiParameter("action", str, required=True, enum=["issue"]),
            OpenApiParameter("resource", str, required=True, description="A credential type"),
            OpenApiParameter("time", str, required=False, description="ISO 8601; default now"),
        ],
        responses={200: AuthorizationSerializer, **ERRORS},
        tags=["trust"],
    )
    def get(self, request):
        action = request.query_params.get("action", "")
        resource = request.query_params.get("resource", "")
        if action != "issue":
            raise ApiError(
                "action must be 'issue' (the only action this registry governs)",
                code="unsupportedAction",
            )
        if not resource:
            raise ApiError("resource (a credential type) is required", code="invalidInput")
        at = _time_param(request)
        entity = _entity(request)
        body = {
            "entity_id": entity.entity_id,
            "action": action,
            "resource": resource,
            "time": at,
            "issuer": None,
            "issuer_name": None,
            "ended_at": None,
            "key": None,
            "chain": [],
            "root": registry_did(),
        }
        if entity.participant is None:
            return Response(
                body
                | {
                    "authorized": False,
                    "code": "notRegistered",
                    "reason": "This entity is not a registered issuer of this registry.",
                }
            )
        participant = entity.participant
        body |= {"issuer": participant.did.did, "issuer_name": participant.display_name}
        # A time in whole seconds is read as a credential's issuanceDate (its precision) and
        # judged as verification judges one: at some instant of that second.
        whole_second = bool(request.query_params.get("time")) and at.microsecond == 0
        if whole_second:
            verdict = accreditation_check_at_issuance(
                issuer=participant, credential_type=resource, issuance_date=at
            )
        else:
            verdict = accreditation_check(issuer=participant, credential_type=resource, at=at)
        body |= {
            "authorized": verdict.authorized,
            "code": verdict.code,
            "reason": verdict.reason,
            "ended_at": verdict.ended_at,
            "chain": verdict.chain,
        }
        key = entity.key
        if key is not None:
            body["key"] = {
                "did_key": key.did_key,
                "controller": key.controller,
                "active_from": key.active_from,
                "active_until": key.active_until,
                "compromised_since": key.compromised_since,
            }
            if key.compromised_since is not None and at >= key.compromised_since:
                body |= {
                    "authorized": False,
                    "code": "keyCompromised",
                    "reason": f"This key is compromised since {key.compromised_since.isoformat()}.",
                }
            elif not (key.active_at_issuance(at) if whole_second else key.active_at(at)):
                body |= {
                    "authorized": False,
                    "code": "keyNotActive",
                    "reason": f"This key was not an active key of {participant.display_name} "
                    "at that time.",
                }
        return Response(AuthorizationSerializer(body).data)


class TrustAccreditationsApi(PublicTrustApi):
    @extend_schema(
        operation_id="trust_accreditations_of",
        summary="Which authority accredited this entity, for what, and when?",
        parameters=[
            OpenApiParameter("entity_id", str, required=True, description="A DID or did:key")
        ],
        responses={200: AccreditationsOfSerializer, **ERRORS},
        tags=["trust"],
    )
    def get(self, request):
        entity = _entity(request)
        if entity.participant is None:
            raise Http404("This entity is not a registered issuer of this registry.")
        now = timezone.now()
        accreditations = []
        for acc in IssuerAccreditation.objects.select_related(
            "office__did", "parent__office__did"
        ).filter(office=entity.participant):
            chain, link = [], acc
            while link is not None:
                chain.append(accreditation_as_dict(link, at=now))
                link = link.parent
            accreditations.append(accreditation_as_dict(acc, at=now) | {"chain": chain})
        body = {
            "entity_id": entity.entity_id,
            "issuer": entity.participant.did.did,
            "issuer_name": entity.participant.display_name,
            "root": registry_did(),
            "accreditations": accreditations,
        }
        return Response(AccreditationsOfSerializer(body).data)


class TrustedIssuersApi(PublicTrustApi):
    @extend_schema(
        operation_id="trust_issuers",
        summary="Trusted issuers (whole chain active) with their credential types and DIDs",
        parameters=[
            OpenApiParameter("resource", str, required=False, description="Only this type"),
            OpenApiParameter("time", str, required=False, description="ISO 8601; default now"),
        ],
        responses={200: TrustedIssuersSerializer, **ERRORS},
        tags=["trust"],
    )
    def get(self, request):
        at = _time_param(request)
        issuers = trusted_issuers(at=at)
        resource = request.query_params.get("resource")
        if resource:
            issuers = [i for i in issuers if resource in i["credential_types"]]
        body = {"root": registry_did(), "time": at, "issuers": issuers}
        return Response(TrustedIssuersSerializer(body).data)


# ---------------------------------------------------------------------------------------------
# Administration


class IsLoggedIn(BasePermission):
    message = "Log in first (session authentication)."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user is not None and user.is_authenticated and user.is_active)


class AdminApi(APIView):
    """Session-authenticated writes; the services check who may do what."""

    # A service's ValidationError needs no handling in the views: registry.api.errors answers
    # it with 400 invalidInput.
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsLoggedIn]


def _errors(*statuses: int) -> dict:
    return dict.fromkeys(statuses, TrustErrorSerializer)


def _office_administered(request, st3: str):
    """The office with this ST.3 code, if the user administers it (else 404/403)."""
    office = office_get(st3_code=st3)
    require_office_admin(request.user, office)
    return office


class AccreditationGrantApi(AdminApi):
    class AccreditationGrantInputSerializer(serializers.Serializer):
        entity_id = serializers.CharField(help_text="The issuer's registry DID.")
        credential_types = serializers.ListField(child=serializers.CharField(), min_length=1)
        valid_from = serializers.DateTimeField(required=False, allow_null=True)
        valid_until = serializers.DateTimeField(required=False, allow_null=True)
        parent = serializers.IntegerField(
            required=False, allow_null=True, help_text="The parent accreditation (delegation)."
        )

    @extend_schema(
        operation_id="trust_accreditation_grant",
        request=AccreditationGrantInputSerializer,
        responses={201: AccreditationSerializer, **_errors(400, 403, 404)},
        tags=["trust-admin"],
    )
    def post(self, request):
        data = self.AccreditationGrantInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entity = trust_entity_get(data.validated_data["entity_id"])
        if entity.participant is None:
            raise Http404("No such participant (offices, agents or organisations only).")
        parent = None
        if data.validated_data.get("parent"):
            parent = IssuerAccreditation.objects.filter(pk=data.validated_data["parent"]).first()
            if parent is None:
                raise Http404("No such parent accreditation.")
        acc = accreditation_grant(
            office=entity.participant,
            credential_types=data.validated_data["credential_types"],
            valid_from=data.validated_data.get("valid_from"),
            valid_until=data.validated_data.get("valid_until"),
            parent=parent,
            actor=request.user,
            request=request,
        )
        return Response(accreditation_as_dict(acc), status=status.HTTP_201_CREATED)


def _accreditation(pk) -> IssuerAccreditation:
    acc = (
        IssuerAccreditation.objects.select_related("office__did", "parent__office")
        .filter(pk=pk)
        .first()
    )
    if acc is None:
        raise Http404("No such accreditation.")
    return acc


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200)


class AccreditationSuspendApi(AdminApi):
    @extend_schema(
        operation_id="trust_accreditation_suspend",
        request=ReasonSerializer,
        responses={200: AccreditationSerializer, **_errors(400, 403, 404)},
        tags=["trust-admin"],
    )
    def post(self, request, pk: int):
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        acc = accreditation_suspend(
            accreditation=_accreditation(pk),
            reason=body.validated_data.get("reason", ""),
            actor=request.user,
            request=request,
        )
        return Response(accreditation_as_dict(acc))


class AccreditationReinstateApi(AdminApi):
    @extend_schema(
        operation_id="trust_accreditation_reinstate",
        request=None,
        responses={200: AccreditationSerializer, **_errors(400, 403, 404)},
        tags=["trust-admin"],
    )
    def post(self, request, pk: int):
        acc = accreditation_reinstate(
            accreditation=_accreditation(pk), actor=request.user, request=request
        )
        return Response(accreditation_as_dict(acc))


class WithdrawnSerializer(serializers.Serializer):
    withdrawn = AccreditationSerializer(many=True)


class AccreditationWithdrawApi(AdminApi):
    @extend_schema(
        operation_id="trust_accreditation_withdraw",
        request=ReasonSerializer,
        responses={200: WithdrawnSerializer, **_errors(403, 404)},
        tags=["trust-admin"],
    )
    def post(self, request, pk: int):
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        withdrawn = accreditation_withdraw(
            accreditation=_accreditation(pk),
            reason=body.validated_data.get("reason", ""),
            actor=request.user,
            request=request,
        )
        return Response({"withdrawn": [accreditation_as_dict(a) for a in withdrawn]})


# --- office members ---------------------------------------------------------------------------


class MemberSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    role = serializers.ChoiceField(choices=OfficeMembership.Role.choices)
    office = serializers.CharField(source="office.st3_code")
    created_at = serializers.DateTimeField()


class MemberListSerializer(serializers.Serializer):
    members = MemberSerializer(many=True)


class OfficeMembersApi(AdminApi):
    class OfficeMembersInputSerializer(serializers.Serializer):
        username = serializers.CharField()
        role = serializers.ChoiceField(choices=OfficeMembership.Role.choices)

    @extend_schema(
        operation_id="trust_office_members_list",
        responses={200: MemberListSerializer, **_errors(403, 404)},
        tags=["trust-admin"],
    )
    def get(self, request, st3: str):
        office = _office_administered(request, st3)
        members = OfficeMembership.objects.select_related("user", "office").filter(office=office)
        return Response(MemberListSerializer({"members": members}).data)

    @extend_schema(
        operation_id="trust_office_members_add",
        request=OfficeMembersInputSerializer,
        responses={201: MemberSerializer, **_errors(400, 403, 404)},
        tags=["trust-admin"],
    )
    def post(self, request, st3: str):
        office = _office_administered(request, st3)
        data = self.OfficeMembersInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = get_user_model().objects.filter(username=data.validated_data["username"]).first()
        if user is None:
            raise Http404("No such user.")
        membership = office_member_add(
            actor=request.user,
            office=office,
            user=user,
            role=data.validated_data["role"],
            request=request,
        )
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)


class OfficeMemberRemoveApi(AdminApi):
    @extend_schema(
        operation_id="trust_office_members_remove",
        responses={204: None, **_errors(403, 404)},
        tags=["trust-admin"],
    )
    def delete(self, request, st3: str, username: str):
        office = _office_administered(request, st3)
        user = (
            get_user_model().objects.filter(username=username).first()
            if username.isprintable() and len(username) <= 150
            else None
        )
        if user is None:
            raise Http404("This user is not a member of this office.")
        office_member_remove(actor=request.user, office=office, user=user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- API keys ---------------------------------------------------------------------------------


class ApiKeySerializer(serializers.Serializer):
    prefix = serializers.CharField()
    name = serializers.CharField()
    office = serializers.CharField(source="office.st3_code")
    scopes = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class NewApiKeySerializer(ApiKeySerializer):
    key = serializers.CharField(help_text="The key itself: shown this once, never again.")


class ApiKeyListSerializer(serializers.Serializer):
    api_keys = ApiKeySerializer(many=True)


class OfficeApiKeysApi(AdminApi):
    class OfficeApiKeysInputSerializer(serializers.Serializer):
        name = serializers.CharField(required=False, allow_blank=True, max_length=100)
        scopes = serializers.ListField(
            child=serializers.ChoiceField(choices=API_KEY_SCOPES), min_length=1
        )
        expires_at = serializers.DateTimeField(required=False, allow_null=True)

    @extend_schema(
        operation_id="trust_office_api_keys_list",
        responses={200: ApiKeyListSerializer, **_errors(403, 404)},
        tags=["trust-admin"],
    )
    def get(self, request, st3: str):
        office = _office_administered(request, st3)
        keys = ApiKey.objects.select_related("office").filter(office=office)
        return Response(ApiKeyListSerializer({"api_keys": keys}).data)

    @extend_schema(
        operation_id="trust_office_api_keys_create",
        request=OfficeApiKeysInputSerializer,
        responses={201: NewApiKeySerializer, **_errors(400, 403, 404)},
        tags=["trust-admin"],
    )
    def post(self, request, st3: str):
        office = _office_administered(request, st3)
        data = self.OfficeApiKeysInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        api_key, key = api_key_create(
            office=office,
            scopes=data.validated_data["scopes"],
            name=data.validated_data.get("name", ""),
            expires_at=data.validated_data.get("expires_at"),
            actor=request.user,
            request=request,
        )
        body = ApiKeySerializer(api_key).data | {"key": key}
        return Response(body, status=status.HTTP_201_CREATED)


class ApiKeyRevokeApi(AdminApi):
    @extend_schema(
        operation_id="trust_api_key_revoke",
        request=None,
        responses={200: ApiKeySerializer, **_errors(403, 404)},
        tags=["trust-admin"],
    )
    def post(self, request, prefix: str):
        api_key = api_key_get(actor=request.user, prefix_or_id=prefix)
        api_key = api_key_revoke(api_key=api_key, actor=request.user, request=request)
        return Response(ApiKeySerializer(api_key).data)


class ApiKeyRotateApi(AdminApi):
    @extend_schema(
        operation_id="trust_api_key_rotate",
        request=None,
        responses={201: NewApiKeySerializer, **_errors(400, 403, 404)},
        tags=["trust-admin"],
    )
    def post(self, request, prefix: str):
        api_key = api_key_get(actor=request.user, prefix_or_id=prefix)
        new, key = api_key_rotate(api_key=api_key, actor=request.user, request=request)
        return Response(ApiKeySerializer(new).data | {"key": key}, status=status.HTTP_201_CREATED)


# --- signing keys -----------------------------------------------------------------------------


class SigningKeySerializer(serializers.Serializer):
    did = serializers.CharField(source="did.did")
    verification_method = serializers.CharField(source="verification_method_id")
    did_key = serializers.CharField()
    activated_at = serializers.DateTimeField()
    retired_at = serializers.DateTimeField(allow_null=True)
    compromised_at = serializers.DateTimeField(allow_null=True)


class OfficeSigningKeyRotateApi(AdminApi):
    @extend_schema(
        operation_id="trust_office_signing_key_rotate",
        request=None,
        responses={201: SigningKeySerializer, **_errors(403, 404)},
        tags=["trust-admin"],
    )
    def post(self, request, st3: str):
        office = _office_administered(request, st3)
        key = office_signing_key_rotate(actor=request.user, office=office, request=request)
        return Response(SigningKeySerializer(key).data, status=status.HTTP_201_CREATED)


class KeyCompromisedApi(AdminApi):
    class KeyCompromisedInputSerializer(serializers.Serializer):
        did_key = serializers.CharField()
        since = serializers.DateTimeField()

    @extend_schema(
        operation_id="trust_key_compromised",
        request=KeyCompromisedInputSerializer,
        responses={200: SigningKeySerializer, **_errors(400, 403, 404)},
        tags=["trust-admin"],
    )
    def post(self, request):
        data = self.KeyCompromisedInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = issuer_key_mark_compromised(
            actor=request.user,
            did_key=data.validated_data["did_key"],
            since=data.validated_data["since"],
            request=request,
        )
        return Response(SigningKeySerializer(key).data)
