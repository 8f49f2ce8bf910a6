"""The kernel stays closed: its rules are one table, FORMAT.md names exactly them, every rejection names one
of them, every rule has a must-fail certificate, the kernel imports nothing outside its folder, and the
package has no import cycles."""

from __future__ import annotations

import ast
import os
import re
import sys

import pytest

from conftest import ROOT
from verifier.kernel import RULES, Reject, check
from verifier.kernel.disc import RULES_V1
from verifier.kernel.cones import rules_v2
from verifier.kernel.cycle import RULES_V4
from verifier.kernel.boxes import RULES_V5
from verifier.kernel.moments import rules_v3

PKG = os.path.join(ROOT, "verifier")
KERNEL = os.path.join(PKG, "kernel")
CORPUS = os.path.join(ROOT, "tests", "data", "must_fail")
READING_RULES = {"json", "rational", "schema", "format", "version"}  # raised while reading (read.py, certificate.py)


def _py_files(folder):
    out = []
    for dirpath, _, files in os.walk(folder):
        out.extend(os.path.join(dirpath, f) for f in files if f.endswith(".py"))
    return sorted(out)


def test_format_md_lists_exactly_the_rules():
    text = open(os.path.join(ROOT, "proofs", "FORMAT.md")).read()
    table = text[text.index("## The rules"):]
    table = table[:table.index("\n## ", 5)]
    names = re.findall(r"^\| `([a-z0-9-]+)` \|", table, flags=re.M)
    assert len(names) == len(set(names)), "a rule is listed twice in FORMAT.md"
    assert set(names) == set(RULES), (sorted(set(names) - set(RULES)), sorted(set(RULES) - set(names)))
    stated = dict(re.findall(r"^\| `([a-z0-9-]+)` \| (.*) \|$", table, flags=re.M))
    assert {k: v for k, v in stated.items()} == RULES, "FORMAT.md's statements differ from RULES"


def _reject_names(path):
    tree = ast.parse(open(path).read())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Reject":
            first = node.args[0] if node.args else None
            assert isinstance(first, ast.Constant) and isinstance(first.value, str), \
                f"{path}:{node.lineno}: Reject must name its rule with a string literal"
            out.append((node.lineno, first.value))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "rule":
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant):
                out.append((node.lineno, first.value))
    return out


def test_every_reject_names_a_rule_in_the_table():
    files = _py_files(KERNEL) + [os.path.join(PKG, "interop", "second_opinion.py")]
    seen = set()
    for path in files:
        for line, name in _reject_names(path):
            assert name in RULES, f"{os.path.relpath(path, ROOT)}:{line}: {name!r} is not in RULES"
            seen.add(name)
    assert seen == set(RULES), f"rules never raised: {sorted(set(RULES) - seen)}"


def test_reject_refuses_a_name_outside_the_table():
    with pytest.raises(KeyError):
        Reject("no-such-rule", "x")


def test_rule_functions_are_stated_and_cover_the_table():
    lists = [RULES_V1, rules_v2(3), rules_v2(4), rules_v2(5), rules_v2(4, "partial"), rules_v2(5, "partial"),
             rules_v3(2), rules_v3(3), rules_v3(4), rules_v3(5), rules_v3(5, "partial"), RULES_V4, RULES_V5]
    names = set()
    for rules in lists:
        assert len(set(rules)) == len(rules), "a rule function runs twice"
        for fn in rules:
            assert fn.rule in RULES, fn.__name__
            assert fn.__doc__ and len(fn.__doc__.split()) >= 5, f"{fn.__name__} has no statement"
            names.add(fn.rule)
    assert names | READING_RULES | {"z3"} == set(RULES)


def test_every_rule_has_a_must_fail_certificate():
    prefixes = {f.split("__")[0] for f in os.listdir(CORPUS)}
    assert set(RULES) <= prefixes, sorted(set(RULES) - prefixes)
    assert prefixes <= set(RULES), sorted(prefixes - set(RULES))


@pytest.mark.parametrize("name", sorted(os.listdir(CORPUS)))
def test_must_fail_corpus(name):
    """Each file breaks the rule its name starts with, and that rule is the first to fail."""
    rule = name.split("__")[0]
    path = os.path.join(CORPUS, name)
    if rule == "z3":
        from verifier.kernel import parse_json
        from verifier.interop.second_opinion import confirm_document

        with pytest.raises(Reject) as exc:
            confirm_document(parse_json(open(path).read()))
        assert exc.value.rule == "z3"
        return
    ck = None
    if rule.startswith("checkpoint-"):
        import json

        ck = os.path.join(ROOT, "models", json.load(open(path))["checkpoint"]["name"])
    v = check(path, checkpoint=ck)
    assert not v.accepted, name
    assert v.rule == rule, (name, v.rule, v.message)


def _imports(path, package):
    """Modules (dotted names) imported anywhere in a file, with relative imports resolved."""
    tree = ast.parse(open(path).read())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
                if node.module is None:
                    out.extend(f"{mod}.{a.name}" for a in node.names)
                else:
                    out.append(mod)
            else:
                out.append(node.module)
    return out


def _module_name(path):
    rel = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
    return rel[: -len(".__init__")] if rel.endswith(".__init__") else rel


def test_kernel_imports_nothing_outside_its_folder():
    allowed_third_party = {"flint"}
    stdlib = set(sys.stdlib_module_names)
    for path in _py_files(KERNEL):
        mod = _module_name(path)
        pkg = mod if path.endswith("__init__.py") else mod.rsplit(".", 1)[0]
        for imp in _imports(path, pkg):
            top = imp.split(".")[0]
            if imp.startswith("verifier."):
                assert imp.startswith("verifier.kernel"), f"{mod} imports {imp}"
            else:
                assert top in stdlib or top in allowed_third_party, f"{mod} imports {imp}"
            assert top != "torch"


def test_no_import_cycles_in_the_package():
    files = _py_files(PKG)
    modules = {_module_name(p): p for p in files}
    graph = {}
    for mod, path in modules.items():
        pkg = mod if path.endswith("__init__.py") else mod.rsplit(".", 1)[0]
        deps = set()
        for imp in _imports(path, pkg):
            while imp and imp not in modules:
                imp = imp.rsplit(".", 1)[0] if "." in imp else ""
            if imp and imp != mod:
                deps.add(imp)
        graph[mod] = deps
    # A package's __init__ re-exporting its own submodules is not a cycle through them: a submodule never
    # imports its package's __init__ (checked here), so drop package -> own-submodule edges.
    for mod, deps in graph.items():
        if modules[mod].endswith("__init__.py"):
            graph[mod] = {d for d in deps if not d.startswith(mod + ".")}
        else:
            for d in deps:
                assert not (modules[d].endswith("__init__.py") and mod.startswith(d + ".")), \
                    f"{mod} imports its own package {d}"
    state = {}

    def visit(m, stack):
        state[m] = "open"
        for d in sorted(graph[m]):
            if state.get(d) == "open":
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(d):] + [d]))
            if d not in state:
                visit(d, stack + [d])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
