"""Calibration objectives on days with observations, and which way each improves.

With simulated and observed flow q_s, q_o over the observed days of the calibration window:

    RMSE = √(mean (q_s − q_o)²)                              (NCAR CAMELS runs, Newman et al. 2015)
    NSE  = 1 − Σ (q_s − q_o)² / Σ (q_o − mean q_o)²          (Nash & Sutcliffe 1970)
    KGE  = 1 − √((r − 1)² + (α − 1)² + (β − 1)²),            (Gupta et al. 2009)
           r the correlation, α = σ_s/σ_o, β = μ_s/μ_o

Inputs are already restricted to observed days (the caller masks once), so these run in microseconds
inside the optimiser's loop. The arguments are keyword-only (``obs=``, ``sim=``, the order of
:mod:`runoffbench.evaluation` everywhere): NSE and KGE are asymmetric, and a swapped call would
calibrate to a different optimum without any error.
"""

from __future__ import annotations

import numpy as np

from runoffbench.errors import ConfigError


def rmse(*, obs: np.ndarray, sim: np.ndarray) -> float:
    return float(np.sqrt(np.mean((sim - obs) ** 2)))


def nse(*, obs: np.ndarray, sim: np.ndarray) -> float:
    return float(1.0 - np.sum((sim - obs) ** 2) / np.sum((obs - obs.mean()) ** 2))


def kge(*, obs: np.ndarray, sim: np.ndarray) -> float:
    sim_std = sim.std()
    r = np.corrcoef(sim, obs)[0, 1] if sim_std > 0 else 0.0
    alpha = sim_std / obs.std()
    beta = sim.mean() / obs.mean()
    return float(1.0 - np.sqrt((r - 1.0) ** 2 + (alpha - 1.0) ** 2 + (beta - 1.0) ** 2))


#: objective name -> (function, True if larger is better)
OBJECTIVES = {"rmse": (rmse, False), "nse": (nse, True), "kge": (kge, True)}


def get_objective(name: str):
    """``(function, maximise)`` of objective ``name``; :class:`ConfigError` for an unknown name."""
    try:
        return OBJECTIVES[name]
    except KeyError:
        raise ConfigError(f"calibration.objective: unknown objective {name!r}; "
                          f"choose one of {sorted(OBJECTIVES)}") from None
