r"""Integrated gradients of a reloaded network (Li & Zhao, Sect. 2.5 and 3.3, Figs. 6-7; Sundararajan et al. 2017).

For the predicted flow :math:`F(x)` of one test day (a sequence-to-one window of ``sequence_length`` days,
365 in Li & Zhao) the attribution of input :math:`f` on look-back day :math:`l` (0: the predicted day) is

.. math:: A_{l,f} = (x_{l,f} - x'_{l,f}) \int_0^1 \frac{\partial F(x' + \alpha (x - x'))}{\partial x_{l,f}}\, d\alpha,

computed by :class:`captum.attr.IntegratedGradients` with ``steps`` points of ``method`` (Gauss-Legendre by
default) from the baseline :math:`x'`. The attributions add up to :math:`F(x) - F(x')`; what they miss,
the **convergence delta** :math:`\delta = \sum A - (F(x) - F(x'))`, is recorded per basin (its mean
absolute value in mm/day, and ``relative_delta``, the sum of :math:`|\delta|` over the basin's days divided
by that of :math:`|F(x) - F(x')|`), so too few steps show.

Inputs attributed: every dynamic input the network reads — the standardised ones of ``x_d`` and, for a
mass-conserving network (MC-LSTM), the precipitation it routes (``x_mass``, mm/day; named ``prcp``, or
``prcp_mass`` when the standardised precipitation is an auxiliary input as well). Static attributes are
constant along a window and are not attributed (Li & Zhao train per basin without any).

Baselines (``baseline``): ``zero`` — every standardised input at 0 (its training-period mean) and no
precipitation in the mass input (captum's default, the usual choice); ``window_mean`` — every input at its
mean over the window, so that only the days' departures from the window's level are attributed.

Which basins and days: the ``top_basins`` basins of the run with the highest test-period KGE (its
``predictions.nc``; Li & Zhao: the 50 best), or the ``basins`` listed, and every test day whose window has
all inputs. The windows run through captum ``windows_per_batch`` at a time (each expanded by ``steps``
along the batch: one forward and one backward pass of windows × steps sequences, no Python loop over days).

Per run (contract 6), two parts in one table (column ``part``):

- ``share``: per basin, input and season of the predicted day (``all``, DJF, MAM, JJA, SON): ``share``, the
  mean over the days of :math:`\sum_l |A_{l,f}| / \sum_{l,g} |A_{l,g}|` (the input's share of the absolute
  contributions: Fig. 6; over the days with any contribution — an MC-LSTM window without rain predicts no
  flow from any input, ``days_without_contribution`` counts them), ``attribution`` the mean of
  :math:`\sum_l A_{l,f}` (mm/day), ``days``, the basin's ``kge``, ``delta`` and ``relative_delta``;
- ``profile``: for the ``profile_basins`` best of those basins, per input and look-back day ``lag``, the
  mean over the days of :math:`|A_{l,f}| / \sum_{l,g} |A_{l,g}|` (summed over the lags it is the share):
  the contribution profile over the look-back whose cumulative sum is Fig. 7.

The experiment-level step (:func:`attribution_summary`) averages over the seeds of every run name
(``lstm@train_years=9``) per basin and writes ``shares`` (per run name, input and season the median, mean
and quartiles over basins of the seed-mean share) and ``profile`` (for one basin, ``profile_basin`` or the
one profiled by the most runs: the seed-mean profile and its cumulative sum per run name and input, and
its seasonal shares).

Reference: Sundararajan, M., Taly, A. and Yan, Q. (2017): Axiomatic attribution for deep networks. Proc.
34th ICML, PMLR 70, 3319-3328.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from runoffbench.errors import ConfigError, DataError

log = logging.getLogger(__name__)

BASELINES = ("zero", "window_mean")
METHODS = ("gausslegendre", "riemann_trapezoid", "riemann_left", "riemann_right", "riemann_middle")
SEASONS = ("DJF", "MAM", "JJA", "SON")
_SEASON_OF_MONTH = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3])[np.r_[11, 0:11]]  # month 1..12 -> index


def season_of(dates: pd.DatetimeIndex) -> np.ndarray:
    """Index into :data:`SEASONS` of each date (December, January, February: DJF)."""
    return _SEASON_OF_MONTH[np.asarray(dates.month) - 1]


def input_names(run) -> list[str]:
    """The attributed inputs: the standardised dynamic inputs, then the mass input of a mass-conserving net."""
    names = list(run.normalisation.dynamic_names)
    if type(run.model).mass_input:
        names.append("prcp_mass" if "prcp" in names else "prcp")
    return names


def best_basins(run, count: int) -> tuple[list[str], dict[str, float]]:
    """The ``count`` basins of the run with the highest test-period KGE (its predictions.nc), and every KGE."""
    from runoffbench.evaluation.efficiency import kge
    from runoffbench.predictions import read_predictions

    path = run.run_dir / "predictions.nc"
    predictions = read_predictions(path)
    scores = {str(b): kge(predictions["qobs"].sel(basin=b).values, predictions["qsim"].sel(basin=b).values,
                          basin=str(b)) for b in predictions["basin"].values}
    ranked = sorted((b for b, v in scores.items() if np.isfinite(v)), key=lambda b: -scores[b])
    if not ranked:
        raise DataError(f"integrated gradients: no basin of {path} has a finite KGE")
    if len(ranked) < count:
        log.info("integrated gradients: %d basins with a KGE, fewer than top_basins = %d: all of them", len(ranked),
                 count)
    return ranked[:count], scores


def _forward(model, mass: bool):
    """F(inputs..., x_s, basin): the flow of the last day of each window (model units)."""
    def forward(*arguments):
        if mass:
            x_d, x_mass, x_s, basin = arguments
        else:
            (x_d, x_s, basin), x_mass = arguments, None
        batch = {"x_d": x_d, "x_s": x_s, "basin": basin}
        batch["x_mass"] = x_mass if x_mass is not None else x_d.new_zeros(*x_d.shape[:2], 1)
        return model(batch)["q"][:, -1]

    return forward


def integrated_gradients(model, batch: dict[str, torch.Tensor], steps: int, method: str, baseline: str,
                         scale: float = 1.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Attributions (B, T, inputs) in mm/day, the convergence delta (B,) and F(x) − F(x') (B,) of one batch of
    windows (``scale``: mm/day per model output unit)."""
    from captum.attr import IntegratedGradients

    mass = type(model).mass_input
    inputs = (batch["x_d"], batch["x_mass"]) if mass else (batch["x_d"],)
    if baseline == "zero":
        baselines = tuple(torch.zeros_like(x) for x in inputs)
    else:
        baselines = tuple(x.mean(dim=1, keepdim=True).expand_as(x).contiguous() for x in inputs)
    forward = _forward(model, mass)
    extra = (batch["x_s"], batch["basin"])
    attributions, delta = IntegratedGradients(forward).attribute(
        inputs, baselines=baselines, additional_forward_args=extra, n_steps=steps, method=method,
        return_convergence_delta=True)
    with torch.no_grad():
        change = forward(*inputs, *extra) - forward(*baselines, *extra)
    combined = torch.cat([a.detach() for a in attributions], dim=-1)
    return combined * scale, delta.detach() * scale, change * scale


