"""Hostile input files: build each kind in a temporary folder, run the CLI on it as a subprocess, and print a
table of exit code, wall time and peak RSS (docs/VALIDATION.md, "Hostile files").

Every kind must end with exit 2 (EXIT_INPUT) and a one-line message, in bounded time and memory, with no
traceback and nothing written; a few reference rows (a good checkpoint, a good certificate, a symbolic link
to a good checkpoint) show the baseline.  tests/test_hostile.py builds the same files with these functions.

Usage: python scripts/hostile_files.py [--markdown] [--only SUBSTRING]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass, field

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
GOOD_CKPT = os.path.join(ROOT, "models", "2nd_argmax_4_3.pth")
GOOD_CERT = os.path.join(ROOT, "proofs", "2nd_argmax_4_3.cert.json")
GIB = 1 << 30

# ---------------------------------------------------------------------------------------------------------
# zip archives written by hand (a member may declare any size and any compression)


def _dos_time():
    return 0, (1 << 5) | 1  # 1980-01-01 00:00


def write_zip(path: str, members) -> str:
    """members: (name, method, crc, compressed bytes, uncompressed size); a plain (non-zip64) archive."""
    t, d = _dos_time()
    local, central = bytearray(), bytearray()
    for name, method, crc, comp, usize in members:
        nb = name.encode()
        off = len(local)
        local += struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, method, t, d, crc, len(comp), usize, len(nb), 0)
        local += nb + comp
        central += struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, method, t, d, crc, len(comp), usize,
                               len(nb), 0, 0, 0, 0, 0, off) + nb
    eocd = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(local), 0)
    with open(path, "wb") as fh:
        fh.write(bytes(local) + bytes(central) + eocd)
    return path


def _stored(name: str, data: bytes):
    return (name, 0, zlib.crc32(data), data, len(data))


def _template_members(pickle_bytes: bytes | None = None, records: dict | None = None):
    """The members torch.save writes for a small RNN (from the shipped 2nd_argmax_4_3.pth), with data.pkl and
    the storage records replaced when given."""
    out = []
    with zipfile.ZipFile(GOOD_CKPT) as zf:
        for info in zf.infolist():
            name = info.filename
            if pickle_bytes is not None and name.endswith("/data.pkl"):
                out.append(_stored(name, pickle_bytes))
            elif records is not None and "/data/" in name:
                continue
            else:
                out.append(_stored(name, zf.read(name)))
    prefix = out[0][0].split("/")[0]
    for key, data in (records or {}).items():
        out.append(_stored(f"{prefix}/data/{key}", data))
    return out


def deflated_zeros(total: int, chunk: int = 1 << 20, crc: bool = True):
    """(raw deflate stream, crc32) of `total` zero bytes, built from one compressed chunk repeated: a few MB
    for 2 GiB.  crc=False skips the CRC (1.4 s for 2 GiB; nothing checks it before the size refusal)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(chunk)
    block = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    assert block == again  # a full flush resets the history: every chunk compresses alike
    n = total // chunk
    stream = block * (n - 1) + c.compress(zeros) + c.flush()
    value = 0
    if crc:
        for _ in range(n):
            value = zlib.crc32(zeros, value)
    return stream, value


def zip_bomb(path: str, size: int = 2 * GIB, crc: bool = True) -> str:
    """A .pth whose storage member archive/data/0 is deflate-compressed and expands to `size` zero bytes."""
    stream, value = deflated_zeros(size, crc=crc)
    members = _template_members()
    members = [m for m in members if not m[0].endswith("/data/0")]
    members.append((members[0][0].split("/")[0] + "/data/0", 8, value, stream, size))
    return write_zip(path, members)


def zip_many_members(path: str, count: int = 65_000) -> str:
    """A .pth with `count` empty members (a central directory that would take memory to parse)."""
    members = _template_members() + [_stored(f"archive/pad/{i}", b"") for i in range(count)]
    return write_zip(path, members)


# ---------------------------------------------------------------------------------------------------------
# pickles written opcode by opcode (torch's format: _rebuild_tensor_v2 over persistent storages)

