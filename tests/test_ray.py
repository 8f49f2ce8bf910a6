"""Scale-out on Ray (verifier/interop/scale.py): a local Ray instance gives the byte-identical certificate and the same
kernel verdict as one process (the work units are the same; results are summed in the same order)."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

import verifier
from verifier.kernel import check, parse_json
from verifier.loading.rational import dumps_compact

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def mapper():
    from verifier.interop.scale import RayMapper

    m = RayMapper("local", chunksize=4)
    yield m
    ray.shutdown()


def tiny_n4():
    return verifier.RNN.make([[1]], [[Fraction(-1, 2)]], [[1], [2], [-1], [0]], seq_len=4)


def test_ray_local_gives_the_same_certificate_and_verdict(mapper):
    one = verifier.certify(tiny_n4(), task="2nd_argmax", z3=False, workers=1).certificate
    on_ray = verifier.certify(tiny_n4(), task="2nd_argmax", z3=False, workers=mapper).certificate
    assert dumps_compact(one) == dumps_compact(on_ray)
    doc = parse_json(json.dumps(one))
    a, b = check(doc, workers=1), check(doc, workers=mapper)
    assert a.accepted and b.accepted and a.summary == b.summary


def test_ray_local_anytime_certificate_is_the_same(mapper):
    w = Fraction(1, 4)
    one = verifier.certify(tiny_n4(), task="2nd_argmax", z3=False, workers=1, width=w).certificate
    on_ray = verifier.certify(tiny_n4(), task="2nd_argmax", z3=False, workers=mapper, width=w).certificate
    assert dumps_compact(one) == dumps_compact(on_ray)


def test_ray_local_boxes_certificate_is_the_same(mapper):
    """The boxes method's exact confirmations (its work units) on Ray: the same tree and interval."""
    import os

    path = os.path.join(os.path.dirname(__file__), "..", "models", "2nd_argmax_2_3.pth")
    one = verifier.certify(path, method="boxes", max_boxes=6000, workers=1, samples=0).certificate
    on_ray = verifier.certify(path, method="boxes", max_boxes=6000, workers=mapper, samples=0).certificate
    assert dumps_compact(one) == dumps_compact(on_ray)


def test_a_bad_address_is_a_one_line_input_error():
    from verifier.errors import InputError
    from verifier.interop.scale import RayMapper

    ray.shutdown()
    with pytest.raises(InputError, match="--ray"):
        RayMapper("127.0.0.1:1")  # nothing listens there
