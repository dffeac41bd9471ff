"""QR codes of credentials, drawn server-side as inline SVG (segno; no script, no CDN).

A JSON-LD credential with its inline context is far too large for a QR code (a version-40
code holds at most 2,953 bytes), so the code carries the VC-JWT when it fits and otherwise a
link to the credential's portal page (readable after login by its subject, its issuer's
officers and, for a mandate, the agent)."""

from __future__ import annotations

import segno
from django.urls import reverse
from django.utils.safestring import mark_safe

QR_MAX_BYTES = 2900


def _svg(payload: str) -> str | None:
    try:
        qr = segno.make(payload, error="l", micro=False)
    except segno.DataOverflowError:
        return None
    # segno writes an XML declaration first; inline SVG in HTML needs only the <svg> element.
    svg = qr.svg_inline(scale=4, border=4, dark="#000", light="#fff", omitsize=True)
    return svg.replace("<svg ", '<svg role="img" aria-labelledby="qr-caption" ', 1)


def credential_qr(request, *, ldp, jwt) -> tuple[str | None, str]:
    """(inline SVG, "jwt" | "link") for the credential pair."""
    if jwt is not None and len(jwt.document.encode()) <= QR_MAX_BYTES:
        svg = _svg(jwt.document)
        if svg:
            return mark_safe(svg), "jwt"  # noqa: S308 - segno's own SVG markup, no user input
    target = ldp or jwt
    link = request.build_absolute_uri(
        reverse("portal:credential-detail", args=[target.credential_id])
    )
    svg = _svg(link)
    return (mark_safe(svg) if svg else None), "link"  # noqa: S308
