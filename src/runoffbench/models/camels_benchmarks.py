r"""The CAMELS benchmark model simulations released with Kratzert et al. (2019, HESS, EA-LSTM paper),
imported into the prediction contract (docs/architecture.md, contract 2).

Where to get them
-----------------
* **Benchmark models**: HydroShare resource 474ecc37e7db45baa425cdb4fc1b61e1, "CAMELS benchmark
  models" (Kratzert 2019, https://doi.org/10.4211/hs.474ecc37e7db45baa425cdb4fc1b61e1,
  https://www.hydroshare.org/resource/474ecc37e7db45baa425cdb4fc1b61e1/): **one NetCDF file per
  basin**, ``<gauge_id>_benchmark_models.nc`` (e.g. ``01013500_benchmark_models.nc``), which its
  users keep in a folder ``netcdf/``. Point ``path`` at the folder that holds them (searched at any
  depth, so the unpacked download as it is works too) or at one file.
* **Their LSTM / EA-LSTM runs** (optional): HydroShare resource 83ea5312635e44dc824eeb99eda12f06
  ("Pre-trained models"); every run folder holds the pickle its ``main.py evaluate`` wrote,
  ``ealstm_seed<N>.p``, ``lstm_seed<N>.p`` or ``lstm_no_static_seed<N>.p``. Point ``path`` at one
  such file (one seed = one run).

Format (what the paper's code and independent users of the files read)
----------------------------------------------------------------------
A basin file holds one daily dimension (``index`` in the release: the dates of a pandas index,
CF-encoded as days since 1989-10-01) and one variable per model, each in **mm/day** like the
observations:

==================  ==========================================================================
variable            model (label in Kratzert's ``papercode/plotutils.py``; reference as cited in the paper)
==================  ==========================================================================
``QObs``            observed streamflow; Kratzert's evaluation ignores days with ``QObs < 0``
                    (CAMELS' -999 flag, converted)
``SAC_SMA``         SAC-SMA (+Snow-17), basin-wise calibrated (Newman et al. 2017)
``VIC_basin``       VIC, basin-wise calibrated (Mizukami et al. 2019)
``VIC_conus``       VIC, CONUS-wide calibrated
``mHm_basin``       mHM, basin-wise calibrated (Mizukami et al. 2019)
``mHm_conus``       mHM, CONUS-wide calibrated
``HBV_lb``          HBV lower bound, "n=1000 uncalibrated" (Seibert et al. 2018)
``HBV_ub``          HBV upper bound, "n=100 calibrated"
``q_sim_fuse_900``  FUSE structure 900
``q_sim_fuse_902``  FUSE structure 902
``q_sim_fuse_904``  FUSE structure 904
==================  ==========================================================================

The period is the test period of split ``kratzert2019``, 1989-10-01..1999-09-30 (water years
1990–1999, 3652 days). Not every model has every basin: a file may lack a model's variable, and a
model's simulation may be missing (NaN) on observed days. Kratzert et al. compare the models on the
basins where every one of them has a result (their NSE is finite) among their 531: **447 basins**
(the paper's count; :func:`benchmark_basins` applies the same rule, see below).

A run pickle is ``{basin: DataFrame(index=dates 1989-10-01..1999-09-30, columns qobs, qsim)}`` in
mm/day (``qsim`` clipped at 0). Unpickling runs code from the file: read only files from that
resource (or your own).

Sources: ``kratzert/ealstm_regional_modeling`` (README "Data needed", ``papercode/evalutils.py``
``eval_benchmark_models``: ``*.nc`` per basin, ``basin = name[:8]``, every variable but ``QObs`` a
model, days with ``QObs < 0`` ignored; ``papercode/plotutils.py``: the variable names;
``notebooks/performance.ipynb``: the common basins; ``main.py``: the pickle of a run and the
period), and two independent readers of the files (Kelleher & Braswell 2021, figure 9 code:
``01013500_benchmark_models.nc``, 1989-10-01..1999-09-30, 3652 values, mm/day; Ruzzante's
``eval_kratzert`` R scripts: ``netcdf/<id>_benchmark_models.nc``, dates = 1989-10-01 + ``index``,
"some models are missing some gauges").

Rules applied here
------------------
* A basin is *complete* for a model when its file holds the model's variable and the simulation is
  finite on every day of the period with observed flow (the cache's ``qobs`` when importing, the
  file's ``QObs >= 0`` in :func:`benchmark_basins`); missing simulated flow where nothing was
  observed is kept as NaN (the evaluation masks those days).
* :func:`import_benchmark` predicts the basins of the forcing cache (the experiment's basin set).
  Cache basins the benchmark lacks or has incomplete are an error naming them, unless
  ``missing_basins="skip"``: then they are logged, left out and listed in the prediction file's
  attribute ``missing_basins`` (never dropped silently). Basins of the release outside the cache
  are ignored. :func:`benchmark_basins` gives the common basin list to run an experiment on
  (``runoffbench benchmark-basins``).
* Units: a variable's ``units`` attribute if it has one (mm/day; m³/s and ft³/s are converted with
  the cache's basin areas, :func:`runoffbench.models.external.to_mm_per_day`), otherwise ``units``
  (default mm/day, the unit of the release). Any other unit is a DataError naming file and variable.
* A DataError names the file (and basin) for: an unreadable file, a file not covering the test
  period (another period), missing or repeated dates, an unknown unit, a basin id twice (two files
  of one basin, or ``1013500`` and ``01013500`` in a pickle).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from runoffbench.errors import ConfigError, DataError
from runoffbench.io import write_text_atomic
from runoffbench.models.external import UNITS, to_mm_per_day
from runoffbench.periods import Period
from runoffbench.predictions import make_predictions

log = logging.getLogger(__name__)

RELEASE = "https://www.hydroshare.org/resource/474ecc37e7db45baa425cdb4fc1b61e1/"
LSTM_RELEASE = "https://www.hydroshare.org/resource/83ea5312635e44dc824eeb99eda12f06/"

#: the period every benchmark file covers (split kratzert2019's test period)
PERIOD = Period(pd.Timestamp("1989-10-01"), pd.Timestamp("1999-09-30"))
#: the observed-flow variable of a basin file
OBSERVED = "QObs"
#: the model variables of the release, as spelled in the files
BENCHMARK_MODELS = ("SAC_SMA", "VIC_basin", "VIC_conus", "mHm_basin", "mHm_conus", "HBV_lb", "HBV_ub",
                    "q_sim_fuse_900", "q_sim_fuse_902", "q_sim_fuse_904")
#: the runs of the pre-trained-model release: file ``<name>_seed<N>.p``
LSTM_MODELS = ("ealstm", "lstm", "lstm_no_static")
PICKLE_SUFFIXES = (".p", ".pkl", ".pickle")
MISSING_BASINS = ("error", "skip")

_BASIN_FILE = re.compile(r"^(\d{8})(?:\D.*)?\.nc4?$")
_RUN_PICKLE = re.compile(r"^(?P<model>.+)_seed(?P<seed>\d+)$")
_UNIT_SPELLINGS = {
    "mm/day": ("mm/day", "mm/d", "mm d-1", "mm day-1", "mm/24h", "mm per day"),
    "m3/s": ("m3/s", "m^3/s", "m**3/s", "m3 s-1", "m^3 s^-1", "cms", "cumecs"),
    "ft3/s": ("ft3/s", "ft^3/s", "ft**3/s", "ft3 s-1", "cfs"),
}
_UNITS = {spelling: unit for unit, spellings in _UNIT_SPELLINGS.items() for spelling in spellings}


def benchmark_name(name: str) -> str:
    """The variable of benchmark ``name`` in the files: case and the ``q_sim_`` prefix are optional
    (``vic_basin`` -> ``VIC_basin``, ``fuse_900`` -> ``q_sim_fuse_900``); LSTM run names as they are."""
    wanted = _normalised(name)
    for known in (*BENCHMARK_MODELS, *LSTM_MODELS):
        if _normalised(known) == wanted:
            return known
    raise ConfigError(f"unknown CAMELS benchmark model {name!r}; the release has {', '.join(BENCHMARK_MODELS)} "
                      f"(case and the q_sim_ prefix optional) and the run pickles {', '.join(LSTM_MODELS)}")


def _normalised(name: str) -> str:
    text = str(name).strip().lower()
    return text[len("q_sim_"):] if text.startswith("q_sim_") else text


def benchmark_files(path: str | Path) -> dict[str, Path]:
    """Basin id -> file: the ``<id>_benchmark_models.nc`` files under folder ``path`` (any depth), or
    ``path`` itself. Two files of one basin are a DataError naming both."""
    path = Path(path)
    if path.is_file():
        match = _BASIN_FILE.match(path.name)
        if not match:
            raise DataError(f"CAMELS benchmark file {path}: the name does not start with an 8-digit basin id "
                            "(expected <gauge_id>_benchmark_models.nc)")
        return {match.group(1): path}
    if not path.is_dir():
        raise DataError(f"CAMELS benchmark simulations {path} do not exist; download them from {RELEASE} "
                        "and point path at the folder of <gauge_id>_benchmark_models.nc files")
    files: dict[str, Path] = {}
    ignored = []
    for candidate in sorted(path.rglob("*.nc*")):
        match = _BASIN_FILE.match(candidate.name)
        if not match:
            ignored.append(candidate.name)
            continue
        basin = match.group(1)
        if basin in files:
            raise DataError(f"CAMELS benchmark simulations {path}: basin {basin} appears twice, in "
                            f"{files[basin]} and {candidate}")
        files[basin] = candidate
    if ignored:
        log.warning("%s: ignored %d NetCDF file(s) whose name does not start with a basin id: %s",
                    path, len(ignored), ", ".join(ignored[:5]))
    if not files:
        raise DataError(f"CAMELS benchmark simulations {path}: no <gauge_id>_benchmark_models.nc file in it "
                        f"(download them from {RELEASE})")
    return files


def unit_of(attrs: dict, default: str, source: str) -> str:
    """The unit (a key of :data:`runoffbench.models.external.UNITS`) a variable's ``units`` attribute
    names; ``default`` when it has none."""
    text = attrs.get("units")
    if text is None or not str(text).strip():
        if default not in UNITS:
            raise ConfigError(f"{source}: unknown units {default!r}; use one of {list(UNITS)}")
        return default
    spelled = re.sub(r"\s*/\s*", "/", str(text).strip().lower())
    if spelled not in _UNITS:
        raise DataError(f"{source} has units {text!r}; expected mm/day (the release's unit), m3/s or ft3/s")
    return _UNITS[spelled]


@dataclass
class BasinRecord:
    """One basin of the release: the daily flows over the requested period (date x variable)."""

    basin: str
    source: Path
    flows: pd.DataFrame
    units: dict[str, str] = field(default_factory=dict)

    def observed(self) -> pd.Series:
        """The file's observed flow, NaN where it is negative (the release's missing days)."""
        if OBSERVED not in self.flows:
            return pd.Series(np.nan, index=self.flows.index)
        q = self.flows[OBSERVED]
        return q.where(q >= 0)


def read_basin_file(path: str | Path, basin: str, period: Period = PERIOD, default_units: str = "mm/day"
                    ) -> BasinRecord:
    """Every variable of one basin file over ``period``; DataError naming the file when it cannot be
    read, has no readable dates, repeats a date or does not cover ``period``."""
    path = Path(path)
    try:
        with xr.open_dataset(path) as dataset:
            dataset = dataset.load()
    except (OSError, ValueError, RuntimeError) as error:
        raise DataError(f"CAMELS benchmark file {path} cannot be read ({error})") from None
    dims = {d for v in dataset.data_vars.values() for d in v.dims}
    if len(dims) != 1:
        raise DataError(f"CAMELS benchmark file {path}: expected one daily dimension, found {sorted(dims)}")
    (dim,) = dims
    values = dataset[dim].values
    if not np.issubdtype(np.asarray(values).dtype, np.datetime64):
        raise DataError(f"CAMELS benchmark file {path}: dimension {dim!r} holds no dates (no CF 'units' such as "
                        f"'days since 1989-10-01'?)")
    dates = pd.DatetimeIndex(values).normalize()
    if dates.has_duplicates:
        repeated = sorted({str(d.date()) for d in dates[dates.duplicated()]})
        raise DataError(f"CAMELS benchmark file {path}: dates {repeated[:5]} appear more than once")
    flows = pd.DataFrame({name: np.asarray(var.values, dtype="float64") for name, var in dataset.data_vars.items()},
                         index=dates).sort_index()
    wanted = period.dates
    missing = wanted.difference(flows.index)
    if len(missing):
        span = f"{flows.index[0].date()}..{flows.index[-1].date()}" if len(flows.index) else "no days"
        raise DataError(f"CAMELS benchmark file {path} (basin {basin}) covers {span}, not the period {period} "
                        f"({len(missing)} day(s) missing, first {missing[0].date()}); the release covers "
                        f"{PERIOD} (split kratzert2019's test period)")
    units = {name: unit_of(dict(var.attrs), default_units, f"CAMELS benchmark file {path}, variable {name}")
             for name, var in dataset.data_vars.items() if name != OBSERVED}
    return BasinRecord(basin, path, flows.loc[wanted], units)


def iter_release(path: str | Path, period: Period = PERIOD, basins: Iterable[str] | None = None,
                 default_units: str = "mm/day") -> Iterator[BasinRecord]:
    """The basins of ``path`` (a folder or file of the release, or a run pickle), one at a time;
    only ``basins`` when given."""
    path = Path(path)
    if path.suffix.lower() in PICKLE_SUFFIXES:
        yield from _iter_pickle(path, period, basins)
        return
    files = benchmark_files(path)
    chosen = sorted(files) if basins is None else [b for b in basins if b in files]
    for basin in chosen:
        yield read_basin_file(files[basin], basin, period, default_units)


def _iter_pickle(path: Path, period: Period, basins: Iterable[str] | None) -> Iterator[BasinRecord]:
    run = run_pickle_model(path)
    if not path.is_file():
        raise DataError(f"run pickle {path} does not exist; the runs of Kratzert et al. (2019) are in {LSTM_RELEASE}")
    try:
        results = pd.read_pickle(path)  # noqa: S301 - a file of the release (module docstring)
    except Exception as error:  # noqa: BLE001 - whatever unpickling raises, name the file
        raise DataError(f"run pickle {path} cannot be read ({type(error).__name__}: {error})") from None
    if not isinstance(results, dict):
        raise DataError(f"run pickle {path}: expected a dict basin -> DataFrame(qobs, qsim), "
                        f"got {type(results).__name__}")
    by_basin: dict[str, pd.DataFrame] = {}
    for key, frame in results.items():
        text = str(key).strip()
        if not text.isdigit() or len(text) > 8:
            raise DataError(f"run pickle {path}: key {key!r} is not a USGS basin id")
        basin = text.zfill(8)
        if basin in by_basin:
            raise DataError(f"run pickle {path}: basin {basin} appears twice (keys such as {key!r} and its "
                            "zero-padded id)")
        if not isinstance(frame, pd.DataFrame) or not {"qobs", "qsim"} <= set(frame.columns):
            raise DataError(f"run pickle {path}, basin {basin}: expected a DataFrame with columns qobs and qsim")
        by_basin[basin] = frame
    wanted = period.dates
    chosen = sorted(by_basin) if basins is None else [b for b in basins if b in by_basin]
    for basin in chosen:
        frame = by_basin[basin]
        dates = pd.DatetimeIndex(pd.to_datetime(frame.index)).normalize()
        if dates.has_duplicates:
            raise DataError(f"run pickle {path}, basin {basin}: dates appear more than once")
        frame = pd.DataFrame({OBSERVED: frame["qobs"].to_numpy(float), run: frame["qsim"].to_numpy(float)},
                             index=dates).sort_index()
        missing = wanted.difference(frame.index)
        if len(missing):
            span = f"{frame.index[0].date()}..{frame.index[-1].date()}" if len(frame.index) else "no days"
            raise DataError(f"run pickle {path}, basin {basin} covers {span}, not the period {period} "
                            f"({len(missing)} day(s) missing, first {missing[0].date()})")
        yield BasinRecord(basin, path, frame.loc[wanted], {run: "mm/day"})


def run_pickle_model(path: str | Path) -> str:
    """``ealstm``, ``lstm`` or ``lstm_no_static`` from a run pickle's name ``<model>_seed<N>.p``."""
    match = _RUN_PICKLE.match(Path(path).stem)
    if not match or match.group("model") not in LSTM_MODELS:
        raise DataError(f"run pickle {path}: expected a name <model>_seed<N>.p with model one of "
                        f"{', '.join(LSTM_MODELS)}")
    return match.group("model")


