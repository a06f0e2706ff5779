"""Snakemake script of rule merge_calibration: merge a run's calibration chunks (contract 2)."""

from pathlib import Path

from runoffbench.calibration.chunks import merge_chunks

sm = snakemake  # noqa: F821 - injected by Snakemake
run_dir = merge_chunks(sm.params.chunk_dirs, Path(sm.output.predictions).parent)
Path(sm.log[0]).write_text(f"merged {len(sm.params.chunk_dirs)} chunk(s) into {run_dir}\n")
