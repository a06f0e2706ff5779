"""The SLURM profile on a real single-node SLURM cluster (started by scripts/slurm_cluster.sh), and
resuming an interrupted local run.

The cluster script installs slurm and munge with apt when they are missing (root, no tty needed); the
SLURM tests are skipped only when it exits 3 (packages missing and not installable), and fail on any
other error. The cluster runs build the data stage of the embedded default (the dataset, both forcing caches,
the attribute cache), the water-balance table, one calibration and one training run with their
metrics, with the profile edited as on a cluster without GPUs (`train` gets `gpu: 0`); `rule all`
(some 120 jobs) would take several minutes on this 2-core single-node cluster.
"""

from __future__ import annotations

import filecmp
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import xarray as xr

from runoffbench.paths import metrics_path, prediction_path
from tests.test_workflow import copy_workflow

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "slurm_cluster.sh"
SLURM_DIR = Path(os.environ.get("RUNOFFBENCH_SLURM_DIR", "/tmp/runoffbench-slurm"))
CACHE = Path("data/cache/synthetic")
CACHES = [CACHE / f"{name}.nc" for name in ("daymet", "nldas_extended", "attributes")]
TABLE = Path("results/default/tables/water_balance.csv")
TARGETS = [str(path) for path in (*CACHES, TABLE)]
RESULTS = Path("results/default")
#: one calibration (two basin chunks) and one training run, with their metrics: every kind of cluster job
RUNS = [("exphydro", "daymet", "kratzert2019", 0), ("lstm", "daymet", "kratzert2019", 0)]
RUN_OUTPUTS = [path for run in RUNS for path in (prediction_path(RESULTS, *run), metrics_path(RESULTS, *run))]
CLUSTER_TARGETS = [*TARGETS, *map(str, RUN_OUTPUTS)]
SLURM_LOGS = Path("results/logs/slurm")
TIMEOUT = 300

pytestmark = pytest.mark.slow

# "rule build_cache:" / "localrule water_balance:" blocks of Snakemake's log, with their output and jobid
JOB_BLOCK = re.compile(r"^(local)?rule (\w+):\n((?:    .*\n)+)", re.MULTILINE)
SUBMITTED = re.compile(r"Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (.+?)\)\.")
FINISHED = re.compile(r"Finished jobid: (\d+) \(Rule: (\w+)\)")


def jobs_of(log: str) -> dict[int, dict]:
    """Snakemake job id -> {rule, local, outputs} from a run's printed log."""
    jobs = {}
    for local, rule, body in JOB_BLOCK.findall(log):
        fields = dict(re.findall(r"^    (\w+): (.*)$", body, re.MULTILINE))
        outputs = [o.strip() for o in fields.get("output", "").split(",") if o.strip()]
        jobs[int(fields["jobid"])] = {"rule": rule, "local": bool(local), "outputs": outputs}
    return jobs


def run(workdir: Path, args: list[str], env: dict | None = None, timeout: int = TIMEOUT) -> str:
    """Run snakemake in its own process group (killed whole on timeout); its log on success."""
    log_path = workdir / f"snakemake-{time.monotonic_ns()}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            ["snakemake", *args], cwd=workdir, stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            pytest.fail(f"snakemake {' '.join(args)} ran over {timeout} s:\n{log_path.read_text()[-5000:]}")
    text = log_path.read_text()
    assert returncode == 0, f"snakemake {' '.join(args)} failed:\n{text[-5000:]}"
    return text


def copy_with_profile(destination: Path) -> Path:
    """A user's clone: the workflow with the `slurm` profile link at its root (copy_workflow copies the links)."""
    workdir = copy_workflow(destination)
    assert os.readlink(workdir / "slurm") == os.readlink(REPO / "slurm")
    return workdir


def test_slurm_entry_is_a_relative_link_to_the_profile():
    link = REPO / "slurm"
    assert link.is_symlink() and os.readlink(link) == "workflow/profiles/slurm"
    assert (link / "config.yaml").is_file()


def test_slurm_profile_leaves_cpus_to_threads():
    import yaml

    profile = yaml.safe_load((REPO / "workflow/profiles/slurm/config.yaml").read_text())
    assert profile["executor"] == "slurm"
    assert profile["slurm-status-command"] == "squeue"
    assert "cpus_per_task" not in profile["default-resources"]
    for rule, resources in profile["set-resources"].items():
        assert "cpus_per_task" not in resources, rule


