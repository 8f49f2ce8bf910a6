"""The independent checker: reads a certificate, applies a closed table of rules, accepts or names the
first rule that failed.  It checks; it never searches.

Trust base: this file, Python's standard library (fractions, json, hashlib, zipfile, pickle with a
restricted unpickler that only rebuilds tensors), and python-flint's arb ball arithmetic for the
enclosures of transcendental numbers.  It imports nothing from the rest of `verifier` (a test
enforces it) and never imports torch; z3 only with --z3, as a second opinion.

Certificate versions: 1 (method "disc", seq_len 2) and 2 (method "cones", any seq_len >= 2).
The rules and the argument for why passing them proves the claim are in proofs/FORMAT.md.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import pickle
import re
import struct
import zipfile
from dataclasses import dataclass, field
from fractions import Fraction

FORMAT = "verifier-certificate"
VERSIONS = (1, 2)
TASK_RANK = {"argmax": lambda n: 0, "2nd_argmax": lambda n: 1, "argmedian": lambda n: (n - 1) // 2}
MAX_DIM = 4096


class Reject(Exception):
    """A rule failed: `rule` names it, the message names the culprit."""

    def __init__(self, rule: str, message: str):
        super().__init__(f"[{rule}] {message}")
        self.rule = rule
        self.message = message


class Unreadable(Exception):
    """The input could not be read at all (exit 2 at the CLI)."""


@dataclass
class Verdict:
    """The checker's answer: accepted, or the first failed rule."""

    accepted: bool
    rule: str | None = None
    message: str = ""
    summary: dict = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.accepted


# ------------------------------------------------------------------------------------------------
# Strict reading: JSON without floats/NaN/duplicates, rationals as canonical strings

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
    """An integer written as a string (ray coordinates)."""
    if not isinstance(v, str) or _INT.fullmatch(v) is None or v == "-0":
        raise Reject("rational", f"{where}: {v!r} is not an integer string")
    return int(v)


def small_int(v, where: str, lo: int = 0, hi: int = 1 << 30) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise Reject("schema", f"{where}: expected an integer in [{lo}, {hi}], got {v!r}")
    return v


def obj(v, where: str, required, optional=()) -> dict:
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


def qmat(v, where: str, rows: int | None, cols: int | None):
    v = lst(v, where, rows)
    out = []
    for i, r in enumerate(v):
        r = lst(r, f"{where}[{i}]", cols)
        out.append(tuple(rat(x, f"{where}[{i}][{j}]") for j, x in enumerate(r)))
    return tuple(out)


def canonical_json(o) -> str:
    return json.dumps(o, sort_keys=True, indent=1, ensure_ascii=True, allow_nan=False) + "\n"


# ------------------------------------------------------------------------------------------------
# The model, recomputed here on purpose (not imported from the generator)


@dataclass(frozen=True)
class Model:
    """Exact weights, and the same weights scaled to integers: with c the lcm of the denominators of
    W_hi and W_hh, In = c W_hi, Hn = c W_hh, On = c_o W_oh.  Positive scaling commutes with ReLU, so the
    integer recurrence P_0 = In x_0, P_{t+1} = Hn ReLU(P_t) + c^(t+1) In x_{t+1} has P_t = c^(t+1) pre_t
    and logits scaled by c_o c^n > 0: every sign, pattern and argmax is the same as the exact model's."""

    W_hi: tuple
    W_hh: tuple
    W_oh: tuple
    n: int
    In: tuple = ()
    Hn: tuple = ()
    On: tuple = ()
    c: int = 1

    @staticmethod
    def of(W_hi, W_hh, W_oh, n):
        def lcm_den(vals):
            out = 1
            for v in vals:
                out = out * v.denominator // math.gcd(out, v.denominator)
            return out

        c = lcm_den([w[0] for w in W_hi] + [v for r in W_hh for v in r])
        co = lcm_den([v for r in W_oh for v in r])
        return Model(W_hi, W_hh, W_oh, n, tuple(int(w[0] * c) for w in W_hi),
                     tuple(tuple(int(v * c) for v in r) for r in W_hh),
                     tuple(tuple(int(v * co) for v in r) for r in W_oh), c)

    @property
    def d(self):
        return len(self.W_hh)


def _lin(coeffs, x):
    return sum(c * v for c, v in zip(coeffs, x) if c)


class Forms:
    """Integer pre-activation forms per step and output forms for patterns (cached by pattern prefix)."""

    def __init__(self, m: Model):
        self.m = m
        self._cache = {}

    def step(self, prefix):
        got = self._cache.get(prefix)
        if got is None:
            m, t = self.m, len(prefix)
            n, d = m.n, m.d
            prev = self.step(prefix[:-1]) if t else None
            scale = m.c ** t
            got = []
            for i in range(d):
                row = [0] * n
                if prev is not None:
                    hi = m.Hn[i]
                    for j in range(d):
                        w = hi[j]
                        if w and prefix[-1][j]:
                            pj = prev[j]
                            for k in range(t):
                                row[k] += w * pj[k]
                row[t] += scale * m.In[i]
                got.append(tuple(row))
            self._cache[prefix] = got
        return got

    def output(self, pattern):
        key = ("out", pattern)
        got = self._cache.get(key)
        if got is None:
            m = self.m
            last = self.step(pattern[:m.n - 1])
            got = []
            for r in m.On:
                row = [0] * m.n
                for j in range(m.d):
                    if r[j] and pattern[m.n - 1][j]:
                        for k in range(m.n):
                            row[k] += r[j] * last[j][k]
                got.append(tuple(row))
            self._cache[key] = got
        return got

    def all(self, pattern):
        return [self.step(pattern[:t]) for t in range(self.m.n)], self.output(pattern)


def forward(m: Model, x):
    """Exact forward pass at an integer point: (pattern, positively scaled logits)."""
    h = [0] * m.d
    pat = []
    for t in range(m.n):
        s = m.c ** t
        pre = [sum(m.Hn[i][j] * h[j] for j in range(m.d) if h[j] and m.Hn[i][j]) + s * m.In[i] * x[t]
               for i in range(m.d)]
        pat.append(tuple(1 if p > 0 else 0 for p in pre))
        h = [p if p > 0 else 0 for p in pre]
    logits = tuple(sum(r[j] * h[j] for j in range(m.d) if h[j]) for r in m.On)
    return tuple(pat), logits


def argmax_first(vals) -> int:
    best = 0
    for i in range(1, len(vals)):
        if vals[i] > vals[best]:
            best = i
    return best


def task_label(task: str, x) -> int:
    """Stable ranking, largest first, ties to the lower index; the target is the position at the task's rank."""
    order = sorted(range(len(x)), key=lambda i: (-x[i], i))
    return order[TASK_RANK[task](len(x))]


