"""The trainer computes what the papers compute: NSE* in mm/day, Feng et al.'s loss weights,
heteroscedastic target noise, and causal test-period predictions of every registered model."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from runoffbench.models import conceptual
from runoffbench.models.nn import NN_MODELS, get_model
from runoffbench.models.nn.dhbv import VARIANTS
from runoffbench.periods import Period
from runoffbench.training.data import PeriodTensors, basin_target_std, fit_normalisation, read_inputs
from runoffbench.training.losses import NSE_EPSILON, get_loss
from runoffbench.training.predict import predict
from runoffbench.training.run import spinup_days
from runoffbench.training.settings import parse_settings
from runoffbench.training.trainer import Trainer, add_target_noise
from tests.training_data import BASINS, training_forcings, write_training_attributes, write_training_cache

pytestmark = pytest.mark.usefixtures("torch_one_thread")

TRAIN = Period(pd.Timestamp("2001-01-01"), pd.Timestamp("2001-12-31"))
TEST = Period(pd.Timestamp("2002-01-01"), pd.Timestamp("2002-06-30"))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Three basins whose flows differ in scale (0.2x, 1x, 5x), so s(b) differs from the pooled std."""
    root = tmp_path_factory.mktemp("fidelity")
    dates = pd.date_range("2000-10-01", "2002-06-30", name="date")
    write_training_cache(root / "daymet.nc", dates, training_forcings(dates, seed=2, qobs_scale=(0.2, 1.0, 5.0)))
    write_training_attributes(root / "attributes.nc")
    return root


def _setup(data, name, entry, period=TRAIN, context=None, dtype=torch.float32):
    settings = parse_settings(name, entry)
    model_class = get_model(settings.model)
    inputs = read_inputs(data / "daymet.nc", data / "attributes.nc", BASINS, settings, model_class)
    normalisation = fit_normalisation(inputs, TRAIN, model_class.output_in_mm)
    tensors = PeriodTensors(inputs, period, normalisation, settings, basin_target_std(inputs, TRAIN),
                            torch.device("cpu"), dtype=dtype, context=context)
    torch.manual_seed(0)
    options = {**settings.model_options, "name": name, "n_basins": len(BASINS), "training": settings.training,
               "warmup": settings.warmup}
    model = model_class(options, len(inputs.dynamic_names), len(inputs.static_names))
    return settings, inputs, normalisation, tensors, model.to(dtype)


@pytest.mark.parametrize("name", ["lstm", "mclstm"])
def test_nse_star_of_a_batch_is_the_paper_formula_in_mm_per_day(data, tmp_path, name):
    """Kratzert et al. 2019 eq. 2 / Frame et al. 2023 eq. 2: (q̂ − q)² / (s(b) + ε)² with q̂, q, s(b)
    and ε = 0.1 in mm/day — for the LSTM (standardised output) and the MC-LSTM (mm/day) alike."""
    entry = {"hidden_size": 4, "sequence_length": 10, "static_attributes": ["p_mean"], "loss": "nse"}
    settings, inputs, normalisation, tensors, model = _setup(data, name, entry)
    trainer = Trainer(model, settings, tensors, tmp_path, seed=0)
    model.eval()  # no dropout: the same output twice
    batch = tensors.batch(torch.arange(0, tensors.n_windows, 7))
    loss = trainer.batch_loss(batch, noise=False).detach()
    with torch.no_grad():
        q_mm = model(batch)["q"][:, -1].double() * normalisation.target_std + normalisation.target_mean
    y_mm = batch["y"][:, -1].double() * normalisation.target_std + normalisation.target_mean
    observed = inputs.target[:, inputs.period_slice(TRAIN)]
    s_b = torch.as_tensor(np.nanstd(observed, axis=1), dtype=torch.float64)[batch["basin"]]
    expected = ((q_mm - y_mm) ** 2 / (s_b + NSE_EPSILON) ** 2).mean()
    assert float(loss) == pytest.approx(float(expected), rel=1e-5)
    assert normalisation.target_std != pytest.approx(1.0) or name == "mclstm"


