"""`python -m verifier`: see verifier.face.cli."""

import sys

from .face.cli import main

sys.exit(main())
