"""The early SLURM settings check (runoffbench.slurm_check) on canned `scontrol show config` and
`sinfo -h -o '%P|%G'` outputs. The same check on a real cluster: tests/test_slurm.py."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from runoffbench import slurm_check
from runoffbench.slurm_check import (
    ClusterConfig,
    Gres,
    Partitions,
    effective_status_command,
    gpu_problems,
    gpu_request,
    parse_seconds,
    partition_problems,
    status_problems,
)

# abridged from this repository's test cluster (scripts/slurm_cluster.sh, SLURM 22.05)
SCONTROL_NO_ACCOUNTING = """\
Configuration data as of 2026-11-22T07:24:44
AccountingStorageBackupHost = (null)
AccountingStorageEnforce = none
AccountingStorageHost   = localhost
AccountingStorageTRES   = cpu,mem,energy,node,billing,fs/disk,vmem,pages
AccountingStorageType   = accounting_storage/none
AuthInfo                = socket=/tmp/runoffbench-slurm/munge/munge.socket
BOOT_TIME               = 2026-11-22T07:22:34
ClusterName             = runoffbench
MinJobAge               = 3600 sec
SLURM_VERSION           = 22.05.8
"""
# a production-like cluster: slurmdbd and the default MinJobAge
SCONTROL_SLURMDBD = """\
AccountingStorageEnforce = associations,limits,qos
AccountingStorageType   = accounting_storage/slurmdbd
MinJobAge               = 300 sec
"""
SINFO_NO_GPU = "main*|(null)\n"
SINFO_GPU_PARTITION = "cpu*|(null)\ngpu|gpu:a100:4(S:0-1)\ngpu|gpu:v100:2(S:0,1),shard:8\n"

PROFILE = "workflow/profiles/slurm/config.yaml"


def cluster(text: str) -> ClusterConfig:
    return ClusterConfig.from_scontrol(text)


# ---------------------------------------------------------------------------------------------------
# parsing


@pytest.mark.parametrize(
    "value, seconds",
    [("300 sec", 300), ("3600", 3600), ("1h", 3600), ("2 min", 120), ("00:05:00", 300), ("05:00", 300),
     ("1-00:00:00", 86400), ("0 sec", 0), ("(null)", None), (None, None)],
)
def test_parse_seconds(value, seconds):
    assert parse_seconds(value) == seconds


def test_cluster_config_from_scontrol():
    no_db = cluster(SCONTROL_NO_ACCOUNTING)
    assert no_db == ClusterConfig("accounting_storage/none", 3600) and not no_db.has_accounting
    with_db = cluster(SCONTROL_SLURMDBD)
    assert with_db.min_job_age == 300 and with_db.has_accounting
    assert cluster("garbage\n") == ClusterConfig("", None)


def test_partitions_from_sinfo():
    none = Partitions.from_sinfo(SINFO_NO_GPU)
    assert none.default == "main" and none.gres == {"main": []} and none.gpus(None) == []
    gpu = Partitions.from_sinfo(SINFO_GPU_PARTITION)
    assert gpu.default == "cpu" and set(gpu.gres) == {"cpu", "gpu"}
    assert gpu.gres["gpu"] == [Gres("gpu", "a100", 4), Gres("gpu", "v100", 2), Gres("shard", None, 8)]
    assert [str(g) for g in gpu.gpus("gpu")] == ["gpu:a100:4", "gpu:v100:2"]
    assert gpu.gpus(None) == [] and gpu.gpus("nonexistent") == []


@pytest.mark.parametrize(
    "resources, expected",
    [({"gpu": 1}, ("gpu=1", None, ())),
     ({"gpu": 0}, None),
     ({}, None),
     ({"gpu": 2, "gpu_model": "a100", "slurm_partition": "gpu"}, ("gpu_model=a100, gpu=2", "a100", ("gpu",))),
     ({"gres": "gpu:v100:1", "slurm_partition": "gpu,gpu2"}, ("gres=gpu:v100:1", "v100", ("gpu", "gpu2"))),
     ({"gres": "gpu:1"}, ("gres=gpu:1", None, ())),
     ({"gres": "tmpdisk:100"}, None)],
)
def test_gpu_request(resources, expected):
    found = gpu_request("train", resources)
    assert (found and (found.request, found.model, found.partitions)) == expected


# ---------------------------------------------------------------------------------------------------
# status command


def test_profile_settings_pass_on_the_test_cluster():
    """squeue with MinJobAge=3600 s and the first check after 1 s: what workflow/profiles/slurm sets."""
    assert effective_status_command("squeue", 1, cluster(SCONTROL_NO_ACCOUNTING), True) == "squeue"
    assert status_problems("squeue", 1, cluster(SCONTROL_NO_ACCOUNTING), True, PROFILE) == []


def test_sacct_without_accounting_database_is_refused_with_the_fix():
    # `slurm-status-command` missing from the profile: the plugin's default is sacct where it is installed
    for configured in (None, "sacct"):
        (message,) = status_problems(configured, 40, cluster(SCONTROL_NO_ACCOUNTING), True, PROFILE)
        assert "no accounting database (AccountingStorageType=accounting_storage/none)" in message
        assert f"`slurm-status-command: squeue` to the profile ({PROFILE})" in message
        assert "MinJobAge=3600 s, which is enough" in message


def test_squeue_falls_back_to_sacct_when_min_job_age_is_short():
    short = ClusterConfig("accounting_storage/none", 100)
    assert effective_status_command("squeue", 40, short, True) == "sacct"  # 100 < 3 x 40: plugin's fallback
    (message,) = status_problems("squeue", 40, short, True, PROFILE)
    assert "falls back to sacct" in message and "administrators for MinJobAge >= 240 s" in message
    # long enough for squeue, but the first status check comes too late for the plugin to keep squeue
    (message,) = status_problems("squeue", 300, ClusterConfig("accounting_storage/none", 600), True, PROFILE)
    assert f"In {PROFILE} set `slurm-init-seconds-before-status-checks` to at most 200" in message
    # without sacct installed the plugin keeps squeue, which then misses jobs finishing between checks
    (message,) = status_problems("squeue", 40, short, False, PROFILE)
    assert "MinJobAge=100 s" in message and "MinJobAge >= 240 s" in message


def test_accounting_database_makes_sacct_fine_and_rescues_a_short_min_job_age():
    db = cluster(SCONTROL_SLURMDBD)
    assert status_problems(None, 40, db, True) == []
    assert status_problems("sacct", 40, db, True) == []
    assert status_problems("squeue", 40, ClusterConfig("accounting_storage/slurmdbd", 60), True) == []


def test_min_job_age_zero_and_unknown_age():
    # 0 keeps finished jobs forever; squeue works where the plugin keeps it (no sacct to fall back to),
    # but plugin 2.8.0 reads 0 as "shorter than 3 x init" and falls back to sacct where sacct exists
    forever = ClusterConfig("accounting_storage/none", 0)
    assert status_problems("squeue", 40, forever, False) == []
    assert "falls back to sacct" in status_problems("squeue", 40, forever, True)[0]
    # an unreadable MinJobAge is not guessed at when the plugin keeps squeue
    assert status_problems("squeue", 1, ClusterConfig("accounting_storage/none", None), False) == []


# ---------------------------------------------------------------------------------------------------
# partitions and GPUs


def test_gpu_rule_on_a_cluster_without_gpus_names_the_rule_and_the_fix():
    requests = [gpu_request("train", {"gpu": 1}), gpu_request("finetune", {"gres": "gpu:1"})]
    (message,) = gpu_problems(requests, Partitions.from_sinfo(SINFO_NO_GPU), PROFILE)
    assert message.startswith("Jobs of rules finetune, train request a GPU (finetune: gres=gpu:1; train: gpu=1)")
    assert "no node of this cluster offers one" in message
    assert f"Edit set-resources: <rule>: (for each of finetune, train) in {PROFILE}" in message
    assert "`gpu: 0`" in message


def test_gpu_rule_on_the_cpu_default_partition_is_pointed_to_the_gpu_partition():
    partitions = Partitions.from_sinfo(SINFO_GPU_PARTITION)
    (message,) = gpu_problems([gpu_request("train", {"gpu": 1})], partitions, PROFILE)
    assert "no node of this cluster's default partition (cpu) offers one" in message
    assert f"Edit set-resources: train: in {PROFILE}: name a partition with GPUs (gpu) as slurm_partition" in message
    assert gpu_problems([gpu_request("train", {"gpu": 1, "slurm_partition": "gpu"})], partitions) == []


def test_gpu_model_must_be_offered_by_the_partition():
    partitions = Partitions.from_sinfo(SINFO_GPU_PARTITION)
    ok = gpu_request("train", {"gpu": 1, "gpu_model": "a100", "slurm_partition": "gpu"})
    assert gpu_problems([ok], partitions) == []
    wrong = gpu_request("train", {"gres": "gpu:h100:1", "slurm_partition": "gpu"})
    (message,) = gpu_problems([wrong], partitions, PROFILE)
    assert "request GPU model h100 (train: gres=gpu:h100:1)" in message
    assert "the GPUs of partition gpu are gpu:a100:4, gpu:v100:2" in message


def test_unknown_partition_is_named_with_the_existing_ones():
    partitions = Partitions.from_sinfo(SINFO_GPU_PARTITION)
    (message,) = partition_problems({"train": ["gpu"], "calibrate": ["batch", "cpu"]}, partitions, PROFILE)
    assert message.startswith("Rule calibrate asks for partition batch (slurm_partition)")
    assert "its partitions (sinfo) are cpu, gpu" in message and "default partition (cpu)" in message
    # an unknown partition is reported once, not again as a partition without GPUs
    assert gpu_problems([gpu_request("train", {"gpu": 1, "slurm_partition": "batch"})], partitions) == []


# ---------------------------------------------------------------------------------------------------
# from Snakemake's workflow object


def fake_workflow(jobs, status_command="squeue", init_seconds=1):
    settings = SimpleNamespace(status_command=status_command, init_seconds_before_status_checks=init_seconds)
    return SimpleNamespace(executor_settings=settings, dag=SimpleNamespace(needrun_jobs=lambda: iter(jobs)))


def job(rule, resources, local=False):
    return SimpleNamespace(rule=SimpleNamespace(name=rule), resources=resources, is_local=local)


def test_problems_of_workflow_reads_cluster_jobs_only(monkeypatch):
    monkeypatch.setattr(slurm_check, "profile_path", lambda: PROFILE)
    jobs = [job("build_cache", {"mem_mb": 4000}), job("train", {"gpu": 1}), job("train", {"gpu": 1}),
            job("evaluation_figure", {"gpu": 1}, local=True)]
    problems = slurm_check.problems_of_workflow(fake_workflow(jobs), SCONTROL_NO_ACCOUNTING, SINFO_NO_GPU, True)
    assert len(problems) == 1 and problems[0].startswith("Jobs of rule train request a GPU (train: gpu=1)")
    jobs = [job("calibrate", {"slurm_partition": "long"})]
    (status, partition) = slurm_check.problems_of_workflow(
        fake_workflow(jobs, status_command="sacct"), SCONTROL_NO_ACCOUNTING, SINFO_NO_GPU, True
    )
    assert "slurm-status-command: squeue" in status and partition.startswith("Rule calibrate asks for partition long")


def test_check_workflow_raises_one_workflow_error(monkeypatch):
    from snakemake.exceptions import WorkflowError

    outputs = {"scontrol": SCONTROL_NO_ACCOUNTING, "sinfo": SINFO_NO_GPU}
    monkeypatch.setattr(slurm_check, "run_command", lambda args: outputs[args[0]])
    slurm_check.check_workflow(fake_workflow([job("build_cache", {})]))  # nothing to complain about
    with pytest.raises(WorkflowError, match="nothing was submitted") as error:
        slurm_check.check_workflow(fake_workflow([job("train", {"gpu": 1})]))
    assert "train request a GPU" in str(error.value)


def test_missing_slurm_commands_are_an_actionable_error(monkeypatch):
    from snakemake.exceptions import WorkflowError

    with pytest.raises(WorkflowError, match="SLURM client commands"):
        slurm_check.run_command(["runoffbench-no-such-scontrol", "show", "config"])


def test_profile_path_from_the_command_line(tmp_path, monkeypatch):
    (tmp_path / "workflow/profiles/slurm").mkdir(parents=True)
    (tmp_path / "slurm").symlink_to("workflow/profiles/slurm")
    monkeypatch.chdir(tmp_path)
    assert slurm_check.profile_path(["snakemake", "--profile", "slurm", "all"]) == PROFILE
    assert slurm_check.profile_path(["snakemake", "--profile=workflow/profiles/slurm"]) == PROFILE
    assert slurm_check.profile_path(["snakemake", "--profile", "elsewhere"]) == "the profile elsewhere"
    assert slurm_check.profile_path(["snakemake", "--executor", "slurm"]) == PROFILE
