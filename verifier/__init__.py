"""verifier: exact, machine-checked analysis of tiny ReLU RNNs (AlgZoo).

Importing this package is light: torch and z3 are imported only by the rooms that need them.

    import verifier
    res = verifier.certify("models/2nd_argmax_2_2.pth")      # exact error, regions, certificate document
    verdict = verifier.check(res.certificate)                 # independent re-check
    model = verifier.load("models/2nd_argmax_2_2.pth")        # exact rational weights
"""

from __future__ import annotations


__all__ = ["certify", "check", "load", "RNN", "VerifierError", "InputError", "__version__"]

from ._version import __version__
from .errors import InputError, VerifierError
from .loading.model import RNN


def load(path, task=None, seq_len=None):
    """Read a checkpoint (or a model in memory) into exact rationals (see verifier.loading.loader.load)."""
    from .loading.loader import load as _load

    return _load(path, task=task, seq_len=seq_len)


def certify(model, task=None, seq_len=None, **options):
    """Certify a checkpoint path, a LoadedModel or an RNN: exact error, regions and the certificate document."""
    from .pipeline import certify as _certify

    return _certify(model, task=task, seq_len=seq_len, **options)


def check(certificate, checkpoint=None, z3=False):
    """Re-check a certificate (path, JSON text or parsed document) with the kernel (verifier.kernel); with
    z3=True, Z3's second opinion runs after every rule has passed."""
    from .interop.second_opinion import check as _check

    return _check(certificate, checkpoint=checkpoint, z3=z3)