# ---------------------------------------------------------------------------------------------------
# on a real SLURM cluster


@pytest.fixture(scope="module")
def slurm_cluster():
    """SLURM_CONF of a running single-node cluster; stopped afterwards if this fixture started it."""
    was_running = subprocess.run(
        ["bash", str(SCRIPT), "status"], capture_output=True, text=True, timeout=60
    ).returncode == 0
    started = subprocess.run(
        ["bash", str(SCRIPT), "start"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600
    )
    if started.returncode == 3:
        pytest.skip(f"no SLURM: {SCRIPT.name} could not install slurm/munge:\n{started.stderr[-2000:]}")
    assert started.returncode == 0, f"{SCRIPT.name} start failed:\n{started.stdout}\n{started.stderr}"
    yield str(SLURM_DIR / "slurm.conf")
    if not was_running:
        subprocess.run(["bash", str(SCRIPT), "stop"], capture_output=True, timeout=120)


def cpu_only_profile(workdir: Path) -> str:
    """The slurm profile as a user of a cluster without GPUs edits it: `train` on CPUs (gpu: 0, no
    cpus_per_gpu, the calibration's memory); the folder name of the edited copy."""
    profile = (workdir / "slurm" / "config.yaml").read_text()
    edited = profile.replace("    gpu: 1 ", "    gpu: 0 ").replace("    mem_mb: 32000 * attempt",
                                                                     "    mem_mb: 2000 * attempt")
    edited = "\n".join(line for line in edited.splitlines() if "cpus_per_gpu:" not in line)
    assert edited.count("gpu: 0") == 1 and "32000" not in edited, "the slurm profile's train entry changed"
    (workdir / "slurm_cpu").mkdir()
    (workdir / "slurm_cpu" / "config.yaml").write_text(edited + "\n")
    return "slurm_cpu"


@pytest.fixture(scope="module")
def slurm_run(slurm_cluster, tmp_path_factory) -> tuple[Path, str, float]:
    workdir = copy_with_profile(tmp_path_factory.mktemp("slurm"))
    env = {**os.environ, "SLURM_CONF": slurm_cluster}
    start = time.monotonic()
    log = run(workdir, ["--profile", cpu_only_profile(workdir), *CLUSTER_TARGETS], env=env)
    return workdir, log, time.monotonic() - start


@pytest.mark.slurm
def test_every_cluster_job_ran_through_slurm_and_local_rules_did_not(slurm_run, slurm_cluster):
    workdir, log, seconds = slurm_run
    jobs = jobs_of(log)
    submitted = {int(job): (int(slurm_id), Path(path)) for job, slurm_id, path in SUBMITTED.findall(log)}
    cluster_jobs = {job for job, info in jobs.items() if not info["local"]}
    local_rules = {info["rule"] for info in jobs.values() if info["local"]}
    assert {"synthesize_dataset", "build_cache", "build_attributes_cache", "calibrate", "train", "evaluate"} <= {
        jobs[job]["rule"] for job in cluster_jobs
    }
    assert {"water_balance", "all"} & local_rules == {"water_balance"}  # targets given: no `all`
    assert set(submitted) == cluster_jobs, "cluster jobs and SLURM submissions differ"

    # one log per SLURM job under the profile's log folder, named by the SLURM job id
    logs = sorted((workdir / SLURM_LOGS).rglob("*.log"))
    assert sorted(path for _, path in submitted.values()) == logs
    for slurm_id, path in submitted.values():
        assert path.name == f"{slurm_id}.log" and path.stat().st_size > 0
        state = subprocess.run(
            ["scontrol", "show", "job", str(slurm_id)], capture_output=True, text=True,
            env={**os.environ, "SLURM_CONF": slurm_cluster}, timeout=30,
        ).stdout
        assert "JobState=COMPLETED" in state, state
    for rule in local_rules:
        assert not (workdir / SLURM_LOGS / f"rule_{rule}").exists(), f"local rule {rule} went through SLURM"
    print(f"SLURM run of {len(submitted)} cluster jobs took {seconds:.0f} s")


@pytest.mark.slurm
def test_slurm_results_equal_local_results(slurm_run, default_run):
    """The cluster's files equal those of the suite's local default run (the same configuration, so the
    same fingerprints: building only the cluster targets locally would redo work the suite does anyway)."""
    workdir, local_run = slurm_run[0], default_run
    for dataset in (*CACHES, *RUN_OUTPUTS[::2]):
        with xr.open_dataset(workdir / dataset) as on_slurm, xr.open_dataset(local_run / dataset) as local:
            # caches name their absolute source folder: equal values, coordinates and run attributes
            xr.testing.assert_equal(on_slurm.load(), local.load())
            assert {k: v for k, v in on_slurm.attrs.items() if k != "source"} == {
                k: v for k, v in local.attrs.items() if k != "source"}, dataset
    for table in (TABLE, *RUN_OUTPUTS[1::2]):
        assert filecmp.cmp(workdir / table, local_run / table, shallow=False), table


# ---------------------------------------------------------------------------------------------------
# resuming an interrupted local run


def test_killed_run_resumes_without_redoing_finished_jobs(tmp_path):
    workdir = copy_workflow(tmp_path / "resume")
    log_path = workdir / "killed.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            ["snakemake", "--cores", "2", *TARGETS], cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + TIMEOUT
        # kill the whole process group (snakemake and its jobs) once the first forcing cache is done
        while not re.search(r"Finished jobid: \d+ \(Rule: build_cache\)", log_path.read_text()):
            assert process.poll() is None, f"run ended before a cache was built:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, "no cache built in time"
            time.sleep(0.1)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    first = log_path.read_text()
    first_jobs = jobs_of(first)
    finished = {int(job) for job, _ in FINISHED.findall(first)}
    done = [Path(out) for job in finished for out in first_jobs[job]["outputs"]]
    assert {first_jobs[job]["rule"] for job in finished} >= {"synthesize_dataset", "build_cache"}
    mtimes = {path: (workdir / path).stat().st_mtime_ns for path in done}

    # a killed snakemake leaves its lock behind: remove it, then resume (rerun-incomplete in the profile)
    run(workdir, ["--unlock", "--cores", "1", *TARGETS])
    second = run(workdir, ["--profile", "workflow/profiles/local", "--cores", "2", *TARGETS])
    redone = {out for info in jobs_of(second).values() for out in info["outputs"]}
    assert redone, "nothing was left to do after the kill: the test killed too late"
    assert not redone & {str(path) for path in done}, f"finished jobs were redone: {redone}"
    assert {path: (workdir / path).stat().st_mtime_ns for path in done} == mtimes
    for path in (*CACHES, TABLE):
        assert (workdir / path).is_file()
    assert "Nothing to be done" in run(workdir, ["--cores", "1", "-n", *TARGETS])


# ---------------------------------------------------------------------------------------------------
# bad SLURM settings fail at the start with a message saying what to change

# (the check: check_slurm_settings in workflow/rules/common.smk -> runoffbench.slurm_check; its logic
# on canned scontrol/sinfo outputs is unit-tested in tests/test_slurm_check.py)


def failing_run(workdir: Path, args: list[str], env: dict) -> str:
    result = subprocess.run(
        ["snakemake", *args], cwd=workdir, capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode != 0, "the run was expected to fail"
    return result.stdout + result.stderr


@pytest.mark.slurm
def test_profile_without_squeue_status_fails_early_on_a_cluster_without_accounting(slurm_cluster, tmp_path):
    workdir = copy_with_profile(tmp_path / "no_status")
    profile = (workdir / "slurm" / "config.yaml").read_text()
    (workdir / "nostatus").mkdir()
    (workdir / "nostatus" / "config.yaml").write_text(
        "\n".join(line for line in profile.splitlines() if not line.startswith("slurm-status-command"))
    )
    output = failing_run(workdir, ["--profile", "nostatus", str(CACHES[0])],
                         {**os.environ, "SLURM_CONF": slurm_cluster})
    assert "slurm-status-command: squeue" in output and "no accounting database" in output
    assert "submitted with SLURM jobid" not in output


@pytest.mark.slurm
def test_gpu_rule_on_a_cluster_without_gpus_fails_early(slurm_cluster, tmp_path):
    workdir = copy_with_profile(tmp_path / "no_gpu")
    target = "results/default/runs/lstm/daymet/kratzert2019/0/predictions.nc"
    output = failing_run(workdir, ["--profile", "slurm", target], {**os.environ, "SLURM_CONF": slurm_cluster})
    assert "train request a GPU" in output and "no node of this cluster offers one" in output
    assert "set-resources: train: in workflow/profiles/slurm/config.yaml" in output and "`gpu: 0`" in output
    assert "submitted with SLURM jobid" not in output
