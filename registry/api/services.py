"""Office API keys: create (shown once), revoke, rotate. Each takes the acting user (None for
the system: management commands, demo data) and checks they administer the key's office."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from registry.audit.services import audit_record
from registry.participants.models import Participant
from registry.trust.roles import is_system_actor, require_office_admin

from .models import API_KEY_SCOPES, ApiKey

KEY_PREFIX = "ipr"
PREFIX_PATTERN = re.compile(r"[0-9a-f]{12}")


def api_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key_material() -> tuple[str, str]:
    prefix = secrets.token_hex(6)  # 12 hex chars: the public handle of the key
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    return prefix, key


def clean_scopes(scopes) -> list[str]:
    if isinstance(scopes, str):
        scopes = [s for s in (p.strip() for p in scopes.split(",")) if s]
    scopes = sorted(set(scopes or []))
    unknown = [s for s in scopes if s not in API_KEY_SCOPES]
    if unknown or not scopes:
        raise ValidationError(
            f"scopes must be a non-empty subset of {', '.join(API_KEY_SCOPES)}"
            + (f" (unknown: {', '.join(unknown)})" if unknown else "")
        )
    return scopes


def api_key_get(*, actor, prefix_or_id) -> ApiKey:
    """An API key the actor may manage (404 otherwise, whether absent or another office's)."""
    query = ApiKey.objects.select_related("office")
    value = str(prefix_or_id)
    key = None
    # A prefix first: 12 hex characters are all digits for about one key in 280, and such a
    # key must still be found by its prefix (it used to be read as an id: not found).
    if PREFIX_PATTERN.fullmatch(value):
        key = query.filter(prefix=value).first()
    if key is None and value.isascii() and value.isdigit() and len(value) < 19:
        key = query.filter(pk=int(value)).first()
    if key is None:
        raise Http404("No such API key.")
    if not is_system_actor(actor):
        try:
            require_office_admin(actor, key.office)
        except PermissionDenied:
            # Another office's key: same answer as a missing one (prefixes are not confirmed).
            raise Http404("No such API key.") from None
    return key


class ApiKeyAlreadyCreated(Exception):
    """Nothing was done: the form with this one-time key already created `api_key`, whose
    secret was shown once, in the response to that first submission."""

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        super().__init__(f"this form already created API key {api_key.prefix}")


class ApiKeyFormKeyReused(ValidationError):
    """Nothing was done: the form with this one-time key already created an API key, and now
    comes back with other values. Another key takes a new rendering of the form."""

    def __init__(self):
        super().__init__("this form was already sent and created an API key")


@transaction.atomic
def api_key_create(
    *,
    office: Participant,
    scopes,
    name: str = "",
    expires_at: datetime | None = None,
    actor=None,
    request=None,
    _rotated_from: ApiKey | None = None,
    idempotency_key: str = "",
) -> tuple[ApiKey, str]:
    """Create a key for `office`. Returns (ApiKey, the key in clear): show it once, it is not
    stored.

    `idempotency_key` (the portal form's one-time key): if a key was already created with it,
    nothing is done and ApiKeyAlreadyCreated is raised (its secret cannot be shown again), or
    ApiKeyFormKeyReused if these arguments would create another kind of key."""
    if not is_system_actor(actor):
        require_office_admin(actor, office)
    if office.kind != Participant.Kind.OFFICE:
        raise ValidationError("API keys are for IP offices only")
    scopes = clean_scopes(scopes)
    name = (name or "").strip()[:100]
    if idempotency_key:
        # One office's keys in turn: the same form sent twice at once (a double click) would
        # otherwise find no earlier key below, both times, and create two.
        Participant.objects.select_for_update().filter(pk=office.pk).exists()
        earlier = ApiKey.objects.filter(idempotency_key=idempotency_key).first()
        if earlier is not None:
            if (earlier.office_id, sorted(earlier.scopes), earlier.name, earlier.expires_at) == (
                office.pk,
                scopes,
                name,
                expires_at,
            ):
                raise ApiKeyAlreadyCreated(earlier)
            raise ApiKeyFormKeyReused
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError("expires_at must be in the future")
    prefix, key = _new_key_material()
    try:
        with transaction.atomic():
            api_key = ApiKey.objects.create(
                office=office,
                name=name,
                prefix=prefix,
                secret_hash=api_key_hash(key),
                scopes=scopes,
                expires_at=expires_at,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
                rotated_from=_rotated_from,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        if not idempotency_key:
            raise
        # The same key sent at once for another office (the lock above is per office): the
        # other submission created its key.
        raise ApiKeyFormKeyReused from None
    audit_record(
        actor=actor,
        action="api_key.rotate" if _rotated_from else "api_key.create",
        target=f"api-key:{prefix}",
        data={
            "office": office.st3_code,
            "scopes": scopes,
            "name": name,
            "expires_at": expires_at,
            **({"replaces": _rotated_from.prefix} if _rotated_from else {}),
        },
        request=request,
        office=office.st3_code,
    )
    return api_key, key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor=None, request=None) -> ApiKey:
    """Revoke at once (idempotent: revoking a revoked key keeps its first revocation time)."""
    if not is_system_actor(actor):
        require_office_admin(actor, api_key.office)
    locked = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="api_key.revoke",
            target=f"api-key:{locked.prefix}",
            data={"office": api_key.office.st3_code},
            request=request,
            office=api_key.office.st3_code,
        )
    return locked


@transaction.atomic
def api_key_rotate(*, api_key: ApiKey, actor=None, request=None) -> tuple[ApiKey, str]:
    """Replace a key by a new one with the same office, scopes, name and lifetime left; the old
    key stops working at once."""
    if not is_system_actor(actor):
        require_office_admin(actor, api_key.office)
    locked = ApiKey.objects.select_for_update().select_related("office").get(pk=api_key.pk)
    if locked.revoked_at is not None:
        raise ValidationError("a revoked key cannot be rotated; create a new one")
    if locked.is_expired():
        raise ValidationError("an expired key cannot be rotated; create a new one")
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    return api_key_create(
        office=locked.office,
        scopes=locked.scopes,
        name=locked.name,
        expires_at=locked.expires_at,
        actor=actor,
        request=request,
        _rotated_from=locked,
    )