def test_mse_is_computed_on_the_standardised_target(data, tmp_path):
    settings, _, _, tensors, model = _setup(data, "lstm", {"hidden_size": 4, "sequence_length": 10, "loss": "mse"})
    batch = tensors.batch(torch.arange(0, tensors.n_windows, 5))
    model.eval()
    with torch.no_grad():
        expected = ((model(batch)["q"][:, -1] - batch["y"][:, -1]) ** 2).mean()
    loss = Trainer(model, settings, tensors, tmp_path, seed=0).batch_loss(batch, noise=False)
    assert float(loss.detach()) == pytest.approx(float(expected), rel=1e-5)


def test_feng_loss_weights_the_two_rmse_terms_one_minus_alpha_and_alpha():
    """Feng et al. 2022 eq. 1 (``RmseLossComb``): (1 − α)·RMSE + α·RMSE of log10(√(q + 1e-6) + 0.1)."""
    prediction, target = torch.full((2, 4), 1.0, dtype=torch.float64), torch.zeros(2, 4, dtype=torch.float64)
    log_gap = math.log10(math.sqrt(1.0 + 1e-6) + 0.1) - math.log10(math.sqrt(1e-6) + 0.1)
    expected = 0.75 * 1.0 + 0.25 * log_gap
    assert float(get_loss("feng")(prediction, target, torch.ones(2))) == pytest.approx(expected, rel=1e-12)


def test_target_noise_is_relative_to_each_value_by_default():
    """Frame et al. 2023 Sect. 2.2.3 and neuralhydrology: σ = 0.005 × each target value, so a dry day
    gets no noise; ``pooled`` keeps the homoscedastic form (0.005 × the pooled std)."""
    generator = torch.Generator().manual_seed(0)
    target = torch.cat([torch.zeros(1, 50_000), torch.full((1, 50_000), 100.0)], dim=1).double()
    noisy = add_target_noise(target, 0.005, "relative", pooled_std=7.0, generator=generator)
    assert (noisy[:, :50_000] == 0).all()
    assert float((noisy[:, 50_000:] - 100).std()) == pytest.approx(0.5, rel=0.03)
    pooled = add_target_noise(target, 0.005, "pooled", pooled_std=7.0, generator=generator) - target
    assert float(pooled[:, :50_000].std()) == pytest.approx(0.035, rel=0.03)
    assert parse_settings("lstm", {}).target_noise == "relative"


# -- causality ------------------------------------------------------------------------------------
SEQ2SEQ = {"mode": "seq2seq", "sequence_length": 40, "warmup": 10, "hidden_size": 4}
#: every registered nn model (every δ-model variant, both training kinds of the process models)
CAUSALITY_CASES = {
    "lstm": ("lstm", {"hidden_size": 4, "sequence_length": 15, "static_attributes": ["p_mean"]}),
    "lstm_seq2seq": ("lstm", {**SEQ2SEQ, "static_attributes": ["p_mean"]}),
    "ealstm": ("ealstm", {"hidden_size": 4, "sequence_length": 15, "static_attributes": ["p_mean", "aridity"]}),
    "mclstm": ("mclstm", {"hidden_size": 4, "sequence_length": 15, "static_attributes": ["p_mean"]}),
    "mclstm_seq2seq": ("mclstm", {**SEQ2SEQ, "mass_gate_input": "both"}),
    "mclstm_local": ("mclstm", {"hidden_size": 4, "sequence_length": 15, "training": "local"}),
    "mclstm_hybrid": ("mclstm_hybrid", {"hidden_size": 4, "lstm_hidden_size": 5, "sequence_length": 15,
                                        "static_attributes": ["p_mean"]}),
    **{f"dhbv_{variant}": ("dhbv", {**SEQ2SEQ, "variant": variant, "static_attributes": ["p_mean"],
                                    **({} if variant == "dpl_hbv" else {"components": 2})})
       for variant in VARIANTS},
    "dexphydro_regional": ("dexphydro", {**SEQ2SEQ, "static_attributes": ["p_mean", "aridity"]}),
    "dexphydro_local": ("dexphydro", {**SEQ2SEQ, "training": "local"}),
}


