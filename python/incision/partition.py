"""incision.partition: the Python face of incision._core.partition."""

from __future__ import annotations

__all__: list[str] = []
