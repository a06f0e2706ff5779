"""Per-basin SpotPy calibration of the conceptual models (:mod:`runoffbench.models.conceptual`).

- :mod:`.objectives`: RMSE, NSE, KGE on observed days and their directions;
- :mod:`.settings`: the checked calibration settings;
- :mod:`.setup`: the SpotPy setup class of one basin;
- :mod:`.calibrate`: :func:`~.calibrate.calibrate_basin` — calibrate one basin, simulate its test period;
- :mod:`.chunks`: :func:`~.chunks.calibrate_chunk` — a chunk of basins in a process pool, resumable,
  writing predictions, parameters, traces and failures.
"""
