"""The VC API: issue (offices, with an API key), retrieve, verify, presentation challenges; and
the public context and schemas. Thin views: requests are mapped to the services' arguments here
and everything else happens in `services` and `verification`."""

from __future__ import annotations

import re

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from registry.api.authentication import ApiKeyAuthentication
from registry.api.errors import ApiError
from registry.api.permissions import HasApiKeyScope
from registry.api.views import PublicApi

from . import openapi  # noqa: F401  (registers the API key security scheme)
from .context import (
    CREDENTIAL_TYPES,
    CREDENTIALS_V1,
    STATUS_LIST_2021,
    context_document,
    context_url,
    ip_context,
)
from .parsers import BoundedJSONParser
from .schemas import credential_schema
from .services import (
    CREDENTIAL_STATES,
    IDEMPOTENCY_KEY_MAX_LENGTH,
    PROOF_FORMATS,
    challenge_create,
    credential_get_for_office,
    credential_issue,
    credential_issue_idempotent,
    credential_status_entries_attach,
    credential_status_entry,
    credentials_issued_by,
    format_datetime,
    issue_request_sha256,
    parse_datetime,
)
from .verification import credential_verify, presentation_verify

TAGS = ["credentials"]


class CredentialsErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="Machine-readable code, e.g. `notAccredited`.")
    message = serializers.CharField()


@extend_schema_field(
    {
        "oneOf": [
            {"type": "object", "additionalProperties": True, "description": "JSON-LD"},
            {"type": "string", "description": "VC-JWT (compact JWS)"},
        ]
    }
)
class DocumentField(serializers.JSONField):
    """A JSON-LD document (object) or a JWT (string)."""


def _refuse_unknown(data, allowed: set[str], where: str) -> None:
    if not isinstance(data, dict):
        raise ApiError(f"{where} must be a JSON object.", code="invalidInput")
    extra = sorted(set(data) - allowed)
    if extra:
        raise ApiError(
            f"Unknown field(s) in {where}: {', '.join(str(e)[:40] for e in extra[:10])}.",
            code="invalidInput",
        )


def _body(request: Request, allowed: set[str]) -> dict:
    data = request.data
    _refuse_unknown(data, allowed, "the request body")
    return data


def _document(body: dict, name: str) -> dict | str:
    """The credential or presentation to verify, in either format."""
    document = body.get(name)
    if not isinstance(document, dict | str) or not document:
        raise ApiError(
            f"{name} (a JSON-LD object or a JWT string) is required.", code="invalidInput"
        )
    return document


# ---------------------------------------------------------------------------------------------
# Issue


class IssueOptionsSerializer(serializers.Serializer):
    proofFormat = serializers.ChoiceField(  # noqa: N815
        choices=PROOF_FORMATS,
        default="ldp",
        help_text="`ldp`: JSON-LD with an Ed25519Signature2020 proof; `jwt`: VC-JWT.",
    )
    statusPurpose = serializers.ChoiceField(  # noqa: N815
        choices=("revocation", "suspension"),
        default="revocation",
        help_text=(
            "`revocation`: the credential can be revoked; `suspension`: it can also be suspended "
            "and reinstated (its entry is in the issuer's suspension list)."
        ),
    )


