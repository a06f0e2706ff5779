"""Tables and figures under free ids (issue 13, item 1): each names its kind (`plot:` / `table:`) and
its scope (split, basins, baseline, model pair, regions); the same kind may be listed many times."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import pytest
import yaml

from runoffbench.config_check import check_config, check_schema
from runoffbench.errors import ConfigError
from tests.test_workflow import copy_workflow

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def _config():
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["splits"]["newman2017"] = None
    config["figures"]["nse_cdf_newman"] = {"plot": "nse_cdf", "split": "newman2017", "basins": "complete_record",
                                           "caption": "NSE on the second split", "paper": "Frame et al. 2023, Fig. C1"}
    config["figures"]["huc_no_09"] = {"plot": "mass_bias_by_huc", "exclude_regions": ["09"], "min_basins": 2}
    config["tables"]["median_newman"] = {"table": "median_metrics", "split": "newman2017", "caption": "Table C1"}
    return config


def test_free_ids_pass_the_checks_and_bad_scopes_are_named():
    config = _config()
    check_schema(config, SCHEMA)
    check_config(config)
    bad = copy.deepcopy(config)
    bad["figures"]["nse_cdf_newman"]["split"] = "newman2071"
    bad["tables"]["median_newman"].update(table="comparison", baseline="lstn")
    with pytest.raises(ConfigError) as raised:
        check_config(bad)
    assert "figures.nse_cdf_newman.split: 'newman2071' is not a configured split" in str(raised.value)
    assert "tables.median_newman.baseline: ['lstn'] not among the configured models" in str(raised.value)
    not_an_option = copy.deepcopy(config)
    not_an_option["tables"]["median_newman"]["baseline"] = "lstm"
    with pytest.raises(ConfigError, match=r"tables.median_newman.baseline: not an option of median_metrics; its "
                                          r"options: split, forcings, models, members, basins, factors, metrics"):
        check_schema(not_an_option, SCHEMA)
    unknown_kind = copy.deepcopy(config)
    unknown_kind["figures"]["mine"] = {"plot": "nse_pdf"}
    with pytest.raises(ConfigError, match=r"config key figures.mine.plot"):
        check_schema(unknown_kind, SCHEMA)


@pytest.mark.slow
def test_a_kind_listed_twice_plans_one_job_per_id_with_its_scope(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    (workdir / "scoped.yaml").write_text(yaml.safe_dump(_config()))
    result = subprocess.run(["snakemake", "-n", "-p", "--configfile", "scoped.yaml", "--cores", "1"], cwd=workdir,
                            capture_output=True, text=True, timeout=180)
    planned = result.stdout + result.stderr
    assert result.returncode == 0, planned[-3000:]
    assert ("runoffbench figure nse_cdf --table results/default/tables/metrics.csv --split newman2017 --basins "
            "complete_record --output results/default/figures/nse_cdf_newman.pdf") in planned
    assert "runoffbench figure nse_cdf --table results/default/tables/metrics.csv --split kratzert2019" in planned
    assert "--exclude-regions 09 --output results/default/figures/huc_no_09.pdf" in planned
    assert ("runoffbench table median_metrics --table results/default/tables/metrics.csv --split newman2017"
            in planned) and "--output results/default/tables/median_newman.csv" in planned
