"""Masking of secrets for display: the one place that decides how much of a key may be seen."""

from __future__ import annotations

ELLIPSIS = "…"


def mask_key(key: str) -> str:
    """Show at most the first and last four characters of a key: ``abcd…wxyz``.

    Short keys show less, so that a masked key never reveals more than half of it.
    """
    key = key.strip()
    if len(key) >= 16:
        return f"{key[:4]}{ELLIPSIS}{key[-4:]}"
    if len(key) >= 8:
        return f"{key[:2]}{ELLIPSIS}{key[-2:]}"
    return ELLIPSIS
