"""Strict reading: JSON without floats, NaN or duplicate keys; rationals as canonical strings; the shapes of
objects and lists; and checkpoint tensors read without torch (a restricted unpickler that only rebuilds
float tensors, safetensors, or a verifier-weights JSON).

Limits on input (each refusal is Unreadable, exit 2 at the CLI; proofs/FORMAT.md, "Limits"): files are read
only when they are regular files (a symbolic link to one is followed) of at most their kind's size, checked
with fstat before a byte is read; a zip checkpoint's declared uncompressed sizes are checked before anything
is decompressed; numbers have at most MAX_DIGITS digits; JSON nests at most as deep as Python's reader goes;
checkpoint tensors hold at most MAX_TENSOR_ELEMENTS numbers, all inside their storage."""

from __future__ import annotations

import errno
import io
import json
import math
import os
import pickle
import re
import stat
import struct
import zipfile
from collections import OrderedDict
from fractions import Fraction

from .rules import Reject, Unreadable

_Q = re.compile(r"-?(0|[1-9][0-9]*)(/[1-9][0-9]*)?")
_INT = re.compile(r"-?(0|[1-9][0-9]*)")

MAX_CERT_BYTES = 128 * 1024 * 1024  # a certificate's text, plain or decompressed (`check --max-certificate-mb`);
# certify's full M(16,4) certificate holds 106 MB of text
MAX_JSON_BYTES = 64 * 1024 * 1024  # a verifier-weights JSON or a models index
MAX_RATIO = 100  # a compressed certificate's text is at most this many times its size on disk (shipped: <= 25)
CERT_SUFFIXES = (".cert.json", ".cert.json.gz", ".cert.json.xz")  # plain, gzip, xz (what `check DIR` reads)
_GZIP_MAGIC, _XZ_MAGIC = b"\x1f\x8b", b"\xfd7zXZ\x00"
MAX_CHECKPOINT_BYTES = 512 * 1024 * 1024  # a checkpoint file (the generator's loader has the same limit)
MAX_UNZIPPED_BYTES = 64 * 1024 * 1024  # all members of a zip checkpoint together, as declared, uncompressed
MAX_ZIP_MEMBERS = 4096  # members of a zip checkpoint (torch.save writes 6 plus one per storage)
MAX_TENSOR_ELEMENTS = 1 << 20  # numbers in all of a checkpoint's tensors together
MAX_DIGITS = 4300  # digits of one integer (numerator, denominator, coordinate): Python's int() limit
MAX_CELLS = 500_000  # cells (versions 2, 3) or sectors (version 1) a certificate may list


