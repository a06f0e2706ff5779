"""Static-attribute noise (Kratzert et al. 2019, Fig. 6) as an analysis of a reloaded run: batched draws,
sigma 0 reproduces the run's own skill, noise degrades it, reproducible for a seed, bad input named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from runoffbench.analysis.static_noise import analyse_run, nse_rows
from runoffbench.cli import main
from runoffbench.errors import ConfigError
from runoffbench.evaluation.metrics import METRICS
from runoffbench.periods import Period
from runoffbench.training.run import train_run
from runoffbench.training.settings import parse_settings
from tests.training_data import BASINS, training_forcings, write_training_attributes, write_training_cache

pytestmark = pytest.mark.usefixtures("torch_one_thread")
PERIODS = {"train": Period(pd.Timestamp("2001-01-01"), pd.Timestamp("2001-06-30")),
           "test": Period(pd.Timestamp("2001-07-01"), pd.Timestamp("2001-12-31"))}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("noise")
    dates = pd.date_range("2000-10-01", "2001-12-31", name="date")
    write_training_cache(root / "daymet.nc", dates, training_forcings(dates, seed=3, qobs_scale=(0.5, 1.0, 3.0)))
    write_training_attributes(root / "attributes.nc")
    made = {}
    for name, statics in (("ealstm", ["p_mean", "aridity"]), ("lstm", [])):
        settings = parse_settings(name, {"hidden_size": 8, "sequence_length": 10, "epochs": 3, "batch_size": 32,
                                         "learning_rate": 0.01, "static_attributes": statics})
        made[name] = train_run(settings, root / "daymet.nc", root / "attributes.nc", BASINS, PERIODS, 0,
                               root / name, "daymet", "s").parent
    return made


def test_nse_rows_equals_the_metric():
    rng = np.random.default_rng(0)
    obs, sim = rng.gamma(2, 2, (4, 50)), rng.gamma(2, 2, (4, 50))
    obs[1, 3] = np.nan
    expected = [METRICS["NSE"](obs[i], sim[i]) for i in range(4)]
    np.testing.assert_allclose(nse_rows(obs, sim), expected, rtol=1e-12)


def test_noise_in_batches_of_draws(runs, tmp_path):
    table = analyse_run(runs["ealstm"], sigmas=[0.5, 2.0], draws=6, seed=1, draws_per_batch=4)
    assert len(table) == 3 * (1 + 2 * 6) and set(table["sigma"]) == {0.0, 0.5, 2.0}
    with xr.open_dataset(runs["ealstm"] / "predictions.nc") as written:
        own = nse_rows(written["qobs"].values.astype("float64"), written["qsim"].values.astype("float64"))
    clean = table[table["sigma"] == 0].set_index("basin")["NSE"]
    np.testing.assert_allclose(clean.loc[BASINS].values, own, rtol=1e-6)  # sigma 0 is the run itself
    median = table.groupby("sigma")["NSE"].median()
    assert median[2.0] < median[0.0]  # noise on the attributes costs skill
    noisy = table[table["sigma"] == 2.0].groupby("basin")["NSE"].std()
    assert (noisy > 0).all()  # draws differ
    again = analyse_run(runs["ealstm"], sigmas=[0.5, 2.0], draws=6, seed=1, draws_per_batch=3)
    pd.testing.assert_frame_equal(table, again)  # the batch size does not change a draw


def test_cli_and_a_run_without_statics(runs, tmp_path):
    output = tmp_path / "noise.csv"
    assert main(["analyse", "static_noise", "--run", str(runs["ealstm"]), "--sigma", "0.3", "--draws", "2",
                 "--output", str(output)]) == 0
    written = pd.read_csv(output, dtype={"basin": str, "member": str})
    assert list(written.columns) == ["basin", "sigma", "draw", "NSE", "model", "forcing", "split", "member", "seed"]
    with pytest.raises(ConfigError, match="needs a model with static inputs"):
        analyse_run(runs["lstm"], sigmas=[0.1], draws=1)


def test_the_figure_draws_a_box_per_sigma_and_model(runs, tmp_path):
    import matplotlib.pyplot as plt

    from runoffbench.plots.static_noise import plot_static_noise

    table = analyse_run(runs["ealstm"], sigmas=[0.5, 2.0], draws=3, seed=0, draws_per_batch=7)
    table = pd.concat([table, table.assign(model="ealstm_copy")])
    fig = plot_static_noise(table)
    ax = fig.axes[0]
    assert len(ax.patches) == 3 * 2  # boxes: 3 sigmas (0 included) x 2 models
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "0.5", "2"]
    assert ax.get_title(loc="left") == "3 basins, 3 draws per basin and σ"
    plt.close(fig)
    table.to_csv(tmp_path / "a.csv", index=False)
    assert main(["analyse", "static_noise", "--collect", str(tmp_path / "a.csv"), str(tmp_path / "a.csv"),
                 "--output", str(tmp_path / "joined.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "joined.csv")) == 2 * len(table)
