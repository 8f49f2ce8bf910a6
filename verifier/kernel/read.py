"""Strict reading: JSON without floats, NaN or duplicate keys; rationals as canonical strings; the shapes of
objects and lists; and checkpoint tensors read without torch (a restricted unpickler that only rebuilds
float tensors, safetensors, or a verifier-weights JSON)."""

from __future__ import annotations

import io
import json
import math
import pickle
import re
import struct
import zipfile
from collections import OrderedDict
from fractions import Fraction

from .rules import Reject, Unreadable

_Q = re.compile(r"-?(0|[1-9][0-9]*)(/[1-9][0-9]*)?")
_INT = re.compile(r"-?(0|[1-9][0-9]*)")


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


def parse_json(text: str):
    """Strict JSON: no NaN/Infinity, no floating-point numbers, no duplicate keys."""
    try:
        return json.loads(text, parse_constant=_bad_constant, parse_float=_bad_float, object_pairs_hook=_pairs)
    except json.JSONDecodeError as exc:
        raise Reject("json", f"not valid JSON: {exc.msg} at line {exc.lineno}") from None


def canonical_json(o) -> str:
    """Sorted keys, indent 1, ASCII, trailing newline: the text the weights digest is taken of."""
    return json.dumps(o, sort_keys=True, indent=1, ensure_ascii=True, allow_nan=False) + "\n"


def rat(v, where: str) -> Fraction:
    """A canonical rational string "n" or "n/d" (d > 1, lowest terms); anything else is rejected."""
    if not isinstance(v, str):
        raise Reject("rational", f"{where}: {v!r} is not a rational string")
    if _Q.fullmatch(v) is None or v == "-0":
        raise Reject("rational", f"{where}: {v!r} is not a canonical rational string")
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
    return int(v)


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
    def __init__(self, dtype, key):
        self.dtype, self.key = dtype, key


class _TorchUnpickler(pickle.Unpickler):
    """Only rebuilds tensors and ordered dicts; any other global is refused (nothing executes)."""

    _DTYPES = {"FloatStorage": ("<f", 4), "DoubleStorage": ("<d", 8)}

    def __init__(self, data, read_record):
        super().__init__(io.BytesIO(data))
        self.read_record = read_record

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
        return _Storage(pid[1], str(pid[2]))

    def _rebuild(self, storage, offset, size, stride, *rest):
        fmt, width = self._DTYPES[storage.dtype]
        raw = self.read_record(storage.key)
        count = len(raw) // width
        flat = struct.unpack(f"<{count}{fmt[1]}", raw[: count * width])
        size = tuple(size)
        if len(size) != 2:
            raise Unreadable("checkpoint tensors must be 2-dimensional")
        return [[flat[offset + i * stride[0] + j * stride[1]] for j in range(size[1])] for i in range(size[0])]


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
        doc = parse_json(data.decode("utf-8"))
        if not isinstance(doc, dict):
            raise Unreadable("weights file is not a JSON object")
        return {k: [[rat(v, k) for v in r] for r in doc[k]] for k in ("W_hi", "W_hh", "W_oh")}
    if path.endswith(".safetensors"):
        (hlen,) = struct.unpack("<Q", data[:8])
        header = parse_json(data[8:8 + hlen].decode("utf-8"))
        body = data[8 + hlen:]
        out = {}
        for k, meta in header.items():
            if k == "__metadata__":
                continue
            fmt = {"F32": ("f", 4), "F64": ("d", 8)}.get(meta["dtype"])
            if fmt is None:
                raise Unreadable(f"{k}: dtype {meta['dtype']} is not float32/float64")
            a, b = meta["data_offsets"]
            flat = struct.unpack(f"<{(b - a) // fmt[1]}{fmt[0]}", body[a:b])
            r, c = meta["shape"]
            out[k] = [[Fraction(flat[i * c + j]) for j in range(c)] for i in range(r)]
        return _as_weights(out)
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
    return _as_weights({k: [[Fraction(v) for v in r] for r in t] for k, t in sd.items()})


def checkpoint_tensors(path: str, data: bytes) -> dict:
    """W_hi, W_hh, W_oh of a torch zip checkpoint, a safetensors file or a verifier-weights JSON, as exact
    Fractions (every float is a dyadic rational); for a transformer checkpoint embed, pos_embed, layers
    ([(in_proj, out_proj)]) and unembed.  Anything malformed is Unreadable."""
    try:
        return _tensors(path, data)
    except (Unreadable, Reject):
        raise
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, struct.error, zipfile.BadZipFile,
            pickle.UnpicklingError, EOFError) as exc:
        raise Unreadable(f"{path}: cannot read its tensors ({type(exc).__name__})") from None