def attribution_table(run, tensors, top_basins: int = 50, basins: Sequence[str] = (), baseline: str = "zero",
                      steps: int = 50, method: str = "gausslegendre", windows_per_batch: int = 32,
                      profile_basins: int = 1) -> pd.DataFrame:
    """The registered per-run function (kind ``integrated_gradients``): the ``share`` and ``profile`` rows of
    the module docstring."""
    from runoffbench.analysis.morris import complete_windows

    if baseline not in BASELINES:
        raise ConfigError(f"integrated_gradients: baseline {baseline!r}; choices: {', '.join(BASELINES)}")
    if method not in METHODS:
        raise ConfigError(f"integrated_gradients: method {method!r}; choices: {', '.join(METHODS)}")
    names = input_names(run)
    run_basins = [str(b) for b in run.config["basins"]]
    chosen, scores = best_basins(run, top_basins)
    if basins:
        unknown = [b for b in basins if b not in run_basins]
        if unknown:
            raise ConfigError(f"integrated_gradients: basins {unknown} are not basins of {run.run_dir}")
        chosen = [str(b) for b in basins]
    profiled = set(chosen[:profile_basins])
    index = {b: i for i, b in enumerate(run_basins)}
    basin, end = complete_windows(tensors)
    keep = torch.isin(basin, torch.tensor([index[b] for b in chosen], device=basin.device))
    basin, end = basin[keep], end[keep]
    if basin.numel() == 0:
        raise DataError(f"integrated gradients: no test day of basins {chosen[:5]} has a complete input window")
    dates = tensors.period_dates[(end - tensors.offset).cpu().numpy()]
    season = torch.as_tensor(season_of(pd.DatetimeIndex(dates)), device=basin.device)
    scale = 1.0 if run.model.output_in_mm else float(run.normalisation.target_std)
    n_basins, n_inputs, length = len(run_basins), len(names), tensors.length
    groups = n_basins * (len(SEASONS) + 1)  # (basin, season) with season 4 = all days
    share_sum = torch.zeros(groups, n_inputs, dtype=torch.float64)
    signed_sum = torch.zeros(groups, n_inputs, dtype=torch.float64)
    days = torch.zeros(groups, dtype=torch.float64)
    shared = torch.zeros(groups, dtype=torch.float64)  # days with a contribution (their shares are defined)
    delta_sum = torch.zeros(n_basins, dtype=torch.float64)
    change_sum = torch.zeros(n_basins, dtype=torch.float64)
    profile_rows = torch.tensor([index[b] for b in profiled], dtype=torch.int64)
    profile_sum = torch.zeros(n_basins, length, n_inputs, dtype=torch.float64)
    model = run.model
    model.eval()
    frozen = [p for p in model.parameters() if p.requires_grad]
    try:
        for parameter in frozen:
            parameter.requires_grad_(False)
        with torch.backends.cudnn.flags(enabled=False):
            for first in range(0, len(basin), windows_per_batch):
                b, e = basin[first: first + windows_per_batch], end[first: first + windows_per_batch]
                attribution, delta, change = integrated_gradients(model, tensors.gather(b, e), steps, method,
                                                                  baseline, scale)
                absolute = attribution.abs().double().cpu()
                total = absolute.sum(dim=(1, 2))
                contributed = total > 0  # a window without any contribution (an MC-LSTM without rain) has no shares
                per_input = absolute.sum(dim=1) / total.clamp_min(torch.finfo(torch.float64).tiny)[:, None]
                signed = attribution.double().sum(dim=1).cpu()
                bc, sc = b.cpu(), season[first: first + windows_per_batch].cpu()
                for group in (bc * (len(SEASONS) + 1) + sc, bc * (len(SEASONS) + 1) + len(SEASONS)):
                    share_sum.index_add_(0, group[contributed], per_input[contributed])
                    signed_sum.index_add_(0, group, signed)
                    days.index_add_(0, group, torch.ones_like(group, dtype=torch.float64))
                    shared.index_add_(0, group[contributed], torch.ones_like(group[contributed], dtype=torch.float64))
                delta_sum.index_add_(0, bc, delta.abs().double().cpu())
                change_sum.index_add_(0, bc, change.abs().double().cpu())
                profiled_here = torch.isin(bc, profile_rows) & contributed
                if profiled_here.any():
                    share_by_lag = absolute[profiled_here] / total[profiled_here, None, None]  # total > 0
                    profile_sum.index_add_(0, bc[profiled_here], share_by_lag.flip(1))  # lag 0: the predicted day
    finally:
        for parameter in frozen:
            parameter.requires_grad_(True)
    return _rows(run_basins, chosen, profiled, names, scores, share_sum, signed_sum, days, shared, delta_sum,
                 change_sum, profile_sum)


