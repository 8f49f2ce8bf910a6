"""Loading checkpoints: the only room that touches torch tensors and floats.

Accepted inputs
- an AlgZoo PyTorch checkpoint (`torch.save`d state_dict), loaded with weights_only=True only;
- the same tensors in a `.safetensors` file;
- a `verifier-weights` JSON file with exact rational weights (strings), for models that are
  exact rationals rather than floats (e.g. the hand-built M(4,3) with lambda = 100).
Every float becomes the exact rational it denotes; NaN/Inf, wrong dtypes and wrong shapes are refused.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..errors import InputError, UnsupportedError
from .model import FAMILY_POSITION, FAMILY_SCALAR, RNN
from .rational import loads_strict, parse_q_matrix, weights_doc
from .tasks import check_task

RNN_KEYS = ("rnn.weight_ih_l0", "rnn.weight_hh_l0", "linear.weight")
BIAS_KEYS = ("rnn.bias_ih_l0", "rnn.bias_hh_l0", "linear.bias")
MAX_HIDDEN = 4096
MAX_SEQ_LEN = 4096
MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_JSON_BYTES = 64 * 1024 * 1024  # a verifier-weights JSON file (parsed into Python objects: ~10x in memory)
MAX_UNZIPPED_BYTES = 64 * 1024 * 1024  # all members of a .pth zip archive, as declared, before decompressing
MAX_ZIP_MEMBERS = 4096  # torch.save writes 6 members plus one per storage
MAX_PARAMETERS = 1 << 20  # numbers in all tensors of a checkpoint together (checked on the shapes, before conversion)
FAMILY_TRANSFORMER = "transformer"
WEIGHTS_FORMAT = "verifier-weights"


@dataclass(frozen=True)
class LoadedModel:
    """A checkpoint read into exact rationals, with what was learnt on the way."""

    path: str
    sha256: str
    family: str  # "position", "scalar" or "transformer"
    task: str | None
    rnn: RNN | None  # None for the transformer family (recognised, not yet certifiable)
    source_dtype: str  # "float32", "float64" or "rational"
    hidden_size: int
    seq_len: int | None
    parameters: int
    shapes: dict = field(default_factory=dict)
    task_given: bool = True  # False when the task was assumed (AlgZoo checkpoints do not store it)
    transformer: Any = None  # the exact transformer (verifier/families/transformer.py) for the transformer family

    def float_arrays(self):
        """W_hi, W_hh, W_oh as float64 numpy arrays (exact for float32/float64 sources)."""
        import numpy as np

        r = self.rnn
        return tuple(np.array([[float(v) for v in row] for row in m], dtype=np.float64) for m in (r.W_hi, r.W_hh, r.W_oh))


def _read_bytes(path: str, limit: int = MAX_FILE_BYTES, what: str = "any supported model") -> bytes:
    """The checkpoint's bytes, read by the kernel's bounded reader (verifier/kernel/read.py `read_regular`):
    symbolic links are followed to a regular file; anything else (a directory, a device such as /dev/zero, a
    FIFO, a dangling link, a link loop) is refused before it is read, and the size is judged by fstat of the
    opened file: at most limit + 1 bytes are ever read."""
    from ..kernel.read import read_regular
    from ..kernel.rules import Unreadable

    try:
        data = read_regular(path, limit, "checkpoint file", too_large=what)
    except Unreadable as exc:
        raise InputError(str(exc)) from None
    if not data:
        raise InputError(f"{path}: file is empty")
    return data


def _one_line(exc: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message, shortened at a word boundary (never mid-word)."""
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    if len(line) > limit:
        line = line[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " ..."
    return line


def _torch_container_problem(data: bytes) -> str | None:
    """A plain-words reason why bytes cannot be a torch checkpoint, judged from the container alone."""
    import zipfile

    if data[:2] == b"PK":
        from ..kernel.read import zip_problem

        problem = zip_problem(data, MAX_UNZIPPED_BYTES, MAX_ZIP_MEMBERS)  # before anything is decompressed
        if problem:
            return f"refused: {problem}"
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                bad = zf.testzip()  # decompresses (and CRC-checks) at most MAX_UNZIPPED_BYTES
        except (zipfile.BadZipFile, EOFError, OSError, ValueError):
            return "not a readable PyTorch checkpoint: the zip archive is truncated or damaged"
        return f"not a readable PyTorch checkpoint: the zip archive is damaged (member {bad})" if bad else None
    if data[:1] == b"\x80":
        return None  # a legacy (non-zip) torch pickle: torch.load decides
    try:
        data[:4096].decode("utf-8")
        kind = "a text file"
    except UnicodeDecodeError:
        kind = "binary data of another kind"
    return f"{kind}, not a PyTorch checkpoint (expected the zip archive torch.save writes)"


def _load_torch(path: str, data: bytes) -> dict:
    import warnings

    problem = _torch_container_problem(data)
    if problem:
        raise InputError(f"{path}: {problem}")
    import torch

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's own warnings would break the one-line error contract
            obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # any failure to unpickle safely is a bad file, never a crash
        if "Weights only load failed" in str(exc) or "Unsupported global" in str(exc):
            raise InputError(f"{path}: refused: the file holds objects other than tensors "
                             "(loaded with weights_only=True; arbitrary pickles are never executed)") from None
        if "not resizable" in str(exc) or "out of bounds for storage" in str(exc):
            raise InputError(f"{path}: refused: a tensor's shape, stride or offset reaches beyond its stored data "
                             f"(torch: {_one_line(exc, 120)})") from None
        raise InputError(f"{path}: not a readable PyTorch checkpoint ({_one_line(exc)})") from None
    if not isinstance(obj, dict):
        raise InputError(f"{path}: not a state_dict (found {type(obj).__name__}, expected a dict of tensors)")
    return obj


def _load_safetensors(path: str, data: bytes) -> dict:
    try:
        from safetensors.torch import load as st_load

        return dict(st_load(data))
    except Exception as exc:
        raise InputError(f"{path}: not a readable safetensors file ({_one_line(exc)})") from None


def _tensor_to_fractions(path: str, key: str, t) -> tuple[tuple[Fraction, ...], ...]:
    import torch

    if not isinstance(t, torch.Tensor):
        raise InputError(f"{path}: {key} is a {type(t).__name__}, expected a tensor")
    if t.dtype not in (torch.float32, torch.float64):
        raise InputError(f"{path}: {key} has dtype {str(t.dtype).replace('torch.', '')}; "
                         "only float32 or float64 weights are supported")
    finite = torch.isfinite(t)
    if not bool(finite.all()):
        idx = tuple(int(i) for i in (~finite).nonzero()[0])
        raise InputError(f"{path}: {key}{list(idx)} is {float(t[idx])}, weights must be finite")
    rows = t.detach().to(torch.float64).tolist()  # float32 -> float64 is exact
    return tuple(tuple(Fraction(v) for v in row) for row in rows)


def _check_size(path: str, sd: dict) -> None:
    """Refuse, from the shapes alone, tensors holding more than MAX_PARAMETERS numbers (a stride-0 view of one
    float can declare any shape in a tiny file; converting it to rationals would not end)."""
    import torch

    total = 0
    for k, t in sd.items():
        if isinstance(t, torch.Tensor):
            total += t.numel()
            if total > MAX_PARAMETERS:
                raise InputError(f"{path}: {_short(k)} has shape {list(t.shape)}: {total} weights so far, larger than "
                                 f"the supported maximum {MAX_PARAMETERS} (refused before conversion)")


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _check_dims(path: str, sd: dict) -> tuple[int, int]:
    import torch

    def shape(key):
        t = sd[key]
        if not isinstance(t, torch.Tensor):
            raise InputError(f"{path}: {key} is a {type(t).__name__}, expected a tensor")
        return tuple(t.shape)

    s_ih, s_hh, s_oh = (shape(k) for k in RNN_KEYS)
    if len(s_hh) != 2 or s_hh[0] != s_hh[1] or s_hh[0] == 0:
        raise InputError(f"{path}: rnn.weight_hh_l0 has shape {list(s_hh)}, expected d x d")
    d = s_hh[0]
    if d > MAX_HIDDEN:
        raise InputError(f"{path}: hidden size {d} is larger than the supported maximum {MAX_HIDDEN}")
    if s_ih != (d, 1):
        raise InputError(f"{path}: rnn.weight_ih_l0 has shape {list(s_ih)}, expected [{d}, 1] (d x 1)")
    if len(s_oh) != 2 or s_oh[1] != d or s_oh[0] == 0:
        raise InputError(f"{path}: linear.weight has shape {list(s_oh)}, expected [n, {d}] (width d)")
    if s_oh[0] > MAX_SEQ_LEN:
        raise InputError(f"{path}: {s_oh[0]} outputs is larger than the supported maximum {MAX_SEQ_LEN}")
    return d, s_oh[0]


TRANSFORMER_BASE = ("embed.weight", "pos_embed.weight", "unembed.weight")
TRANSFORMER_LAYER = ("in_proj_weight", "out_proj.weight")
MAX_CYCLE_SEQ_LEN = 8  # n^n inputs are enumerated


def _is_transformer(sd: dict) -> bool:
    return any(k.split(".")[0] in ("embed", "pos_embed", "unembed", "attns") for k in sd)


def _load_transformer(path: str, sha: str, sd: dict, task: str | None, seq_len: int | None) -> LoadedModel:
    """The longest-cycle transformer: exact weights, any number of layers attns.0 .. attns.{L-1}, no biases,
    one head per layer (an assumption: a multi-head layer has the same weight shapes)."""
    from ..families.transformer import TASK, Transformer

    keys = set(sd)
    bias = sorted(k for k in keys if k.endswith("bias"))
    if bias:
        raise UnsupportedError(f"{path}: has bias parameters ({', '.join(bias[:3])}); the longest-cycle "
                               "transformers have none")
    missing = [k for k in TRANSFORMER_BASE if k not in keys]
    if missing:
        raise InputError(f"{path}: not an AlgZoo longest-cycle transformer: missing {', '.join(missing)}")
    layers, extra = {}, []
    for k in sorted(keys - set(TRANSFORMER_BASE)):
        parts = k.split(".", 2)
        if len(parts) == 3 and parts[0] == "attns" and parts[1].isdigit() and parts[1] == str(int(parts[1])) \
                and parts[2] in TRANSFORMER_LAYER:
            layers.setdefault(int(parts[1]), set()).add(parts[2])
        else:
            extra.append(k)
    if extra:
        raise InputError(f"{path}: not an AlgZoo longest-cycle transformer: unexpected "
                         + ", ".join(extra[:5]) + (" ..." if len(extra) > 5 else ""))
    L = max(layers) + 1 if layers else 0
    for i in range(L):
        for p in TRANSFORMER_LAYER:
            if p not in layers.get(i, ()):
                raise InputError(f"{path}: missing attns.{i}.{p} (layers must be attns.0 .. attns.{L - 1})")
    import torch

    def shape(key):
        t = sd[key]
        if not isinstance(t, torch.Tensor):
            raise InputError(f"{path}: {key} is a {type(t).__name__}, expected a tensor")
        return tuple(t.shape)

    s_e = shape("embed.weight")
    if len(s_e) != 2 or s_e[0] < 2 or s_e[1] < 1:
        raise InputError(f"{path}: embed.weight has shape {list(s_e)}, expected [n, d] with n >= 2")
    n, d = s_e
    if d > MAX_HIDDEN:
        raise InputError(f"{path}: hidden size {d} is larger than the supported maximum {MAX_HIDDEN}")
    if n > MAX_CYCLE_SEQ_LEN:
        raise UnsupportedError(f"{path}: seq_len {n}: {n}^{n} inputs is too many to enumerate "
                               f"(at most {MAX_CYCLE_SEQ_LEN})")
    want = {"pos_embed.weight": (n, d), "unembed.weight": (n, d)}
    for i in range(L):
        want[f"attns.{i}.in_proj_weight"] = (3 * d, d)
        want[f"attns.{i}.out_proj.weight"] = (d, d)
    for k, w in want.items():
        if shape(k) != w:
            what = " (3d x d)" if k.endswith("in_proj_weight") else ""
            raise InputError(f"{path}: {k} has shape {list(shape(k))}, expected {list(w)}{what}")
    if seq_len is not None and seq_len != n:
        raise InputError(f"{path}: the model has {n} tokens, so seq_len is {n}, not {seq_len}")
    if task is not None and task != TASK:
        raise InputError(f"{path}: a transformer checkpoint is a {TASK} model, not {task}")
    mats = {k: _tensor_to_fractions(path, k, sd[k]) for k in sorted(keys)}
    tr = Transformer(mats["embed.weight"], mats["pos_embed.weight"],
                     tuple((mats[f"attns.{i}.in_proj_weight"], mats[f"attns.{i}.out_proj.weight"]) for i in range(L)),
                     mats["unembed.weight"])
    dtypes = {str(sd[k].dtype).replace("torch.", "") for k in keys}
    shapes = {k: list(shape(k)) for k in sorted(keys)}
    return LoadedModel(path, sha, FAMILY_TRANSFORMER, TASK, None, "float64" if "float64" in dtypes else "float32",
                       d, n, tr.parameters, shapes, task_given=True, transformer=tr)


def loaded_transformer(m, name: str = "<in-memory>") -> LoadedModel:
    """A LoadedModel for exact transformer weights given in memory (sha256 of the canonical weights JSON)."""
    from ..families.transformer import TASK
    from .rational import dumps_canonical

    sha = hashlib.sha256(dumps_canonical(m.weights_doc()).encode()).hexdigest()
    return LoadedModel(name, sha, FAMILY_TRANSFORMER, TASK, None, "rational", m.d, m.n, m.parameters, {},
                       transformer=m)


def load(path, task: str | None = None, seq_len: int | None = None) -> LoadedModel:
    """Read a checkpoint (or verifier-weights JSON) into exact rationals; raise InputError on bad input.  `path` may
    also be a model held in memory: a torch state_dict (a mapping of names to tensors) or an nn.Module of AlgZoo's
    architecture (AlgZoo's own OneLayerRNN included: its state_dict has the same keys), read as in_memory()
    reads it."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        return in_memory(path, task, seq_len)
    path = os.fspath(path)
    if path.endswith(".json"):
        data = _read_bytes(path, MAX_JSON_BYTES, f"a {WEIGHTS_FORMAT} JSON file may be")
    else:
        data = _read_bytes(path)
    sha = hashlib.sha256(data).hexdigest()
    if path.endswith(".json"):
        return _load_weights_json(path, data, sha, task, seq_len)
    if path.endswith(".safetensors"):
        sd = _load_safetensors(path, data)
    else:
        sd = _load_torch(path, data)
    return _from_state_dict(path, sha, sd, task, seq_len)


def in_memory(model, task: str | None = None, seq_len: int | None = None, name: str | None = None) -> LoadedModel:
    """A model held in memory, converted exactly as a checkpoint file is: a torch state_dict or an nn.Module
    (its state_dict(); tensors on any device).  The same checks apply (keys, shapes, dtype, finiteness, no
    biases); the digest recorded in a certificate (checkpoint.sha256) is that of the tensors (`tensors_sha256`:
    names, dtypes, shapes and bytes), as there is no file, and the name is `name` or "<ClassName>"."""
    import torch

    module = callable(getattr(model, "state_dict", None))
    sd = model.state_dict() if module else model
    if not hasattr(sd, "items"):
        raise InputError(f"expected a checkpoint path, a torch state_dict or an nn.Module, got a "
                         f"{type(model).__name__}")
    sd = {k: (v.detach().cpu() if isinstance(v, torch.Tensor) else v) for k, v in sd.items()}
    name = name or (f"<{type(model).__name__}>" if module else "<state_dict>")
    return _from_state_dict(name, tensors_sha256(name, sd), sd, task, seq_len)


def tensors_sha256(name: str, sd: dict) -> str:
    """SHA-256 of a state_dict's contents in a fixed order: each key, dtype and shape, then its tensor's bytes
    (little-endian, row-major) — the digest of a model that is not a file."""
    import torch

    h = hashlib.sha256()
    for k in sorted(sd, key=str):
        t = sd[k]
        if not isinstance(t, torch.Tensor):
            raise InputError(f"{name}: {_short(str(k))} is a {type(t).__name__}, expected a tensor")
        h.update(f"{k}\0{str(t.dtype)}\0{list(t.shape)}\0".encode())
        h.update(t.contiguous().numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
                 if t.dtype in (torch.float32, torch.float64) else b"")
    return h.hexdigest()


def _from_state_dict(path: str, sha: str, sd: dict, task: str | None, seq_len: int | None) -> LoadedModel:
    """The checks and the exact conversion shared by checkpoint files and models in memory."""
    if any(not isinstance(k, str) for k in sd):
        raise InputError(f"{path}: state_dict keys must be strings")
    _check_size(path, sd)
    present_bias = [k for k in BIAS_KEYS if k in sd]
    if present_bias:
        raise UnsupportedError(f"{path}: has bias parameters ({', '.join(present_bias)}); "
                               "models with biases are not supported yet")
    if _is_transformer(sd):
        return _load_transformer(path, sha, sd, task, seq_len)
    missing = [k for k in RNN_KEYS if k not in sd]
    extra = sorted(k for k in sd if k not in RNN_KEYS)
    if missing or extra:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if extra:
            parts.append("unexpected " + ", ".join(extra[:5]) + (" ..." if len(extra) > 5 else ""))
        raise InputError(f"{path}: not an AlgZoo RNN checkpoint: {'; '.join(parts)}")
    d, out = _check_dims(path, sd)
    return _finish(path, sha, task, seq_len, out, d,
                   *(_tensor_to_fractions(path, k, sd[k]) for k in RNN_KEYS),
                   source_dtype=str(sd["rnn.weight_hh_l0"].dtype).replace("torch.", ""))


def _finish(path, sha, task, seq_len, out, d, W_hi, W_hh, W_oh, source_dtype) -> LoadedModel:
    if out == 1:
        family = FAMILY_SCALAR
        if seq_len is None:
            raise InputError(f"{path}: a single-output (median) model does not record its sequence length; "
                             "give --seq-len N")
        n = seq_len
    else:
        family = FAMILY_POSITION
        if seq_len is not None and seq_len != out:
            raise InputError(f"{path}: the model has {out} outputs, so seq_len is {out}, not {seq_len}")
        n = out
    if not 1 <= n <= MAX_SEQ_LEN:
        raise InputError(f"{path}: seq_len {n} is out of range 1..{MAX_SEQ_LEN}")
    given = task is not None
    task = task or ("median" if family == FAMILY_SCALAR else "2nd_argmax")
    try:
        check_task(task, family, n)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
    rnn = RNN(W_hi, W_hh, W_oh, n, family)
    return LoadedModel(path, sha, family, task, rnn, source_dtype, d, n, rnn.parameters,
                       {"W_hi": [d, 1], "W_hh": [d, d], "W_oh": [out, d]}, task_given=given)


def _load_weights_json(path, data, sha, task, seq_len) -> LoadedModel:
    if len(data) > MAX_JSON_BYTES:
        raise InputError(f"{path}: {len(data)} bytes, larger than a verifier-weights JSON file may be ({MAX_JSON_BYTES})")
    try:
        doc = loads_strict(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); a "
                         f"{WEIGHTS_FORMAT} file is JSON text") from None
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != WEIGHTS_FORMAT:
        raise InputError(f"{path}: not a {WEIGHTS_FORMAT} JSON file (missing \"format\": \"{WEIGHTS_FORMAT}\")")
    if doc.get("version") != 1:
        raise InputError(f"{path}: unknown {WEIGHTS_FORMAT} version {doc.get('version')!r}")
    try:
        W_hi = parse_q_matrix(doc.get("W_hi"), "W_hi")
        W_hh = parse_q_matrix(doc.get("W_hh"), "W_hh")
        W_oh = parse_q_matrix(doc.get("W_oh"), "W_oh")
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
    d = len(W_hh)
    if d > MAX_HIDDEN:
        raise InputError(f"{path}: hidden size {d} is larger than the supported maximum {MAX_HIDDEN}")
    if any(len(r) != d for r in W_hh):
        raise InputError(f"{path}: W_hh is not d x d")
    if len(W_hi) != d or any(len(r) != 1 for r in W_hi):
        raise InputError(f"{path}: W_hi is not {d} x 1")
    if any(len(r) != d for r in W_oh):
        raise InputError(f"{path}: W_oh width is not {d}")
    n_doc = doc.get("seq_len")
    if n_doc is not None and (not isinstance(n_doc, int) or isinstance(n_doc, bool)):
        raise InputError(f"{path}: seq_len must be an integer")
    if seq_len is not None and n_doc is not None and seq_len != n_doc:
        raise InputError(f"{path}: file says seq_len {n_doc}, --seq-len says {seq_len}")
    return _finish(path, sha, task or doc.get("task"), seq_len or n_doc, len(W_oh), d, W_hi, W_hh, W_oh,
                   source_dtype="rational")


def weights_json(rnn: RNN, task: str | None = None, note: str | None = None) -> dict[str, Any]:
    """A verifier-weights document for exact rational weights."""
    doc = {"format": WEIGHTS_FORMAT, "version": 1, "seq_len": rnn.seq_len,
           **weights_doc(rnn)}
    if task:
        doc["task"] = task
    if note:
        doc["note"] = note
    return doc


def state_dict_bytes(rnn: RNN, dtype: str = "float32") -> bytes:
    """AlgZoo-format checkpoint bytes (torch.save of the state_dict), rounding to dtype."""
    import torch

    tdt = {"float32": torch.float32, "float64": torch.float64}[dtype]

    def t(m):
        return torch.tensor([[float(v) for v in row] for row in m], dtype=torch.float64).to(tdt)

    sd = {"rnn.weight_ih_l0": t(rnn.W_hi), "rnn.weight_hh_l0": t(rnn.W_hh), "linear.weight": t(rnn.W_oh)}
    buf = io.BytesIO()
    torch.save(sd, buf)
    return buf.getvalue()
