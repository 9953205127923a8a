"""``python -m commgov``: the same as the ``commgov`` command."""

import sys

from commgov.cli import main

if __name__ == "__main__":
    sys.exit(main())
