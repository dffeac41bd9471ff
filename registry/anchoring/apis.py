"""The public, read-only API of the anchoring log (`/log/...`), one view per operation.

Proof hashes are lowercase hex in RFC 9162 order, so any RFC 9162 verifier checks them against
the root of a checkpoint (`GET /log/checkpoint`, a C2SP signed note).
"""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from registry.api.views import PublicApi

from . import services

HEX_HASH = r"^[0-9a-fA-F]{64}$"


class LogErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(required=False)


ERRORS = {
    400: OpenApiResponse(LogErrorSerializer, description="Bad parameters."),
    404: OpenApiResponse(LogErrorSerializer, description="Empty log or no such leaf."),
}


class LogApi(PublicApi):
    """Public and read-only: no authentication, the shared public rate limit."""

    throttle_scope = "public"


def _query(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class LogCheckpointApi(LogApi):
    """`GET /log/checkpoint`: the latest signed checkpoint (text/plain, C2SP signed note)."""

    @extend_schema(
        operation_id="log_checkpoint",
        tags=["log"],
        summary="Latest signed checkpoint",
        description=(
            "The C2SP tlog-checkpoint of the log's current size: origin, tree size and base64 "
            "root hash, a blank line, then `— <key name> <base64(key id || Ed25519 "
            "signature)>`, signed by the registry DID's current key (see `GET /log/key`)."
        ),
        responses={
            (200, "text/plain"): OpenApiResponse(
                OpenApiTypes.STR,
                examples=[
                    OpenApiExample(
                        "checkpoint",
                        value="localhost:8000/log\n3\n"
                        "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyMTI=\n\n"
                        "— localhost:8000/log AAAAAA...==\n",
                    )
                ],
            ),
            404: ERRORS[404],
        },
    )
    def get(self, request: Request) -> HttpResponse:
        checkpoint = services.checkpoint_latest()
        response = HttpResponse(checkpoint.note, content_type="text/plain; charset=utf-8")
        response["Cache-Control"] = "no-cache"
        return response


class LogKeyApi(LogApi):
    """`GET /log/key`: the note verifier keys of the registry (current first)."""

    class LogKeySerializer(serializers.Serializer):
        verifier_key = serializers.CharField(
            help_text="`<name>+<hex key id>+<base64(0x01 || Ed25519 public key)>`"
        )
        did_key = serializers.CharField()
        verification_method = serializers.CharField()
        active_from = serializers.DateTimeField()
        active_until = serializers.DateTimeField(allow_null=True)

    class LogKeyOutputSerializer(serializers.Serializer):
        origin = serializers.CharField(help_text="Checkpoint origin line and note key name.")
        verifier_key = serializers.CharField(help_text="The current verifier key.")
        did = serializers.CharField(help_text="The registry DID whose key signs checkpoints.")
        keys = serializers.ListField(
            child=serializers.DictField(), help_text="Every registry key, current first."
        )

    @extend_schema(
        operation_id="log_key",
        tags=["log"],
        summary="Checkpoint verifier keys",
        responses={200: LogKeyOutputSerializer},
    )
    def get(self, request: Request) -> Response:
        keys = services.log_verifier_keys()
        body = {
            "origin": services.log_origin(),
            "verifier_key": keys[0]["verifier_key"],
            "did": services.registry_did_ensure().did,
            "keys": [self.LogKeySerializer(k).data for k in keys],
        }
        return Response(self.LogKeyOutputSerializer(body).data)


class LogInclusionProofApi(LogApi):
    """`GET /log/proof/inclusion?leaf_hash=<hex>&tree_size=N`."""

    class QuerySerializer(serializers.Serializer):
        leaf_hash = serializers.RegexField(HEX_HASH, help_text="Hex SHA-256 leaf hash.")
        tree_size = serializers.IntegerField(min_value=1, max_value=2**63 - 1)

    class LogInclusionProofOutputSerializer(serializers.Serializer):
        leaf_index = serializers.IntegerField()
        tree_size = serializers.IntegerField()
        hashes = serializers.ListField(child=serializers.CharField())

    @extend_schema(
        operation_id="log_inclusion_proof",
        tags=["log"],
        summary="Inclusion proof (RFC 9162 s.2.1.3)",
        parameters=[QuerySerializer],
        responses={200: LogInclusionProofOutputSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = _query(self.QuerySerializer, request)
        index, hashes = services.inclusion_proof(
            leaf_hash=bytes.fromhex(query["leaf_hash"]), tree_size=query["tree_size"]
        )
        return Response(
            {
                "leaf_index": index,
                "tree_size": query["tree_size"],
                "hashes": [h.hex() for h in hashes],
            }
        )


class LogConsistencyProofApi(LogApi):
    """`GET /log/proof/consistency?first=M&second=N`."""

    class QuerySerializer(serializers.Serializer):
        first = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
        second = serializers.IntegerField(min_value=1, max_value=2**63 - 1)

    class LogConsistencyProofOutputSerializer(serializers.Serializer):
        first = serializers.IntegerField()
        second = serializers.IntegerField()
        hashes = serializers.ListField(child=serializers.CharField())

    @extend_schema(
        operation_id="log_consistency_proof",
        tags=["log"],
        summary="Consistency proof (RFC 9162 s.2.1.4)",
        parameters=[QuerySerializer],
        responses={200: LogConsistencyProofOutputSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = _query(self.QuerySerializer, request)
        hashes = services.consistency_proof(first=query["first"], second=query["second"])
        return Response(
            {
                "first": query["first"],
                "second": query["second"],
                "hashes": [h.hex() for h in hashes],
            }
        )


class EntrySerializer(serializers.Serializer):
    leaf_index = serializers.IntegerField(source="index")
    leaf_hash = serializers.CharField(help_text="Hex SHA-256(0x00 || entry).")
    kind = serializers.CharField()
    key = serializers.CharField()
    entry = serializers.CharField(
        help_text='The exact leaf input: RFC 8785 canonical JSON of {"kind", "key", "data"}.'
    )
    data = serializers.JSONField()
    created = serializers.DateTimeField(source="created_at")


class LogEntriesApi(LogApi):
    """`GET /log/entries?start=&end=`: leaves start..end inclusive (RFC 9162 get-entries)."""

    class QuerySerializer(serializers.Serializer):
        start = serializers.IntegerField(min_value=0, max_value=2**63 - 1)
        end = serializers.IntegerField(
            min_value=0,
            max_value=2**63 - 1,
            help_text="Index of the last entry (inclusive). Fewer may be returned (page cap).",
        )

    class LogEntriesOutputSerializer(serializers.Serializer):
        entries = EntrySerializer(many=True)

    @extend_schema(
        operation_id="log_entries",
        tags=["log"],
        summary="Log entries",
        parameters=[QuerySerializer],
        responses={200: LogEntriesOutputSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = _query(self.QuerySerializer, request)
        leaves = services.log_entries(start=query["start"], end=query["end"])
        return Response({"entries": EntrySerializer(leaves, many=True).data})


class LogLeafApi(LogApi):
    """`GET /log/leaf?kind=&key=`: the leaf anchored under (kind, key), e.g. kind
    `status-list` and key `<list id>:<version>`, or `did-version` and `<did>?versionId=N`."""

    class QuerySerializer(serializers.Serializer):
        kind = serializers.CharField(max_length=64)
        key = serializers.CharField(max_length=255)

    @extend_schema(
        operation_id="log_leaf",
        tags=["log"],
        summary="Find a leaf by kind and key",
        parameters=[QuerySerializer],
        responses={200: EntrySerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = _query(self.QuerySerializer, request)
        leaf = services.leaf_get(kind=query["kind"], key=query["key"])
        return Response(EntrySerializer(leaf).data)


__all__ = [
    "LogCheckpointApi",
    "LogConsistencyProofApi",
    "LogEntriesApi",
    "LogInclusionProofApi",
    "LogKeyApi",
    "LogLeafApi",
]
