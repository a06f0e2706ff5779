"""Forcing-cache build for 531 synthetic basins × 35 years: time and peak memory on one core.

Side by side in one run: runoffbench's `build-cache` (read every forcing and streamflow file, check,
write NetCDF4) against reading the same files with neuralhydrology 1.13's CAMELS-US loaders
(`load_camels_us_forcings` + `load_camels_us_discharge`, which read but write nothing).

    python benchmarks/bench_build_cache.py [--basins 531] [--workdir benchmarks/out]

Each measurement runs in its own subprocess pinned to one core, so peak RSS is that step's alone.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ONE_CORE = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}

NEURALHYDROLOGY = """
import sys, warnings
from pathlib import Path
warnings.simplefilter("ignore")
from neuralhydrology.datasetzoo.camelsus import load_camels_us_discharge, load_camels_us_forcings
root = Path(sys.argv[1]) / "basin_dataset_public_v1p2"
for basin in Path(sys.argv[2]).read_text().split():
    frame, area = load_camels_us_forcings(root, basin, "daymet")
    load_camels_us_discharge(root, basin, area)
"""


def run_measured(command: list[str]) -> tuple[float, float]:
    """Wall time [s] and peak RSS [MB] of a child process on one core."""
    env = os.environ | ONE_CORE
    start = time.perf_counter()
    child = subprocess.Popen(["taskset", "-c", "0", *command], env=env)
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"{command} failed with status {status}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--basins", type=int, default=531)
    parser.add_argument("--workdir", type=Path, default=Path("benchmarks/out"))
    args = parser.parse_args()
    root = args.workdir / f"synthetic_{args.basins}"
    basins = root / "basins.txt"
    if not basins.is_file():
        print(f"generating {args.basins} synthetic basins x 1980-2014 in {root} ...", file=sys.stderr)
        generate = run_measured([sys.executable, "-m", "runoffbench", "synth", "--output", str(root),
                                 "--n-basins", str(args.basins)])
        print(f"  generated in {generate[0]:.0f} s", file=sys.stderr)
    output = args.workdir / "daymet.nc"
    ours = run_measured([sys.executable, "-m", "runoffbench", "build-cache", "--camels-root", str(root),
                         "--forcing", "daymet", "--basins", str(basins), "--output", str(output),
                         "--dataset", "synthetic"])
    theirs = run_measured([sys.executable, "-c", NEURALHYDROLOGY, str(root), str(basins)])
    rows = [
        ("runoffbench build-cache (read + check + write NetCDF4)", *ours),
        ("neuralhydrology 1.13 loaders (read only)", *theirs),
    ]
    print(f"\n{args.basins} basins x 35 years, daymet, one core ({os.uname().machine}, "
          f"Python {sys.version.split()[0]})\n")
    print("| step | wall time [s] | peak RSS [MB] |\n|---|---:|---:|")
    for name, seconds, megabytes in rows:
        print(f"| {name} | {seconds:.1f} | {megabytes:.0f} |")
    print(json.dumps({"cache_mb": output.stat().st_size / 2**20}))


if __name__ == "__main__":
    main()