def _rows(run_basins, chosen, profiled, names, scores, share_sum, signed_sum, days, shared, delta_sum, change_sum,
          profile_sum) -> pd.DataFrame:
    seasons = (*SEASONS, "all")
    frames = []
    for basin in chosen:
        i = run_basins.index(basin)
        all_days = float(days[i * len(seasons) + len(SEASONS)])
        contributed = float(shared[i * len(seasons) + len(SEASONS)])
        for s, season in enumerate(seasons):
            group = i * len(seasons) + s
            count, with_shares = float(days[group]), float(shared[group])
            if count == 0:
                continue
            frames.append(pd.DataFrame({
                "part": "share", "basin": basin, "input": names, "season": season, "lag": np.nan,
                "share": (share_sum[group] / with_shares).numpy() if with_shares else np.nan,
                "attribution": (signed_sum[group] / count).numpy(),
                "days": int(count), "days_without_contribution": int(count - with_shares),
                "kge": scores.get(basin, np.nan),
                "delta": float(delta_sum[i]) / all_days,
                "relative_delta": float(delta_sum[i]) / max(float(change_sum[i]), 1e-12)}))
        if basin in profiled and contributed:
            profile = (profile_sum[i] / contributed).numpy()  # (lags, inputs)
            lags = np.arange(profile.shape[0])
            frames.append(pd.DataFrame({
                "part": "profile", "basin": basin, "input": np.tile(names, len(lags)), "season": "all",
                "lag": np.repeat(lags, len(names)), "share": profile.ravel(), "attribution": np.nan,
                "days": int(contributed), "days_without_contribution": int(all_days - contributed),
                "kge": scores.get(basin, np.nan), "delta": np.nan, "relative_delta": np.nan}))
    table = pd.concat(frames, ignore_index=True)
    worst = table.loc[table["part"] == "share", "relative_delta"].max()
    log.info("integrated gradients: %d basins, %d inputs; largest mean relative convergence delta %.3g", len(chosen),
             len(names), worst)
    return table