def parse_pattern(v, where: str, n: int, d: int):
    v = lst(v, where, n)
    out = []
    for t, s in enumerate(v):
        if not isinstance(s, str) or len(s) != d or any(ch not in "01" for ch in s):
            raise Reject("schema", f"{where}[{t}]: expected a string of {d} bits")
        out.append(tuple(int(ch) for ch in s))
    return tuple(out)


# ------------------------------------------------------------------------------------------------
# Reading checkpoints without torch (hash, then compare the tensors with the certificate's weights)


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
            import collections

            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return self._rebuild
        if module == "torch" and name in self._DTYPES:
            return name
        raise Unreadable(f"checkpoint refers to {module}.{name}, which the checker does not load")

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


def read_checkpoint_tensors(path: str, data: bytes) -> dict:
    """float tensors of a torch zip checkpoint, a safetensors file, or a verifier-weights JSON, as Fractions."""
    if path.endswith(".json"):
        doc = parse_json(data.decode("utf-8"))
        if not isinstance(doc, dict):
            raise Unreadable("weights file is not a JSON object")
        return {k: [[rat(v, k) for v in r] for r in doc[k]] for k in ("W_hi", "W_hh", "W_oh")}
    if path.endswith(".safetensors"):
        (hlen,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8:8 + hlen])
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
    names = zf.namelist()
    pkl = [n for n in names if n.endswith("/data.pkl")]
    if len(pkl) != 1:
        raise Unreadable("torch checkpoint without a single data.pkl")
    prefix = pkl[0][: -len("data.pkl")]
    sd = _TorchUnpickler(zf.read(pkl[0]), lambda key: zf.read(f"{prefix}data/{key}")).load()
    if not isinstance(sd, dict):
        raise Unreadable("checkpoint is not a state_dict")
    return _as_weights({k: [[Fraction(v) for v in r] for r in t] for k, t in sd.items()})


def _as_weights(sd: dict) -> dict:
    keys = {"rnn.weight_ih_l0": "W_hi", "rnn.weight_hh_l0": "W_hh", "linear.weight": "W_oh"}
    if set(sd) != set(keys):
        raise Unreadable(f"checkpoint keys {sorted(sd)} are not the AlgZoo RNN keys")
    return {keys[k]: v for k, v in sd.items()}


# ------------------------------------------------------------------------------------------------
# Rules shared by both versions


def _check_header(doc) -> int:
    if not isinstance(doc, dict):
        raise Reject("schema", "certificate is not a JSON object")
    if doc.get("format") != FORMAT:
        raise Reject("format", f"format is {doc.get('format')!r}, expected {FORMAT!r}")
    version = doc.get("version")
    if version not in VERSIONS:
        raise Reject("version", f"unknown format version {version!r} (this checker knows {list(VERSIONS)})")
    return version


def _check_model(doc) -> tuple[Model, str]:
    mo = obj(doc["model"], "model", ("family", "hidden_size", "seq_len", "W_hi", "W_hh", "W_oh", "weights_sha256"))
    if mo["family"] != "position":
        raise Reject("model", f"family {mo['family']!r} is not supported by this checker")
    d = small_int(mo["hidden_size"], "model.hidden_size", 1, MAX_DIM)
    n = small_int(mo["seq_len"], "model.seq_len", 2, 64)
    m = Model.of(qmat(mo["W_hi"], "W_hi", d, 1), qmat(mo["W_hh"], "W_hh", d, d), qmat(mo["W_oh"], "W_oh", n, d), n)
    digest = hashlib.sha256(canonical_json({"W_hi": mo["W_hi"], "W_hh": mo["W_hh"], "W_oh": mo["W_oh"]})
                            .encode()).hexdigest()
    if digest != mo["weights_sha256"]:
        raise Reject("weights-digest", "the weights do not match model.weights_sha256 (weights were altered)")
    task = doc["task"]
    if task not in TASK_RANK:
        raise Reject("task", f"unknown task {task!r}")
    if task == "argmedian" and n % 2 == 0:
        raise Reject("task", "argmedian needs an odd seq_len")
    return m, task