def _u(s: str) -> bytes:
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def _i(v: int) -> bytes:
    n = max(1, (v.bit_length() + 8) // 8)
    return b"\x8a" + bytes([n]) + v.to_bytes(n, "little", signed=True)


def _tuple(items) -> bytes:
    return b"(" + b"".join(items) + b"t"


def tensor_pickle(tensors: dict) -> bytes:
    """A state_dict pickle: name -> (storage key, storage numel, offset, size, stride), float32 storages."""
    out = b"\x80\x02}("
    for name, (key, numel, offset, size, stride) in tensors.items():
        storage = b"(" + _u("storage") + b"ctorch\nFloatStorage\n" + _u(key) + _u("cpu") + _i(numel) + b"tQ"
        args = storage + _i(offset) + _tuple(_i(s) for s in size) + _tuple(_i(s) for s in stride) + b"\x89" \
            + b"ccollections\nOrderedDict\n)R"
        out += _u(name) + b"ctorch._utils\n_rebuild_tensor_v2\n(" + args + b"tR"
    return out + b"u."


def pth(path: str, pickle_bytes: bytes, records: dict) -> str:
    return write_zip(path, _template_members(pickle_bytes, records))


def _f32(values) -> bytes:
    return struct.pack(f"<{len(values)}f", *values)


def rnn_tensors(**override):
    """The three RNN tensors of a d = 2, n = 2 model, any of them overridden."""
    t = {"rnn.weight_ih_l0": ("0", 2, 0, (2, 1), (1, 1)), "rnn.weight_hh_l0": ("1", 4, 0, (2, 2), (2, 1)),
         "linear.weight": ("2", 4, 0, (2, 2), (2, 1))}
    t.update(override)
    return t


RECORDS = {"0": _f32([1, -1]), "1": _f32([-1, 1, 1, -1]), "2": _f32([1, -1, -1, 1])}


def oversized_view(path: str) -> str:
    """W_hh declared (2^20, 2^20), contiguous strides, on a storage of 4 floats."""
    return pth(path, tensor_pickle(rnn_tensors(**{"rnn.weight_hh_l0": ("1", 4, 0, (1 << 20, 1 << 20), (1 << 20, 1))})),
               RECORDS)


def expanded_view(path: str) -> str:
    """W_hh declared (2^20, 2^20) with strides (0, 0): a valid view of one float, 2^40 numbers."""
    return pth(path, tensor_pickle(rnn_tensors(**{"rnn.weight_hh_l0": ("1", 4, 0, (1 << 20, 1 << 20), (0, 0))})),
               RECORDS)


def storage_bigger_than_file(path: str) -> str:
    """W_hh's storage declares 2^34 floats (64 GiB); its record holds 4."""
    return pth(path, tensor_pickle(rnn_tensors(**{"rnn.weight_hh_l0": ("1", 1 << 34, 0, (2, 2), (2, 1))})), RECORDS)


def deep_pickle(path: str, depth: int = 100_000) -> str:
    """data.pkl: {"rnn.weight_hh_l0": [[[...]]]} nested `depth` lists deep (EMPTY_LIST x depth, APPEND x depth-1)."""
    body = b"\x80\x02}" + _u("rnn.weight_hh_l0") + b"]" * depth + b"a" * (depth - 1) + b"s."
    return pth(path, body, {})


def cyclic_pickle(path: str) -> str:
    """data.pkl: {"rnn.weight_hh_l0": L, "linear.weight": D} where L = [L] and D["self"] = D (memo opcodes)."""
    body = (b"\x80\x02}" + _u("rnn.weight_hh_l0") + b"]q\x00h\x00as" + _u("linear.weight") + b"}q\x01"
            + _u("self") + b"h\x01ss.")
    return pth(path, body, {})


# ---------------------------------------------------------------------------------------------------------
# certificates and JSON weights


def good_certificate() -> dict:
    with open(GOOD_CERT, "rb") as fh:
        return json.loads(fh.read())


def certificate_for(path_cert: str, checkpoint_path: str) -> str:
    """The shipped 2nd_argmax_4_3 certificate with checkpoint.sha256 set to this file's digest, so that
    `check --checkpoint` gets past checkpoint-hash and reads the file's tensors (checkpoint-weights)."""
    doc = good_certificate()
    with open(checkpoint_path, "rb") as fh:
        doc["checkpoint"]["sha256"] = hashlib.sha256(fh.read()).hexdigest()
    with open(path_cert, "w") as fh:
        json.dump(doc, fh, separators=(",", ":"))
    return path_cert


def write(path: str, data: bytes | str) -> str:
    with open(path, "wb") as fh:
        fh.write(data.encode() if isinstance(data, str) else data)
    return path


def sparse(path: str, size: int = GIB, head: bytes = b"") -> str:
    """A sparse file of `size` bytes (nothing but `head` is written to disk)."""
    with open(path, "wb") as fh:
        fh.write(head)
        fh.truncate(size)
    return path


def many_cells(path: str, count: int = 10 ** 6, real: bool = False) -> str:
    """The shipped 2nd_argmax_4_3 certificate with `count` cells: its own cells repeated (real=True; about 117
    bytes each) or minimal entries {} (the cell cap is checked before any cell is read)."""
    doc = good_certificate()
    cells = doc["cells"]
    doc["cells"] = [cells[i % len(cells)] for i in range(count)] if real else [{}] * count
    doc["cell_count"] = count
    with open(path, "w") as fh:
        json.dump(doc, fh, separators=(",", ":"))
    return path


def weights_json(**extra) -> str:
    doc = {"format": "verifier-weights", "version": 1, "seq_len": 2, "W_hi": [["1"], ["-1"]],
           "W_hh": [["-1", "1"], ["1", "-1"]], "W_oh": [["1", "-1"], ["-1", "1"]]}
    doc.update(extra)
    return json.dumps(doc, ensure_ascii=False)


def huge_digits_certificate(path: str, digits: int = 10 ** 7) -> str:
    doc = good_certificate()
    doc["error"]["lower"] = "9" * digits
    with open(path, "w") as fh:
        json.dump(doc, fh, separators=(",", ":"))
    return path


# ---------------------------------------------------------------------------------------------------------
# the cases


@dataclass
class Case:
    kind: str
    how: str
    args: list  # CLI arguments (paths inside the temporary folder)
    code: int = 2
    needle: str = ""  # a word the one-line message must contain
    must_not_exist: list = field(default_factory=list)  # outputs that must not be written


def cases(tmp: str, crc: bool = True, big: bool = True) -> list[Case]:
    """Every hostile kind, built under tmp.  big=False leaves out the slow reference-size extras."""
    p = lambda name: os.path.join(tmp, name)  # noqa: E731
    out = []

    def both(kind, how, ckpt, needle_loader, needle_kernel):
        out.append(Case(kind + " (loader: inspect)", how, ["inspect", ckpt], 2, needle_loader))
        cert = certificate_for(ckpt + ".cert.json", ckpt)
        out.append(Case(kind + " (kernel: check --checkpoint)", how, ["check", cert, "--checkpoint", ckpt], 2,
                        needle_kernel))

    # 1. zip bomb
    both("zip bomb .pth", "archive/data/0 deflated: 2 GiB of zeros in 2.1 MB",
         zip_bomb(p("bomb.pth"), crc=crc), "before decompressing", "before decompressing")
    if big:
        both("zip with 65,000 members", "65,000 empty stored members (5 MB)", zip_many_members(p("many.pth")),
             "members", "members")
    # 2. oversized tensors
    both("tensor (2^20, 2^20) on 4 floats", "hand-written data.pkl, contiguous strides", oversized_view(p("over.pth")),
         "reaches beyond", "more than")
    both("tensor (2^20, 2^20), strides (0, 0)", "hand-written data.pkl: a view of one float",
         expanded_view(p("expand.pth")), "larger than the supported maximum", "more than")
    both("storage of 2^34 floats", "data.pkl declares 64 GiB, the record holds 16 bytes",
         storage_bigger_than_file(p("storage.pth")), "record size", "storage")
    # 3, 4. pickles
    both("deeply nested pickle", "data.pkl: 100,000 nested lists (EMPTY_LIST, APPEND)", deep_pickle(p("deep.pth")),
         "not an AlgZoo RNN checkpoint", "not a state_dict of tensors")
    both("cyclic pickle", "data.pkl: L = [L], D = {'self': D} (memo opcodes)", cyclic_pickle(p("cyclic.pth")),
         "not an AlgZoo RNN checkpoint", "not a state_dict of tensors")
    # 5. symbolic links and special files
    os.symlink(GOOD_CKPT, p("link.pth"))
    out.append(Case("symlink to a good checkpoint (reference)", "ln -s models/2nd_argmax_4_3.pth",
                    ["inspect", p("link.pth")], 0))
    os.symlink("/dev/zero", p("zero.pth"))
    os.symlink("/dev/zero", p("zero.cert.json"))
    out.append(Case("symlink to /dev/zero: checkpoint", "ln -s /dev/zero", ["inspect", p("zero.pth")], 2,
                    "character device"))
    out.append(Case("symlink to /dev/zero: certificate", "ln -s /dev/zero", ["check", p("zero.cert.json")], 2,
                    "character device"))
    out.append(Case("symlink to /dev/zero: --checkpoint", "ln -s /dev/zero",
                    ["check", GOOD_CERT, "--checkpoint", p("zero.pth")], 2, "character device"))
    os.mkfifo(p("fifo.pth"))
    os.mkfifo(p("fifo.cert.json"))
    out.append(Case("FIFO: checkpoint", "mkfifo", ["inspect", p("fifo.pth")], 2, "FIFO"))
    out.append(Case("FIFO: certificate", "mkfifo", ["check", p("fifo.cert.json")], 2, "FIFO"))
    os.mkdir(p("dir.d"))
    os.symlink(p("dir.d"), p("dirlink.pth"))
    os.symlink(p("dir.d"), p("dirlink.cert.json"))
    out.append(Case("symlink to a directory: checkpoint", "ln -s DIR", ["inspect", p("dirlink.pth")], 2, "directory"))
    out.append(Case("symlink to a directory: explain --certificate", "ln -s DIR",
                    ["explain", GOOD_CKPT, "--certificate", p("dirlink.cert.json"), "--no-plot"], 2, "directory"))
    os.symlink(p("nowhere.pth"), p("dangling.pth"))
    os.symlink(p("nowhere.cert.json"), p("dangling.cert.json"))
    out.append(Case("dangling symlink: checkpoint", "ln -s MISSING", ["inspect", p("dangling.pth")], 2, "dangling"))
    out.append(Case("dangling symlink: certificate", "ln -s MISSING", ["check", p("dangling.cert.json")], 2,
                    "dangling"))
    os.symlink(p("loop_b.pth"), p("loop_a.pth"))
    os.symlink(p("loop_a.pth"), p("loop_b.pth"))
    os.symlink(p("loop_b.cert.json"), p("loop_a.cert.json"))
    os.symlink(p("loop_a.cert.json"), p("loop_b.cert.json"))
    out.append(Case("symlink loop: checkpoint", "a -> b -> a", ["inspect", p("loop_a.pth")], 2, "loop"))
    out.append(Case("symlink loop: certificate", "a -> b -> a", ["check", p("loop_a.cert.json")], 2, "loop"))
    write(p("victim.txt"), "keep me\n")
    os.symlink(p("victim.txt"), p("out_link.cert.json"))
    out.append(Case("certify --out a symlink", "ln -s victim.txt out.cert.json",
                    [GOOD_CKPT, "--out", p("out_link.cert.json"), "--samples", "0"], 2, "symbolic link"))
    os.mkdir(p("out_dir.cert.json"))
    out.append(Case("certify --out a directory", "mkdir out.cert.json",
                    [GOOD_CKPT, "--out", p("out_dir.cert.json"), "--samples", "0"], 2, "directory"))
    # 6. encodings
    text = open(GOOD_CERT, "rb").read()
    write(p("utf16.cert.json"), b"\xff\xfe" + text.decode().encode("utf-16-le"))
    out.append(Case("certificate in UTF-16 (BOM ff fe)", "the shipped certificate re-encoded",
                    ["check", p("utf16.cert.json")], 2, "not UTF-8"))
    write(p("latin1.cert.json"), text.replace(b'"generator":"verifier', '"generator":"vérifier'.encode("latin-1")))
    out.append(Case("certificate in latin-1", "one 'é' written as the byte e9", ["check", p("latin1.cert.json")], 2,
                    "not UTF-8"))
    write(p("latin1.json"), weights_json(note="caf\xe9").encode("latin-1"))
    out.append(Case("weights JSON in latin-1", "\"note\": \"café\" written as latin-1", ["inspect", p("latin1.json")],
                    2, "not UTF-8"))
    # 7. size
    sparse(p("huge.cert.json"), GIB, b"{")
    out.append(Case("1 GiB certificate", "sparse file (truncate)", ["check", p("huge.cert.json")], 2, "limit"))
    sparse(p("huge.pth"), GIB, b"PK")
    out.append(Case("1 GiB .pth", "sparse file (truncate)", ["inspect", p("huge.pth")], 2, "larger than"))
    out.append(Case("1 GiB --checkpoint", "sparse file (truncate)",
                    ["check", GOOD_CERT, "--checkpoint", p("huge.pth")], 2, "limit"))
    sparse(p("huge.json"), GIB, b"{")
    out.append(Case("1 GiB weights JSON", "sparse file (truncate)", ["inspect", p("huge.json")], 2, "larger than"))
    sparse(p("big.json"), 100 << 20, b"{")
    out.append(Case("100 MiB weights JSON", "sparse file (truncate)", ["inspect", p("big.json")], 2, "larger than"))
    # 8. counts and nesting
    out.append(Case("10^6 cells (minimal entries)", "the shipped certificate, cells = [{}] * 10^6 (3 MB)",
                    ["check", many_cells(p("cells.cert.json"))], 2, "500000"))
    if big:
        out.append(Case("10^6 cells (real entries)", "its 209 cells repeated to 10^6 (117 MiB)",
                        ["check", many_cells(p("cells_real.cert.json"), real=True)], 2, "limit"))
        out.append(Case("500,001 cells (real entries)", "its 209 cells repeated to 500,001 (59 MiB)",
                        ["check", many_cells(p("cells_cap.cert.json"), 500_001, real=True)], 2, "500000"))
    write(p("deep.cert.json"), "[" * 100_000)
    out.append(Case("deeply nested JSON certificate", "'[' * 100000", ["check", p("deep.cert.json")], 2, "nested"))
    write(p("deep.json"), '{"format": "verifier-weights", "W_hi": ' + "[" * 100_000)
    out.append(Case("deeply nested weights JSON", "'[' * 100000 as W_hi", ["inspect", p("deep.json")], 2, "nested"))
    # extras: numbers
    out.append(Case("10^7-digit rational in a certificate", "error.lower = '9' * 10^7",
                    ["check", huge_digits_certificate(p("digits.cert.json"))], 2, "digits"))
    write(p("digits_literal.cert.json"), '{"format": "verifier-certificate", "version": ' + "9" * 10 ** 7 + "}")
    out.append(Case("10^7-digit integer literal", "\"version\": 999...9", ["check", p("digits_literal.cert.json")], 2,
                    "digits"))
    write(p("digits.json"), weights_json(W_hi=[["9" * 10 ** 7], ["1"]]))
    out.append(Case("10^7-digit weight", "W_hi[0][0] = '9' * 10^7", ["inspect", p("digits.json")], 2, "digits"))
    write(p("nan.cert.json"), text.replace(b'"regions":70', b'"regions":NaN'))
    out.append(Case("NaN in a certificate (a verdict)", "\"regions\": NaN", ["check", p("nan.cert.json")], 1, "NaN"))
    write(p("nan.json"), weights_json().replace('"seq_len": 2', '"seq_len": Infinity'))
    out.append(Case("Infinity in weights JSON", "\"seq_len\": Infinity", ["inspect", p("nan.json")], 2, "Infinity"))
    write(p("dup.json"), weights_json()[:-1] + ', "W_hi": [["1"], ["1"]]}')
    out.append(Case("duplicate key in weights JSON", "W_hi twice", ["inspect", p("dup.json")], 2, "duplicate"))
    return out


# The CLI runs as the grandchild of a small wrapper: on Linux a process's peak RSS (ru_maxrss) includes the
# memory of the process it was forked from (exec keeps the high-water mark), so a child forked straight from a
# large test process would report that process's size, not its own.
_WRAPPER = ("import os, subprocess, sys\n"
            "p = subprocess.Popen(sys.argv[2:])\n"
            "_, status, usage = os.wait4(p.pid, 0)\n"
            "open(sys.argv[1], 'w').write(f'{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}')\n"
            "sys.exit(os.waitstatus_to_exitcode(status))\n")


def run(args, timeout: float = 120.0, cpu: bool = False):
    """Run `python -m verifier ARGS`; return (code, stdout, stderr, seconds, peak RSS in MiB) of that run: wall-clock
    seconds, or with `cpu` the CPU seconds the run used (user + system: what the machine's load does not change).
    A run still going after `timeout` wall-clock seconds is killed (its exit code is then -9)."""
    import signal

    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("VERIFIER_DEBUG", None)
    with tempfile.TemporaryFile() as so, tempfile.TemporaryFile() as se, \
            tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file:
        t0 = time.perf_counter()
        p = subprocess.Popen([sys.executable, "-S", "-c", _WRAPPER, rss_file.name, sys.executable, "-m", "verifier",
                              *map(str, args)], stdout=so, stderr=se, stdin=subprocess.DEVNULL, cwd=ROOT, env=env,
                             start_new_session=True)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        secs = time.perf_counter() - t0
        so.seek(0)
        se.seek(0)
        fields = rss_file.read().split()
        kib = int(fields[0]) if fields and fields[0].isdigit() else 0
        if cpu:
            secs = float(fields[1]) if len(fields) > 1 else float("inf")
        rss = kib / (1024 * 1024 if sys.platform == "darwin" else 1024)
        return p.returncode, so.read().decode(errors="replace"), se.read().decode(errors="replace"), secs, rss


def one_line_message(code: int, out: str, err: str) -> str | None:
    """The one diagnostic line (stderr, or stdout for `check`), or None when there is not exactly one."""
    lines = [ln for ln in (err if err.strip() else out).splitlines() if ln.strip()]
    return lines[0] if len(lines) == 1 and "Traceback" not in err else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="run only the kinds containing this text")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    a = ap.parse_args(argv)
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        all_cases = cases(tmp)
        sys.stderr.write(f"built {len(all_cases)} cases in {time.perf_counter() - t0:.1f}s\n")
        rows = []
        for c in all_cases:
            if a.only and a.only not in c.kind:
                continue
            code, out, err, secs, rss = run(c.args)
            line = one_line_message(code, out, err)
            ok = code == c.code and (c.code == 0 or (line is not None and c.needle.lower() in line.lower()))
            ok = ok and not [f for f in os.listdir(tmp) if f.startswith(".tmp")]
            bad += not ok
            if code == 0:
                line = f"(accepted: {' '.join(c.args[:1])} printed its report)"
            rows.append((c.kind, c.how, code, secs, rss, ok, line or (err or out).strip()[-300:]))
        if a.markdown:
            print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} when the runs started; time is wall "
                  "clock of the whole `python -m verifier ...` process, peak RSS its maximum resident set (wait4).\n")
            print("| kind | how built | exit | time | peak RSS | message |")
            print("|---|---|---|---|---|---|")
            for kind, how, code, secs, rss, ok, line in rows:
                msg = line.replace(tmp + "/", "").replace(ROOT + "/", "").replace("verifier: error: ", "")
                msg = ((msg[:110] + " ...") if len(msg) > 110 else msg).replace("|", "\\|")
                print(f"| {kind} | {how} | {code}{'' if ok else ' **FAIL**'} | {secs:.2f} s | {rss:.0f} MiB | {msg} |")
        else:
            for kind, how, code, secs, rss, ok, line in rows:
                print(f"{'ok  ' if ok else 'FAIL'} {code:>3} {secs:6.2f}s {rss:7.0f} MiB  {kind}: "
                      f"{line.replace(tmp, 'TMP')[:160]}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
