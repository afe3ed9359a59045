"""
incision compiled core: bandits and partitioning over numpy arrays
"""
from __future__ import annotations
from . import bandit
from . import partition
from . import federated
__all__: list[str] = ['bandit', 'federated', 'partition']
__version__: str = '0.1.0'