# ------------------------------------------------------------------------------------------------
# experiment level
# ------------------------------------------------------------------------------------------------
def _with_factors(table: pd.DataFrame) -> pd.DataFrame:
    from runoffbench.experiment import parse_run_name

    parsed = table["model"].map(parse_run_name)
    factors = sorted({f for _, labels in parsed for f in labels})
    return table.assign(base_model=parsed.map(lambda p: p[0]),
                        **{f: parsed.map(lambda p, f=f: p[1].get(f, "")) for f in factors})


def profiled_basin(table: pd.DataFrame, basin: str = "") -> str:
    """``basin``, or the basin with a look-back profile of the most models (base names), then of the most run
    names (data amounts), then of the most runs, then of the higher mean KGE."""
    from runoffbench.experiment import parse_run_name

    profiles = table[table["part"] == "profile"]
    if profiles.empty:
        raise DataError("integrated gradients: no run has a look-back profile (profile_basins is 0)")
    if basin:
        if basin not in set(profiles["basin"].astype(str)):
            raise ConfigError(f"integrated gradients: basin {basin!r} has no profile; profiled basins: "
                              f"{', '.join(sorted(profiles['basin'].astype(str).unique()))}")
        return basin
    runs = profiles.drop_duplicates(["model", "forcing", "split", "member", "basin"])
    runs = runs.assign(base=runs["model"].map(lambda name: parse_run_name(name)[0]))
    ranking = runs.groupby("basin").agg(models=("base", "nunique"), names=("model", "nunique"),
                                        runs=("member", "size"), kge=("kge", "mean"))
    return str(ranking.sort_values(["models", "names", "runs", "kge"], ascending=False).index[0])


def attribution_summary(table: pd.DataFrame, attributes=None, profile_basin: str = "") -> dict[str, pd.DataFrame]:
    """The products of kind ``integrated_gradients`` (module docstring): ``shares`` and ``profile``."""
    missing = [c for c in ("part", "basin", "input", "season", "share", "model", "member") if c not in table.columns]
    if missing:
        raise DataError(f"integrated gradients summary: the table lacks {missing} (runoffbench analyse "
                        "integrated_gradients)")
    table = _with_factors(table.assign(basin=table["basin"].astype(str)))
    factors = [c for c in table.columns if c not in _TABLE_COLUMNS and c != "base_model"]
    keys = ["model", "base_model", *factors, "forcing", "split"]
    shares = table[table["part"] == "share"]
    seed_mean = shares.groupby([*keys, "basin", "input", "season"], sort=False).agg(
        share=("share", "mean"), seeds=("member", "nunique"), relative_delta=("relative_delta", "max")).reset_index()
    summary = seed_mean.groupby([*keys, "input", "season"], sort=False).agg(
        median=("share", "median"), mean=("share", "mean"), q25=("share", lambda v: v.quantile(0.25)),
        q75=("share", lambda v: v.quantile(0.75)), basins=("basin", "nunique"), seeds=("seeds", "max"),
        max_relative_delta=("relative_delta", "max")).reset_index()
    basin = profiled_basin(table, profile_basin)
    profiles = table[(table["part"] == "profile") & (table["basin"] == basin)]
    profile = profiles.groupby([*keys, "input", "lag"], sort=False).agg(
        share=("share", "mean"), seeds=("member", "nunique")).reset_index()
    profile = profile.sort_values([*keys, "input", "lag"], kind="stable")
    profile["cumulative"] = profile.groupby([*keys, "input"], sort=False)["share"].cumsum()
    profile.insert(0, "basin", basin)
    profile["part"] = "profile"
    seasonal = seed_mean[(seed_mean["basin"] == basin) & (seed_mean["season"] != "all")]
    seasonal = seasonal[seasonal["model"].isin(set(profile["model"]))].assign(part="season")
    columns = ["part", "basin", *keys, "input", "lag", "season", "share", "cumulative", "seeds"]
    product = pd.concat([profile, seasonal], ignore_index=True).reindex(columns=columns)
    return {"shares": summary, "profile": product}


_TABLE_COLUMNS = {"part", "basin", "input", "season", "lag", "share", "attribution", "days",
                  "days_without_contribution", "kge", "delta", "relative_delta", "model", "forcing", "split",
                  "member", "baseline", "steps", "method"}
