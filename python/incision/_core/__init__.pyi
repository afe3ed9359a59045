"""
incision compiled core: bandits and partitioning over numpy arrays
"""
from __future__ import annotations
from . import bandit
from . import exec
from . import federated
from . import net
from . import partition
__all__: list[str] = ['bandit', 'exec', 'federated', 'net', 'partition']
__version__: str = '0.1.0'
