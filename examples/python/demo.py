"""The main demo: learning where to cut VGG16 while the uplink switches between network types.

The demo lives in the package (incision.demo) so that it also runs as ``python -m incision demo``
from any folder; this script is the same program:

    python examples/python/demo.py [--frames N] [--seed S] [--plot demo.png] [--json out.json]
    python examples/python/demo.py --torch resnet18

See incision/demo.py (or ``--help``) for what it simulates and compares.
"""

from __future__ import annotations

from incision.demo import (  # noqa: F401  (re-exported: the tests and older scripts use them)
    LINKS,
    SCHEDULE,
    environment,
    load_vgg16,
    main,
    neurosurgeon_stale,
    plot,
    server_coefficients,
    summarise,
    torch_demo,
    true_offload_delay,
)

if __name__ == "__main__":
    raise SystemExit(main())
