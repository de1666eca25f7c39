"""Representational similarity between models, layers and people's data: linear CKA and RSA.

>>> import vidmenagerie as vm
>>> vm.cka(x, y)                                   # doctest: +SKIP
>>> vm.rdm(x, distance="correlation")              # doctest: +SKIP
>>> result = vm.compare(["a.npy", "b.npy"], rdms=["human.csv"])  # doctest: +SKIP
"""

from __future__ import annotations

from .alignment import cka
from .dissimilarity import rdm
from .files import write_comparison
from .rsa import compare_rdms, tau_a
from .run import CompareSettings, Comparison, Representation, Scores, compare

__all__ = [
    "CompareSettings",
    "Comparison",
    "Representation",
    "Scores",
    "cka",
    "compare",
    "compare_rdms",
    "rdm",
    "tau_a",
    "write_comparison",
]
