"""DID resolution over HTTP: the DIF Universal Resolver driver interface, the did:web documents
of registry DIDs, the did:key reverse lookup and a trivial health endpoint.

Views are thin: `identity.resolution` resolves, `identity.services.did_key_owner` answers the
reverse lookup; here we only negotiate representations and map errors to statuses.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from identity.dids import did_for_path, registry_did
from identity.errors import (
    DidDeactivated,
    DidNotFound,
    IdentityError,
    InvalidDid,
    RepresentationNotSupported,
)
from identity.resolution import (
    InvalidOptions,
    dereference,
    parse_did,
    parse_version_time,
    resolve,
    supported_methods,
)
from identity.resolution.base import MAX_DID_LENGTH, isoformat
from identity.services import did_key_owner

from .errors import error_body
from .throttles import ScopedRateThrottle

IDENTIFIERS_PREFIX = "/1.0/identifiers/"
KEYS_PREFIX = "/1.0/keys/"

RESOLUTION_TYPE = "application/did-resolution"
LD_RESOLUTION_PROFILE = "https://w3id.org/did-resolution"
LD_RESOLUTION_TYPE = f'application/ld+json;profile="{LD_RESOLUTION_PROFILE}"'
DEREFERENCING_TYPE = "application/did-url-dereferencing"
DOCUMENT_TYPES = ("application/did+ld+json", "application/did+json", "application/did")


# --- representations -----------------------------------------------------------------------


@dataclass(frozen=True)
class Representation:
    content_type: str  # what the response says it is
    whole_result: bool  # the resolution (or dereferencing) result, else the resource alone


def negotiate(accept: str) -> Representation:
    """Pick a representation from an Accept header (highest q wins; ties keep header order).

    Resolution result: application/did-resolution, application/ld+json with the did-resolution
    profile, application/did-url-dereferencing, application/json, */* or no header.
    Document alone: application/did+ld+json, application/did+json, application/did.
    """
    if not accept.strip():
        return Representation(RESOLUTION_TYPE, True)
    candidates = []
    for position, item in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in item.split(";"))
        media = media.lower()
        options = {}
        for param in params:
            name, _, value = param.partition("=")
            options[name.strip().lower()] = value.strip().strip('"')
        try:
            quality = float(options.pop("q", "1"))
        except ValueError:
            quality = 0.0
        if quality <= 0:
            continue
        chosen = None
        if media in (RESOLUTION_TYPE, "*/*", "application/*"):
            chosen = Representation(RESOLUTION_TYPE, True)
        elif media == "application/ld+json" and options.get("profile") == LD_RESOLUTION_PROFILE:
            chosen = Representation(LD_RESOLUTION_TYPE, True)
        elif media in (DEREFERENCING_TYPE, "application/json"):
            chosen = Representation(media, True)
        elif media in DOCUMENT_TYPES:
            chosen = Representation(media, False)
        if chosen is not None:
            candidates.append((-quality, position, chosen))
    if not candidates:
        raise RepresentationNotSupported(
            "none of the Accept media types is supported; use application/did-resolution, "
            "application/did+ld+json, application/did+json or application/did"
        )
    return min(candidates, key=lambda c: (c[0], c[1]))[2]


# --- the identifier in the path ------------------------------------------------------------

_PORT_SEGMENT = re.compile(r"^(did:web:[^:/?#]+):([0-9]{1,5})(?=$|[:?#/])")
_LITERAL_ESCAPES = re.compile(r"%(23|3[Ff]|25)")


def raw_identifier(request, prefix: str, decoded: str) -> str:
    """The DID (URL) as the client wrote it after `prefix`.

    Django hands views a percent-DEcoded path, which turns did:web's `localhost%3A8000` into
    `localhost:8000`, a different DID. Under gunicorn (RAW_URI) or uWSGI/Apache (REQUEST_URI)
    the undecoded request line is used: a fully encoded identifier (`did%3Aweb%3A...`) is
    decoded once; a literal one (`did:web:host%3A8000:...`) is kept as written, except for
    `%23` (#), `%3F` (?) and `%25` (%), which a client must escape to put them in a path.
    Where no raw path exists (runserver, the test client), a did:web whose second segment is
    a number is taken to carry a port (`did:web:localhost:8000` -> `localhost%3A8000`).
    """
    raw = request.META.get("RAW_URI") or request.META.get("REQUEST_URI")
    if raw:
        path = urlsplit(raw).path if "://" in raw[:10] else raw.split("?", 1)[0]
        if path.startswith(prefix):
            text = path[len(prefix) :]
            if text[:6].lower() == "did%3a":
                return unquote(text)
            return _LITERAL_ESCAPES.sub(lambda m: unquote(m.group(0)), text)
    return _PORT_SEGMENT.sub(r"\1%3A\2", decoded, count=1)


# --- responses -------------------------------------------------------------------------------


def _json_response(body, *, status: int, content_type: str, **headers) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, separators=(",", ":")), status=status, content_type=content_type
    )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _error_result(exc: IdentityError, *, whole_result: bool, content_type: str) -> HttpResponse:
    """One error body for every representation: the house shape {"error", "message"} plus the
    W3C error result (didResolutionMetadata.error). A document media type cannot carry an
    error, so those get it as application/json."""
    message = str(exc)
    body = {
        **error_body(exc.code, message),
        "didDocument": None,
        "didResolutionMetadata": {"error": exc.code, "errorMessage": message},
        "didDocumentMetadata": {},
    }
    return _json_response(
        body,
        status=exc.http_status,
        content_type=content_type if whole_result else "application/json",
    )


# --- serializers for the OpenAPI schema ------------------------------------------------------


# camelCase names are the wire format of W3C DID Resolution; inline serializers keep them as is.
ErrorSerializer = inline_serializer(
    "DidError",
    fields={
        "error": serializers.CharField(help_text="DID Resolution error code, e.g. notFound"),
        "message": serializers.CharField(),
    },
)
DidMetadataSerializer = inline_serializer(
    "DidStringMetadata",
    fields={
        "didString": serializers.CharField(),
        "methodSpecificId": serializers.CharField(),
        "method": serializers.CharField(),
    },
    required=False,
)
ResolutionMetadataSerializer = inline_serializer(
    "DidResolutionMetadata",
    fields={
        "contentType": serializers.CharField(required=False),
        "retrieved": serializers.DateTimeField(required=False),
        "did": DidMetadataSerializer,
        "error": serializers.CharField(required=False),
        "errorMessage": serializers.CharField(required=False),
    },
    required=False,
)
DocumentMetadataSerializer = inline_serializer(
    "DidDocumentMetadata",
    fields={
        "created": serializers.DateTimeField(required=False),
        "updated": serializers.DateTimeField(required=False),
        "versionId": serializers.CharField(required=False),
        "nextUpdate": serializers.DateTimeField(required=False),
        "nextVersionId": serializers.CharField(required=False),
        "deactivated": serializers.BooleanField(required=False),
    },
)
_DOCUMENT_FIELDS = {
    "id": serializers.CharField(),
    "verificationMethod": serializers.ListField(child=serializers.DictField(), required=False),
    "alsoKnownAs": serializers.ListField(child=serializers.CharField(), required=False),
    "service": serializers.ListField(child=serializers.DictField(), required=False),
}
DidDocumentSerializer = inline_serializer("DidDocument", fields=_DOCUMENT_FIELDS)
ResolutionResultSerializer = inline_serializer(
    "DidResolutionResult",
    fields={
        "didDocument": inline_serializer(
            "DidDocumentOrNull", fields=_DOCUMENT_FIELDS, allow_null=True
        ),
        "didResolutionMetadata": ResolutionMetadataSerializer,
        "didDocumentMetadata": DocumentMetadataSerializer,
    },
)
ResolutionErrorSerializer = inline_serializer(
    "DidResolutionError",
    fields={
        "error": serializers.CharField(),
        "message": serializers.CharField(),
        "didDocument": serializers.DictField(allow_null=True),
        "didResolutionMetadata": ResolutionMetadataSerializer,
        "didDocumentMetadata": serializers.DictField(),
    },
)
DereferencingResultSerializer = inline_serializer(
    "DidDereferencingResult",
    fields={
        "contentStream": serializers.DictField(allow_null=True),
        "dereferencingMetadata": serializers.DictField(),
        "contentMetadata": DocumentMetadataSerializer,
    },
)


_RESULT_TYPES = (RESOLUTION_TYPE, LD_RESOLUTION_TYPE, "application/json")


def _resolution_responses() -> dict:
    responses: dict = {}
    for media in _RESULT_TYPES:
        responses[(200, media)] = ResolutionResultSerializer
        responses[(410, media)] = ResolutionResultSerializer
    for media in DOCUMENT_TYPES:
        responses[(200, media)] = DidDocumentSerializer
        responses[(410, media)] = DidDocumentSerializer
    for status in (400, 403, 404, 501, 502, 504):
        for media in _RESULT_TYPES:
            responses[(status, media)] = ResolutionErrorSerializer
    responses[(200, DEREFERENCING_TYPE)] = DereferencingResultSerializer
    responses[(406, "application/json")] = ErrorSerializer
    return responses


class _FixedRendererMixin:
    """These views negotiate their representations themselves (DID media types DRF does not
    know); DRF must not answer 406 before the view runs."""

    renderer_classes = [JSONRenderer]

    def perform_content_negotiation(self, request, force=False):
        renderer = JSONRenderer()
        return renderer, renderer.media_type


# --- views -----------------------------------------------------------------------------------


class ResolveIdentifierApi(_FixedRendererMixin, APIView):
    cors_public = True  # registry.api.cors
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "resolve"

    @extend_schema(
        operation_id="resolve_did",
        summary="Resolve a DID or dereference a DID URL (Universal Resolver driver interface)",
        description=(
            "`did` is a DID (`did:web:localhost%3A8000:offices:ep`, `did:key:z6Mk...`, "
            "`did:jwk:...`) or a DID URL with a fragment, its `#` escaped as `%23` "
            "(`...:offices:ep%23key-1`). The `Accept` header picks the representation: the "
            "resolution result (`application/did-resolution`, `application/ld+json;"
            'profile="https://w3id.org/did-resolution"`, `application/json`, `*/*` or none) or '
            "the document alone (`application/did+ld+json`, `application/did+json`, "
            "`application/did`). A deactivated DID answers 410 with its result. Errors: 400 "
            "invalidDid / invalidDidUrl / invalidOptions, 403 hostNotAllowed (SSRF guard), "
            "404 notFound, 406 representationNotSupported, 501 methodNotSupported / "
            "unsupportedPublicKeyType, 502 resolutionFailed / invalidDidDocument, 504 "
            "resolutionTimeout. A fragment gives the verification method or service: alone "
            "with a document media type, else as a dereferencing result "
            "`{contentStream, dereferencingMetadata, contentMetadata}`."
        ),
        parameters=[
            OpenApiParameter("did", str, OpenApiParameter.PATH, description="DID or DID URL"),
            OpenApiParameter(
                "versionId", str, description="a past version (registry DIDs: 1, 2, ...)"
            ),
            OpenApiParameter(
                "versionTime",
                OpenApiTypes.DATETIME,
                description="the version current at this time (ISO 8601)",
            ),
        ],
        responses=_resolution_responses(),
        tags=["resolution"],
    )
    def get(self, request, did: str):
        try:
            representation = negotiate(request.META.get("HTTP_ACCEPT", ""))
        except RepresentationNotSupported as exc:
            return _json_response(
                error_body(exc.code, str(exc)),
                status=exc.http_status,
                content_type="application/json",
            )
        content_type = representation.content_type
        try:
            identifier = raw_identifier(request, IDENTIFIERS_PREFIX, did)
            if len(identifier) > MAX_DID_LENGTH:
                raise InvalidDid(f"a DID may not be longer than {MAX_DID_LENGTH} characters")
            version_id = request.query_params.get("versionId")
            version_time = request.query_params.get("versionTime")
            if any(c in identifier for c in "#?/"):
                return self._dereference(identifier, representation, version_id, version_time)
            result = resolve(identifier, version_id=version_id, version_time=version_time)
        except IdentityError as exc:
            return _error_result(
                exc, whole_result=representation.whole_result, content_type=content_type
            )
        status = 410 if result.deactivated else 200
        if not representation.whole_result:
            return HttpResponse(
                result.document_json or json.dumps(result.did_document, separators=(",", ":")),
                status=status,
                content_type=content_type,
            )
        return _json_response(result.as_dict(), status=status, content_type=content_type)

    @staticmethod
    def _dereference(identifier, representation, version_id, version_time) -> HttpResponse:
        if version_id is not None or version_time is not None:
            # In a DID URL, versions are DID parameters: did:...?versionId=1#key-1
            separator = "&" if "?" in identifier.split("#", 1)[0] else "?"
            base, hash_sign, fragment = identifier.partition("#")
            params = [
                f"{name}={value}"
                for name, value in (("versionId", version_id), ("versionTime", version_time))
                if value is not None
            ]
            identifier = base + separator + "&".join(params) + hash_sign + fragment
        result = dereference(identifier)
        status = 410 if result.content_metadata.get("deactivated") else 200
        if not representation.whole_result:
            return _json_response(
                result.content_stream, status=status, content_type=representation.content_type
            )
        return _json_response(result.as_dict(), status=status, content_type=DEREFERENCING_TYPE)


class ResolverMethodsApi(APIView):
    cors_public = True  # registry.api.cors
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "resolve"

    @extend_schema(
        operation_id="resolver_methods",
        summary="DID methods this resolver supports",
        responses={200: {"type": "array", "items": {"type": "string"}}},
        examples=[OpenApiExample("methods", value=["jwk", "key", "web"], response_only=True)],
        tags=["resolution"],
    )
    def get(self, request):
        return Response(supported_methods())


KeyOwnerSerializer = inline_serializer(
    "KeyOwner",
    fields={
        "didKey": serializers.CharField(help_text="the did:key or did:jwk looked up"),
        "kind": serializers.ChoiceField(choices=["registry-key", "linked-wallet"]),
        "controller": serializers.CharField(
            help_text="the registry DID it belongs (or belonged) to"
        ),
        "verificationMethod": serializers.CharField(allow_null=True),
        "keyId": serializers.CharField(
            allow_null=True, help_text="key-N in the registry DID document"
        ),
        "activeFrom": serializers.DateTimeField(),
        "activeUntil": serializers.DateTimeField(allow_null=True),
        "compromisedSince": serializers.DateTimeField(allow_null=True),
        "at": serializers.DateTimeField(),
        "activeAt": serializers.BooleanField(help_text="the key was in its active period at `at`"),
        "trustedAt": serializers.BooleanField(
            help_text="active at `at` and not marked compromised at or before `at`"
        ),
        "owner": inline_serializer(
            "KeyOwnerIdentity",
            fields={
                "type": serializers.ChoiceField(choices=["registry", "participant", "unknown"]),
                "did": serializers.CharField(),
                "kind": serializers.CharField(required=False),
                "displayName": serializers.CharField(required=False),
                "st3Code": serializers.CharField(required=False, allow_null=True),
                "country": serializers.CharField(required=False),
            },
        ),
    },
)


def _owner_of(controller: str) -> dict:
    """Who a registry DID is: the registry, or a participant (applicants: kind and DID only,
    never personal data)."""
    if controller == registry_did():
        return {"type": "registry", "did": controller}
    from registry.participants.models import Participant

    participant = (
        Participant.objects.filter(did__did=controller)
        .values("kind", "display_name", "st3_code", "country")
        .first()
    )
    if participant is None:
        return {"type": "unknown", "did": controller}
    owner = {"type": "participant", "did": controller, "kind": participant["kind"]}
    if participant["kind"] != Participant.Kind.APPLICANT:
        owner.update(
            {
                "displayName": participant["display_name"],
                "st3Code": participant["st3_code"],
                "country": participant["country"],
            }
        )
    return owner


class KeyOwnerApi(APIView):
    cors_public = True  # registry.api.cors
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "resolve"

    @extend_schema(
        operation_id="key_owner",
        summary="Reverse lookup: which registry DID a did:key (or linked did:jwk) belongs to",
        description=(
            "Answers with the registry DID, its owner (the registry, or a participant: kind, "
            "display name and ST.3 code for offices and agents, only the DID for applicants), "
            "the key's active period, when it was marked compromised, and whether it was "
            "active (`activeAt`) and trustworthy (`trustedAt`) at `at` (default: now). "
            "400 invalidDid for anything but a did:key / did:jwk, 400 invalidOptions for a bad "
            "`at`, 404 notFound for a key the registry does not know."
        ),
        parameters=[
            OpenApiParameter("did", str, OpenApiParameter.PATH, description="did:key or did:jwk"),
            OpenApiParameter(
                "at", OpenApiTypes.DATETIME, description="ISO 8601 time (default: now)"
            ),
        ],
        responses={
            200: KeyOwnerSerializer,
            400: ErrorSerializer,
            404: ErrorSerializer,
        },
        tags=["resolution"],
    )
    def get(self, request, did: str):
        identifier = raw_identifier(request, KEYS_PREFIX, did)
        parsed = parse_did(identifier)
        if parsed.method not in ("key", "jwk"):
            raise InvalidDid("the reverse lookup takes a did:key or did:jwk")
        at_text = request.query_params.get("at")
        try:
            at = parse_version_time(at_text) if at_text is not None else timezone.now()
        except InvalidOptions:
            raise InvalidOptions("`at` must be an ISO 8601 date-time") from None
        ownership = did_key_owner(parsed.did)
        if ownership is None:
            raise DidNotFound(f"{parsed.did[:80]} does not belong to any registry DID")
        active = ownership.active_at(at)
        compromised = ownership.compromised_since is not None and ownership.compromised_since <= at
        vm = ownership.verification_method
        return Response(
            {
                "didKey": ownership.did_key,
                "kind": ownership.kind,
                "controller": ownership.controller,
                "verificationMethod": vm,
                "keyId": vm.rsplit("#", 1)[1] if vm else None,
                "activeFrom": isoformat(ownership.active_from),
                "activeUntil": isoformat(ownership.active_until),
                "compromisedSince": isoformat(ownership.compromised_since),
                "at": isoformat(at),
                "activeAt": active,
                "trustedAt": active and not compromised,
                "owner": _owner_of(ownership.controller),
            }
        )


_DOCUMENT_PATH = re.compile(r"^(?:[A-Za-z0-9._-]+/)*[A-Za-z0-9._-]+$")


class DidDocumentApi(_FixedRendererMixin, APIView):
    """did:web documents of registry DIDs, where the did:web spec maps them."""

    cors_public = True  # registry.api.cors

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "public"

    @extend_schema(
        operation_id="did_document",
        summary="The current DID document of a registry DID (did:web)",
        description=(
            "`/.well-known/did.json` is the registry's own DID; `/offices/ep/did.json` is "
            "`did:web:{host}:offices:ep`. Served as application/did+json with an ETag "
            "(If-None-Match gives 304) and Cache-Control. 404 unknown DID, 410 deactivated."
        ),
        responses={
            (200, "application/did+json"): DidDocumentSerializer,
            304: OpenApiResponse(description="not modified (If-None-Match)"),
            404: ErrorSerializer,
            410: ErrorSerializer,
        },
        tags=["resolution"],
    )
    def get(self, request, path: str = ""):
        if path and not _DOCUMENT_PATH.match(path):
            raise DidNotFound("no DID document here")
        did = did_for_path(path.replace("/", ":"))
        result = resolve(did)
        if result.deactivated:
            raise DidDeactivated(f"{did} is deactivated")
        body = result.document_json or json.dumps(result.did_document, separators=(",", ":"))
        etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
        headers = {
            "ETag": etag,
            "Cache-Control": f"public, max-age={getattr(settings, 'DID_DOCUMENT_MAX_AGE', 60)}",
        }
        if etag in [t.strip() for t in request.META.get("HTTP_IF_NONE_MATCH", "").split(",")]:
            response = HttpResponse(status=304)
        else:
            response = HttpResponse(body, content_type="application/did+json")
        for name, value in headers.items():
            response[name] = value
        return response


class RegistryDidDocumentApi(DidDocumentApi):
    """/.well-known/did.json: the registry's own DID document."""

    @extend_schema(
        operation_id="registry_did_document",
        summary="The registry's own DID document (did:web:{host})",
        responses={
            (200, "application/did+json"): DidDocumentSerializer,
            304: OpenApiResponse(description="not modified (If-None-Match)"),
            404: ErrorSerializer,
        },
        tags=["resolution"],
    )
    def get(self, request):
        return super().get(request, path="")
