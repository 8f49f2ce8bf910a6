"""A certificate read into named parts.  Reading checks only the shape (rules json, rational, schema,
format, version); every claim is left to the rules.  Index ranges that depend on recomputed constraint
lists are checked by the rules that recompute them."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .read import MAX_CELLS, boolean, indices, int_vec, lst, obj, pattern, qmat, rat, small_int, string
from .rules import Reject, Unreadable

FORMAT = "verifier-certificate"
MAX_DIM = 4096
MAX_INDEX = 1 << 30


def capped(v, where: str, cap: int) -> list:
    """A list of at most `cap` entries: a longer one is refused before any entry is read (a limit of this
    kernel, Unreadable: exit 2, not a verdict)."""
    v = lst(v, where)
    if len(v) > cap:
        raise Unreadable(f"the certificate lists {len(v)} {where}, more than this kernel reads ({cap})")
    return v

_TOP = ("format", "version", "generator", "claim", "checkpoint", "model", "task", "method", "error", "accuracy",
        "regions")
_TOP_V1 = _TOP + ("sectors", "wedges")
_TOP_V2 = _TOP + ("roots", "evidence", "cells", "cell_count")
_TOP_V2_OPTIONAL = ("measured", "coverage")
_TOP_V3 = tuple(k for k in _TOP if k not in ("error", "accuracy")) + ("mse", "rmse", "roots", "evidence", "cells",
                                                                       "cell_count")
_TOP_V3_OPTIONAL = ("coverage", "tail")  # a partial median certificate: both


@dataclass(frozen=True)
class ErrorClaim:
    lower: Fraction
    upper: Fraction
    closed_form: str
    rigorous: bool
    digits: int


@dataclass(frozen=True)
class Sector:
    """Version 1: the open sector {a u + b v : a, b > 0} and what is claimed on it."""

    u: tuple
    v: tuple
    pattern: tuple
    label: int
    prediction: int
    wrong: bool


@dataclass(frozen=True)
class Facet:
    rays: tuple  # ray indices whose sum is the facet point
    neighbor: int | None


@dataclass(frozen=True)
class Same:
    of: int  # a positive multiple of this facet constraint


@dataclass(frozen=True)
class Implied:
    support: tuple  # facet constraints of which it is a nonnegative combination


@dataclass(frozen=True)
class Cell:
    """Version 2: a cell (root, pattern, decision string) and its evidence; version 3: no decisions ('')."""

    root: int
    pattern: tuple
    decision: str
    wrong: bool
    edges: tuple = ()  # polygon: cyclic constraint indices
    neighbors: tuple = ()  # polygon: per edge
    rays: tuple = ()  # facets: n - 1 constraint indices per extreme ray
    evidence: tuple = ()  # facets: Facet | Same | Implied per constraint
    simplices: tuple | None = None  # facets, n >= 4, measured cells: n ray indices per simplex
    pulled: tuple | None = None  # partial certificates, instead: the pulling path of each simplex measured
    whole: bool = False  # n = 5, instead of simplices: measured at once, its rays proven complete (rule edges)


@dataclass(frozen=True)
class Subject:
    """What every certificate is about, whatever its version: the model (its family, shape and exact weights as
    written, whose digest is taken of them), the task, the method, the checkpoint."""

    version: int
    method: str
    task: str
    family: str
    d: int
    n: int
    weights_text: dict  # the weights as written (the digest is taken of them)
    weights_sha256: str
    checkpoint_name: str
    checkpoint_sha256: str


@dataclass(frozen=True)
class Certificate(Subject):
    """Versions 1 to 3: an RNN's regions (sectors, or cells with their evidence) and the measure claimed."""

    W_hi: tuple
    W_hh: tuple
    W_oh: tuple
    error: ErrorClaim  # the error (versions 1, 2) or the mean squared error (version 3: mse)
    accuracy: tuple  # (lower, upper); version 3: ()
    regions: int
    sectors: tuple = ()
    wedges: tuple = ()  # (first sector, last sector) per wedge
    roots: tuple = ()  # (ranking, x0 sign)
    evidence: str = ""
    measured: str | None = None
    cells: tuple = ()
    cell_count: int = 0
    rmse: tuple = ()  # version 3: (lower, upper)
    coverage: str = "full"  # versions 2, 3: "partial" for an anytime certificate (a subset of the cells)
    tail: tuple = ()  # version 3 partial: (S^2, face denominator, face trees), kernel/tail.py


def version_of(doc, known) -> int:
    """The certificate's version, one of `known` (rules schema, format, version)."""
    if not isinstance(doc, dict):
        raise Reject("schema", "certificate is not a JSON object")
    if doc.get("format") != FORMAT:
        raise Reject("format", f"format is {doc.get('format')!r}, expected {FORMAT!r}")
    version = doc.get("version")
    if isinstance(version, bool) or version not in known:
        raise Reject("version", f"unknown format version {version!r} (this kernel knows {list(known)})")
    return version


