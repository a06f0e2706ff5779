"""Check a SLURM run's settings against the cluster before the first job is submitted.

Called from the ``onstart`` handler of ``workflow/rules/common.smk`` when Snakemake runs with
``--executor slurm`` (``--profile slurm``). Each problem found becomes one paragraph of a
WorkflowError that says what is wrong and what to change, instead of a run that waits forever or
jobs that stay pending:

* **status command**: without an accounting database (``AccountingStorageType=
  accounting_storage/none``) ``sacct`` never reports a job as finished, so the SLURM plugin must use
  ``squeue``; and ``squeue`` only sees finished jobs for ``MinJobAge`` seconds, which must outlast the
  plugin's pauses between status checks (it also falls back to ``sacct`` when ``MinJobAge`` <
  3 x ``slurm-init-seconds-before-status-checks``).
* **partitions**: a ``slurm_partition`` that ``sinfo`` does not list.
* **GPUs**: a rule requesting a GPU (``gpu``, ``gpu_model`` or a ``gres`` of ``gpu``) where no node
  of its partition (``sinfo -o %G``) offers one, or none of the requested model.

The parsing and the checks are pure functions of the commands' text (unit-tested on canned outputs);
only :func:`check_workflow` runs ``scontrol``/``sinfo`` and reads Snakemake's workflow object.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

#: the SLURM plugin backs off to one status check every 180 s at most; a finished job must stay
#: visible to squeue longer than that (plus a margin for the query itself)
MAX_STATUS_INTERVAL = 180
SQUEUE_MARGIN = 60
DEFAULT_PROFILE = "workflow/profiles/slurm/config.yaml"

_UNITS = {"": 1, "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1, "m": 60, "min": 60, "mins": 60,
          "minute": 60, "minutes": 60, "h": 3600, "hour": 3600, "hours": 3600, "d": 86400, "day": 86400,
          "days": 86400}


# ---------------------------------------------------------------------------------------------------
# parsing the commands' output


def parse_scontrol_config(text: str) -> dict[str, str]:
    """``scontrol show config`` as {key: value} (the ``Key = value`` lines; others are ignored)."""
    settings = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and " " not in key.strip():
            settings.setdefault(key.strip(), value.strip())
    return settings


def parse_seconds(value: str | None) -> int | None:
    """'300 sec', '1h', '3600', '00:05:00' or '1-00:00:00' in seconds; None when unreadable."""
    if value is None:
        return None
    value = value.strip()
    match = re.fullmatch(r"(\d+)\s*([a-zA-Z]*)", value)
    if match and match.group(2).lower() in _UNITS:
        return int(match.group(1)) * _UNITS[match.group(2).lower()]
    match = re.fullmatch(r"(?:(\d+)-)?(\d+):(\d+)(?::(\d+))?", value)
    if match:
        days, first, second, third = match.groups()
        hours, minutes, seconds = (first, second, third) if third is not None else (0, first, second)
        return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds)
    return None


@dataclass(frozen=True)
class ClusterConfig:
    """What the checks need from ``scontrol show config``."""

    accounting_type: str  # e.g. accounting_storage/slurmdbd, accounting_storage/none
    min_job_age: int | None  # seconds a finished job stays visible to squeue; 0: forever

    @property
    def has_accounting(self) -> bool:
        return self.accounting_type not in ("", "accounting_storage/none", "(null)")

    @classmethod
    def from_scontrol(cls, text: str) -> ClusterConfig:
        settings = parse_scontrol_config(text)
        return cls(
            accounting_type=settings.get("AccountingStorageType", ""),
            min_job_age=parse_seconds(settings.get("MinJobAge")),
        )


@dataclass(frozen=True)
class Gres:
    """One generic resource of a node, e.g. ``gpu:a100:4(S:0-1)`` -> name gpu, type a100, count 4."""

    name: str
    type: str | None = None
    count: int = 1

    @classmethod
    def parse(cls, text: str) -> Gres:
        parts = re.sub(r"\(.*\)$", "", text.strip()).split(":")
        name, rest = parts[0], parts[1:]
        count = int(rest.pop()) if rest and rest[-1].isdigit() else 1
        return cls(name=name, type=rest[0] if rest else None, count=count)

    def __str__(self) -> str:
        return ":".join([self.name, *([self.type] if self.type else []), str(self.count)])


@dataclass
class Partitions:
    """Partitions from ``sinfo -h -o '%P|%G'``: their nodes' generic resources, and the default one."""

    gres: dict[str, list[Gres]] = field(default_factory=dict)
    default: str | None = None

    @classmethod
    def from_sinfo(cls, text: str) -> Partitions:
        partitions = cls()
        for line in text.splitlines():
            if not line.strip():
                continue
            name, _, gres = line.strip().partition("|")
            if name.endswith("*"):
                name = name[:-1]
                partitions.default = name
            found = partitions.gres.setdefault(name, [])
            for item in re.split(r",(?![^(]*\))", gres):  # commas outside "(S:0,1)"
                if item.strip() and item.strip() != "(null)":
                    found.append(Gres.parse(item))
        return partitions

    def gpus(self, partition: str | None) -> list[Gres]:
        """GPU resources of a partition (of every partition when None and there is no default)."""
        if partition is None:
            names = [self.default] if self.default else list(self.gres)
        else:
            names = [partition]
        return [g for name in names for g in self.gres.get(name, []) if g.name == "gpu"]


