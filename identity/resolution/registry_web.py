"""Our own did:web DIDs, straight from the database (never an HTTP call to ourselves).

One indexed query per resolution: the wanted DidDocumentVersion joined with its Did (the
unique (did, version_id) and (did, created_at) indexes serve the latest / versionId /
versionTime lookups); a past version costs one more query for its successor. No didkit here.

The latest version, the hot path, runs SQL that the ORM compiled once per database vendor:
building the query through the ORM costs ~20x more than SQLite takes to run it
(bench/resolve.py). Every answer still comes from the database, so a rotation or a
deactivation shows at once in every process.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection
from django.utils.dateparse import parse_datetime

from identity.errors import DidNotFound
from identity.models import DidDocumentVersion

from .base import BaseResolver, DidResolutionResult, ParsedDid, isoformat, resolution_metadata

_FIELDS = (
    "version_id",
    "document",
    "created_at",
    "deactivated",
    "did__created_at",
    "did_id",
)


# vendor -> SQL of the latest-version query (placeholders for the DID)
_LATEST_SQL: dict[str, str] = {}


def _latest_sql() -> str:
    sql = _LATEST_SQL.get(connection.vendor)
    if sql is None:
        query = (
            DidDocumentVersion.objects.filter(did__did="?")
            .order_by("-version_id")
            .values(*_FIELDS)[:1]
            .query
        )
        sql, params = query.sql_with_params()
        assert params == ("?",), params  # exactly one placeholder: the DID
        _LATEST_SQL[connection.vendor] = sql
    return sql


def _aware(value) -> datetime:
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def latest_version_row(did: str) -> dict | None:
    """The latest version of a registry DID as a dict of _FIELDS, from one precompiled query."""
    with connection.cursor() as cursor:
        cursor.execute(_latest_sql(), [did])
        row = cursor.fetchone()
    if row is None:
        return None
    version_id, document, created_at, deactivated, did_created_at, did_id = row
    return {
        "version_id": int(version_id),
        "document": json.loads(document) if isinstance(document, (str, bytes)) else document,
        "created_at": _aware(created_at),
        "deactivated": bool(deactivated),
        "did__created_at": _aware(did_created_at),
        "did_id": did_id,
    }


def is_registry_host(parsed: ParsedDid) -> bool:
    """Whether a did:web names our own host (compared case-insensitively, as host names are)."""
    host_segment = parsed.method_specific_id.split(":", 1)[0].lower()
    return host_segment == settings.REGISTRY_HOST.replace(":", "%3a").lower()


class RegistryWebResolver(BaseResolver):
    method = "web"
    pattern = re.compile(r"^did:web:.+$")
    timeout_seconds = 1.0
    cache_seconds = 0  # always fresh: a rotation or deactivation shows at once
    supports_versions = True

    def supports(self, parsed: ParsedDid) -> bool:
        return parsed.method == "web" and is_registry_host(parsed)

    def describe(self) -> dict:
        return {**super().describe(), "host": settings.REGISTRY_HOST}

    def resolve(
        self,
        parsed: ParsedDid,
        *,
        version_id: str | None = None,
        version_time: datetime | None = None,
    ) -> DidResolutionResult:
        if version_id is not None or version_time is not None:
            versions = DidDocumentVersion.objects.filter(did__did=parsed.did)
        if version_id is not None:
            # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
            if not re.fullmatch(r"[0-9]{1,9}", version_id):
                raise DidNotFound(f"{parsed.did} has no version {version_id[:20]!r}")
            row = versions.filter(version_id=int(version_id)).values(*_FIELDS).first()
        elif version_time is not None:
            row = (
                versions.filter(created_at__lte=version_time)
                .order_by("-created_at", "-version_id")
                .values(*_FIELDS)
                .first()
            )
        else:
            row = latest_version_row(parsed.did)
        if row is None:
            if version_id is not None or version_time is not None:
                raise DidNotFound(f"{parsed.did} has no such version")
            raise DidNotFound(f"{parsed.did} is not a registry DID")

        document_metadata: dict = {
            "created": isoformat(row["did__created_at"]),
            "updated": isoformat(row["created_at"]),
            "versionId": str(row["version_id"]),
        }
        if version_id is not None or version_time is not None:
            following = (
                DidDocumentVersion.objects.filter(
                    did_id=row["did_id"], version_id__gt=row["version_id"]
                )
                .order_by("version_id")
                .values("version_id", "created_at")
                .first()
            )
            if following is not None:
                document_metadata["nextUpdate"] = isoformat(following["created_at"])
                document_metadata["nextVersionId"] = str(following["version_id"])
        if row["deactivated"]:
            document_metadata["deactivated"] = True

        document = row["document"]
        return DidResolutionResult(
            did_document=document,
            resolution_metadata=resolution_metadata(parsed),
            document_metadata=document_metadata,
            document_json=json.dumps(document, separators=(",", ":")),
        )
