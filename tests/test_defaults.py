"""Defaults live in the settings dataclasses; the schema's `default:` entries must say the same
(issue 12, item 1; pypsa-eur keeps its schema in sync the same way). Snakemake fills the schema's
defaults into the config, so a disagreement would make the workflow and the CLI/library differ."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from runoffbench.calibration.settings import CalibrationSettings
from runoffbench.training.settings import TrainSettings

SCHEMA = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml").read_text())


def _field_defaults(cls) -> dict:
    defaults = {}
    for field in dataclasses.fields(cls):
        if field.default is not dataclasses.MISSING:
            defaults[field.name] = field.default
        elif field.default_factory is not dataclasses.MISSING:
            defaults[field.name] = field.default_factory()
    return defaults


def _plain(value):
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return {int(k) if str(k).isdigit() else k: v for k, v in value.items()}
    return value


@pytest.mark.parametrize(("section", "cls"), [
    (SCHEMA["definitions"]["nn_model"]["properties"], TrainSettings),
    (SCHEMA["properties"]["calibration"]["properties"], CalibrationSettings),
], ids=["models.<nn>", "calibration"])
def test_schema_defaults_equal_the_settings_defaults(section, cls):
    code = _field_defaults(cls)
    compared = [key for key, spec in section.items() if isinstance(spec, dict) and "default" in spec and key in code]
    assert compared, "no default compared"
    disagreeing = {key: (section[key]["default"], _plain(code[key])) for key in compared
                   if section[key]["default"] != _plain(code[key])}
    assert not disagreeing, f"schema default vs code default: {disagreeing}"


def test_every_forcing_name_comes_from_one_list():
    """The forcing products the schema accepts are the data layer's (one list, not four copies)."""
    from runoffbench.data.camels_us import FORCING_PRODUCTS

    forcings = SCHEMA["definitions"].get("forcing_name", {}).get("enum")
    assert forcings is not None, "the schema has no definitions.forcing_name to reference"
    assert set(forcings) == set(FORCING_PRODUCTS)
    text = (Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml").read_text()
    assert text.count("maurer_extended") == 1
