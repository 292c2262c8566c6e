"""Words for counts in messages and reports: ``count(1, "try", "tries")`` is ``1 try``."""

from __future__ import annotations

__all__ = ["count"]


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``n`` and the noun agreeing with it (``plural`` defaults to ``singular + "s"``)."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"
