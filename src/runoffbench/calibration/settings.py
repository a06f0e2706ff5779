"""Calibration settings (config section ``calibration`` plus ``models.<name>``), checked up front."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runoffbench.calibration.objectives import get_objective
from runoffbench.errors import ConfigError

#: SpotPy algorithms: name -> settings accepted by ``sample`` (or the constructor for ``r``)
ALGORITHM_OPTIONS = {
    "sceua": {"ngs": int, "kstop": int, "pcento": float, "peps": float},
    "dds": {"r": float},
}
#: algorithm settings that must be whole numbers
INTEGER_OPTIONS = {"ngs", "kstop"}


@dataclass(frozen=True)
class CalibrationSettings:
    """How one basin is calibrated.

    Attributes:
        algorithm: ``sceua`` (Duan et al. 1992; SpotPy minimises) or ``dds`` (Tolson & Shoemaker
            2007; SpotPy maximises).
        evaluations: maximum number of model runs of one trial (SCE-UA may stop earlier on
            convergence).
        trials: independent calibrations per basin, each with ``evaluations`` model runs and its
            own random start (seeds from ``seed``, see :func:`.calibrate.trial_seeds`); the one with
            the best training objective is kept. 1 (default) is one calibration; the CAMELS
            benchmark protocol (Newman et al. 2015) is SCE-UA with 10 random-start trials.
        objective: ``rmse`` (as NCAR), ``nse`` or ``kge``, over observed days of the train period.
        spinup_years: years simulated before a period's first day and left out of the objective and
            predictions (fewer where the forcing starts later); before a data amount's block they come from
            the forcing before the block, as the networks' input windows do.
        train_years: the data amount: calibrate on the last N years of the split's training period only
            (:func:`runoffbench.periods.last_years`, the block the networks of the same ``train_years``
            train on; Li & Zhao); None: the whole training period. From ``models.<name>`` (or its sweep).
        seed: random state of the algorithm; the run's member name.
        bounds: overrides of the model's default bounds, ``param -> (lo, hi)``.
        model_options: model options (``models.<name>.options``), e.g. EXP-HYDRO's ``scheme``.
        algorithm_options: settings of the algorithm (:data:`ALGORITHM_OPTIONS`). SCE-UA without
            ``ngs`` gets :func:`.calibrate.default_complexes` complexes (not SpotPy's 20); ``kstop``,
            ``pcento`` and ``peps`` default to SpotPy's (100, 1e-7, 1e-7: in practice the budget
            ends the search).
        max_failed_share: the share of a chunk's basins that may fail (screened out for too little
            training flow, or failing during calibration) before the chunk fails as a whole; a chunk
            in which no basin succeeded always fails. It decides the job's outcome only, not how a
            basin is calibrated (no part of the resume fingerprint).
    """

    algorithm: str = "sceua"
    evaluations: int = 10000
    trials: int = 1
    objective: str = "rmse"
    spinup_years: int = 2
    train_years: int | None = None
    seed: int = 0
    bounds: Mapping[str, Any] = field(default_factory=dict)
    model_options: Mapping[str, Any] = field(default_factory=dict)
    algorithm_options: Mapping[str, Any] = field(default_factory=dict)
    max_failed_share: float = 0.5

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHM_OPTIONS:
            raise ConfigError(
                f"calibration.algorithm: unknown algorithm {self.algorithm!r}; "
                f"choose one of {sorted(ALGORITHM_OPTIONS)}"
            )
        get_objective(self.objective)
        if int(self.evaluations) < 1:
            raise ConfigError(f"calibration.evaluations: must be positive, got {self.evaluations}")
        if int(self.trials) < 1 or int(self.trials) != self.trials:
            raise ConfigError(f"calibration.trials: must be a positive integer, got {self.trials}")
        if int(self.spinup_years) < 0:
            raise ConfigError(f"calibration.spinup_years: must be >= 0, got {self.spinup_years}")
        years = self.train_years
        if years is not None and (isinstance(years, bool) or not isinstance(years, int) or years < 1):
            raise ConfigError(f"models.<name>.train_years: expected a positive integer or null, got {years!r}")
        if not 0.0 <= float(self.max_failed_share) <= 1.0:
            raise ConfigError(f"calibration.max_failed_share: must lie in [0, 1], got {self.max_failed_share}")
        accepted = ALGORITHM_OPTIONS[self.algorithm]
        for key, value in self.algorithm_options.items():
            if key not in accepted:
                raise ConfigError(
                    f"calibration.{self.algorithm}.{key}: unknown setting of {self.algorithm}; "
                    f"known: {sorted(accepted)}"
                )
            if not isinstance(value, (int, float)) or value <= 0:
                raise ConfigError(f"calibration.{self.algorithm}.{key}: must be a positive number, got {value!r}")
            if key in INTEGER_OPTIONS and int(value) != value:
                raise ConfigError(f"calibration.{self.algorithm}.{key}: must be a whole number, got {value!r}")
