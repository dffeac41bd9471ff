"""What text the registry will show or sign about a participant: one rule for display names and
credential claims alike."""

from __future__ import annotations

import unicodedata

# Bidirectional embeddings, overrides and isolates: they make a name display as another
# ("Acme\u202eLtd"). The plain marks (U+200E, U+200F) stay allowed: right-to-left names use them.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def text_problem(text: str, *, multiline: bool = False) -> str:
    """Why `text` cannot be shown or signed as it is, or "": only whitespace, a control character
    (C0 or C1; line breaks, LF or CR as a browser's CRLF, are allowed when `multiline`), a lone
    surrogate, a bidirectional control."""
    if not text.strip():
        return "is only whitespace"
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs":
            return "contains a lone surrogate (not Unicode text)"
        if category == "Cc" and not (multiline and char in "\r\n"):
            return f"contains the control character U+{ord(char):04X}"
        if char in _BIDI_CONTROLS:
            return f"contains the bidirectional control U+{ord(char):04X}"
    return ""


def nfc(value):
    """`value` with every string in it (dict values and list items, not keys) in Unicode
    Normalization Form C, as the W3C character model asks of content: "Müller" typed as u and a
    combining diaeresis (macOS input, some PDFs) and as one ü are then the same name, in the
    directory and in what is signed."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {key: nfc(item) for key, item in value.items()}
    if isinstance(value, list):
        return [nfc(item) for item in value]
    return value
