"""``python -m basesim``: the command line."""

import sys

from basesim.cli import main

sys.exit(main())