def _check_checkpoint(doc, m: Model, checkpoint: str | None) -> None:
    ck = obj(doc["checkpoint"], "checkpoint", ("name", "sha256"))
    if not isinstance(ck["sha256"], str) or re.fullmatch(r"[0-9a-f]{64}", ck["sha256"]) is None:
        raise Reject("checkpoint", "checkpoint.sha256 is not a SHA-256 hex digest")
    if checkpoint is None:
        return
    try:
        with open(checkpoint, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise Unreadable(f"{checkpoint}: cannot read: {exc.strerror}") from None
    if hashlib.sha256(data).hexdigest() != ck["sha256"]:
        raise Reject("checkpoint-hash", f"{checkpoint} does not hash to the certificate's checkpoint.sha256")
    try:
        w = read_checkpoint_tensors(checkpoint, data)
    except Unreadable:
        raise
    except Reject:
        raise
    except Exception as exc:
        raise Unreadable(f"{checkpoint}: cannot read its tensors ({type(exc).__name__})") from None
    for name, mine in (("W_hi", m.W_hi), ("W_hh", m.W_hh), ("W_oh", m.W_oh)):
        theirs = [tuple(r) for r in w[name]]
        if theirs != list(mine):
            raise Reject("checkpoint-weights", f"{name} in the certificate is not the exact value of {checkpoint}'s")


def _arb():
    try:
        import flint
    except ImportError:
        raise Unreadable("python-flint is needed to check enclosures") from None
    return flint


def _ball_bounds(x):
    m, e = x.mid().man_exp()
    r, f = x.rad().man_exp()
    mid = Fraction(int(m)) * Fraction(2) ** int(e)
    rad = Fraction(int(r)) * Fraction(2) ** int(f)
    return mid - rad, mid + rad


def _check_enclosure(err: dict, ball_fn, exact_zero: bool, start_prec: int = 320) -> tuple:
    lo, hi = rat(err["lower"], "error.lower"), rat(err["upper"], "error.upper")
    if lo > hi:
        raise Reject("enclosure", "error.lower > error.upper")
    if exact_zero:
        if lo > 0 or hi < 0:
            raise Reject("enclosure", "the error is exactly 0 but the enclosure excludes 0")
        return lo, hi
    prec = start_prec
    while True:
        blo, bhi = _ball_bounds(ball_fn(prec))
        if lo <= blo and bhi <= hi:
            return lo, hi
        if bhi < lo or blo > hi:
            raise Reject("enclosure", "the enclosure does not contain the value recomputed from the regions")
        if prec > 1 << 13:
            raise Reject("enclosure", "the enclosure is narrower than the checker can confirm")
        prec *= 2


def _check_accuracy(doc, lo, hi):
    acc = obj(doc["accuracy"], "accuracy", ("lower", "upper"))
    if rat(acc["lower"], "accuracy.lower") != 1 - hi or rat(acc["upper"], "accuracy.upper") != 1 - lo:
        raise Reject("accuracy", "accuracy is not exactly 1 - error")


# ------------------------------------------------------------------------------------------------
# Version 1: the disc (seq_len 2)


def _cross(u, v):
    return u[0] * v[1] - u[1] * v[0]


def _dot2(u, v):
    return u[0] * v[0] + u[1] * v[1]


def _half(ref, r):
    c, d = _cross(ref, r), _dot2(ref, r)
    return 0 if c > 0 or (c == 0 and d > 0) else 1


def _before(ref, a, b) -> bool:
    """Angle of a (counter-clockwise from ref, in [0, 2 pi)) is strictly less than that of b."""
    ha, hb = _half(ref, a), _half(ref, b)
    if ha != hb:
        return ha < hb
    return _cross(a, b) > 0


def _sign_ok(fu, fv) -> bool:
    """A form does not change sign strictly inside the sector."""
    return not ((fu > 0 and fv < 0) or (fu < 0 and fv > 0))


def _check_disc(doc, m: Model, task: str):
    if m.n != 2:
        raise Reject("disc", "method disc needs seq_len 2")
    secs = lst(doc["sectors"], "sectors")
    if len(secs) < 3:
        raise Reject("cover", "fewer than 3 sectors cannot cover the plane")
    parsed = []
    for k, s in enumerate(secs):
        s = obj(s, f"sectors[{k}]", ("u", "v", "pattern", "label", "prediction", "wrong"))
        u = tuple(integer(c, f"sectors[{k}].u") for c in lst(s["u"], f"sectors[{k}].u", 2))
        v = tuple(integer(c, f"sectors[{k}].v") for c in lst(s["v"], f"sectors[{k}].v", 2))
        pat = parse_pattern(s["pattern"], f"sectors[{k}].pattern", 2, m.d)
        lab = small_int(s["label"], f"sectors[{k}].label", 0, 1)
        pred = small_int(s["prediction"], f"sectors[{k}].prediction", 0, 1)
        if not isinstance(s["wrong"], bool):
            raise Reject("schema", f"sectors[{k}].wrong must be true or false")
        parsed.append((u, v, pat, lab, pred, s["wrong"]))
    # Rule cover: consecutive sectors share rays, each angle in (0, pi), one full turn exactly.
    ref = parsed[0][0]
    for k, (u, v, *_rest) in enumerate(parsed):
        if _cross(u, v) <= 0:
            raise Reject("cover", f"sector {k}: rays are not counter-clockwise with angle in (0, pi)")
        nxt = parsed[(k + 1) % len(parsed)][0]
        if v != nxt:
            raise Reject("cover", f"sector {k}: its end ray is not the start ray of the next sector")
        if k + 1 < len(parsed) and not _before(ref, u, v):
            raise Reject("cover", f"sector {k}: rays are out of angular order (sectors overlap or wind twice)")
    # Rules pattern / label / prediction on each open sector.
    fm = Forms(m)
    for k, (u, v, pat, lab, pred, wrong) in enumerate(parsed):
        steps, out = fm.all(pat)
        for t, step in enumerate(steps):
            for i, f in enumerate(step):
                fu, fv = _lin(f, u), _lin(f, v)
                if pat[t][i]:
                    ok = fu >= 0 and fv >= 0 and fu + fv > 0
                else:
                    ok = fu <= 0 and fv <= 0
                if not ok:
                    raise Reject("pattern", f"sector {k}: neuron {i} at step {t} is not "
                                 f"{'positive' if pat[t][i] else 'non-positive'} on the whole sector")
        fu, fv = u[0] - u[1], v[0] - v[1]
        if not _sign_ok(fu, fv) or fu + fv == 0:
            raise Reject("label", f"sector {k}: the task boundary x_0 = x_1 crosses the sector")
        w = (u[0] + v[0], u[1] + v[1])
        if task_label(task, w) != lab:
            raise Reject("label", f"sector {k}: claimed label {lab} but the task gives {task_label(task, w)}")
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                diff = tuple(a - b for a, b in zip(out[i], out[j]))
                if not _sign_ok(_lin(diff, u), _lin(diff, v)):
                    raise Reject("prediction", f"sector {k}: logits {i} and {j} swap order inside the sector")
        wpat, logits = forward(m, w)
        if wpat != pat:
            raise Reject("pattern", f"sector {k}: the witness u + v has a different pattern")
        if argmax_first(logits) != pred:
            raise Reject("prediction", f"sector {k}: claimed prediction {pred}, the model gives "
                         f"{argmax_first(logits)}")
        if wrong != (lab != pred):
            raise Reject("wrong", f"sector {k}: 'wrong' must be {lab != pred}")
    # Rule wedges: the wrong sectors grouped into wedges of angle <= pi, each a run of consecutive sectors.
    K = len(parsed)
    covered = [False] * K
    wedges = []
    for w_i, wd in enumerate(lst(doc["wedges"], "wedges")):
        a, b = (small_int(x, f"wedges[{w_i}]", 0, K - 1) for x in lst(wd, f"wedges[{w_i}]", 2))
        run = [(a + s) % K for s in range(((b - a) % K) + 1)]
        start = parsed[a][0]
        for s_i, k in enumerate(run):
            if covered[k]:
                raise Reject("wedges", f"sector {k} is in two wedges")
            if not parsed[k][5]:
                raise Reject("wedges", f"wedge {w_i} contains the right sector {k}")
            covered[k] = True
            end = parsed[k][1]
            c, dd = _cross(start, end), _dot2(start, end)
            last = s_i == len(run) - 1
            if not (c > 0 or (last and c == 0 and dd < 0)):
                raise Reject("wedges", f"wedge {w_i} is wider than pi")
        wedges.append((start, parsed[b][1]))
    for k in range(K):
        if parsed[k][5] and not covered[k]:
            raise Reject("wedges", f"wrong sector {k} is in no wedge")
    return parsed, wedges


def _wedge_form(wedges) -> str:
    if not wedges:
        return "0"
    return "(" + " + ".join(f"atan2({_cross(a, b)}, {_dot2(a, b)})" for a, b in wedges) + ")/(2*pi)"


def _ball_sum(terms, term_ball, scale=None, complement=False):
    """fn(prec): the arb ball of S = sum(term_ball(flint, t) for t in terms) (times scale(flint)), or of 1 - S
    when complement, every operation at prec bits."""
    flint = _arb()

    def fn(prec):
        old = flint.ctx.prec
        flint.ctx.prec = prec
        try:
            tot = flint.arb(0)
            for t in terms:
                tot += term_ball(flint, t)
            tot = tot * scale(flint) if scale else tot
            return 1 - tot if complement else tot
        finally:
            flint.ctx.prec = old

    return fn


def _over_two_pi(flint):
    return 1 / (2 * flint.arb.pi())


def _wedge_ball(wedges):
    return _ball_sum(wedges, lambda flint, w: flint.arb.atan2(flint.arb(_cross(*w)), flint.arb(_dot2(*w))),
                     _over_two_pi)


# ------------------------------------------------------------------------------------------------
# Entry points

_TOP_V1 = ("format", "version", "generator", "claim", "checkpoint", "model", "task", "method", "sectors", "wedges",
           "error", "accuracy", "regions")


def check_document(doc, checkpoint: str | None = None, z3: bool = False) -> dict:
    """Apply every rule to a parsed certificate; raise Reject on the first failure; return a summary."""
    version = _check_header(doc)
    if version == 1:
        obj(doc, "certificate", _TOP_V1)
        m, task = _check_model(doc)
        _check_checkpoint(doc, m, checkpoint)
        if doc["method"] != "disc":
            raise Reject("method", f"version 1 certificates use method 'disc', not {doc['method']!r}")
        parsed, wedges = _check_disc(doc, m, task)
        if doc["regions"] != len(parsed):
            raise Reject("schema", "regions is not the number of sectors")
        err = obj(doc["error"], "error", ("lower", "upper", "closed_form", "rigorous", "digits"))
        if err["closed_form"] != _wedge_form(wedges):
            raise Reject("closed-form", "closed_form is not the sum of the wedges' angles over 2 pi")
        if err["rigorous"] is not True:
            raise Reject("enclosure", "a disc certificate's enclosure must be rigorous")
        lo, hi = _check_enclosure(err, _wedge_ball(wedges), exact_zero=not wedges)
        _check_accuracy(doc, lo, hi)
        if z3:
            _z3_disc(m, task, parsed)
        return {"method": "disc", "task": task, "hidden_size": m.d, "seq_len": m.n, "regions": len(parsed),
                "error_lower": err["lower"], "error_upper": err["upper"], "closed_form": err["closed_form"]}
    return _check_v2(doc, checkpoint, z3)


_TOP_V2 = ("format", "version", "generator", "claim", "checkpoint", "model", "task", "method", "roots", "evidence",
           "cells", "error", "accuracy", "regions", "cell_count")
_TOP_V2_OPTIONAL = ("measured",)


def _perm_label(task, ranking):
    return ranking[TASK_RANK[task](len(ranking))]


def _primitive(v):
    g = 0
    for c in v:
        g = math.gcd(g, c)
    return tuple(c // g for c in v) if g > 1 else tuple(v)


def _prop(f, h):
    """+1 / -1 if f is a positive / negative multiple of h, else 0 (both nonzero)."""
    a = next(i for i, x in enumerate(h) if x)
    if f[a] == 0:
        return 0
    if any(f[i] * h[a] != h[i] * f[a] for i in range(len(h))):
        return 0
    return 1 if (f[a] > 0) == (h[a] > 0) else -1


def _dotv(a, b):
    return sum(x * y for x, y in zip(a, b))


class _Cells:
    """Per-cell constraint lists recomputed from (root, pattern, decisions), with cached forms."""

    def __init__(self, m: Model, task: str, roots):
        self.m, self.task, self.roots = m, task, roots
        self.forms = Forms(m)

    def constraints(self, root, pattern, decision, where):
        """Integer constraint vectors g (cell = {x : g.x > 0}) in canonical order; checks zero forms."""
        n = self.m.n
        ranking, sign, k = root
        out = []
        for i in range(n - 1):
            w = [0] * n
            w[ranking[i]] += 1
            w[ranking[i + 1]] -= 1
            out.append(tuple(w))
        e0 = [0] * n
        e0[0] = sign
        out.append(tuple(e0))
        for t in range(n):
            for i, f in enumerate(self.forms.step(pattern[:t])):
                if any(f):
                    out.append(_primitive(f if pattern[t][i] else tuple(-c for c in f)))
                elif pattern[t][i]:
                    raise Reject("pattern", f"{where}: neuron {i} at step {t} is claimed active but its "
                                 "pre-activation is identically zero there")
        outs = self.forms.output(pattern)
        for j in range(n):
            c = decision[j]
            if j == k:
                if c != ".":
                    raise Reject("schema", f"{where}: decision must have '.' at the target position {k}")
                continue
            D = tuple(a - b for a, b in zip(outs[k], outs[j]))
            if any(D):
                if c not in "+-":
                    raise Reject("prediction", f"{where}: l_{k} - l_{j} is not identically zero, so its sign "
                                 "must be + or -")
                out.append(_primitive(D if c == "+" else tuple(-v for v in D)))
            elif c != "0":
                raise Reject("prediction", f"{where}: l_{k} - l_{j} is identically zero, so it must be marked 0")
        return out


def _wrong_of(decision, k):
    return any((j < k and c != "+") or (j > k and c == "-") for j, c in enumerate(decision))


def _parse_roots(doc, n, task):
    roots = lst(doc["roots"], "roots")
    import itertools

    expected = [(tuple(p), s) for p in itertools.permutations(range(n)) for s in (1, -1)]
    got = []
    for i, r in enumerate(roots):
        r = obj(r, f"roots[{i}]", ("ranking", "x0_sign"))
        rk = tuple(small_int(v, f"roots[{i}].ranking", 0, n - 1) for v in lst(r["ranking"], f"roots[{i}].ranking", n))
        if r["x0_sign"] not in (1, -1) or isinstance(r["x0_sign"], bool):
            raise Reject("schema", f"roots[{i}].x0_sign must be 1 or -1")
        got.append((rk, r["x0_sign"]))
    if got != expected:
        raise Reject("roots", "roots must be every ordering chamber times both signs of x_0, in canonical order")
    return [(rk, s, _perm_label(task, rk)) for rk, s in got]


def _check_cones(doc, m: Model, task: str):
    n = m.n
    roots = _parse_roots(doc, n, task)
    kind = doc["evidence"]
    if kind not in ("polygon", "facets") or (kind == "polygon") != (n == 3):
        raise Reject("schema", f"evidence {kind!r} does not fit seq_len {n} (polygon for n = 3, facets otherwise)")
    raw = lst(doc["cells"], "cells")
    cc = _Cells(m, task, roots)
    cells = []
    seen = set()
    per_root = [0] * len(roots)
    keys = ("root", "pattern", "decision", "wrong") + (("edges", "neighbors") if kind == "polygon"
                                                       else ("rays", "constraints"))
    for ci, c in enumerate(raw):
        where = f"cell {ci}"
        c = obj(c, where, keys, () if kind == "polygon" else ("simplices",))
        r = small_int(c["root"], f"{where}.root", 0, len(roots) - 1)
        pat = parse_pattern(c["pattern"], f"{where}.pattern", n, m.d)
        dec = c["decision"]
        if not isinstance(dec, str) or len(dec) != n or any(ch not in ".+-0" for ch in dec):
            raise Reject("schema", f"{where}: decision must be a string of {n} characters from '.+-0'")
        if (r, pat, dec) in seen:
            raise Reject("cover", f"{where}: the same cell is listed twice")
        seen.add((r, pat, dec))
        per_root[r] += 1
        cons = cc.constraints(roots[r], pat, dec, where)
        if not isinstance(c["wrong"], bool) or c["wrong"] != _wrong_of(dec, roots[r][2]):
            raise Reject("wrong", f"{where}: 'wrong' must be {_wrong_of(dec, roots[r][2])} for its decisions")
        cells.append((r, pat, dec, cons, c))
    if any(k == 0 for k in per_root):
        raise Reject("cover", f"root {per_root.index(0)} has no cells")
    shapes = []
    for ci, (r, pat, dec, cons, c) in enumerate(cells):
        where = f"cell {ci}"
        if kind == "polygon":
            shapes.append(_check_polygon(ci, where, cells, c, cons, roots))
        else:
            shapes.append(_check_facets(ci, where, cells, c, cons, n))
        # sanity: the model at an interior point agrees with the claims
        w = shapes[-1]["interior"]
        wpat, logits = forward(m, w)
        if wpat != pat:
            raise Reject("pattern", f"{where}: the interior point has a different activation pattern")
        if (argmax_first(logits) != roots[r][2]) != c["wrong"]:
            raise Reject("wrong", f"{where}: the model's prediction at the interior point contradicts 'wrong'")
        if task_label(task, w) != roots[r][2]:
            raise Reject("label", f"{where}: the interior point is not in its root's ordering chamber")
    return cells, shapes


def _check_neighbor(where, cells, ci, nb, y, h, is_wall_ok):
    """The far side of facet h near y lies in cell nb (same root), or the facet is a root wall."""
    r = cells[ci][0]
    if nb is None:
        if not is_wall_ok:
            raise Reject("cover", f"{where}: facet {list(h)} is not a root wall, so it needs a neighbour")
        return
    if not isinstance(nb, int) or isinstance(nb, bool) or not 0 <= nb < len(cells) or nb == ci:
        raise Reject("schema", f"{where}: neighbour {nb!r} is not another cell's index")
    if cells[nb][0] != r:
        raise Reject("cover", f"{where}: neighbour {nb} lies in another root")
    across = False
    for g in cells[nb][3]:
        v = _dotv(g, y)
        if v > 0:
            continue
        if v == 0 and _prop(g, h) == -1:
            across = True
            continue
        raise Reject("cover", f"{where}: neighbour cell {nb} does not contain the far side of the facet")
    if not across:
        raise Reject("cover", f"{where}: neighbour cell {nb} is not across the facet")


def _check_polygon(ci, where, cells, c, cons, roots):
    edges = lst(c["edges"], f"{where}.edges")
    nbs = lst(c["neighbors"], f"{where}.neighbors", len(edges))
    k = len(edges)
    if k < 3:
        raise Reject("polygon", f"{where}: a polygon needs at least 3 edges")
    for e in edges:
        small_int(e, f"{where}.edges", 0, len(cons) - 1)
    if len(set(edges)) != k:
        raise Reject("polygon", f"{where}: an edge is listed twice")
    verts = []
    for i in range(k):
        a, b = cons[edges[i]], cons[edges[(i + 1) % k]]
        v = (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])
        if not any(v):
            raise Reject("polygon", f"{where}: edges {edges[i]} and {edges[(i + 1) % k]} are parallel")
        vals = [_dotv(g, v) for g in cons]
        if all(x >= 0 for x in vals):
            pass
        elif all(x <= 0 for x in vals):
            v = tuple(-x for x in v)
        else:
            raise Reject("polygon", f"{where}: vertex {i} lies outside the cell's constraints")
        verts.append(_primitive(v))
    for i in range(k):
        g = cons[edges[i]]
        prev, cur = verts[i - 1], verts[i]
        if not any((prev[1] * cur[2] - prev[2] * cur[1], prev[2] * cur[0] - prev[0] * cur[2],
                    prev[0] * cur[1] - prev[1] * cur[0])):
            raise Reject("polygon", f"{where}: edge {i} has coincident end vertices")
        for j in range(k):
            if j != i and j != (i - 1) % k and _dotv(g, verts[j]) <= 0:
                raise Reject("polygon", f"{where}: vertex {j} is not strictly inside edge {i}'s half-space")
    interior = tuple(sum(v[a] for v in verts) for a in range(3))
    if any(_dotv(g, interior) <= 0 for g in cons):
        raise Reject("polygon", f"{where}: the sum of the vertices is not interior")
    walls = cons[:3]
    for i in range(k):
        h = cons[edges[i]]
        y = tuple(verts[i - 1][a] + verts[i][a] for a in range(3))
        _check_neighbor(f"{where} edge {i}", cells, ci, nbs[i], y, h, any(_prop(w, h) == 1 for w in walls))
    return {"interior": interior, "verts": verts}


def _det(rows):
    m = [list(r) for r in rows]
    n = len(m)
    sign, prev = 1, 1
    for k in range(n - 1):
        if m[k][k] == 0:
            sw = next((i for i in range(k + 1, n) if m[i][k] != 0), None)
            if sw is None:
                return 0
            m[k], m[sw] = m[sw], m[k]
            sign = -sign
        for i in range(k + 1, n):
            for j in range(k + 1, n):
                m[i][j] = (m[i][j] * m[k][k] - m[i][k] * m[k][j]) // prev
        prev = m[k][k]
    return sign * m[n - 1][n - 1] if n else 1


def _null(rows, n):
    """Generalised cross product of n - 1 integer vectors in Z^n (zero iff they are dependent)."""
    return tuple((-1) ** (j + n - 1) * _det([[r[c] for c in range(n) if c != j] for r in rows]) for j in range(n))


def _ray(cons, idx, where):
    v = _null([cons[j] for j in idx], len(cons[0]))
    if not any(v):
        raise Reject("rays", f"{where}: constraints {idx} are linearly dependent")
    vals = [_dotv(g, v) for g in cons]
    if all(x >= 0 for x in vals):
        return _primitive(v)
    if all(x <= 0 for x in vals):
        return _primitive(tuple(-x for x in v))
    raise Reject("rays", f"{where}: the ray on constraints {idx} leaves the cell")


def _check_facets(ci, where, cells, c, cons, n):
    raw_rays = lst(c["rays"], f"{where}.rays")
    if len(raw_rays) < n:
        raise Reject("rays", f"{where}: a full-dimensional pointed cone has at least {n} extreme rays")
    rays = []
    for a, idx in enumerate(raw_rays):
        idx = [small_int(j, f"{where}.rays[{a}]", 0, len(cons) - 1) for j in lst(idx, f"{where}.rays[{a}]", n - 1)]
        rays.append(_ray(cons, idx, f"{where} ray {a}"))
    w = tuple(sum(r[k] for r in rays) for k in range(n))
    for j, g in enumerate(cons):
        if _dotv(g, w) <= 0:
            raise Reject("witness", f"{where}: the sum of the rays is not strictly inside constraint {j}")
    ev = lst(c["constraints"], f"{where}.constraints", len(cons))
    kinds = []
    for j, e in enumerate(ev):
        if not isinstance(e, dict) or len(e) == 0:
            raise Reject("schema", f"{where}.constraints[{j}]: expected an object")
        kinds.append("facet" if "facet" in e else "same" if "same" in e else "implied" if "implied" in e else None)
        if kinds[-1] is None:
            raise Reject("schema", f"{where}.constraints[{j}]: expected facet, same or implied")
    walls = cons[:n]
    facet_rays = []
    for j, e in enumerate(ev):
        h = cons[j]
        if kinds[j] == "facet":
            e = obj(e, f"{where}.constraints[{j}]", ("facet", "neighbor"))
            ids = [small_int(r, f"{where}.constraints[{j}].facet", 0, len(rays) - 1) for r in lst(e["facet"], "facet")]
            if not ids or len(set(ids)) != len(ids):
                raise Reject("facet", f"{where}: facet {j} must list distinct rays")
            y = tuple(sum(rays[r][k] for r in ids) for k in range(n))
            if _dotv(h, y) != 0:
                raise Reject("facet", f"{where}: the rays listed for facet {j} are not on its hyperplane")
            for i2, g in enumerate(cons):
                if i2 != j and _dotv(g, y) <= 0 and _prop(g, h) != 1:
                    raise Reject("facet", f"{where}: facet point of constraint {j} is not strictly inside "
                                 f"constraint {i2}")
            _check_neighbor(f"{where} facet {j}", cells, ci, e["neighbor"], y, h,
                            any(_prop(wl, h) == 1 for wl in walls))
            facet_rays.append(ids)
        elif kinds[j] == "same":
            e = obj(e, f"{where}.constraints[{j}]", ("same",))
            i2 = small_int(e["same"], f"{where}.constraints[{j}].same", 0, len(cons) - 1)
            if kinds[i2] != "facet" or _prop(h, cons[i2]) != 1:
                raise Reject("redundant", f"{where}: constraint {j} is not a positive multiple of facet {i2}")
        else:
            e = obj(e, f"{where}.constraints[{j}]", ("implied",))
            sup = [small_int(i2, f"{where}.constraints[{j}].implied", 0, len(cons) - 1)
                   for i2 in lst(e["implied"], "implied")]
            if not sup or len(sup) > n or len(set(sup)) != len(sup) or any(kinds[i2] != "facet" for i2 in sup):
                raise Reject("redundant", f"{where}: constraint {j} must be implied by at most n distinct facets")
            lam = _solve_unique([cons[i2] for i2 in sup], h)
            if lam is None or any(x < 0 for x in lam):
                raise Reject("redundant", f"{where}: constraint {j} is not a nonnegative combination of "
                             f"facets {sup}")
    return {"interior": w, "rays": rays, "facet_rays": facet_rays}


def _check_triangulation(where, cons, rays, simplices, n):
    """The simplicial cones tile the closed cell: rays in the cell, facets matched in pairs across, or on a
    cell constraint; and an interior point of the first simplex lies in no other simplex."""
    simplices = lst(simplices, f"{where}.simplices")
    if not simplices:
        raise Reject("triangulation", f"{where}: no simplices")
    sx = []
    for a, s in enumerate(simplices):
        ids = [small_int(r, f"{where}.simplices[{a}]", 0, len(rays) - 1) for r in lst(s, f"{where}.simplices[{a}]", n)]
        if len(set(ids)) != n or _det([rays[r] for r in ids]) == 0:
            raise Reject("triangulation", f"{where}: simplex {a} is degenerate")
        sx.append(ids)
    faces = {}
    for a, ids in enumerate(sx):
        for i in range(n):
            key = tuple(sorted(ids[:i] + ids[i + 1:]))
            faces.setdefault(key, []).append((a, ids[i]))
    for key, users in faces.items():
        frays = [rays[r] for r in key]
        on_boundary = any(all(_dotv(g, r) == 0 for r in frays) for g in cons)
        if on_boundary:
            if len(users) != 1:
                raise Reject("triangulation", f"{where}: a boundary facet belongs to {len(users)} simplices")
            continue
        if len(users) != 2:
            raise Reject("triangulation", f"{where}: an interior facet belongs to {len(users)} simplices, not 2")
        nu = _null(frays, n)
        s1, s2 = (_dotv(nu, rays[users[0][1]]), _dotv(nu, rays[users[1][1]]))
        if not ((s1 > 0 and s2 < 0) or (s1 < 0 and s2 > 0)):
            raise Reject("triangulation", f"{where}: two simplices sharing a facet lie on the same side")
    p = tuple(sum(rays[r][k] for r in sx[0]) for k in range(n))
    for a, ids in enumerate(sx[1:], start=1):
        lam = _solve_unique([rays[r] for r in ids], p)
        if lam is not None and all(x >= 0 for x in lam):
            raise Reject("triangulation", f"{where}: simplices 0 and {a} overlap")
    return [[rays[r] for r in ids] for ids in sx]


def _solve_unique(columns, target):
    m, k = len(target), len(columns)
    rows = [[Fraction(columns[i][r]) for i in range(k)] + [Fraction(target[r])] for r in range(m)]
    r = 0
    for c in range(k):
        p = next((i for i in range(r, m) if rows[i][c] != 0), None)
        if p is None:
            return None
        rows[r], rows[p] = rows[p], rows[r]
        pv = rows[r][c]
        rows[r] = [x / pv for x in rows[r]]
        for i in range(m):
            if i != r and rows[i][c] != 0:
                f = rows[i][c]
                rows[i] = [x - f * y for x, y in zip(rows[i], rows[r])]
        r += 1
    if any(rows[i][k] != 0 for i in range(r, m)):
        return None
    return [rows[i][k] for i in range(k)]


def _vos_terms(polys):
    out = []
    for verts in polys:
        a = verts[0]
        for i in range(1, len(verts) - 1):
            b, c = verts[i], verts[i + 1]
            det = (a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0])
                   + a[2] * (b[0] * c[1] - b[1] * c[0]))
            A, B, C = _dotv(a, a), _dotv(b, b), _dotv(c, c)
            out.append((abs(det), A, B, C, _dotv(a, b), _dotv(a, c), _dotv(b, c)))
    return out


