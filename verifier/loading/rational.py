"""Rationals on disk: strict strings "n" or "n/d" in lowest terms, and strict canonical JSON."""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from fractions import Fraction
from typing import Any

from ..errors import InputError

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


COMPRESS_ABOVE = 1 << 20  # certify's default output: a certificate of more text than this is written as .cert.json.xz


def encode_certificate(path: str, doc: Any) -> bytes:
    """The bytes of a certificate file: its canonical compact JSON (dumps_compact), compressed when the path ends
    in .gz (gzip, level 9, no name or time in the header) or .xz (xz, preset 6); the kernel reads all three
    (kernel/read.py, `decompressed`).  The JSON text is the certificate: compressing only encodes it."""
    return _encoded(path, dumps_compact(doc).encode())


def _encoded(path: str, text: bytes) -> bytes:
    if path.endswith(".gz"):
        import gzip

        return gzip.compress(text, compresslevel=9, mtime=0)
    if path.endswith(".xz"):
        import lzma

        return lzma.compress(text, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=6)
    return text


def write_certificate(path: str, doc: Any, compress_large: bool = False, sizes: dict | None = None) -> str:
    """Write a certificate atomically (encode_certificate: plain, .gz or .xz by the path's suffix); with
    `compress_large`, a plain .cert.json path whose text exceeds COMPRESS_ABOVE becomes .cert.json.xz.
    Returns the path written; `sizes`, if given, gets "text_bytes" (the uncompressed text's size)."""
    text = dumps_compact(doc).encode()
    if sizes is not None:
        sizes["text_bytes"] = len(text)
    if compress_large and path.endswith(".cert.json") and len(text) > COMPRESS_ABOVE:
        path += ".xz"
    write_atomic(path, _encoded(path, text))
    return path


def certificate_files(folder: str) -> list[str]:
    """Every certificate file (*.cert.json, *.cert.json.gz, *.cert.json.xz) in `folder` and its subfolders, in the
    order of their folder-relative paths compared part by part (the same on any machine); symbolic links to
    folders are not followed and hidden folders are skipped."""
    from ..kernel.read import CERT_SUFFIXES

    found = []
    for here, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(os.path.join(here, f) for f in names if f.endswith(CERT_SUFFIXES))
    return sorted(found, key=lambda f: os.path.relpath(f, folder).split(os.sep))


def load_certificate(path: str) -> Any:
    """A certificate file's document (plain, gzip or xz, read under the kernel's limits) as plain JSON: for
    scripts, benchmarks and tests; the kernel reads certificates strictly (kernel.check)."""
    from ..kernel.read import certificate_bytes

    return json.loads(certificate_bytes(path).decode("utf-8"))


def certificate_stem(path: str) -> str:
    """A certificate file's name without its suffix (.cert.json, .cert.json.gz, .cert.json.xz)."""
    name = os.path.basename(path)
    for suffix in (".cert.json.gz", ".cert.json.xz", ".cert.json"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


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