def incomplete_reason(record: BasinRecord | None, variable: str, observed: pd.Series) -> str | None:
    """Why ``variable`` of ``record`` cannot stand for the basin, or None: no file, no such variable,
    or no simulated flow on days with ``observed`` flow."""
    if record is None:
        return "not in the benchmark files"
    if variable not in record.flows:
        return f"{record.source.name} has no {variable}"
    simulated = record.flows[variable].to_numpy()
    gaps = ~np.isfinite(simulated) & np.isfinite(observed.reindex(record.flows.index).to_numpy(float))
    if gaps.any():
        return f"{variable} is missing on {int(gaps.sum())} observed day(s) in {record.source.name}"
    return None


def resolve_models(models: Sequence[str] | str | None, path: Path) -> list[str]:
    """The variables ``models`` names in the files of ``path`` (None or ``all``: every one)."""
    given = [models] if isinstance(models, str) else list(models or [])
    everything = not given or given == ["all"]
    if path.suffix.lower() in PICKLE_SUFFIXES:
        run = run_pickle_model(path)
        if not everything and {benchmark_name(m) for m in given} != {run}:
            raise ConfigError(f"run pickle {path} holds the {run} run, not {', '.join(given)}")
        return [run]
    if everything:
        return list(BENCHMARK_MODELS)
    names = [benchmark_name(m) for m in given]
    lstm = [n for n in names if n in LSTM_MODELS]
    if lstm:
        raise ConfigError(f"{lstm} are run pickles (<model>_seed<N>.p), not variables of the benchmark files {path}")
    return list(dict.fromkeys(names))


