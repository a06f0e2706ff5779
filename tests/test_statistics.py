"""Statistics across basins: bootstrap CIs, Wilcoxon tests, Cohen's d, failure and win counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from runoffbench.evaluation.statistics import cohens_d, count_at_most, median_ci, wilcoxon_test, win_counts


def _sample(n, seed=0):
    return pd.Series(np.random.default_rng(seed).normal(0.7, 0.1, n), index=[f"{i:08d}" for i in range(n)])


def test_bootstrap_ci_contains_the_median_and_shrinks_with_n():
    small, large = median_ci(_sample(30)), median_ci(_sample(600))
    for estimate in (small, large):
        assert estimate.low < estimate.value < estimate.high
    assert (large.high - large.low) < 0.5 * (small.high - small.low)
    assert median_ci(_sample(30)) == small  # seeded: reproducible
    assert median_ci([np.nan, 0.3, np.nan]).n == 1 and np.isnan(median_ci([]).value)


def test_wilcoxon_matches_scipy_on_a_known_case():
    a = pd.Series([0.61, 0.72, 0.55, 0.80, 0.67, 0.49, 0.74, 0.70], index=list("abcdefgh"))
    b = pd.Series([0.58, 0.70, 0.56, 0.71, 0.60, 0.50, 0.69, np.nan, 0.9], index=list("abcdefghi"))
    result = wilcoxon_test(a, b)  # paired on the 7 basins where both are finite
    expected = stats.wilcoxon(a.iloc[:7].to_numpy(), b.iloc[:7].to_numpy())
    assert result.n == 7 and result.statistic == expected.statistic
    assert result.p_value == pytest.approx(expected.pvalue) and result.p_value == pytest.approx(0.078125)


def test_cohens_d_uses_the_pooled_standard_deviation():
    a = pd.Series([1.0, 2.0, 3.0, 4.0])
    b = pd.Series([2.0, 3.0, 4.0, 5.0])
    assert cohens_d(a, b) == pytest.approx(-1.0 / np.std([1, 2, 3, 4], ddof=1))
    assert np.isnan(cohens_d(a.iloc[:1], b.iloc[:1]))


def test_failure_and_win_counts():
    assert count_at_most(pd.Series([-0.5, 0.0, 0.2, np.nan])) == 2
    wins = win_counts(pd.Series([0.9, 0.5, 0.4], index=list("xyz")), pd.Series([0.8, 0.6, 0.4], index=list("xyz")))
    assert (wins.a, wins.b, wins.ties) == (1, 1, 1) and wins.mean_difference == pytest.approx(0.0)
    assert win_counts(pd.Series([0.1]), pd.Series([0.2]), higher_is_better=False).a == 1