class CredentialToIssueSerializer(serializers.Serializer):
    context = serializers.ListField(
        child=serializers.JSONField(),
        required=False,
        help_text=(
            "Optional. Only the VC 1.1 context, the StatusList2021 context and the registry's "
            "IP context (by URL or inline) are accepted; the issued credential embeds ours inline."
        ),
    )
    type = serializers.ListField(
        child=serializers.CharField(),
        help_text='["VerifiableCredential", "<one of the IP credential types>"]',
    )
    credentialSubject = serializers.DictField(  # noqa: N815
        help_text="`id` (the subject's registry DID) and the type's claims (see /schemas/)."
    )
    expirationDate = serializers.DateTimeField(required=False)  # noqa: N815
    issuer = serializers.CharField(
        required=False, help_text="Optional; if given, the calling office's registry DID."
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["@context"] = fields.pop("context")
        return fields


class IssueInputSerializer(serializers.Serializer):
    credential = CredentialToIssueSerializer()
    options = IssueOptionsSerializer(required=False)


class IssueOutputSerializer(serializers.Serializer):
    verifiableCredential = DocumentField()  # noqa: N815


ALLOWED_CREDENTIAL_FIELDS = {"@context", "type", "credentialSubject", "expirationDate", "issuer"}


def _credential_type_of(types) -> str:
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise ApiError("credential.type must be a list of strings.", code="invalidInput")
    ours = [t for t in types if t != "VerifiableCredential"]
    if len(ours) != 1 or ours[0] not in CREDENTIAL_TYPES:
        raise ApiError(
            f"credential.type must be VerifiableCredential plus exactly one of "
            f"{', '.join(CREDENTIAL_TYPES)}.",
            code="unknownCredentialType",
        )
    return ours[0]


def _check_requested_contexts(contexts) -> None:
    if contexts is None:
        return
    if not isinstance(contexts, list):
        contexts = [contexts]
    for item in contexts:
        if item in (CREDENTIALS_V1, STATUS_LIST_2021, context_url()) or item == ip_context():
            continue
        if isinstance(item, str):
            raise ApiError(
                f"Remote context {item[:100]!r} is not supported; the registry's IP context "
                f"({context_url()}) defines every term of its credential types.",
                code="unsupportedContext",
            )
        raise ApiError(
            "Inline contexts other than the registry's are not supported.",
            code="unsupportedContext",
        )


class CredentialIssueApi(APIView):
    """`POST /credentials/issue`"""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKeyScope]
    parser_classes = [BoundedJSONParser]
    required_scope = "issue"

    @extend_schema(
        operation_id="credentials_issue",
        summary="Issue a credential (W3C VC API)",
        description=(
            "For IP offices, with an API key that has the `issue` scope. The server fills `id`, "
            "`issuer` (`{id: <office did:key>, registryDid: <office DID>}`), `issuanceDate`, "
            "`credentialStatus` and the proof, validates the subject against the type's JSON "
            "Schema (400 `invalidCredential` with `problems`), and refuses a type the office is "
            "not accredited for (403 `notAccredited`, with the reason).\n\n"
            "Retries: send an `Idempotency-Key` header (any string of 1 to 255 printable ASCII "
            "characters, a UUID say). A retry with the same key and the same body returns the "
            "credential the first request issued (201, `Idempotent-Replayed: true`), even if "
            "the first response was lost or both run at once; the same key with another body "
            "is a 422 `idempotencyKeyReused`. Keys are per office and expire "
            f"{settings.IDEMPOTENCY_KEY_RETENTION_HOURS} hours after the request that issued: "
            "later, the same key issues a new credential."
        ),
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description=(
                    "Makes a retry of this request return the same credential, for "
                    f"{settings.IDEMPOTENCY_KEY_RETENTION_HOURS} hours."
                ),
            )
        ],
        request=IssueInputSerializer,
        responses={
            201: IssueOutputSerializer,
            400: CredentialsErrorSerializer,
            401: CredentialsErrorSerializer,
            403: CredentialsErrorSerializer,
            413: CredentialsErrorSerializer,
            422: CredentialsErrorSerializer,
        },
        examples=[
            OpenApiExample(
                "Applicant credential",
                request_only=True,
                value={
                    "credential": {
                        "type": ["VerifiableCredential", "IPApplicantCredential"],
                        "credentialSubject": {
                            "id": "did:web:localhost%3A8000:applicants:0123456789abcdef0123",
                            "name": "Example Ltd",
                            "personType": "legal",
                            "country": "FR",
                            "address": "1 rue de l'Exemple, Paris",
                            "partyIdentifiers": [{"office": "EP", "partyIdentifier": "12345"}],
                        },
                    },
                    "options": {"proofFormat": "ldp"},
                },
            )
        ],
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        body = _body(request, {"credential", "options"})
        credential = body.get("credential")
        if credential is None:
            raise ApiError("credential is required.", code="invalidInput")
        _refuse_unknown(credential, ALLOWED_CREDENTIAL_FIELDS, "credential")
        options = body.get("options") or {}
        _refuse_unknown(options, {"proofFormat", "statusPurpose"}, "options")
        proof_format = options.get("proofFormat", "ldp")
        if proof_format not in PROOF_FORMATS:
            raise ApiError("options.proofFormat must be `ldp` or `jwt`.", code="invalidInput")
        status_purpose = options.get("statusPurpose", "revocation")
        if status_purpose not in ("revocation", "suspension"):
            raise ApiError(
                "options.statusPurpose must be `revocation` or `suspension`.", code="invalidInput"
            )
        credential_type = _credential_type_of(credential.get("type"))
        _check_requested_contexts(credential.get("@context"))
        office = request.auth.office
        if "issuer" in credential and credential["issuer"] != office.did.did:
            raise ApiError(
                "credential.issuer, when given, must be the calling office's registry DID.",
                code="invalidInput",
            )
        subject = credential.get("credentialSubject")
        if not isinstance(subject, dict) or not isinstance(subject.get("id"), str):
            raise ApiError(
                "credential.credentialSubject must be an object with the subject's DID as `id`.",
                code="invalidInput",
            )
        expiration = None
        if "expirationDate" in credential:
            expiration = parse_datetime(credential["expirationDate"])
            if expiration is None:
                raise ApiError(
                    "credential.expirationDate must be an RFC 3339 date-time with a timezone.",
                    code="invalidInput",
                )
        arguments = {
            "issuer": office,
            "credential_type": credential_type,
            "subject_did": subject["id"],
            "claims": subject,
            "proof_format": proof_format,
            "expiration_date": expiration,
            "actor": request.auth,
            "request": request,
            "status_purpose": status_purpose,
        }
        idempotency_key = _idempotency_key(request)
        if idempotency_key is None:
            issued = credential_issue(**arguments)
            return Response(
                {"verifiableCredential": issued.document}, status=status.HTTP_201_CREATED
            )
        issuance = credential_issue_idempotent(
            idempotency_key=idempotency_key, request_sha256=issue_request_sha256(body), **arguments
        )
        headers = {"Idempotent-Replayed": "true"} if issuance.replayed else {}
        return Response(
            {"verifiableCredential": issuance.credential.document},
            status=status.HTTP_201_CREATED,
            headers=headers,
        )


