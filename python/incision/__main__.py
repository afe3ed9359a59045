"""``python -m incision``: command-line entry points.

    python -m incision demo [--frames N] [--plot demo.png] [--json out.json]   # the main demo (VGG16, ANS table)
    python -m incision demo --torch [MODEL]                                   # on a profiled torchvision model
    python -m incision edge --port P [--model resnet|inception] [--seed S] [--threads N] [--address A]
                                                                              # an edge server (as incision-edge)
    python -m incision data                                                   # the shipped data files
    python -m incision version
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

COMMANDS = ("demo", "edge", "data", "version")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "demo":
        from .demo import main as demo_main

        return demo_main(rest)
    if command == "edge":
        from .net import serve

        return serve(rest)
    if command == "data":
        from . import data

        print(data.root())
        for name in data.files():
            print(f"  {name}")
        return 0
    if command == "version":
        from . import __version__

        print(__version__)
        return 0
    print(f"python -m incision: unknown command {command!r} (one of: {', '.join(COMMANDS)})", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
