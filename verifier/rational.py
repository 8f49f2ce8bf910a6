"""Rationals on disk: strict strings "n" or "n/d" in lowest terms, and strict canonical JSON."""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from fractions import Fraction
from typing import Any

from .errors import InputError

_RATIONAL = re.compile(r"-?(0|[1-9][0-9]*)(/[1-9][0-9]*)?")
MAX_DIGITS = 4300  # digits of one integer in a file: Python's int() limit (sys.int_info.default_max_str_digits)


def q(value: Fraction | int) -> str:
    """The canonical string of a rational: "n" or "n/d" with d > 1, lowest terms."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


def parse_q(text: Any, where: str = "value") -> Fraction:
    """Parse a canonical rational string; anything else ("2/4", "1.5", " 1", 3, "-0") is an error."""
    if not isinstance(text, str):
        raise InputError(f"{where}: rational must be a string \"n\" or \"n/d\", got {type(text).__name__}")
    if _RATIONAL.fullmatch(text) is None or text == "-0":
        raise InputError(f"{where}: {text!r} is not a rational string \"n\" or \"n/d\"")
    longest = max(len(part.lstrip("-")) for part in text.split("/"))
    if longest > MAX_DIGITS:
        raise InputError(f"{where}: a number of {longest} digits, more than the supported {MAX_DIGITS}")
    if "/" in text:
        num, den = text.split("/")
        n, d = int(num), int(den)
        if d == 1 or math.gcd(n, d) != 1:
            raise InputError(f"{where}: {text!r} is not in lowest terms")
        return Fraction(n, d)
    return Fraction(int(text))


def q_matrix(rows) -> list[list[str]]:
    """A matrix of rationals as nested lists of canonical strings."""
    return [[q(v) for v in row] for row in rows]


def weights_doc(rnn) -> dict:
    """The three weight matrices as canonical rational strings (the certificate's and the weights file's)."""
    return {"W_hi": q_matrix(rnn.W_hi), "W_hh": q_matrix(rnn.W_hh), "W_oh": q_matrix(rnn.W_oh)}


def parse_q_matrix(obj: Any, where: str) -> tuple[tuple[Fraction, ...], ...]:
    """Parse a nested list of rational strings into a tuple-of-tuples matrix (rows may not be ragged)."""
    if not isinstance(obj, list) or not obj or not all(isinstance(r, list) for r in obj):
        raise InputError(f"{where}: expected a non-empty list of rows")
    width = len(obj[0])
    if width == 0 or any(len(r) != width for r in obj):
        raise InputError(f"{where}: rows must be non-empty and of equal length")
    return tuple(tuple(parse_q(v, f"{where}[{i}][{j}]") for j, v in enumerate(r)) for i, r in enumerate(obj))


def _reject_constant(name: str):
    raise InputError(f"JSON contains {name}, which is not allowed")


def _reject_float(text: str):
    raise InputError(f"JSON contains the number {text}; rationals must be strings")


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise InputError(f"JSON object has duplicate key {k!r}")
        out[k] = v
    return out


def _int_literal(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise InputError(f"JSON has an integer of {len(text.lstrip('-'))} digits, more than the supported {MAX_DIGITS}")
    return int(text)


def loads_strict(text: str) -> Any:
    """Parse JSON rejecting NaN/Infinity, floating-point numbers, duplicate keys, integers of more than
    MAX_DIGITS digits and nesting deeper than Python's JSON reader goes."""
    try:
        return json.loads(
            text,
            parse_constant=_reject_constant,
            parse_float=_reject_float,
            parse_int=_int_literal,
            object_pairs_hook=_no_duplicates,
        )
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise InputError("JSON nested too deeply to read (a weights file nests three levels)") from None


def dumps_canonical(obj: Any) -> str:
    """Byte-stable JSON: sorted keys, fixed separators, ASCII, trailing newline."""
    return json.dumps(obj, sort_keys=True, indent=1, ensure_ascii=True, allow_nan=False) + "\n"


def dumps_compact(obj: Any) -> str:
    """Byte-stable compact JSON for large documents (certificates): sorted keys, no spaces, newline."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False) + "\n"


def write_atomic(path: str, data: bytes | str) -> None:
    """Write a file via a temporary file in the same folder and a rename: never a partial file.  A path that
    is a symbolic link (dangling or not) or a directory is refused (InputError) before anything is written."""
    if isinstance(data, str):
        data = data.encode()
    if os.path.islink(path):
        raise InputError(f"{path}: is a symbolic link; refusing to write through or replace it (give a plain path)")
    if os.path.isdir(path):
        raise InputError(f"{path}: is a directory, expected a file path to write")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from None
        raise