# Printable ASCII but the double quote: a key sent as a Structured Field string ("...", as
# the IETF draft has it) is unquoted first.
_IDEMPOTENCY_KEY = re.compile(rf"[\x20\x21\x23-\x7e]{{1,{IDEMPOTENCY_KEY_MAX_LENGTH}}}")


def _idempotency_key(request: Request) -> str | None:
    value = request.headers.get("Idempotency-Key")
    if value is None:
        return None
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not _IDEMPOTENCY_KEY.fullmatch(value) or not value.strip():
        raise ApiError(
            f"The Idempotency-Key header must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} printable "
            "ASCII characters (no double quotes but around it).",
            code="invalidInput",
        )
    return value


# ---------------------------------------------------------------------------------------------
# Retrieve


class IssuedCredentialOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="credential_id")
    type = serializers.CharField(source="credential_type")
    issuer = serializers.CharField(source="issuer_did")
    issuerKey = serializers.CharField(source="issuer_did_key")  # noqa: N815
    subject = serializers.CharField(source="subject_did")
    issuanceDate = serializers.SerializerMethodField()  # noqa: N815
    expirationDate = serializers.SerializerMethodField()  # noqa: N815
    proofFormat = serializers.CharField(source="proof_format")  # noqa: N815
    verifiableCredential = DocumentField(source="document")  # noqa: N815
    status = serializers.SerializerMethodField(
        help_text="`active`, `suspended` or `revoked` (status lists); null without an entry."
    )
    statusPurpose = serializers.SerializerMethodField()  # noqa: N815

    def get_issuanceDate(self, obj) -> str:  # noqa: N802
        return format_datetime(obj.issued_at)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_status(self, obj) -> str | None:
        entry = credential_status_entry(obj)
        return entry.state if entry else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_statusPurpose(self, obj) -> str | None:  # noqa: N802
        entry = credential_status_entry(obj)
        return entry.purpose if entry else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_expirationDate(self, obj) -> str | None:  # noqa: N802
        return format_datetime(obj.expires_at) if obj.expires_at else None