def _file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def read_regular(path: str, limit: int, what: str = "file", too_large: str | None = None) -> bytes:
    """The bytes of a regular file of at most `limit` bytes.  A symbolic link to a regular file is followed;
    a dangling link, a link loop, a directory, a device, a FIFO or a socket is Unreadable, and so is a file
    larger than `limit` (judged by fstat before reading; at most limit + 1 bytes are ever read).  `too_large`,
    when given, names the limit in that message instead ("larger than <too_large>"; the model loader's words)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise Unreadable(f"{path}: dangling symbolic link (its target {os.readlink(path)} does not exist)") from None
        raise Unreadable(f"{path}: no such file") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Unreadable(f"{path}: symbolic link loop") from None
        raise Unreadable(f"{path}: cannot read: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise Unreadable(f"{path}: is {_file_kind(st.st_mode)}, expected a {what}")
    try:  # O_NONBLOCK: should the path have become a FIFO since the stat, opening it does not wait
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise Unreadable(f"{path}: cannot read: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Unreadable(f"{path}: is {_file_kind(st.st_mode)}, expected a {what}")
        if st.st_size > limit:
            raise Unreadable((f"{path}: {st.st_size} bytes, more than the limit for a {what} ({limit} bytes)"
                              if too_large is None else
                              f"{path}: file is {st.st_size} bytes, larger than {too_large} ({limit})")
                             + "; refused before reading")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(limit + 1 - size, max(st.st_size + 1 - size, 1 << 16)))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise Unreadable(f"{path}: more than the limit for a {what} ({limit} bytes; it grew while read)"
                             if too_large is None else
                             f"{path}: file grew past {limit} bytes while read, larger than {too_large}")
        return b"".join(chunks)
    except OSError as exc:
        raise Unreadable(f"{path}: cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)


def decompressed(data: bytes, where: str, max_text: int = MAX_CERT_BYTES) -> bytes:
    """A certificate's bytes, decompressed when they are gzip or xz (told by their magic bytes, not by the file's
    name; standard library only).  The text may hold at most max_text bytes and at most MAX_RATIO times the
    compressed size: decompression stops one chunk past the smaller limit (a decompression bomb never expands
    further) and the certificate is Unreadable, and so is corrupt or truncated compressed data."""
    if data[:2] == _GZIP_MAGIC:
        import gzip
        import zlib

        kind, stream = "gzip", lambda: gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb")
        errors = (OSError, EOFError, zlib.error)  # gzip.BadGzipFile is an OSError
    elif data[:6] == _XZ_MAGIC:
        try:
            import lzma
        except ImportError:  # a Python built without liblzma
            raise Unreadable(f"{where}: xz-compressed, but this Python has no lzma module; decompress it "
                             "first (xz -d)") from None
        kind, stream = "xz", lambda: lzma.LZMAFile(io.BytesIO(data), mode="rb")
        errors = (OSError, EOFError, lzma.LZMAError)
    else:
        return data
    limit = min(max_text, MAX_RATIO * len(data))
    chunks, size = [], 0
    try:
        with stream() as f:
            while size <= limit:
                chunk = f.read(min(1 << 20, limit + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
    except errors as exc:
        raise Unreadable(f"{where}: corrupt {kind} data ({exc}), not a certificate") from None
    if size > limit:
        if limit == max_text:
            raise Unreadable(f"{where}: its {kind} data decompresses to more than the limit for a certificate "
                             f"({max_text} bytes); refused, decompression stopped there")
        raise Unreadable(f"{where}: its {kind} data decompresses to more than {MAX_RATIO} times its "
                         f"{len(data)} bytes (a decompression bomb?); refused, decompression stopped there")
    return b"".join(chunks)


def certificate_bytes(path: str, max_text: int = MAX_CERT_BYTES) -> bytes:
    """The text of the certificate file at `path` as bytes: read_regular under the same limit, then
    `decompressed`."""
    return decompressed(read_regular(path, max_text, "certificate"), path, max_text)


def _bad_constant(name):
    raise Reject("json", f"JSON contains {name}")


def _bad_float(text):
    raise Reject("json", f"JSON contains the number {text}; rationals must be strings")


def _pairs(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise Reject("json", f"duplicate key {k!r}")
        out[k] = v
    return out


def _int_literal(text):
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise Unreadable(f"JSON has an integer of {len(text.lstrip('-'))} digits, more than this kernel reads "
                         f"({MAX_DIGITS})")
    return int(text)


def parse_json(text: str):
    """Strict JSON: no NaN/Infinity, no floating-point numbers, no duplicate keys.  Nesting deeper than
    Python's reader goes, or an integer of more than MAX_DIGITS digits, is Unreadable (a limit, not a verdict)."""
    try:
        return json.loads(text, parse_constant=_bad_constant, parse_float=_bad_float, parse_int=_int_literal,
                          object_pairs_hook=_pairs)
    except json.JSONDecodeError as exc:
        raise Reject("json", f"not valid JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise Unreadable("JSON nested too deeply to read (a certificate nests a few levels)") from None


def canonical_json(o) -> str:
    """Sorted keys, indent 1, ASCII, trailing newline: the text the weights digest is taken of."""
    return json.dumps(o, sort_keys=True, indent=1, ensure_ascii=True, allow_nan=False) + "\n"


def rat(v, where: str) -> Fraction:
    """A canonical rational string "n" or "n/d" (d > 1, lowest terms); anything else is rejected."""
    if not isinstance(v, str):
        raise Reject("rational", f"{where}: {v!r} is not a rational string")
    if _Q.fullmatch(v) is None or v == "-0":
        raise Reject("rational", f"{where}: {v!r} is not a canonical rational string")
    _digits(v, where)
    if "/" in v:
        a, b = v.split("/")
        n, d = int(a), int(b)
        if d == 1 or math.gcd(n, d) != 1:
            raise Reject("rational", f"{where}: {v!r} is not in lowest terms")
        return Fraction(n, d)
    return Fraction(int(v))


def integer(v, where: str) -> int:
    """An integer written as a canonical string (ray coordinates)."""
    if not isinstance(v, str) or _INT.fullmatch(v) is None or v == "-0":
        raise Reject("rational", f"{where}: {v!r} is not an integer string")
    _digits(v, where)
    return int(v)


def _digits(v: str, where: str) -> None:
    longest = max(len(part.lstrip("-")) for part in v.split("/"))
    if longest > MAX_DIGITS:
        raise Unreadable(f"{where}: a number of {longest} digits, more than this kernel reads ({MAX_DIGITS})")


def small_int(v, where: str, lo: int = 0, hi: int = 1 << 30) -> int:
    """A JSON integer (not a bool) in [lo, hi]: indices, labels, counts."""
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise Reject("schema", f"{where}: expected an integer in [{lo}, {hi}], got {v!r}")
    return v


def string(v, where: str) -> str:
    if not isinstance(v, str):
        raise Reject("schema", f"{where}: expected a string")
    return v


def boolean(v, where: str) -> bool:
    if not isinstance(v, bool):
        raise Reject("schema", f"{where}: expected true or false")
    return v


def obj(v, where: str, required, optional=()) -> dict:
    """An object with every required key, no key outside required + optional."""
    if not isinstance(v, dict):
        raise Reject("schema", f"{where}: expected an object")
    missing = [k for k in required if k not in v]
    if missing:
        raise Reject("schema", f"{where}: missing key {missing[0]!r}")
    extra = sorted(k for k in v if k not in required and k not in optional)
    if extra:
        raise Reject("schema", f"{where}: unknown key {extra[0]!r}")
    return v


def lst(v, where: str, length: int | None = None) -> list:
    if not isinstance(v, list):
        raise Reject("schema", f"{where}: expected a list")
    if length is not None and len(v) != length:
        raise Reject("schema", f"{where}: expected {length} entries, got {len(v)}")
    return v


def indices(v, where: str, hi: int, length: int | None = None) -> tuple[int, ...]:
    """A list of small integers in [0, hi]."""
    return tuple(small_int(x, where, 0, hi) for x in lst(v, where, length))


def qmat(v, where: str, rows: int | None, cols: int | None) -> tuple:
    v = lst(v, where, rows)
    out = []
    for i, r in enumerate(v):
        r = lst(r, f"{where}[{i}]", cols)
        out.append(tuple(rat(x, f"{where}[{i}][{j}]") for j, x in enumerate(r)))
    return tuple(out)


def int_vec(v, where: str, length: int) -> tuple[int, ...]:
    return tuple(integer(c, where) for c in lst(v, where, length))


def pattern(v, where: str, n: int, d: int) -> tuple:
    """n strings of d bits; bit i of string t is 1 iff pre-activation (t, i) > 0."""
    v = lst(v, where, n)
    out = []
    for t, s in enumerate(v):
        if not isinstance(s, str) or len(s) != d or any(ch not in "01" for ch in s):
            raise Reject("schema", f"{where}[{t}]: expected a string of {d} bits")
        out.append(tuple(int(ch) for ch in s))
    return tuple(out)


# ------------------------------------------------------------------------------------------------
# Checkpoint tensors without torch


class _Storage:
    def __init__(self, dtype, key, numel):
        self.dtype, self.key, self.numel = dtype, key, numel


class _Tensor(list):
    """A 2-dimensional tensor rebuilt by the unpickler: rows of Python floats (nothing else is a tensor)."""


class _TorchUnpickler(pickle.Unpickler):
    """Only rebuilds tensors and ordered dicts; any other global is refused (nothing executes).  A tensor's
    size, stride and offset are checked against its storage and MAX_TENSOR_ELEMENTS before a list is built."""

    _DTYPES = {"FloatStorage": ("f", 4), "DoubleStorage": ("d", 8)}

    def __init__(self, data, read_record):
        super().__init__(io.BytesIO(data))
        self.read_record = read_record
        self.storages: dict = {}  # key -> array of the record's numbers (read once)
        self.elements = 0

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return self._rebuild
        if module == "torch" and name in self._DTYPES:
            return name
        raise Unreadable(f"checkpoint refers to {module}.{name}, which the kernel does not load")

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage" or pid[1] not in self._DTYPES:
            raise Unreadable("checkpoint has an unsupported storage (only float32/float64 tensors)")
        return _Storage(pid[1], str(pid[2]), pid[4])

    def _numbers(self, storage):
        import array
        import sys

        got = self.storages.get((storage.dtype, storage.key))
        if got is None:
            code, width = self._DTYPES[storage.dtype]
            raw = self.read_record(storage.key)
            if storage.numel != len(raw) // width or len(raw) % width:
                raise Unreadable(f"checkpoint storage {storage.key} declares {storage.numel!r} numbers, its record "
                                 f"holds {len(raw)} bytes")
            got = array.array(code, raw)
            if sys.byteorder == "big":
                got.byteswap()  # torch.save writes little-endian
            self.storages[(storage.dtype, storage.key)] = got
        return got

    def _rebuild(self, storage, offset, size, stride, *rest):
        if not isinstance(storage, _Storage):
            raise Unreadable("checkpoint tensor without a storage")
        size, stride = tuple(size), tuple(stride)
        if len(size) != 2 or len(stride) != 2:
            raise Unreadable("checkpoint tensors must be 2-dimensional")
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (offset, *size, *stride)):
            raise Unreadable("checkpoint tensor with a size, stride or offset that is not a natural number")
        self.elements += size[0] * size[1]
        if self.elements > MAX_TENSOR_ELEMENTS:
            raise Unreadable(f"checkpoint tensors hold more than {MAX_TENSOR_ELEMENTS} numbers (a tensor of shape "
                             f"{list(size)}), more than this kernel reads")
        flat = self._numbers(storage)
        if size[0] and size[1] and offset + (size[0] - 1) * stride[0] + (size[1] - 1) * stride[1] >= len(flat):
            raise Unreadable(f"checkpoint tensor of shape {list(size)} reaches beyond its storage "
                             f"({len(flat)} numbers)")
        return _Tensor([flat[offset + i * stride[0] + j * stride[1]] for j in range(size[1])]
                       for i in range(size[0]))


