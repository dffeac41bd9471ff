"""Anchoring of DID document versions: `identity.services.version_listeners` calls
`anchor_did_version` on commit of every new version (registered in `AnchoringConfig.ready`);
the beat sweep anchors any version the hook missed (a crash between commit and hook)."""

from __future__ import annotations

import hashlib
import logging

import rfc8785
from django.db.models import CharField, Exists, F, OuterRef, Value
from django.db.models.functions import Cast, Concat

from identity.models import DidDocumentVersion

from .models import LogLeaf

logger = logging.getLogger(__name__)

DID_VERSION_KIND = "did-version"


def did_version_key(did: str, version_id: int) -> str:
    """The DID URL of that version: `did:web:...?versionId=N`."""
    return f"{did}?versionId={version_id}"


def did_version_data(version: DidDocumentVersion) -> dict:
    return {
        "did": version.did.did,
        "versionId": version.version_id,
        "sha256": hashlib.sha256(rfc8785.dumps(version.document)).hexdigest(),
        "time": version.created_at.isoformat().replace("+00:00", "Z"),
    }


def anchor_did_version(version: DidDocumentVersion) -> LogLeaf | None:
    from .services import anchor_record

    try:
        return anchor_record(
            kind=DID_VERSION_KIND,
            key=did_version_key(version.did.did, version.version_id),
            data=did_version_data(version),
        )
    except Exception:
        # Runs on commit of someone else's change: never fail it; the sweep retries.
        logger.exception("could not anchor %s v%s", version.did_id, version.version_id)
        return None


def did_versions_unanchored(*, limit: int = 500) -> list[DidDocumentVersion]:
    """DID document versions without their leaf (oldest first). Cheap when nothing is missing
    (two counts), which is the usual case for the beat sweep; otherwise one anti-join in the
    database (each version's key looked up in the (kind, key) unique index), not every key of
    the log read into memory each minute until the missing leaf is back."""
    anchored_count = LogLeaf.objects.filter(kind=DID_VERSION_KIND).count()
    if anchored_count >= DidDocumentVersion.objects.count():
        return []
    # did_version_key, in SQL.
    key = Concat(
        F("did__did"),
        Value("?versionId="),
        Cast("version_id", output_field=CharField()),
        output_field=CharField(),
    )
    leaf = LogLeaf.objects.filter(kind=DID_VERSION_KIND, key=OuterRef("anchor_key"))
    return list(
        DidDocumentVersion.objects.select_related("did")
        .annotate(anchor_key=key)
        .filter(~Exists(leaf))
        .order_by("created_at", "pk")[:limit]
    )