def read_rnn(doc) -> Certificate:
    """A version 1, 2 or 3 certificate (an RNN's regions: sectors, or cells with evidence) as named parts; Reject
    (json, rational, schema) on a malformed one.  check.read_certificate has read its version."""
    version = doc["version"]
    top = {1: (_TOP_V1, ()), 2: (_TOP_V2, _TOP_V2_OPTIONAL), 3: (_TOP_V3, _TOP_V3_OPTIONAL)}[version]
    obj(doc, "certificate", *top)
    for key in ("sectors", "cells", "roots", "wedges"):
        if key in doc:
            capped(doc[key], key, MAX_CELLS)
    mo = obj(doc["model"], "model", ("family", "hidden_size", "seq_len", "W_hi", "W_hh", "W_oh", "weights_sha256"))
    d = small_int(mo["hidden_size"], "model.hidden_size", 1, MAX_DIM)
    n = small_int(mo["seq_len"], "model.seq_len", 2, 64)
    W_hi, W_hh, W_oh = qmat(mo["W_hi"], "W_hi", d, 1), qmat(mo["W_hh"], "W_hh", d, d), qmat(mo["W_oh"], "W_oh", None, d)
    ck = obj(doc["checkpoint"], "checkpoint", ("name", "sha256"))
    what = "mse" if version == 3 else "error"
    err = obj(doc[what], what, ("lower", "upper", "closed_form", "rigorous", "digits"))
    error = ErrorClaim(rat(err["lower"], f"{what}.lower"), rat(err["upper"], f"{what}.upper"),
                       string(err["closed_form"], f"{what}.closed_form"),
                       boolean(err["rigorous"], f"{what}.rigorous"), small_int(err["digits"], f"{what}.digits", 0, 100000))
    if version == 3:
        acc = obj(doc["rmse"], "rmse", ("lower", "upper"))
        accuracy, rmse = (), (rat(acc["lower"], "rmse.lower"), rat(acc["upper"], "rmse.upper"))
    else:
        acc = obj(doc["accuracy"], "accuracy", ("lower", "upper"))
        accuracy, rmse = (rat(acc["lower"], "accuracy.lower"), rat(acc["upper"], "accuracy.upper")), ()
    common = dict(version=version, method=string(doc["method"], "method"), task=string(doc["task"], "task"),
                  family=string(mo["family"], "model.family"), d=d, n=n,
                  weights_text={k: mo[k] for k in ("W_hi", "W_hh", "W_oh")},
                  weights_sha256=string(mo["weights_sha256"], "model.weights_sha256"), W_hi=W_hi, W_hh=W_hh, W_oh=W_oh,
                  checkpoint_name=string(ck["name"], "checkpoint.name"),
                  checkpoint_sha256=string(ck["sha256"], "checkpoint.sha256"), error=error,
                  accuracy=accuracy, regions=small_int(doc["regions"], "regions", 0, MAX_INDEX))
    if version == 1:
        return _read_v1(doc, common)
    return _read_v2(doc, common, rmse)


def _read_v1(doc, common) -> Certificate:
    d, n = common["d"], common["n"]
    sectors = []
    for k, s in enumerate(lst(doc["sectors"], "sectors")):
        w = f"sectors[{k}]"
        s = obj(s, w, ("u", "v", "pattern", "label", "prediction", "wrong"))
        sectors.append(Sector(int_vec(s["u"], f"{w}.u", 2), int_vec(s["v"], f"{w}.v", 2),
                              pattern(s["pattern"], f"{w}.pattern", n, d), small_int(s["label"], f"{w}.label", 0, 1),
                              small_int(s["prediction"], f"{w}.prediction", 0, 1), boolean(s["wrong"], f"{w}.wrong")))
    wedges = tuple(indices(wd, f"wedges[{i}]", max(len(sectors) - 1, 0), 2)
                   for i, wd in enumerate(lst(doc["wedges"], "wedges")))
    return Certificate(**common, sectors=tuple(sectors), wedges=wedges)


