"""One JSON Schema per credential type (files in `schemas/`), served at `/schemas/{type}.json`
and used to validate credentials at issuance and at verification."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import jsonschema_rs
from django.conf import settings

from .context import CREDENTIAL_TYPES

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"


def schema_url(credential_type: str) -> str:
    return f"{settings.REGISTRY_BASE_URL}/schemas/{credential_type}.json"


@functools.cache
def _schema_for(credential_type: str, base: str) -> dict:
    text = (SCHEMA_DIR / f"{credential_type}.json").read_text(encoding="utf-8")
    return json.loads(text.replace("{base}", base))


def credential_schema(credential_type: str) -> dict:
    """The JSON Schema of a credential type; KeyError if the type is not one of ours."""
    if credential_type not in CREDENTIAL_TYPES:
        raise KeyError(credential_type)
    return _schema_for(credential_type, settings.REGISTRY_BASE_URL)


@functools.cache
def _validator_for(credential_type: str, base: str) -> jsonschema_rs.Draft202012Validator:
    # jsonschema-rs: every issuance and verification validates, and it answers in microseconds
    # where the pure-Python validator took a quarter of a millisecond.
    return jsonschema_rs.Draft202012Validator(_schema_for(credential_type, base))


def schema_errors(credential_type: str, credential: dict) -> list[str]:
    """Human-readable schema violations of `credential` (empty when it conforms)."""
    if credential_type not in CREDENTIAL_TYPES:
        return [f"unknown credential type {credential_type!r}"]
    validator = _validator_for(credential_type, settings.REGISTRY_BASE_URL)
    if validator.is_valid(credential):  # the common case, without collecting errors
        return []
    errors = sorted(
        validator.iter_errors(credential), key=lambda e: tuple(str(p) for p in e.instance_path)
    )
    return [_describe(e) for e in errors[:20]]


def _describe(error) -> str:
    where = "/".join(str(p) for p in error.instance_path) or "(root)"
    return f"{where}: {error.message[:300]}"