def test_the_causality_cases_cover_every_registered_model():
    assert {model for model, _ in CAUSALITY_CASES.values()} == set(NN_MODELS)


@pytest.mark.parametrize("case", sorted(CAUSALITY_CASES))
def test_every_nn_prediction_is_causal(data, case):
    """Perturbing the inputs after day t leaves every test-period output up to day t unchanged —
    exactly, in float64 (Feng et al.'s δ models took their static parameters from the last test day)."""
    name, entry = CAUSALITY_CASES[case]
    settings = parse_settings(name, {**entry, "model": name})
    _, _, normalisation, tensors, model = _setup(data, case, {**entry, "model": name}, period=TEST,
                                                 context=spinup_days(settings, TRAIN), dtype=torch.float64)
    before = predict(model, tensors, normalisation, batch_size=64)
    cut = tensors.offset + 60  # day 60 of the test period
    generator = torch.Generator().manual_seed(5)
    for key in ("x_d", "x_mass", "x_raw"):
        values = getattr(tensors, key)
        if values is not None:
            values[:, cut + 1 :] += values[:, cut + 1 :].abs() * torch.rand(values[:, cut + 1 :].shape,
                                                                             generator=generator, dtype=values.dtype)
    after = predict(model, tensors, normalisation, batch_size=64)
    for output in before:
        if output in ("qobs", "negative_qsim"):
            continue
        np.testing.assert_array_equal(before[output][:, : 61], after[output][:, : 61], err_msg=output)
    assert not np.array_equal(before["qsim"][:, 61:], after["qsim"][:, 61:])  # the perturbation is seen


@pytest.mark.parametrize("name", sorted(conceptual.CONCEPTUAL_MODELS))
def test_every_conceptual_simulation_is_causal(name):
    model = conceptual.get_model(name)
    days = 3 * 365
    dates = pd.date_range("2000-01-01", periods=days).to_numpy()
    rng = np.random.default_rng(0)
    season = np.sin(2 * np.pi * np.arange(days) / 365.25)
    forcings = {"prcp": rng.gamma(0.6, 6.0, days), "tmax": 8 + 12 * season + rng.normal(0, 2, days),
                "srad": 200 + 100 * season, "dayl": 43200 + 10000 * season}
    forcings["tmin"] = forcings["tmax"] - 9
    params = np.array([0.5 * (low + high) for low, high in (model.bounds[p] for p in model.parameter_names)])
    before = model.simulate(params, model.prepare(forcings, 40.0, 500.0, dates, {}))
    cut = 400
    perturbed = {k: v.copy() for k, v in forcings.items()}
    perturbed["prcp"][cut + 1 :] *= 3.0
    perturbed["tmax"][cut + 1 :] += 5.0
    after = model.simulate(params, model.prepare(perturbed, 40.0, 500.0, dates, {}))
    for output, (series, _) in model.outputs.items():
        np.testing.assert_array_equal(before[series][: cut + 1], after[series][: cut + 1], err_msg=output)
    assert not np.array_equal(before[model.outputs["qsim"][0]], after[model.outputs["qsim"][0]])


def test_negative_network_flow_is_set_to_zero_and_counted(data):
    """Kratzert et al. 2019's evaluation sets negative discharge to 0; the count reaches the contract."""
    _, _, normalisation, tensors, model = _setup(data, "lstm", {"hidden_size": 4, "sequence_length": 10},
                                                 period=TEST)
    with torch.no_grad():
        model.head.bias.fill_(-50.0)  # every de-standardised output far below 0
    clipped = predict(model, tensors, normalisation, batch_size=64)
    kept = predict(model, tensors, normalisation, batch_size=64, clip_negative=False)
    valid = np.isfinite(kept["qsim"])
    assert (kept["qsim"][valid] < 0).all() and (clipped["qsim"][valid] == 0).all()
    assert int(clipped["negative_qsim"]) == int(kept["negative_qsim"]) == valid.sum() > 0
