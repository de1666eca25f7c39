"""What decides a probe's numbers: one frozen record (probes, layers, shots, seeds, folds, k-NN and
logistic-regression constants), parsed from the command line's text and written to ``probe.json``."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import InvalidSetting

PROBES: tuple[str, ...] = ("linear", "knn")
POOLS: tuple[str, ...] = ("cls", "mean")
# The L2 strengths tried by the inner cross-validation (sklearn's C = 1 / lambda), smallest first.
C_GRID: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0, 10.0)
C_FIXED = 1.0  # the strength used where TRAIN has too few examples per class for an inner CV
INNER_FOLDS = 3
TEMPERATURE = 0.07  # DINO's eval_knn.py: weights exp(sim / T)
ALL = None  # shots: every TRAIN example

Shots = int | None


def parse_probes(text: str) -> tuple[str, ...]:
    """``"linear,knn"`` -> ``("linear", "knn")``, in the order given, each once."""
    found = tuple(dict.fromkeys(p.strip().lower() for p in text.split(",") if p.strip()))
    wrong = [p for p in found if p not in PROBES]
    if not found or wrong:
        raise InvalidSetting("probe", f"use linear, knn or linear,knn, not {text!r}")
    return found


def parse_shots(text: str) -> tuple[Shots, ...]:
    """``"1,5,10,all"`` -> ``(1, 5, 10, None)``, ascending with ``all`` last; 0 or a negative is refused."""
    values: list[Shots] = []
    for part in (p.strip().lower() for p in text.split(",")):
        if part == "all":
            values.append(ALL)
            continue
        try:
            number = int(part)
        except ValueError:
            raise InvalidSetting("shots", f"a list of examples per class such as 1,5,10,all, not {text!r}") from None
        if number < 1:
            raise InvalidSetting("shots", f"examples per class must be at least 1, got {number}")
        values.append(number)
    unique = dict.fromkeys(values)
    return (*sorted(v for v in unique if v is not None), *((ALL,) if ALL in unique else ()))


def parse_layers(text: str) -> int | tuple[int, ...] | str:
    """``"-1"`` -> ``-1``; ``"8,16,-1"`` -> ``(8, 16, -1)``; ``"all"`` stays (``EmbedSettings.for_model``'s forms)."""
    if text.strip().lower() == "all":
        return "all"
    try:
        values = tuple(int(p) for p in text.split(","))
    except ValueError:
        raise InvalidSetting("layers", f"block numbers such as -1 or 8,16,-1, or all, not {text!r}") from None
    return values[0] if len(values) == 1 else values


def shots_label(shots: Shots) -> str:
    """``5`` -> ``"5"``, all -> ``"all"`` (how files and tables name a shots value)."""
    return "all" if shots is None else str(shots)


@dataclass(frozen=True)
class ProbeSettings:
    """The probes and the protocol: ``folds`` (stratified K-fold on TRAIN when there is no VAL),
    ``shots`` (examples per class drawn from TRAIN, ``None`` = all), ``seeds`` draws per shots value
    with seeds ``seed``, ``seed + 1``, ...; ``k`` and ``temperature`` of the k-NN vote; the C grid
    and inner folds of the linear probe's strength selection."""

    probes: tuple[str, ...] = PROBES
    shots: tuple[Shots, ...] = (ALL,)
    seeds: int = 5
    folds: int = 5
    seed: int = 0
    k: int = 20
    temperature: float = TEMPERATURE
    c_grid: tuple[float, ...] = C_GRID
    inner_folds: int = INNER_FOLDS

    def __post_init__(self) -> None:
        """Refuse values no probe can use, naming the setting."""
        if not self.probes or any(p not in PROBES for p in self.probes):
            raise InvalidSetting("probe", f"use linear, knn or linear,knn, not {','.join(self.probes)!r}")
        if not self.shots or any(s is not None and (isinstance(s, bool) or s < 1) for s in self.shots):
            raise InvalidSetting("shots", f"examples per class must be at least 1, got {self.shots!r}")
        for name, low in (("seeds", 1), ("folds", 2), ("k", 1), ("inner_folds", 2)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise InvalidSetting(name, f"must be a whole number >= {low}, got {value!r}")
        if not (self.temperature > 0 and math.isfinite(self.temperature)):
            raise InvalidSetting("temperature", f"must be a positive number, got {self.temperature!r}")
        if not self.c_grid or any(not (c > 0 and math.isfinite(c)) for c in self.c_grid):
            raise InvalidSetting("c_grid", f"strengths must be positive numbers, got {self.c_grid!r}")

    def seed_list(self, shots: Shots) -> tuple[int | None, ...]:
        """The draws of a shots value: one per seed for N shots; none to draw for all (``(None,)``)."""
        return (None,) if shots is None else tuple(self.seed + i for i in range(self.seeds))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (``probe.json``'s ``settings``), shots as numbers or ``"all"``."""
        data = asdict(self)
        data["shots"] = [shots_label(s) if s is None else s for s in self.shots]
        data["probes"], data["c_grid"] = list(self.probes), list(self.c_grid)
        return data