def _vos_form(terms):
    if not terms:
        return "0"
    return "(" + " + ".join(f"atan2({N}, sqrt({A * B * C}) + {ab}*sqrt({C}) + {ac}*sqrt({B}) + {bc}*sqrt({A}))"
                            for N, A, B, C, ab, ac, bc in terms) + ")/(2*pi)"


def _vos_term(flint, t):
    N, A, B, C, ab, ac, bc = t
    den = flint.arb(A * B * C).sqrt() + ab * flint.arb(C).sqrt() + ac * flint.arb(B).sqrt() + bc * flint.arb(A).sqrt()
    return flint.arb.atan2(flint.arb(N), den)


def _vos_ball(terms):
    return _ball_sum(terms, _vos_term, _over_two_pi)


def _orthant_form(measured, count, n):
    head = "1 - " if measured == "right" else ""
    return (f"{head}sum of Gaussian orthant probabilities P_{n} of the {count} simplicial cones triangulating the "
            f"{measured} cells (Plackett reduction; one-dimensional integrals in ball arithmetic)")


def _simplex_normals(rays):
    n = len(rays)
    out = []
    for i in range(n):
        g = _null([r for j, r in enumerate(rays) if j != i], n)
        if _dotv(g, rays[i]) < 0:
            g = tuple(-c for c in g)
        out.append(_primitive(g))
    return out


