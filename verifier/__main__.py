"""`python -m verifier`: see verifier.cli."""

import sys

from .cli import main

sys.exit(main())
