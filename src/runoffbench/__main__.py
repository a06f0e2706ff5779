"""``python -m runoffbench`` runs the command-line interface."""

import sys

from runoffbench.cli import main

sys.exit(main())
