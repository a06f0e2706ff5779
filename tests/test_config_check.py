"""Configuration errors stop `snakemake -n` before the first job, each naming its key (issue 11,
item 6): registries, static attributes, metrics, periods outside the data, reversed periods, warm-up,
unknown paper splits, models named by the evaluation, unknown network options; schema errors come as
one line per key instead of a dump of the schema."""

from __future__ import annotations

import copy
import subprocess
import warnings
from pathlib import Path

import pytest
import yaml

from runoffbench.config_check import check_config, check_schema
from runoffbench.errors import ConfigError
from tests.test_workflow import copy_workflow

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
DEFAULT = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def _models(config):
    return config["models"]


MUTATIONS = {
    "unknown nn model": (lambda c: _models(c)["lstm"].update(model="transformer"),
                         r"models.lstm: unknown nn model 'transformer'"),
    "unknown conceptual model": (lambda c: _models(c).update(gr4j={"kind": "conceptual"}),
                                 r"models.gr4j: unknown conceptual model 'gr4j'"),
    "unknown static attribute": (lambda c: _models(c)["ealstm"].update(static_attributes=["p_mean", "porosity"]),
                                 r"models.ealstm.static_attributes: .*\['porosity'\]"),
    "unknown network option": (lambda c: _models(c)["mclstm"].update(dropout=0.4),
                               r"models.mclstm: unknown key\(s\) dropout for MCLSTM"),
    "unknown option under options": (lambda c: _models(c)["dhbv"].update(options={"componets": 4}),
                                     r"models.dhbv: unknown key\(s\) componets for DeltaHBV"),
    "warmup >= sequence_length": (lambda c: _models(c)["dhbv"].update(warmup=150),
                                  r"models.dhbv.warmup: expected 0 <= warmup < sequence_length \(150\)"),
    "unknown metric": (lambda c: c["evaluation"].update(metrics=["NSE", "KGE2"]),
                       r"evaluation.metrics: unknown \['KGE2'\]"),
    "period outside the data": (lambda c: c["splits"].update(late={"train": {"water_years": [1981, 1990]},
                                                                   "test": {"water_years": [2010, 2016]}}),
                                r"splits.late.test: 2009-10-01..2016-09-30 lies outside the data of daymet"),
    "reversed water years": (lambda c: c["splits"].update(back={"train": {"water_years": [1995, 1990]},
                                                                "test": {"water_years": [2000, 2005]}}),
                             r"splits.back.train: period ends \(1990-09-30\) before it starts"),
    "unknown paper split": (lambda c: c["splits"].update(kratzert2020=None),
                            r"splits.kratzert2020: no predefined split of that name"),
    "misspelled model in kge_difference": (lambda c: c["evaluation"].update(kge_difference=["mc_lstm", "lstm"]),
                                           r"evaluation.kge_difference: \['mc_lstm'\] not among the configured"),
    "reversed calibration bounds": (lambda c: _models(c)["exphydro"].update(bounds={"smax": [500, 100]}),
                                    r"models.exphydro.bounds.smax"),
    "calibration swept over a factor it cannot take": (
        lambda c: _models(c)["exphydro"].update(sweep={"train_years": [2], "evaluations": [100, 200]}),
        r"models.exphydro.sweep.evaluations: a calibrated \(conceptual\) model cannot take this factor; .*only "
        r"train_years"),
    "calibration data amount longer than the training period": (
        lambda c: _models(c)["exphydro"].update(sweep={"train_years": [2, 10]}),
        r"models.exphydro.train_years: 10 years requested, but the training period 1999-10-01..2008-09-30 is "
        r"shorter \(split kratzert2019\)"),
    "calibration data amount not whole years": (lambda c: _models(c)["exphydro"].update(sweep={"train_years": [1.5]}),
                                                r"models.exphydro.sweep.train_years: expected a positive whole number"),
    "analysis of a model without statics": (lambda c: c["analyses"]["static_noise"].update(models=["lstm_no_static"]),
                                            r"analyses.static_noise: static_noise needs static attributes"),
    "analysis of an unknown model": (lambda c: c["analyses"]["static_noise"].update(models=["ea_lstm"]),
                                     r"analyses.static_noise.models: \['ea_lstm'\] are not nn models"),
    "analysis id taken by a figure": (lambda c: c["analyses"].update(nse_cdf=c["analyses"].pop("static_noise")),
                                      r"analyses.nse_cdf: the id names its table and figure"),
    "hydrograph forcing not configured": (lambda c: c["evaluation"]["hydrographs"].update(forcing="maurer"),
                                          r"evaluation.hydrographs.forcing: 'maurer' is not one of"),
}


@pytest.mark.parametrize("case", sorted(MUTATIONS))
def test_each_config_error_names_its_key(case):
    mutate, message = MUTATIONS[case]
    config = copy.deepcopy(DEFAULT)
    mutate(config)
    with pytest.raises(ConfigError, match=message):
        check_config(config)


def test_the_shipped_configs_pass_and_overlapping_periods_warn():
    for path in [REPO / "config" / "config.yaml", *sorted((REPO / "config" / "experiments").glob("*.yaml"))]:
        config = yaml.safe_load(path.read_text())
        check_schema(config, SCHEMA)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            check_config(config)
    config = copy.deepcopy(DEFAULT)
    config["splits"]["overlap"] = {"train": {"water_years": [1990, 2000]}, "test": {"water_years": [1999, 2005]}}
    with pytest.warns(UserWarning, match="splits.overlap: the train period .* overlap"):
        check_config(config)


def test_schema_errors_are_one_line_per_key():
    config = copy.deepcopy(DEFAULT)
    _models(config)["lstm"]["hidden_sise"] = 8
    config["calibration"]["evaluations"] = -5
    with pytest.raises(ConfigError) as raised:
        check_schema(config, SCHEMA)
    lines = str(raised.value).splitlines()
    assert lines[0].startswith("2 problem(s) in the configuration")
    assert any(line.strip().startswith("config key models.lstm: Additional properties") and "'hidden_sise'" in line
               for line in lines)
    assert any(line.strip().startswith("config key calibration.evaluations:") for line in lines)
    assert len(str(raised.value)) < 2000


@pytest.mark.slow
def test_snakemake_dry_run_stops_with_the_key_in_its_first_lines(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    config = copy.deepcopy(DEFAULT)
    _models(config)["mclstm"]["dropout"] = 0.4
    (workdir / "bad.yaml").write_text(yaml.safe_dump(config))
    result = subprocess.run(["snakemake", "-n", "--configfile", "bad.yaml"], cwd=workdir, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0
    head = "\n".join((result.stdout + result.stderr).splitlines()[:4])
    assert "models.mclstm: unknown key(s) dropout for MCLSTM" in head, head