def benchmark_basins(path: str | Path, models: Sequence[str] | str | None = None, *,
                     within: Iterable[str] | None = None, period: Period = PERIOD) -> list[str]:
    """The basins (sorted) complete for every one of ``models`` (default: all ten of the release);
    with ``within`` (e.g. the 531 of Kratzert et al.) only those — the paper's 447 common basins.
    The observed days are the file's ``QObs >= 0`` (module docstring)."""
    path = Path(path)
    variables = resolve_models(models, path)
    within = None if within is None else list(within)
    common = []
    counts = dict.fromkeys(variables, 0)
    for record in iter_release(path, period, within):
        observed = record.observed()
        complete = [v for v in variables if incomplete_reason(record, v, observed) is None]
        for variable in complete:
            counts[variable] += 1
        if len(complete) == len(variables):
            common.append(record.basin)
    log.info("%s: basins per model %s; %d in every one", path, counts, len(common))
    return common


def write_basin_list(basins: Sequence[str], path: str | Path, comment: str = "") -> Path:
    """A basin list file (one id a line, ``#`` comments: :func:`runoffbench.data.camels_us.read_basin_list`)."""
    if not basins:
        raise DataError(f"basin list {path}: no basin is common to the chosen benchmark models")
    header = "".join(f"# {line}\n" for line in comment.splitlines() if line.strip())
    return write_text_atomic(Path(path), header + "".join(f"{b}\n" for b in basins))


