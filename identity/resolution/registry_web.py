"""Our own did:web DIDs, straight from the database (never an HTTP call to ourselves).

One indexed query per resolution: the wanted DidDocumentVersion joined with its Did (the
unique (did, version_id) and (did, created_at) indexes serve the latest / versionId /
versionTime lookups); a past version costs one more query for its successor. No didkit here.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from django.conf import settings

from identity.errors import DidNotFound
from identity.models import DidDocumentVersion

from .base import (
    DID_JSON,
    BaseResolver,
    DidResolutionResult,
    ParsedDid,
    did_metadata,
    isoformat,
    now_utc,
)

_FIELDS = (
    "version_id",
    "document",
    "created_at",
    "deactivated",
    "did__created_at",
    "did_id",
)


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
        versions = DidDocumentVersion.objects.filter(did__did=parsed.did)
        if version_id is not None:
            if not version_id.isdigit() or len(version_id) > 9:
                raise DidNotFound(f"{parsed.did} has no version {version_id[:20]!r}")
            versions = versions.filter(version_id=int(version_id))
        elif version_time is not None:
            versions = versions.filter(created_at__lte=version_time).order_by(
                "-created_at", "-version_id"
            )
        else:
            versions = versions.order_by("-version_id")
        row = versions.values(*_FIELDS).first()
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
            resolution_metadata={
                "contentType": DID_JSON,
                "retrieved": isoformat(now_utc()),
                "did": did_metadata(parsed),
            },
            document_metadata=document_metadata,
            document_json=json.dumps(document, separators=(",", ":")),
        )