# ---------------------------------------------------------------------------------------------------
# what jobs request


@dataclass(frozen=True)
class GpuRequest:
    rule: str
    request: str  # as written, e.g. "gpu=1", "gpu_model=a100", "gres=gpu:a100:1"
    model: str | None
    partitions: tuple[str, ...]  # from slurm_partition; () = the cluster's default partition


def gpu_request(rule: str, resources: Mapping) -> GpuRequest | None:
    """The GPU a job asks the SLURM plugin for (as its resources read), or None."""
    partitions = tuple(requested_partitions(resources))
    gres = str(resources.get("gres") or "")
    if gres:
        items = [Gres.parse(item) for item in gres.split(",") if item.strip()]
        gpus = [g for g in items if g.name == "gpu"]
        if gpus:
            return GpuRequest(rule, f"gres={gres}", gpus[0].type, partitions)
        return None
    model = resources.get("gpu_model")
    count = resources.get("gpu")
    if model:
        return GpuRequest(rule, f"gpu_model={model}" + (f", gpu={count}" if count else ""), str(model), partitions)
    if count and str(count) not in ("0", "0.0"):
        return GpuRequest(rule, f"gpu={count}", None, partitions)
    return None


def requested_partitions(resources: Mapping) -> list[str]:
    """The partitions a job names in slurm_partition (comma-separated); [] for the default one."""
    return [p.strip() for p in str(resources.get("slurm_partition") or "").split(",") if p.strip()]


# ---------------------------------------------------------------------------------------------------
# the checks (each returns a list of messages)


def effective_status_command(configured: str | None, init_seconds: int, cluster: ClusterConfig,
                             sacct_available: bool) -> str:
    """The command the SLURM plugin (2.x) will really use for status checks."""
    command = configured or ("sacct" if sacct_available else "squeue")
    age = cluster.min_job_age
    if command == "squeue" and (age is None or age < 3 * init_seconds) and sacct_available:
        command = "sacct"  # the plugin's own fallback when MinJobAge is short
    if command == "sacct" and not sacct_available:
        command = "squeue"
    return command


