"""``vidm probe``: how well a model's frozen features, layer by layer, separate the user's classes, and
with how few examples: linear (scikit-learn logistic regression) and k-NN (DINO's weighted vote) probes,
cross-validated or on a VAL set, few-shot draws over seeds, and the best linear probe as a model.

>>> import vidmenagerie as vm
>>> run = vm.probe("train/", val="val/", model="vit_s_none", layers="all", out="probe/")  # doctest: +SKIP
>>> run.best["layer"], run.best["probe"], run.best["acc1"]["mean"]                       # doctest: +SKIP
"""

from __future__ import annotations

from .api import probe, probe_labels
from .data import Labels, read_labels
from .run import ProbeRun, run_probe
from .settings import ProbeSettings, parse_layers, parse_probes, parse_shots

__all__ = [
    "Labels",
    "ProbeRun",
    "ProbeSettings",
    "parse_layers",
    "parse_probes",
    "parse_shots",
    "probe",
    "probe_labels",
    "read_labels",
    "run_probe",
]