@dataclass
class BenchmarkSimulation:
    """One model of the release over a period: flow (date x basin) in mm/day where the units allow
    it without areas, else in ``units`` per basin; ``missing`` the requested basins left out, why."""

    variable: str
    flow: pd.DataFrame
    units: dict[str, str]
    missing: dict[str, str]


def read_benchmark(path: str | Path, benchmark: str, basins: Sequence[str] | None = None, *,
                   period: Period = PERIOD, observed: pd.DataFrame | None = None,
                   default_units: str = "mm/day") -> BenchmarkSimulation:
    """Model ``benchmark`` for ``basins`` (default: every basin of the files) over ``period``.

    ``observed`` (date x basin) decides which days must be simulated; default: the files' ``QObs``."""
    path = Path(path)
    (variable,) = resolve_models(benchmark, path)
    records = {r.basin: r for r in iter_release(path, period, basins, default_units)}
    wanted = list(basins) if basins is not None else sorted(records)
    missing, columns, units = {}, {}, {}
    for basin in wanted:
        record = records.get(basin)
        obs = (observed[basin] if observed is not None and basin in observed
               else record.observed() if record is not None else pd.Series(dtype=float))
        reason = incomplete_reason(record, variable, obs)
        if reason:
            missing[basin] = reason
            continue
        columns[basin] = record.flows[variable]
        units[basin] = record.units[variable]
    flow = pd.DataFrame(columns, index=period.dates)
    return BenchmarkSimulation(variable, flow, units, missing)


