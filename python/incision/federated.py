"""incision.federated: the Python face of incision._core.federated."""

from __future__ import annotations

__all__: list[str] = []