def _pmul(a, b):
    out = [0] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] += x * y
    return out


def _pdet(M):
    if len(M) == 1:
        return M[0][0]
    out = [0]
    for c in range(len(M)):
        term = _pmul(M[0][c], _pdet([row[:c] + row[c + 1:] for row in M[1:]]))
        sign = 1 if c % 2 == 0 else -1
        out = [(out[i] if i < len(out) else 0) + sign * (term[i] if i < len(term) else 0)
               for i in range(max(len(out), len(term)))]
    return out


def _orthant(normals, flint, prec):
    """P(g_i . x >= 0 for all i) for n = 4 (Plackett's reduction: six one-dimensional integrals, written
    with integer polynomials in u = 1 - t, see FORMAT.md) or n = 5 (odd-n identity over marginals)."""
    import itertools

    n = len(normals)
    G = [[_dotv(a, b) for b in normals] for a in normals]
    arb, acb = flint.arb, flint.acb
    pi = arb.pi()
    tol = arb(2) ** (-(prec - 19))
    I_ = acb(0, 1)

    def asin_r(i, j):
        return (arb(G[i][j]) / (arb(G[i][i]) * arb(G[j][j])).sqrt()).asin()

    def p4(idx):
        A = [[[G[a][a]] if a == b else [G[a][b], -G[a][b]] for b in idx] for a in idx]
        detA = _pdet(A)
        total, quad = arb(1) / 16, arb(0)
        for a, b in itertools.combinations(range(4), 2):
            c, e = [x for x in range(4) if x not in (a, b)]
            total += asin_r(idx[a], idx[b]) / (8 * pi)
            if G[idx[a]][idx[b]] == 0:
                continue
            Q = _pdet([[A[a][a], A[a][b]], [A[b][a], A[b][b]]])
            M = _pdet([[A[c][e], A[c][a], A[c][b]], [A[a][e], A[a][a], A[a][b]], [A[b][e], A[b][a], A[b][b]]])
            Qp, QDp, Mp, g = flint.acb_poly(Q), flint.acb_poly(_pmul(Q, detA)), flint.acb_poly(M), arb(G[idx[a]][idx[b]])

            def f(u, analytic, Qp=Qp, QDp=QDp, Mp=Mp, g=g):
                w = Mp(u) / QDp(u).sqrt(analytic=analytic)
                iw = I_ * w
                return g * (I_ / 2 * ((1 - iw).log(analytic=analytic) - (1 + iw).log(analytic=analytic))) \
                    / Qp(u).sqrt(analytic=analytic)

            quad += acb.integral(f, 0, 1, rel_tol=tol, abs_tol=tol).real
        return total + quad / (4 * pi * pi)

    if n == 4:
        return p4((0, 1, 2, 3))
    if n == 5:
        s2 = sum((arb(1) / 4 + asin_r(i, j) / (2 * pi) for i, j in itertools.combinations(range(5), 2)), arb(0))
        s3 = sum((arb(1) / 8 + (asin_r(i, j) + asin_r(i, k) + asin_r(j, k)) / (4 * pi)
                  for i, j, k in itertools.combinations(range(5), 3)), arb(0))
        s4 = sum((p4(c) for c in itertools.combinations(range(5), 4)), arb(0))
        return (1 - arb(5) / 2 + s2 - s3 + s4) / 2
    raise Reject("measure", f"no orthant rule for n = {n}")


