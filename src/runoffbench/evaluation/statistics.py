r"""Statistics across basins: medians with confidence intervals and paired comparisons of models.

Every function takes per-basin metric values as pandas Series indexed by basin id; two models are
compared on the basins where both have a finite value (paired samples).

* :func:`median_ci` — median with a bootstrap confidence interval (percentile method, Efron and
  Tibshirani, 1993) from :func:`scipy.stats.bootstrap`, seeded so tables are reproducible.
* :func:`wilcoxon_test` — paired Wilcoxon signed-rank test (:func:`scipy.stats.wilcoxon`, two-sided),
  the test Kratzert et al. (2019) and Nearing et al. (2020) used between models.
* :func:`cohens_d` — effect size :math:`d = (\bar a - \bar b) / s_p` with the pooled standard deviation
  :math:`s_p = \sqrt{(s_a^2 + s_b^2)/2}` (Cohen, 1988; equal sample sizes, as paired basins are).
* :func:`count_at_most` — basins with NSE ≤ 0 (worse than the mean of the observations).
* :func:`win_counts` — per-basin wins of one model over another, and the mean difference.

References
----------
Cohen, J. (1988): Statistical Power Analysis for the Behavioral Sciences, 2nd ed., Erlbaum.
Efron, B. and Tibshirani, R. J. (1993): An Introduction to the Bootstrap, Chapman & Hall.
Kratzert, F. et al. (2019): Towards learning universal, regional, and local hydrological behaviors via
machine learning applied to large-sample datasets, Hydrol. Earth Syst. Sci., 23, 5089-5110.
Nearing, G. S., Kratzert, F., Sampson, A. K., Pelissier, C. S., Klotz, D., Frame, J. M., Prieto, C. and
Gupta, H. V. (2021; online 2020): What role does hydrological science play in the age of machine
learning?, Water Resour. Res., 57, e2020WR028091, doi:10.1029/2020WR028091.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from runoffbench.errors import DataError

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


@dataclass(frozen=True)
class Estimate:
    """A statistic with its confidence interval (``low``, ``high``) over ``n`` basins."""

    value: float
    low: float
    high: float
    n: int


@dataclass(frozen=True)
class PairedTest:
    """Paired comparison of model a against model b over ``n`` common basins."""

    statistic: float
    p_value: float
    cohens_d: float
    n: int


@dataclass(frozen=True)
class Wins:
    """Basins where a is better, b is better, equal; mean of a − b over the common basins."""

    a: int
    b: int
    ties: int
    mean_difference: float


def finite(values: pd.Series | np.ndarray) -> np.ndarray:
    """The finite entries of ``values`` as a float array."""
    array = np.asarray(values, dtype=float)
    return array[np.isfinite(array)]


def median_ci(values: pd.Series | np.ndarray, confidence: float = 0.95,
              n_resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> Estimate:
    """Median of the finite values with a percentile-bootstrap confidence interval.

    NaN interval with fewer than 2 values (NaN everything with none); a constant sample has a
    zero-width interval.
    """
    sample = finite(values)
    if sample.size == 0:
        return Estimate(np.nan, np.nan, np.nan, 0)
    median = float(np.median(sample))
    if sample.size < 2:
        return Estimate(median, np.nan, np.nan, 1)
    if np.ptp(sample) == 0:
        return Estimate(median, median, median, int(sample.size))
    result = stats.bootstrap((sample,), np.median, confidence_level=confidence, n_resamples=n_resamples,
                             method="percentile", random_state=np.random.default_rng(seed), vectorized=True)
    interval = result.confidence_interval
    return Estimate(median, float(interval.low), float(interval.high), int(sample.size))


def paired(a: pd.Series, b: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Values of ``a`` and ``b`` on the basins where both are finite (aligned on the index)."""
    if not isinstance(a, pd.Series) or not isinstance(b, pd.Series):
        raise DataError("paired statistics need pandas Series indexed by basin id")
    both = pd.concat([a.rename("a"), b.rename("b")], axis=1, join="inner").astype(float)
    both = both[np.isfinite(both).all(axis=1)]
    return both["a"].to_numpy(), both["b"].to_numpy()


def cohens_d(a: pd.Series, b: pd.Series) -> float:
    """Cohen's d of a − b over the common basins, pooled standard deviation; NaN if undefined."""
    x, y = paired(a, b)
    if x.size < 2:
        return np.nan
    pooled = np.sqrt((x.var(ddof=1) + y.var(ddof=1)) / 2)
    if pooled == 0:
        return np.nan
    return float((x.mean() - y.mean()) / pooled)


def wilcoxon_test(a: pd.Series, b: pd.Series) -> PairedTest:
    """Two-sided paired Wilcoxon signed-rank test of a against b, with Cohen's d.

    NaN statistic and p-value with fewer than 2 common basins or identical values in all of them.
    """
    x, y = paired(a, b)
    if x.size < 2 or np.all(x == y):
        return PairedTest(np.nan, np.nan, cohens_d(a, b), int(x.size))
    result = stats.wilcoxon(x, y, alternative="two-sided")
    return PairedTest(float(result.statistic), float(result.pvalue), cohens_d(a, b), int(x.size))


def count_at_most(values: pd.Series | np.ndarray, threshold: float = 0.0) -> int:
    """Number of basins with a finite value ≤ ``threshold`` (e.g. NSE ≤ 0)."""
    return int(np.sum(finite(values) <= threshold))


def win_counts(a: pd.Series, b: pd.Series, higher_is_better: bool = True) -> Wins:
    """Per-basin wins of a over b (and of b over a) with the mean difference a − b."""
    x, y = paired(a, b)
    if x.size == 0:
        return Wins(0, 0, 0, np.nan)
    sign = 1.0 if higher_is_better else -1.0
    better = sign * (x - y)
    return Wins(int(np.sum(better > 0)), int(np.sum(better < 0)), int(np.sum(better == 0)),
                float(np.mean(x - y)))
