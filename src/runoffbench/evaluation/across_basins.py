r"""Metrics that compare basins or models: KGE skill score, baseflow-index correlation, record gaps.

References
----------
Frame, J. M., Kratzert, F., Gupta, H. V., Ullrich, P. and Nearing, G. S. (2023): On strictly enforced
mass conservation constraints for modelling the rainfall-runoff process, Hydrol. Process., 37(3),
e14847, doi:10.1002/hyp.14847 (eq. 8: KGE skill score).
Addor, N., Newman, A. J., Mizukami, N. and Clark, M. P. (2017): The CAMELS data set: catchment
attributes and meteorology for large-sample studies, Hydrol. Earth Syst. Sci., 21, 5293-5313,
doi:10.5194/hess-21-5293-2017 (``baseflow_index``: ratio of mean daily baseflow to mean daily flow).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from runoffbench.errors import ConfigError
from runoffbench.evaluation.series import LOGGER

CORRELATION_METHODS = ("pearson", "spearman")


def kge_skill_score(kge_model, kge_baseline):
    r"""KGE skill score of a model against a baseline model (Frame et al., 2023, eq. 8).

    .. math:: \text{KGE-SS} = \frac{\text{KGE}_\text{model} - \text{KGE}_\text{baseline}}
        {1 - \text{KGE}_\text{baseline}}

    1 is a perfect model, 0 no improvement over the baseline, negative worse than the baseline.

    Parameters
    ----------
    kge_model, kge_baseline : float, array-like or pandas.Series
        KGE per basin; two Series are aligned on their index (basin ids) first.

    Returns
    -------
    float, np.ndarray or pandas.Series (like `kge_model`)
        NaN (logged) where the baseline is perfect (KGE = 1) or either KGE is NaN.
    """
    if isinstance(kge_model, pd.Series) and isinstance(kge_baseline, pd.Series):
        kge_model, kge_baseline = kge_model.align(kge_baseline)
    model = np.asarray(kge_model, dtype=float)
    baseline = np.asarray(kge_baseline, dtype=float)
    perfect = baseline == 1
    if np.any(perfect):
        LOGGER.warning("KGE skill score is NaN for %d basin(s): the baseline KGE is 1", int(np.sum(perfect)))
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(perfect, np.nan, (model - baseline) / (1 - baseline))
    if isinstance(kge_model, pd.Series):
        return pd.Series(score, index=kge_model.index, name="KGE-skill-score")
    return float(score) if score.ndim == 0 else score


def baseflow_index(baseflow, streamflow, basin: str | None = None) -> float:
    r"""Baseflow index of one basin: :math:`\text{BFI} = \sum_t Q_b^t / \sum_t Q^t`.

    Sums run over the days where both the baseflow (e.g. a model's ``baseflow`` flux) and the streamflow
    (its ``qsim``) are finite. NaN (logged) if the streamflow sums to zero or no day is valid.
    """
    baseflow = np.asarray(baseflow, dtype=float)
    streamflow = np.asarray(streamflow, dtype=float)
    valid = np.isfinite(baseflow) & np.isfinite(streamflow)
    total_flow = float(np.sum(streamflow[valid]))
    if total_flow <= 0:
        LOGGER.warning("baseflow index is NaN for basin %s: total streamflow is zero or missing",
                       basin if basin is not None else "<unnamed>")
        return np.nan
    return float(np.sum(baseflow[valid]) / total_flow)


def baseflow_index_correlation(simulated_bfi, camels_bfi, method: str = "pearson") -> float:
    """Correlation across basins of a simulated baseflow index with CAMELS ``baseflow_index``.

    Parameters
    ----------
    simulated_bfi, camels_bfi : pandas.Series, dict or xarray.DataArray (dim ``basin``)
        Baseflow index per basin id; only basins present and finite in both enter.
    method : {"pearson", "spearman"}
        Pearson's r, or Spearman's rank correlation.

    Returns
    -------
    float
        NaN (logged) with fewer than 3 common basins or a constant index.
    """
    if method not in CORRELATION_METHODS:
        raise ConfigError(f"baseflow_index_correlation: unknown method {method!r}; valid: {CORRELATION_METHODS}")
    both = pd.concat([_basin_series(simulated_bfi), _basin_series(camels_bfi)], axis=1, join="inner").dropna()
    if len(both) < 3 or both.nunique().min() < 2:
        LOGGER.warning("baseflow-index correlation is NaN: %d common basins with a finite, varying index",
                       len(both))
        return np.nan
    return float(both.iloc[:, 0].corr(both.iloc[:, 1], method=method))


def basins_with_gaps(obs: xr.DataArray, sim: xr.DataArray | None = None) -> list[str]:
    """Basins whose record has a missing day, i.e. those the mass-bias metrics skip (NaN).

    Parameters
    ----------
    obs : xarray.DataArray
        Observed flow with dims ``(basin, date)`` (the prediction contract's ``qobs``).
    sim : xarray.DataArray, optional
        Simulated flow of the same shape; its missing days count too.
    """
    missing = obs.isnull() if sim is None else obs.isnull() | sim.isnull()
    with_gaps = [str(basin) for basin in obs["basin"].values[missing.any(dim="date").values]]
    if with_gaps:
        LOGGER.info("mass bias skips %d basin(s) with missing days: %s", len(with_gaps), ", ".join(with_gaps))
    return with_gaps


def _basin_series(values) -> pd.Series:
    if isinstance(values, xr.DataArray):
        return values.to_series()
    return pd.Series(values, dtype=float)
