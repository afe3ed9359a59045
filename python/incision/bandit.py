"""incision.bandit: the Python face of incision._core.bandit."""

from __future__ import annotations

__all__: list[str] = []
