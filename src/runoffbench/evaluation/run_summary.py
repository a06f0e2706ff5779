r"""Scores of whole runs, across basins: what a per-basin metrics file cannot hold.

* ``MI-pooled`` — mutual information of observed and simulated flow with the days of all basins in one
  100-bin histogram (Frame et al., 2023, Sect. 2.4: information about the streamflow of the whole
  sample rather than of each basin); ``days`` is that histogram's sample (days with both flows, all
  basins together), on which the plug-in estimator's bias (~ occupied cells / 2 days) depends.
* ``MI-median`` — median over basins of the per-basin mutual information (the metric ``MI``: the
  Kraskov et al. 2004 k-nearest-neighbour estimator, nearly unbiased on short records), and
  ``days/basin`` the median number of days per basin it rests on (365 for a one-year test period).
* ``basins`` — basins of the run; ``left out`` those its failures.csv lists (:mod:`runoffbench.failures`;
  for an ensemble, those any member left out), empty where no failures files were given.
* ``BFI-r`` / ``BFI-rho`` — Pearson and Spearman correlation across basins of the simulated baseflow
  index :math:`\sum_t Q_b^t / \sum_t Q^t` (from a run's ``baseflow`` flux) with CAMELS
  ``baseflow_index``; the baseflow index is an output the models are never trained on (Feng et al.,
  2022, Sect. 3.3). NaN for runs without a ``baseflow`` flux.

References
----------
Frame, J. M., Kratzert, F., Gupta, H. V., Ullrich, P. and Nearing, G. S. (2023): On strictly enforced
mass conservation constraints for modelling the rainfall-runoff process, Hydrol. Process., 37(3),
e14847, doi:10.1002/hyp.14847.
Feng, D., Liu, J., Lawson, K. and Shen, C. (2022): Differentiable, learnable, regionalized
process-based models with multiphysical outputs can approach state-of-the-art hydrologic prediction
accuracy, Water Resour. Res., 58, e2022WR032404, doi:10.1029/2022WR032404.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from runoffbench.evaluation.across_basins import baseflow_index, baseflow_index_correlation
from runoffbench.evaluation.information import mutual_information, mutual_information_pooled
from runoffbench.predictions import ENSEMBLE_MEMBER, read_predictions

RUN_COLUMNS = ["model", "forcing", "split", "member"]
SCORE_COLUMNS = ["basins", "left out", "days/basin", "days", "MI-pooled", "MI-median", "BFI-r", "BFI-rho", "BFI-median",
                 "CAMELS-BFI-median"]


def simulated_baseflow_index(predictions: xr.Dataset) -> pd.Series:
    """Baseflow index per basin of a run's ``baseflow`` and ``qsim`` (empty without ``baseflow``)."""
    if "baseflow" not in predictions:
        return pd.Series(dtype=float, name="BFI")
    values = {
        str(basin): baseflow_index(predictions["baseflow"].sel(basin=basin).values,
                                   predictions["qsim"].sel(basin=basin).values, basin=str(basin))
        for basin in predictions["basin"].values
    }
    return pd.Series(values, name="BFI", dtype=float)


def summarise_run(predictions: xr.Dataset, camels_bfi: pd.Series) -> dict:
    """One row of the run summary (see the module docstring) for one prediction file."""
    basins = [str(b) for b in predictions["basin"].values]
    simulated = simulated_baseflow_index(predictions)
    row = {column: str(predictions.attrs[column]) for column in RUN_COLUMNS}
    qobs, qsim = predictions["qobs"].values.astype(float), predictions["qsim"].values.astype(float)
    days = (np.isfinite(qobs) & np.isfinite(qsim)).sum(axis=1)
    per_basin = [mutual_information(o, s, basin=b) for o, s, b in zip(qobs, qsim, basins)]
    row.update({
        "basins": len(basins),
        "days/basin": float(np.median(days)) if len(basins) else np.nan,
        "days": int(days.sum()),
        "MI-pooled": mutual_information_pooled(predictions["qobs"], predictions["qsim"]),
        "MI-median": float(np.nanmedian(per_basin)) if np.isfinite(per_basin).any() else np.nan,
        "BFI-r": baseflow_index_correlation(simulated, camels_bfi, "pearson") if len(simulated) else np.nan,
        "BFI-rho": baseflow_index_correlation(simulated, camels_bfi, "spearman") if len(simulated) else np.nan,
        "BFI-median": simulated.median() if len(simulated) else np.nan,
        "CAMELS-BFI-median": camels_bfi.reindex(basins).median(),
    })
    return row


def left_out(row: dict, failures: pd.DataFrame) -> int:
    """Basins the run of ``row`` left out (an ensemble: any of its members) per the failures table."""
    same = failures[(failures["model"] == row["model"]) & (failures["forcing"] == row["forcing"])
                    & (failures["split"] == row["split"])]
    if row["member"] != ENSEMBLE_MEMBER:
        same = same[same["member"].astype(str) == row["member"]]
    return int(same["basin"].nunique())


def run_summary_table(prediction_paths: Iterable[str | Path], attributes: xr.Dataset,
                      failures: pd.DataFrame | None = None) -> pd.DataFrame:
    """The run summary of every prediction file, sorted by model, forcing, split and member;
    ``failures`` (:func:`runoffbench.evaluation.collect.collect_failures`) fills ``left out``."""
    camels_bfi = pd.Series(attributes["baseflow_index"].values.astype(float),
                           index=[str(b) for b in attributes["basin"].values])
    rows = [summarise_run(read_predictions(path), camels_bfi) for path in prediction_paths]
    for row in rows:
        row["left out"] = left_out(row, failures) if failures is not None else np.nan
    return pd.DataFrame(rows, columns=RUN_COLUMNS + SCORE_COLUMNS).sort_values(RUN_COLUMNS, ignore_index=True)