def status_problems(configured: str | None, init_seconds: int, cluster: ClusterConfig, sacct_available: bool,
                    profile: str = DEFAULT_PROFILE) -> list[str]:
    """Can the run see its jobs finish? Messages for settings under which it would wait forever."""
    command = effective_status_command(configured, init_seconds, cluster, sacct_available)
    age = cluster.min_job_age
    needed = max(3 * init_seconds, MAX_STATUS_INTERVAL + SQUEUE_MARGIN)
    problems = []
    if command == "sacct" and not cluster.has_accounting:
        if configured == "squeue":
            if age is not None and age >= MAX_STATUS_INTERVAL + SQUEUE_MARGIN:
                fix = f"In {profile} set `slurm-init-seconds-before-status-checks` to at most {age // 3}."
            else:
                fix = (f"Ask the cluster's administrators for MinJobAge >= {needed} s: squeue must see finished "
                       f"jobs for longer than the plugin's longest pause between status checks "
                       f"({MAX_STATUS_INTERVAL} s).")
            problems.append(
                f"`slurm-status-command: squeue` is set, but MinJobAge={age} s (scontrol show config) is below "
                f"3 x slurm-init-seconds-before-status-checks ({init_seconds} s), so the SLURM plugin falls "
                f"back to sacct, and this cluster has no accounting database (AccountingStorageType="
                f"{cluster.accounting_type or 'unset'}): sacct never reports a job as finished and the run "
                f"would wait forever. {fix}"
            )
        else:
            problems.append(
                "This cluster has no accounting database (AccountingStorageType="
                f"{cluster.accounting_type or 'unset'}), so sacct, the SLURM plugin's status command in this "
                "run, never reports a job as finished and the run would wait forever. Add "
                f"`slurm-status-command: squeue` to the profile ({profile}) or pass "
                "`--slurm-status-command squeue`"
                + (f"; squeue sees finished jobs for MinJobAge={age} s, which is enough." if age is not None
                   and age >= needed else
                   f", and ask the cluster's administrators for MinJobAge >= {needed} s (it is {age} s)." if age
                   is not None else ".")
            )
    elif command == "squeue" and age is not None and 0 < age < needed:
        problems.append(
            f"Status checks use squeue, which sees a finished job only for MinJobAge={age} s "
            f"(scontrol show config), less than the {needed} s the SLURM plugin may wait between status "
            "checks: jobs finishing in between are never seen finished and the run waits forever. Ask the "
            f"cluster's administrators for MinJobAge >= {needed} s"
            + (", or use sacct (`slurm-status-command: sacct` in the profile), which this cluster's accounting "
               "database supports." if cluster.has_accounting and sacct_available else ".")
        )
    return problems


def partition_problems(requests: Mapping[str, Iterable[str]], partitions: Partitions,
                       profile: str = DEFAULT_PROFILE) -> list[str]:
    """Rules whose slurm_partition the cluster does not have. ``requests``: {rule: partitions}."""
    problems = []
    known = sorted(partitions.gres)
    for rule, names in sorted(requests.items()):
        unknown = [name for name in names if name not in partitions.gres]
        if unknown:
            problems.append(
                f"Rule {rule} asks for partition {', '.join(unknown)} (slurm_partition), which this cluster does "
                f"not have; its partitions (sinfo) are {', '.join(known) or 'none'}. Set slurm_partition under "
                f"set-resources: {rule}: (or default-resources) in {profile} to one of them, or remove it to use "
                f"the default partition{f' ({partitions.default})' if partitions.default else ''}."
            )
    return problems


def gpu_problems(requests: Iterable[GpuRequest], partitions: Partitions,
                 profile: str = DEFAULT_PROFILE) -> list[str]:
    """Rules requesting a GPU (of a model) that no node of their partition offers."""
    # group rules with the same problem into one message
    missing: dict[tuple, list[GpuRequest]] = {}
    for request in requests:
        for partition in request.partitions or (None,):
            if partition is not None and partition not in partitions.gres:
                continue  # reported by partition_problems
            offered = partitions.gpus(partition)
            if not offered:
                missing.setdefault(("none", partition), []).append(request)
            elif request.model and request.model not in {g.type for g in offered}:
                missing.setdefault(("model", partition, request.model), []).append(request)
    problems = []
    for key, found in missing.items():
        rules = sorted({r.rule for r in found})
        partition = key[1]
        where = f"partition {partition}" if partition else (
            f"this cluster's default partition ({partitions.default})"
            if partitions.default and len(partitions.gres) > 1 else "this cluster")
        jobs = f"Jobs of rule{'s' if len(rules) > 1 else ''} {', '.join(rules)}"
        requested = "; ".join(sorted({f"{r.rule}: {r.request}" for r in found}))
        other_gpus = sorted(name for name in partitions.gres if partitions.gpus(name) and name != partition)
        if key[0] == "none":
            message = (
                f"{jobs} request a GPU ({requested}), but no node of {where} offers one "
                f"(`sinfo -o %G` lists no gres/gpu). "
            )
        else:
            offered = sorted({str(g) for g in partitions.gpus(partition)})
            message = (
                f"{jobs} request GPU model {key[2]} ({requested}), but the GPUs of {where} are "
                f"{', '.join(offered)} (`sinfo -o %G`): set gpu_model (or the type in gres) to one of these. "
            )
        where_to_edit = f"set-resources: {rules[0]}:" if len(rules) == 1 else \
            f"set-resources: <rule>: (for each of {', '.join(rules)})"
        fix = f"Edit {where_to_edit} in {profile}: "
        if other_gpus:
            fix += f"name a partition with GPUs ({', '.join(other_gpus)}) as slurm_partition, or "
        fix += ("to run on CPUs set `gpu: 0` and remove gpu_model/gres there (the jobs then ask for "
                "their threads only).")
        problems.append(message + fix)
    return problems