def import_benchmark(
    path: str | Path,
    cache: xr.Dataset,
    test: Period,
    *,
    benchmark: str,
    model: str,
    forcing: str,
    split: str,
    member: str | int = 0,
    units: str = "mm/day",
    missing_basins: str = "error",
) -> xr.Dataset:
    """The prediction dataset of benchmark ``benchmark`` for the basins of ``cache`` over ``test``
    (``qobs`` from the cache; rules in the module docstring)."""
    if missing_basins not in MISSING_BASINS:
        raise ConfigError(f"missing_basins must be one of {MISSING_BASINS}, not {missing_basins!r}")
    path = Path(path)
    cache_basins = [str(b) for b in cache["basin"].values]
    observed = cache["qobs"].sel(date=slice(test.start, test.end))
    dates = pd.DatetimeIndex(observed["date"].values)
    if len(dates) != len(test.dates):
        raise DataError(f"forcing cache covers {len(dates)} of the {len(test.dates)} days of the test period {test}")
    observed_table = observed.transpose("date", "basin").to_pandas()
    observed_table.columns = [str(c) for c in observed_table.columns]
    simulation = read_benchmark(path, benchmark, cache_basins, period=test, observed=observed_table,
                                default_units=units)
    where = f"CAMELS benchmark {simulation.variable} ({path})"
    missing = simulation.missing
    if missing:
        listed = "; ".join(f"{b}: {r}" for b, r in list(missing.items())[:10])
        more = f"; and {len(missing) - 10} more" if len(missing) > 10 else ""
        if missing_basins == "error":
            raise DataError(
                f"{where}: {len(missing)} of the {len(cache_basins)} basins of the forcing cache are missing or "
                f"incomplete ({listed}{more}); run the experiment on the basins every benchmark has "
                "(runoffbench benchmark-basins, dataset.basins) or set missing_basins: skip to leave them out")
        log.warning("%s: leaving out %d of %d basins of the cache: %s", where, len(missing), len(cache_basins),
                    "; ".join(f"{b}: {r}" for b, r in missing.items()))
    basins = list(simulation.flow.columns)
    if not basins:
        raise DataError(f"{where}: none of the {len(cache_basins)} basins of the forcing cache is complete")
    area = cache["area"].to_series() if "area" in cache.coords else pd.Series(dtype=float)
    area.index = area.index.astype(str)
    flow = simulation.flow.copy()
    for unit in sorted(set(simulation.units.values()) - {"mm/day"}):
        chosen = [b for b in basins if simulation.units[b] == unit]
        flow[chosen] = to_mm_per_day(flow[chosen], unit, area, where)
    source_units = sorted(set(simulation.units.values()))
    log.info("imported %s: %d basins x %d days from %s (%s)", simulation.variable, len(basins), len(dates), path,
             ", ".join(source_units))
    attrs = {"source": str(path), "source_units": ", ".join(source_units), "benchmark": simulation.variable,
             "missing_basins": " ".join(sorted(missing))}
    return make_predictions(flow.loc[dates, basins].to_numpy().T, observed.sel(basin=basins).values, basins, dates,
                            model=model, forcing=forcing, split=split, member=member, attrs=attrs)