class CredentialRetrieveApi(APIView):
    """`GET /credentials/{id}`"""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKeyScope]
    required_scope = "issue"

    @extend_schema(
        operation_id="credentials_retrieve",
        summary="An issued credential, for its issuer",
        description=(
            "The credential as issued, with its record. Readable with an API key (scope "
            "`issue`) of the issuing office; 404 for any other credential. Subjects read theirs "
            "in the portal."
        ),
        parameters=[
            OpenApiParameter(
                "id", str, OpenApiParameter.PATH, description="`urn:uuid:...` or the bare UUID."
            )
        ],
        responses={
            200: IssuedCredentialOutputSerializer,
            401: CredentialsErrorSerializer,
            403: CredentialsErrorSerializer,
            404: CredentialsErrorSerializer,
        },
        tags=TAGS,
    )
    def get(self, request: Request, credential_id: str) -> Response:
        issued = credential_get_for_office(office=request.auth.office, credential_id=credential_id)
        return Response(IssuedCredentialOutputSerializer(issued).data)


class IssuedCredentialPagination(CursorPagination):
    # Keyset pagination on a unique key: pages stay stable while the office keeps issuing (page
    # numbers would shift with every new credential, and so would a cursor on issuance dates,
    # which tie: they have whole seconds).
    ordering = "-id"
    page_size = 50
    page_size_query_param = "pageSize"
    max_page_size = 200


class CredentialListFilterSerializer(serializers.Serializer):
    subject = serializers.CharField(required=False, max_length=2048)
    type = serializers.ChoiceField(choices=CREDENTIAL_TYPES, required=False)
    status = serializers.ChoiceField(choices=CREDENTIAL_STATES, required=False)
    issuedAfter = serializers.DateTimeField(required=False)  # noqa: N815
    issuedBefore = serializers.DateTimeField(required=False)  # noqa: N815
    idempotencyKey = serializers.CharField(required=False, max_length=255)  # noqa: N815


_LIST_PARAMETERS = {*CredentialListFilterSerializer().fields, "cursor", "pageSize"}


