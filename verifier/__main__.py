"""`python -m verifier`: see verifier.cli."""

import sys

from .face.cli import main

sys.exit(main())