def _orthant_ball_fn(cones, complement):
    fn = _ball_sum(cones, lambda flint, rays: _orthant(_simplex_normals(rays), flint, flint.ctx.prec),
                   complement=complement)

    def guarded(prec):
        if prec > 160:
            raise Reject("enclosure", "the enclosure is narrower than the checker can confirm")
        return fn(prec)

    return guarded


def _check_v2(doc, checkpoint, z3):
    obj(doc, "certificate", _TOP_V2, _TOP_V2_OPTIONAL)
    m, task = _check_model(doc)
    _check_checkpoint(doc, m, checkpoint)
    if doc["method"] != "cones":
        raise Reject("method", f"version 2 certificates use method 'cones', not {doc['method']!r}")
    cells, shapes = _check_cones(doc, m, task)
    if doc["cell_count"] != len(cells) or doc["regions"] != len({c[1] for c in cells}):
        raise Reject("schema", "cell_count / regions do not match the cells listed")
    err = obj(doc["error"], "error", ("lower", "upper", "closed_form", "rigorous", "digits"))
    wrong = [i for i, c in enumerate(cells) if c[4]["wrong"]]
    if m.n >= 4:
        if doc.get("measured") not in ("wrong", "right"):
            raise Reject("schema", "a seq_len >= 4 certificate must say which cells are measured (wrong or right)")
        measured_wrong = doc["measured"] == "wrong"
        cones = []
        for i, c in enumerate(cells):
            has = "simplices" in c[4]
            if c[4]["wrong"] == measured_wrong:
                cones.extend(_check_triangulation(f"cell {i}", c[3], shapes[i]["rays"], c[4]["simplices"] if has
                                                  else [], m.n))
            elif has:
                raise Reject("schema", f"cell {i}: only the measured cells carry simplices")
        form = _orthant_form(doc["measured"], len(cones), m.n)
        ball = _orthant_ball_fn(cones, complement=not measured_wrong)
        empty = measured_wrong and not cones
    elif m.n == 2:
        wedges = []
        for i in wrong:
            fr = shapes[i]["facet_rays"]
            if len(fr) != 2 or any(len(x) != 1 for x in fr) or fr[0] == fr[1]:
                raise Reject("measure", f"cell {i}: a plane cell must have exactly two facets, one ray each")
            a, b = shapes[i]["rays"][fr[0][0]], shapes[i]["rays"][fr[1][0]]
            if _cross(a, b) < 0:
                a, b = b, a
            if _cross(a, b) <= 0:
                raise Reject("measure", f"cell {i}: its facet rays do not bound a sector")
            wedges.append((a, b))
        form, ball = _wedge_form(wedges), _wedge_ball(wedges)
        empty = not wedges
    elif m.n == 3:
        terms = _vos_terms([shapes[i]["verts"] for i in wrong])
        form, ball, empty = _vos_form(terms), _vos_ball(terms), not terms
    if err["closed_form"] != form:
        raise Reject("closed-form", "closed_form is not the measure of the wrong cells")
    if err["rigorous"] is not True:
        raise Reject("enclosure", "this certificate's enclosure must be rigorous")
    lo, hi = _check_enclosure(err, ball, exact_zero=empty, start_prec=80 if m.n >= 4 else 320)
    _check_accuracy(doc, lo, hi)
    if z3:
        _z3_cells(m, task, cells, roots=_parse_roots(doc, m.n, task))
    return {"method": "cones", "task": task, "hidden_size": m.d, "seq_len": m.n, "regions": doc["regions"],
            "cells": len(cells), "error_lower": err["lower"], "error_upper": err["upper"],
            "closed_form": err["closed_form"]}


