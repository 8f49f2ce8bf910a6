"""Re-render models/README.md from models/index.json (the table is generated, never edited by hand)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from verifier.loading.rational import write_atomic  # noqa: E402
from verifier.empirical.zoo import read_index, render_readme  # noqa: E402

folder = sys.argv[1] if len(sys.argv) > 1 else "models"
write_atomic(os.path.join(folder, "README.md"), render_readme(read_index(folder)))
print(f"wrote {folder}/README.md")
