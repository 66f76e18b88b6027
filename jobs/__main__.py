"""``python -m jobs``: run the scheduler process (the same as ``engage jobs``)."""

from __future__ import annotations

import sys

from jobs.scheduler import main

if __name__ == "__main__":
    sys.exit(main())