def check(certificate, checkpoint: str | None = None, z3: bool = False) -> Verdict:
    """Check a certificate given as a path, JSON text, bytes or a parsed document."""
    try:
        if isinstance(certificate, dict):
            doc = certificate
        else:
            if isinstance(certificate, (bytes, bytearray)):
                text = bytes(certificate).decode("utf-8")
            elif isinstance(certificate, str) and certificate.lstrip().startswith("{"):
                text = certificate
            else:
                path = os.fspath(certificate)
                try:
                    with open(path, "rb") as fh:
                        text = fh.read().decode("utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    raise Unreadable(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
            doc = parse_json(text)
        summary = check_document(doc, checkpoint=checkpoint, z3=z3)
        return Verdict(True, None, "accepted", summary)
    except Reject as exc:
        return Verdict(False, exc.rule, exc.message)


# ------------------------------------------------------------------------------------------------
# Second opinion: Z3 (only with --z3)
#
# For a cell with claimed pattern sigma, Z3 computes the network with each step's hidden state fixed by
# sigma (its own exact arithmetic on the weights) and must find no point of the open cell where a
# pre-activation breaks sigma, the target differs, or the right/wrong claim fails.  No violation of
# sigma means, by induction over the steps, that the ReLU network equals this encoding on the cell.


def _z3_module():
    try:
        import z3
    except ImportError:
        raise Unreadable("--z3 needs the z3-solver package") from None
    return z3


def _z3_num(z3, v):
    v = Fraction(v)
    return z3.RealVal(f"{v.numerator}/{v.denominator}")


class _Z3Net:
    def __init__(self, z3, m: Model, task: str):
        self.z3, self.m, self.task = z3, m, task
        self.x = [z3.Real(f"x{t}") for t in range(m.n)]
        self.W_hi = [_z3_num(z3, w[0]) for w in m.W_hi]
        self.W_hh = [[_z3_num(z3, v) if v else None for v in r] for r in m.W_hh]
        self.W_oh = [[_z3_num(z3, v) if v else None for v in r] for r in m.W_oh]
        self.cache = {}

    def step(self, prefix):
        got = self.cache.get(prefix)
        if got is None:
            z3, d, t = self.z3, self.m.d, len(prefix)
            h = [None] * d
            if t:
                prev = self.step(prefix[:-1])
                h = [prev[i] if prefix[-1][i] else None for i in range(d)]
            got = []
            for i in range(d):
                terms = [self.W_hh[i][j] * h[j] for j in range(d) if h[j] is not None and self.W_hh[i][j] is not None]
                got.append(z3.simplify(z3.Sum(terms + [self.W_hi[i] * self.x[t]])))
            self.cache[prefix] = got
        return got

    def violation(self, pattern, label, pred=None, wrong=None):
        """Some point breaks the pattern or the label, or the prediction claim (pred, or right/wrong)."""
        z3, n, d = self.z3, self.m.n, self.m.d
        pres = [self.step(tuple(pattern[:t])) for t in range(n)]
        h = [pres[n - 1][i] if pattern[n - 1][i] else None for i in range(d)]
        logits = [z3.Sum([r[j] * h[j] for j in range(d) if h[j] is not None and r[j] is not None] or [z3.RealVal(0)])
                  for r in self.W_oh]
        bad = [pres[t][i] <= 0 if bit else pres[t][i] > 0 for t, row in enumerate(pattern) for i, bit in enumerate(row)]
        x = self.x
        before = [z3.If(x[j] >= x[label] if j < label else x[j] > x[label], 1, 0) for j in range(n) if j != label]
        bad.append(z3.Sum(before) != TASK_RANK[self.task](n))

        def not_pred(p):
            alts = [logits[j] >= logits[p] for j in range(p)] + [logits[j] > logits[p] for j in range(p + 1, n)]
            return z3.Or(alts) if alts else z3.BoolVal(False)

        if pred is not None:
            bad.append(not_pred(pred))
        if wrong is not None:
            bad.append(z3.Not(not_pred(label)) if wrong else not_pred(label))
        return z3.Or(bad)

    def confirm(self, strict, claim, where):
        z3 = self.z3
        s = z3.SolverFor("QF_LRA")
        for g in strict:
            s.add(z3.Sum([int(a) * xv for a, xv in zip(g, self.x) if a]) > 0)
        s.add(claim)
        res = s.check()
        if res != z3.unsat:
            raise Reject("z3", f"{where}: Z3 does not confirm the claims ({res})")


def _z3_disc(m, task, parsed):
    z3 = _z3_module()
    net = _Z3Net(z3, m, task)
    for k, (u, v, pat, lab, pred, _w) in enumerate(parsed):
        net.confirm([(-u[1], u[0]), (v[1], -v[0])], net.violation(pat, lab, pred=pred), f"sector {k}")


def _z3_cells(m, task, cells, roots):
    z3 = _z3_module()
    net = _Z3Net(z3, m, task)
    for ci, (r, pat, dec, cons, c) in enumerate(cells):
        net.confirm(cons, net.violation(pat, roots[r][2], wrong=c["wrong"]), f"cell {ci}")