def _eocd_entries(data: bytes) -> int | None:
    """The member count a zip archive's end-of-central-directory record declares (zip64 aware), read before
    the central directory is parsed; None when there is no such record (zipfile then says what is wrong)."""
    i = data.rfind(b"PK\x05\x06", max(0, len(data) - 65557))
    if i < 0 or i + 22 > len(data):
        return None
    entries = int.from_bytes(data[i + 10:i + 12], "little")
    loc = i - 20
    if entries == 0xFFFF and loc >= 0 and data[loc:loc + 4] == b"PK\x06\x07":
        off = int.from_bytes(data[loc + 8:loc + 16], "little")
        if data[off:off + 4] == b"PK\x06\x06" and off + 40 <= len(data):
            entries = int.from_bytes(data[off + 32:off + 40], "little")
    return entries


def zip_problem(data: bytes, max_unzipped: int = MAX_UNZIPPED_BYTES, max_members: int = MAX_ZIP_MEMBERS):
    """Why a zip archive is refused before anything in it is decompressed (None: it may be opened): more
    members than max_members, or more uncompressed bytes declared than max_unzipped.  zipfile never returns
    more than a member's declared size, so the declared sizes bound what reading the archive allocates."""
    entries = _eocd_entries(data)
    if entries is not None and entries > max_members:
        return f"the zip archive declares {entries} members, more than a checkpoint has (at most {max_members})"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError):
        return None
    if len(infos) > max_members:
        return f"the zip archive has {len(infos)} members, more than a checkpoint has (at most {max_members})"
    total = sum(i.file_size for i in infos)
    if total > max_unzipped:
        big = max(infos, key=lambda i: i.file_size)
        return (f"the zip archive declares {total} uncompressed bytes (member {big.filename}: {big.file_size} "
                f"bytes from {big.compress_size}), more than a checkpoint may have ({max_unzipped}): refused "
                "before decompressing")
    return None


