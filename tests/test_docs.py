"""Documents that cannot drift: every generated block in README.md, docs/STATUS.md, docs/VALIDATION.md and
proofs/FORMAT.md is what scripts/render_docs.py writes from the files now (the certificates, the models' index
and list of uncertified models, the logs of measured figures)."""

from __future__ import annotations

import os
import sys

import pytest
from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import render_docs  # noqa: E402


@pytest.fixture(scope="module")
def ctx():
    return render_docs.context()  # every certificate read once


def test_every_generated_block_is_up_to_date(ctx):
    stale = render_docs.stale_documents(ctx)
    assert stale == [], f"stale: {stale}; run python scripts/render_docs.py"


def test_a_hand_edited_figure_is_found_stale(ctx):
    """A generated figure changed by hand (here the largest certificate's size) differs from what is rendered."""
    with open(os.path.join(ROOT, "proofs", "FORMAT.md")) as fh:
        text = fh.read()
    assert "<!-- generated: largest -->" in text
    head, rest = text.split("<!-- generated: largest -->", 1)
    body, tail = rest.split("<!-- end: largest -->", 1)
    edited = head + "<!-- generated: largest -->8.4 MB<!-- end: largest -->" + tail
    assert render_docs.render(edited, ctx, "proofs/FORMAT.md") == text != edited


def test_every_block_named_in_the_documents_exists():
    for rel in render_docs.DOCUMENTS:
        with open(os.path.join(ROOT, rel)) as fh:
            for m in render_docs.BLOCK.finditer(fh.read()):
                assert m.group("name") in render_docs.BLOCKS, (rel, m.group("name"))