#: key of the release in the download sources (config/download_sources.yaml)
SOURCE_KEY = "camels_benchmarks"
#: written into the folder last, once every file is in place (the workflow's marker of a complete download)
MANIFEST = "download_manifest.json"


def fetch_release(sources: dict, output: str | Path, downloads: str | Path | None = None,
                  progress: bool = True) -> Path:
    """Download the release (``sources[SOURCE_KEY]``: ``{url, sha256, md5}``, the archive of the basin
    files) and extract its ``*.nc`` files into ``output`` (their paths in the archive kept); writes
    ``output/download_manifest.json`` last and returns it. An archive without a pinned sum must pass the
    integrity check of :func:`runoffbench.data.archives.check_archive` before it is kept."""
    import json
    from datetime import UTC, datetime
    from urllib.parse import unquote, urlparse

    from runoffbench.data.archives import check_archive, extract_members
    from runoffbench.data.download import source_entry
    from runoffbench.data.http_download import download_file, file_sha256

    entry = source_entry(sources, SOURCE_KEY)
    output = Path(output)
    name = unquote(Path(urlparse(entry["url"]).path).name)
    if not name:
        raise ConfigError(f"download sources: {SOURCE_KEY}: the URL {entry['url']} names no file")
    archive = download_file(entry["url"], Path(downloads or output.parent / "downloads") / name, entry["sha256"],
                            md5=entry.get("md5"), verify=check_archive, progress=progress)
    files = extract_members(archive, output, lambda member: _BASIN_FILE.match(Path(member).name) is not None)
    if not files:
        raise DataError(f"{archive} (from {entry['url']}) holds no <gauge_id>_benchmark_models.nc file")
    record = {"source": entry["url"], "archive": archive.name, "sha256": file_sha256(archive),
              "files": len(files), "downloaded": datetime.now(UTC).isoformat(timespec="seconds")}
    manifest = write_text_atomic(output / MANIFEST, json.dumps(record, indent=2) + "\n")
    log.info("CAMELS benchmark models: %d basin files from %s in %s", len(files), entry["url"], output)
    return manifest
