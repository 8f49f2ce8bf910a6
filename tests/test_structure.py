"""The layout carries the pipeline: one kind per kernel version (and the reverse), nothing private imported from
the kernel, a thin command line, no generator module over 600 lines, and models held in memory accepted as a
checkpoint is."""

from __future__ import annotations

import ast
import json
import os

import pytest

from conftest import ROOT, run_cli

PKG = os.path.join(ROOT, "verifier")
MODELS = os.path.join(ROOT, "models")


def _py_files(folder):
    out = []
    for here, _, files in os.walk(folder):
        out.extend(os.path.join(here, f) for f in files if f.endswith(".py"))
    return sorted(out)


def test_every_kernel_version_has_exactly_one_kind_and_the_reverse():
    from verifier.kernel import VERSIONS
    from verifier.kinds import KINDS, of_version

    versions = [k.version for k in KINDS]
    assert sorted(versions) == sorted(set(versions)) == sorted(VERSIONS)
    assert len({k.name for k in KINDS}) == len(KINDS)
    for v in VERSIONS:
        assert of_version(v).version == v


@pytest.mark.parametrize("name,kind", [("2nd_argmax_2_2.cert.json", "disc"), ("2nd_argmax_2_3.cert.json", "cones"),
                                       ("median_2_2.cert.json", "moments"),
                                       ("longest_cycle_2_3.cert.json", "enumeration"),
                                       ("anytime/2nd_argmax_2_7.anytime.cert.json", "cones")])
def test_a_shipped_certificate_is_read_back_as_the_kind_that_made_it(name, kind):
    """A document's version names the kind that made it, the one whose lines the CLI prints and whose no_cells
    explain and crosscheck consult."""
    from verifier.kinds import of_version
    from verifier.loading.rational import load_certificate

    assert of_version(load_certificate(os.path.join(ROOT, "proofs", name))["version"]).name == kind


def test_no_module_outside_the_kernel_imports_a_private_kernel_name():
    """`from ...kernel... import _name` (absolute or relative) nowhere in verifier/ outside verifier/kernel/."""
    offenders = []
    for path in _py_files(PKG):
        if os.sep + "kernel" + os.sep in path:
            continue
        rel = os.path.relpath(path, PKG)
        depth = rel.count(os.sep)  # 0 for verifier/x.py
        for node in ast.walk(ast.parse(open(path).read())):
            if not isinstance(node, ast.ImportFrom):
                continue
            mod = node.module or ""
            kernel = mod.startswith("verifier.kernel") or (node.level == depth + 1 and mod.startswith("kernel"))
            if kernel:
                offenders += [f"{rel}: {mod}.{a.name}" for a in node.names if a.name.startswith("_")]
    assert offenders == []


def test_the_command_line_is_thin_and_no_generator_module_is_long():
    assert sum(1 for _ in open(os.path.join(PKG, "face", "cli.py"))) <= 500
    long = {os.path.relpath(p, ROOT): n for p in _py_files(PKG) if os.sep + "kernel" + os.sep not in p
            for n in [sum(1 for _ in open(p))] if n > 600}
    assert long == {}


def test_a_state_dict_and_an_algzoo_module_are_read_as_the_checkpoint_is():
    """AlgZoo's own class (OneLayerRNN: an nn.RNN `rnn` and an nn.Linear `linear`, no bias) and its state_dict
    give the file's exact weights; certify accepts either; a module with biases is refused like a file with them."""
    import torch

    import verifier
    from verifier.errors import InputError, UnsupportedError

    class OneLayerRNN(torch.nn.Module):
        def __init__(self, hidden_size, output_size, bias=False):
            super().__init__()
            self.rnn = torch.nn.RNN(input_size=1, hidden_size=hidden_size, nonlinearity="relu", bias=bias,
                                    batch_first=True)
            self.linear = torch.nn.Linear(hidden_size, output_size, bias=bias)

    path = os.path.join(MODELS, "2nd_argmax_4_3.pth")
    sd = torch.load(path, weights_only=True)
    module = OneLayerRNN(4, 3)
    module.load_state_dict(sd)
    from_file, from_module, from_dict = verifier.load(path), verifier.load(module), verifier.load(sd)
    for lm in (from_module, from_dict):
        assert (lm.rnn.W_hi, lm.rnn.W_hh, lm.rnn.W_oh) == (from_file.rnn.W_hi, from_file.rnn.W_hh, from_file.rnn.W_oh)
    assert from_module.path == "<OneLayerRNN>" and from_dict.path == "<state_dict>"
    assert from_module.sha256 == from_dict.sha256 == verifier.load(module).sha256  # a digest of the tensors
    res = verifier.certify(module, z3=False)
    assert res.error == verifier.certify(path, z3=False).error
    assert verifier.check(res.certificate).accepted
    with pytest.raises(UnsupportedError, match="bias"):
        verifier.load(OneLayerRNN(4, 3, bias=True))
    with pytest.raises(InputError, match="state_dict or an nn.Module"):
        verifier.load(3.5)


def test_every_task_is_accepted_for_the_family_it_fits(tmp_path):
    """`--task median` certifies a median model (its seq_len given), and is refused in one line for a model with
    one logit per position; `--task longest_cycle` likewise for an RNN."""
    out = tmp_path / "m.cert.json"
    code, so, se = run_cli(os.path.join(MODELS, "median_2_2.pth"), "--task", "median", "--seq-len", "2",
                           "--samples", "0", "--out", out)
    assert code == 0, se
    assert json.loads(out.read_text())["task"] == "median"
    for task, needle in (("median", "needs a single output"), ("longest_cycle", "transformers'")):
        code, so, se = run_cli(os.path.join(MODELS, "2nd_argmax_2_3.pth"), "--task", task, "--samples", "0",
                               "--out", tmp_path / "x.cert.json")
        assert code == 2 and needle in se and len(se.strip().splitlines()) == 1 and "Traceback" not in se