_KEYS = {"rnn.weight_ih_l0": "W_hi", "rnn.weight_hh_l0": "W_hh", "linear.weight": "W_oh"}


_TRANSFORMER_KEYS = {"embed.weight": "embed", "pos_embed.weight": "pos_embed", "unembed.weight": "unembed"}


def _as_weights(sd: dict) -> dict:
    """The RNN's {W_hi, W_hh, W_oh}, or a longest-cycle transformer's {embed, pos_embed, layers, unembed}
    (layers: (in_proj, out_proj) of attns.0 .. attns.{L-1})."""
    if set(sd) == set(_KEYS):
        return {_KEYS[k]: v for k, v in sd.items()}
    L = len([k for k in sd if k.startswith("attns.")]) // 2
    layer_keys = {f"attns.{i}.{p}" for i in range(L) for p in ("in_proj_weight", "out_proj.weight")}
    if set(sd) == set(_TRANSFORMER_KEYS) | layer_keys:
        out = {name: sd[k] for k, name in _TRANSFORMER_KEYS.items()}
        out["layers"] = [(sd[f"attns.{i}.in_proj_weight"], sd[f"attns.{i}.out_proj.weight"]) for i in range(L)]
        return out
    raise Unreadable(f"checkpoint keys {sorted(sd)[:8]} are not the AlgZoo RNN or transformer keys")