# ---------------------------------------------------------------------------------------------------
# running the commands and reading the workflow


def run_command(args: list[str]) -> str:
    from snakemake.exceptions import WorkflowError

    try:
        result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise WorkflowError(
            f"`{args[0]}` is not installed here: Snakemake submits SLURM jobs from the machine it runs on "
            "(a login node), which needs the SLURM client commands (sbatch, squeue, sinfo, scontrol) on PATH."
        ) from None
    except subprocess.TimeoutExpired:
        raise WorkflowError(f"`{' '.join(args)}` did not answer within 60 s: is the SLURM controller up?") from None
    if result.returncode != 0:
        raise WorkflowError(
            f"`{' '.join(args)}` failed ({result.stderr.strip() or result.returncode}): is the SLURM "
            "controller up, and SLURM_CONF set where the configuration is not in /etc/slurm?"
        )
    return result.stdout


def profile_path(argv: list[str] | None = None) -> str:
    """The profile file of this run (from --profile), for messages."""
    argv = sys.argv if argv is None else argv
    for i, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if arg.startswith("--profile=") else (
            argv[i + 1] if arg == "--profile" and i + 1 < len(argv) else None)
        if value:
            if not Path(value).is_dir():
                return f"the profile {value}"
            path = (Path(value) / "config.yaml").resolve()  # ./slurm is a link to workflow/profiles/slurm
            cwd = Path.cwd().resolve()
            return str(path.relative_to(cwd)) if path.is_relative_to(cwd) else str(path)
    return DEFAULT_PROFILE


def problems_of_workflow(workflow, scontrol: str, sinfo: str, sacct_available: bool) -> list[str]:
    """Every problem of the run's settings and the jobs it is about to submit."""
    settings = workflow.executor_settings
    profile = profile_path()
    cluster = ClusterConfig.from_scontrol(scontrol)
    partitions = Partitions.from_sinfo(sinfo)
    problems = status_problems(
        getattr(settings, "status_command", None),
        getattr(settings, "init_seconds_before_status_checks", None) or 40,
        cluster, sacct_available, profile,
    )
    gpus, asked = [], {}
    seen = set()
    for job in workflow.dag.needrun_jobs():
        if job.is_local or job.rule.name in seen:
            continue
        seen.add(job.rule.name)
        try:
            resources = job.resources
        except Exception:  # e.g. a resource computed from inputs that do not exist yet: Snakemake reports it
            continue
        if requested_partitions(resources):
            asked[job.rule.name] = requested_partitions(resources)
        request = gpu_request(job.rule.name, resources)
        if request:
            gpus.append(request)
    problems += partition_problems(asked, partitions, profile)
    problems += gpu_problems(gpus, partitions, profile)
    return problems


def check_workflow(workflow) -> None:
    """Raise a WorkflowError listing every problem of this SLURM run (see the module docstring)."""
    from snakemake.exceptions import WorkflowError

    scontrol = run_command(["scontrol", "show", "config"])
    sinfo = run_command(["sinfo", "-h", "-o", "%P|%G"])
    problems = problems_of_workflow(workflow, scontrol, sinfo, shutil.which("sacct") is not None)
    if problems:
        raise WorkflowError(
            "The SLURM settings of this run do not fit the cluster; nothing was submitted.\n\n"
            + "\n\n".join(f"* {p}" for p in problems)
        )