def _read_v2(doc, common, rmse=()) -> Certificate:
    """Versions 2 and 3 (version 3 cells carry no decision and no right/wrong flag)."""
    d, n = common["d"], common["n"]
    v3 = common["version"] == 3
    roots = []
    for i, r in enumerate(lst(doc["roots"], "roots")):
        r = obj(r, f"roots[{i}]", ("ranking", "x0_sign"))
        if r["x0_sign"] not in (1, -1) or isinstance(r["x0_sign"], bool):
            raise Reject("schema", f"roots[{i}].x0_sign must be 1 or -1")
        rk = indices(r["ranking"], f"roots[{i}].ranking", n - 1)
        if len(rk) not in (2, n):
            raise Reject("schema", f"roots[{i}].ranking must list all {n} positions or, for a top-two root, 2")
        roots.append((rk, r["x0_sign"]))
    kind = doc["evidence"]
    if kind not in ("polygon", "facets"):
        raise Reject("schema", f"evidence must be 'polygon' or 'facets', not {kind!r}")
    measured = doc.get("measured")
    if measured is not None and measured not in ("wrong", "right"):
        raise Reject("schema", "measured must be 'wrong' or 'right'")
    coverage = doc.get("coverage", "full")
    if coverage not in ("full", "partial"):
        raise Reject("schema", "coverage must be 'full' or 'partial'")
    keys = (("root", "pattern") if v3 else ("root", "pattern", "decision", "wrong")) + (
        ("edges", "neighbors") if kind == "polygon" else ("rays", "constraints"))
    cells = []
    for ci, c in enumerate(lst(doc["cells"], "cells")):
        w = f"cell {ci}"
        c = obj(c, w, keys, () if kind == "polygon" else ("simplices", "whole") if v3 else ("simplices", "pulled", "whole"))
        dec = "" if v3 else c["decision"]
        if not v3 and (not isinstance(dec, str) or len(dec) != n or any(ch not in ".+-0" for ch in dec)):
            raise Reject("schema", f"{w}: decision must be a string of {n} characters from '.+-0'")
        base = dict(root=small_int(c["root"], f"{w}.root", 0, max(len(roots) - 1, 0)),
                    pattern=pattern(c["pattern"], f"{w}.pattern", n, d), decision=dec,
                    wrong=False if v3 else boolean(c["wrong"], f"{w}.wrong"))
        if kind == "polygon":
            edges = indices(c["edges"], f"{w}.edges", MAX_INDEX)
            nbs = tuple(None if x is None else small_int(x, f"{w}.neighbors", 0, MAX_INDEX)
                        for x in lst(c["neighbors"], f"{w}.neighbors", len(edges)))
            cells.append(Cell(**base, edges=edges, neighbors=nbs))
            continue
        rays = tuple(indices(r, f"{w}.rays[{a}]", MAX_INDEX, n - 1) for a, r in enumerate(lst(c["rays"], f"{w}.rays")))
        ev = []
        for j, e in enumerate(lst(c["constraints"], f"{w}.constraints")):
            where = f"{w}.constraints[{j}]"
            if isinstance(e, dict) and "facet" in e:
                e = obj(e, where, ("facet", "neighbor"))
                nb = e["neighbor"]
                ev.append(Facet(indices(e["facet"], f"{where}.facet", max(len(rays) - 1, 0)),
                                None if nb is None else small_int(nb, f"{where}.neighbor", 0, MAX_INDEX)))
            elif isinstance(e, dict) and "same" in e:
                ev.append(Same(small_int(obj(e, where, ("same",))["same"], f"{where}.same", 0, MAX_INDEX)))
            elif isinstance(e, dict) and "implied" in e:
                ev.append(Implied(indices(obj(e, where, ("implied",))["implied"], f"{where}.implied", MAX_INDEX)))
            else:
                raise Reject("schema", f"{where}: expected an object with facet, same or implied")
        simplices = None
        if "simplices" in c:
            simplices = tuple(indices(s, f"{w}.simplices[{a}]", max(len(rays) - 1, 0), n)
                              for a, s in enumerate(lst(c["simplices"], f"{w}.simplices")))
        pulled = None
        if "pulled" in c:
            pulled = tuple(indices(s, f"{w}.pulled[{a}]", max(len(ev) - 1, 0))
                           for a, s in enumerate(lst(c["pulled"], f"{w}.pulled")))
        whole = False
        if "whole" in c:
            if c["whole"] is not True:
                raise Reject("schema", f"{w}.whole: only true is written (leave the key out otherwise)")
            whole = True
        cells.append(Cell(**base, rays=rays, evidence=tuple(ev), simplices=simplices, pulled=pulled, whole=whole))
    cell_count = small_int(doc["cell_count"], "cell_count", 0, MAX_INDEX)
    tail = ()
    if v3 and (coverage == "partial") != ("tail" in doc):
        raise Reject("schema", "a version-3 certificate has a tail exactly when its coverage is partial")
    if "tail" in doc:
        tail = _read_tail(doc["tail"], n)
    return Certificate(**common, roots=tuple(roots), evidence=kind, measured=measured, cells=tuple(cells),
                       cell_count=cell_count, rmse=rmse, coverage=coverage, tail=tail)


MAX_FACE_DENOMINATOR = 1 << 40


def _read_tail(doc, n: int) -> tuple:
    """(S^2, D, trees) of a partial median certificate's `tail` (kernel/tail.py checks it)."""
    t = obj(doc, "tail", ("bound", "denominator", "faces"))
    bound = rat(t["bound"], "tail.bound")
    den = small_int(t["denominator"], "tail.denominator", 1, MAX_FACE_DENOMINATOR)
    faces = tuple(string(f, f"tail.faces[{i}]") for i, f in enumerate(lst(t["faces"], "tail.faces", 2 * n)))
    return bound, den, faces


# ------------------------------------------------------------------------------------------------
# Version 4: enumeration (the longest-cycle transformers)