class CredentialListApi(GenericAPIView):
    """`GET /credentials`"""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKeyScope]
    required_scope = "issue"
    pagination_class = IssuedCredentialPagination
    serializer_class = IssuedCredentialOutputSerializer

    @extend_schema(
        operation_id="credentials_list",
        summary="The credentials an office issued",
        description=(
            "The calling office's credentials (API key with the `issue` scope), newest first, "
            "each as `GET /credentials/{id}` returns it. Filters combine: `subject` (a DID), "
            "`type`, `status`, `issuedAfter` (inclusive) and `issuedBefore` (exclusive, "
            "RFC 3339), `idempotencyKey` (what a request sent with that key issued, while "
            "the key is kept: see `Idempotency-Key` of `POST /credentials/issue`). Pages "
            "follow `next` (a cursor: stable while new credentials arrive). An unknown "
            "parameter is a 400, so a misspelt filter never returns everything."
        ),
        parameters=[
            OpenApiParameter("subject", str, description="The subject's DID."),
            OpenApiParameter("type", str, enum=list(CREDENTIAL_TYPES)),
            OpenApiParameter("status", str, enum=list(CREDENTIAL_STATES)),
            OpenApiParameter("issuedAfter", OpenApiTypes.DATETIME),
            OpenApiParameter("issuedBefore", OpenApiTypes.DATETIME),
            OpenApiParameter("idempotencyKey", str),
            OpenApiParameter("cursor", str, description="From `next` or `previous`."),
            OpenApiParameter(
                "pageSize", int, description="Entries per page (default 50, max 200)."
            ),
        ],
        responses={
            200: IssuedCredentialOutputSerializer(many=True),
            400: CredentialsErrorSerializer,
            401: CredentialsErrorSerializer,
            403: CredentialsErrorSerializer,
        },
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        unknown = sorted(set(request.query_params) - _LIST_PARAMETERS)
        if unknown:
            raise ApiError(
                f"Unknown query parameter(s): {', '.join(u[:40] for u in unknown[:10])}.",
                code="invalidInput",
            )
        filters = CredentialListFilterSerializer(data=request.query_params)
        if not filters.is_valid():
            raise ApiError("Invalid query parameters.", code="invalidInput", fields=filters.errors)
        given = filters.validated_data
        issued = credentials_issued_by(
            office=request.auth.office,
            subject_did=given.get("subject"),
            credential_type=given.get("type"),
            state=given.get("status"),
            issued_after=given.get("issuedAfter"),
            issued_before=given.get("issuedBefore"),
            idempotency_key=given.get("idempotencyKey"),
        )
        try:
            page = self.paginate_queryset(issued)
        except NotFound:  # DRF's answer to a cursor it cannot decode
            raise ApiError("Invalid cursor.", code="invalidInput") from None
        credential_status_entries_attach(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


# ---------------------------------------------------------------------------------------------
# Verify


class CheckResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    detail = serializers.CharField(allow_blank=True)


class ProblemDetailSerializer(serializers.Serializer):
    type = serializers.CharField()
    check = serializers.CharField(help_text="The failed check, e.g. `proof`, `issuerKey`.")
    title = serializers.CharField()
    detail = serializers.CharField(allow_blank=True)


class VerificationResultSerializer(serializers.Serializer):
    verified = serializers.BooleanField()
    problemDetails = ProblemDetailSerializer(many=True)  # noqa: N815
    results = serializers.DictField(
        child=serializers.JSONField(),
        help_text=(
            "Each check by name: `{ok, detail}`. Credentials: context, proof, proofPurpose, "
            "issuerKey, accreditation, dates, schema, status. Presentations: challenge, domain, "
            "proof, proofPurpose, holder, credentials (and `credentials`: one result per "
            "embedded credential)."
        ),
    )


VERIFY_RESPONSES = {
    200: VerificationResultSerializer,
    400: CredentialsErrorSerializer,
    413: CredentialsErrorSerializer,
}


class VerifyCredentialInputSerializer(serializers.Serializer):
    verifiableCredential = DocumentField()  # noqa: N815
    options = serializers.DictField(required=False)


class CredentialVerifyApi(PublicApi):
    """`POST /credentials/verify`"""

    throttle_scope = "verify"
    parser_classes = [BoundedJSONParser]

    @extend_schema(
        operation_id="credentials_verify",
        summary="Verify a credential (W3C VC API)",
        description=(
            "JSON-LD or VC-JWT. 200 with `verified` true only if every check passes; otherwise "
            "`verified: false` and one problem detail per failed check."
        ),
        request=VerifyCredentialInputSerializer,
        responses=VERIFY_RESPONSES,
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        body = _body(request, {"verifiableCredential", "options"})
        document = _document(body, "verifiableCredential")
        _refuse_unknown(body.get("options") or {}, set(), "options")
        return Response(credential_verify(document).as_dict())


class VerifyPresentationOptionsSerializer(serializers.Serializer):
    challenge = serializers.CharField(help_text="From POST /challenges.")
    domain = serializers.CharField(required=False)


class VerifyPresentationInputSerializer(serializers.Serializer):
    verifiablePresentation = DocumentField()  # noqa: N815
    options = VerifyPresentationOptionsSerializer()


class PresentationVerifyApi(PublicApi):
    """`POST /presentations/verify`"""

    throttle_scope = "verify"
    parser_classes = [BoundedJSONParser]

    @extend_schema(
        operation_id="presentations_verify",
        summary="Verify a presentation (W3C VC API)",
        description=(
            "The presentation's proof must be by its holder (a did:key or did:jwk; a registry "
            "DID's key is bound to it by the reverse lookup) with purpose `authentication`, over "
            "a challenge from POST /challenges (unexpired, single use) and the domain when "
            "given; the holder must be the subject of each credential (or the agent named in "
            "an IPMandateCredential), and each credential must verify."
        ),
        request=VerifyPresentationInputSerializer,
        responses=VERIFY_RESPONSES,
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        body = _body(request, {"verifiablePresentation", "options"})
        document = _document(body, "verifiablePresentation")
        options = body.get("options") or {}
        _refuse_unknown(options, {"challenge", "domain"}, "options")
        domain = options.get("domain")
        if domain is not None and not isinstance(domain, str):
            raise ApiError("options.domain must be a string.", code="invalidInput")
        report = presentation_verify(document, challenge=options.get("challenge"), domain=domain)
        return Response(report.as_dict())


class ChallengeInputSerializer(serializers.Serializer):
    domain = serializers.CharField(required=False, max_length=255)


class ChallengeOutputSerializer(serializers.Serializer):
    challenge = serializers.CharField()
    domain = serializers.CharField(allow_null=True)
    expires = serializers.DateTimeField()


class ChallengeCreateApi(PublicApi):
    """`POST /challenges`"""

    throttle_scope = "public"
    parser_classes = [BoundedJSONParser]

    @extend_schema(
        operation_id="challenges_create",
        summary="A presentation challenge",
        description=(
            "A random challenge for a presentation: valid for a few minutes and usable once. "
            "When a domain is given, the presentation must carry it too."
        ),
        request=ChallengeInputSerializer,
        responses={201: ChallengeOutputSerializer, 400: CredentialsErrorSerializer},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        body = _body(request, {"domain"}) if request.data else {}
        serializer = ChallengeInputSerializer(data=body)
        if not serializer.is_valid():
            raise ApiError("Invalid input.", code="invalidInput", fields=serializer.errors)
        challenge = challenge_create(domain=serializer.validated_data.get("domain"))
        return Response(
            {
                "challenge": challenge.value,
                "domain": challenge.domain or None,
                "expires": challenge.expires_at,
            },
            status=status.HTTP_201_CREATED,
        )


# ---------------------------------------------------------------------------------------------
# Public documents


class ContextApi(APIView):
    """`GET /contexts/ip/v1`"""

    cors_public = True  # registry.api.cors

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        operation_id="contexts_ip_v1",
        summary="The JSON-LD context of the IP credential types",
        description="Also embedded inline in every issued credential.",
        responses={200: OpenApiTypes.OBJECT},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        response = Response(context_document(), content_type="application/ld+json")
        response["Cache-Control"] = "public, max-age=3600"
        return response


class SchemaApi(APIView):
    """`GET /schemas/{type}.json`"""

    cors_public = True  # registry.api.cors

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        operation_id="schemas_retrieve",
        summary="The JSON Schema of a credential type",
        parameters=[
            OpenApiParameter(
                "credential_type", str, OpenApiParameter.PATH, enum=list(CREDENTIAL_TYPES)
            )
        ],
        responses={200: OpenApiTypes.OBJECT, 404: CredentialsErrorSerializer},
        tags=TAGS,
    )
    def get(self, request: Request, credential_type: str) -> Response:
        try:
            schema = credential_schema(credential_type)
        except KeyError:
            raise ApiError(
                f"No schema for {credential_type[:80]!r}.", code="notFound", status_code=404
            ) from None
        response = Response(schema, content_type="application/schema+json")
        response["Cache-Control"] = "public, max-age=3600"
        return response
