"""The certificate kinds, one module each and one row each in KINDS: what `certify()` picks from, what the CLI
prints with, and what `explain` and `crosscheck` look up.  Each kind is checked by one version of the kernel's
rules (kernel/check.py, `VERSIONS`); tests/test_structure.py keeps the two tables in step.

    kind          version  module          certifies
    disc          1        disc.py         seq_len 2, position tasks: sectors and wedges, exact closed form
    cones         2        cones.py        seq_len 3-7, position tasks: cells (full), or --width (partial)
    moments       3        moments.py      median models, seq_len 2 and 3: the exact MSE
    enumeration   4        enumeration.py  longest-cycle transformers: every input evaluated
    boxes         5        boxes.py        --method boxes, position tasks, any seq_len: an interval
"""

from __future__ import annotations

from . import boxes, cones, disc, enumeration, moments
from .base import CertifyResult, Kind, Options

KINDS: tuple[Kind, ...] = (enumeration.KIND, moments.KIND, boxes.KIND, disc.KIND, cones.KIND)  # the order to ask

__all__ = ["KINDS", "Kind", "Options", "CertifyResult", "pick", "of_version"]


def pick(lm, o: Options) -> Kind:
    """The kind that certifies `lm` as asked: the first in KINDS that accepts (a kind may instead raise what
    would be needed)."""
    for kind in KINDS:
        if kind.accepts(lm, o):
            return kind
    from ..errors import UnsupportedError

    raise UnsupportedError(f"{lm.path}: no certificate kind applies to the {lm.family} family at seq_len "
                           f"{lm.seq_len}")


BY_VERSION: dict[int, Kind] = {k.version: k for k in KINDS}


def cell_kinds() -> str:
    """The kinds whose certificates list cells, in words (for messages)."""
    return ", ".join(f"{k.name} (version {k.version})" for k in sorted(KINDS, key=lambda k: k.version)
                     if k.no_cells is None)


def of_version(version: int) -> Kind:
    """The kind a certificate of this version is (KeyError for a version no kind writes)."""
    return BY_VERSION[version]