def _tensors(path: str, data: bytes) -> dict:
    if path.endswith(".json"):
        if len(data) > MAX_JSON_BYTES:
            raise Unreadable(f"weights file of {len(data)} bytes, larger than this kernel reads as JSON "
                             f"({MAX_JSON_BYTES})")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise Unreadable("weights file is not UTF-8 text") from None
        doc = parse_json(text)
        if not isinstance(doc, dict):
            raise Unreadable("weights file is not a JSON object")
        return {k: [[rat(v, k) for v in lst(r, k)] for r in lst(doc[k], k)] for k in ("W_hi", "W_hh", "W_oh")}
    if path.endswith(".safetensors"):
        (hlen,) = struct.unpack("<Q", data[:8])
        header = parse_json(data[8:8 + hlen].decode("utf-8"))
        body = data[8 + hlen:]
        out, elements = {}, 0
        for k, meta in header.items():
            if k == "__metadata__":
                continue
            fmt = {"F32": ("f", 4), "F64": ("d", 8)}.get(meta["dtype"])
            if fmt is None:
                raise Unreadable(f"{k}: dtype {meta['dtype']} is not float32/float64")
            a, b = meta["data_offsets"]
            r, c = meta["shape"]
            if not all(isinstance(v, int) and v >= 0 for v in (a, b, r, c)) or b - a != r * c * fmt[1] \
                    or b > len(body):
                raise Unreadable(f"{k}: shape {meta['shape']} and data offsets {meta['data_offsets']} do not "
                                 "describe bytes in the file")
            elements += r * c
            if elements > MAX_TENSOR_ELEMENTS:
                raise Unreadable(f"checkpoint tensors hold more than {MAX_TENSOR_ELEMENTS} numbers, more than this "
                                 "kernel reads")
            flat = struct.unpack(f"<{r * c}{fmt[0]}", body[a:b])
            out[k] = [[Fraction(flat[i * c + j]) for j in range(c)] for i in range(r)]
        return _as_weights(out)
    problem = zip_problem(data)
    if problem:
        raise Unreadable(problem)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise Unreadable("not a torch zip checkpoint") from None
    pkl = [n for n in zf.namelist() if n.endswith("/data.pkl")]
    if len(pkl) != 1:
        raise Unreadable("torch checkpoint without a single data.pkl")
    prefix = pkl[0][: -len("data.pkl")]
    sd = _TorchUnpickler(zf.read(pkl[0]), lambda key: zf.read(f"{prefix}data/{key}")).load()
    if not isinstance(sd, dict):
        raise Unreadable("checkpoint is not a state_dict")
    for k, t in sd.items():
        if not isinstance(k, str) or not isinstance(t, _Tensor):
            raise Unreadable("checkpoint is not a state_dict of tensors (names to float tensors)")
    return _as_weights({k: [[Fraction(v) for v in r] for r in t] for k, t in sd.items()})


def checkpoint_tensors(path: str, data: bytes) -> dict:
    """W_hi, W_hh, W_oh of a torch zip checkpoint, a safetensors file or a verifier-weights JSON, as exact
    Fractions (every float is a dyadic rational); for a transformer checkpoint embed, pos_embed, layers
    ([(in_proj, out_proj)]) and unembed.  Anything malformed is Unreadable."""
    try:
        return _tensors(path, data)
    except Unreadable as exc:
        if str(exc).startswith(f"{path}: "):
            raise
        raise Unreadable(f"{path}: {exc}") from None
    except Reject:
        raise
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, struct.error, zipfile.BadZipFile,
            pickle.UnpicklingError, EOFError, NotImplementedError, OverflowError, MemoryError) as exc:
        raise Unreadable(f"{path}: cannot read its tensors ({type(exc).__name__})") from None
    except RecursionError:
        raise Unreadable(f"{path}: cannot read its tensors (nested too deeply)") from None
