"""The SpotPy setup of one basin: parameters, model run, observations and objective.

SpotPy drives an optimiser through four methods of a setup object: ``parameters()`` (one
:class:`spotpy.parameter.Uniform` per model parameter, from the resolved bounds), ``simulation(x)``
(one model run), ``evaluation()`` (the observations) and ``objectivefunction(simulation,
evaluation)``. The model runs over the whole simulation window, spin-up included; ``simulation``
returns only the observed days of the calibration period, so spin-up days and observation gaps never
enter the objective.

SpotPy's SCE-UA minimises and its DDS maximises the value it is given, whatever the objective means
(/work/shared/NOTES.md). The setup therefore hands SpotPy ``sign · objective`` with ``sign`` chosen
from the algorithm and the objective's own direction, and itself keeps every objective value (in
natural units, in evaluation order) and the best parameter vector so far, judged by the objective's
own direction — so the best set never depends on how an algorithm orders or stores its runs.

Evaluations are model runs. SpotPy's SCE-UA counts every call of ``objectivefunction`` towards its
``repetitions``, and after each complex evolution it scores the complex's stored simulations again
(no new run): with 6 parameters a SpotPy budget of 10,000 is only ~6,300 model runs. The setup
therefore counts runs itself: only the first scoring of a new simulation enters :attr:`values`, and
with a ``budget`` it stops the sampler (``status.stop``) at that many runs, after which it answers
further requests with a NaN series (worst objective) instead of running the model, so that a run
never exceeds the budget (the calibration hands SpotPy a larger ``repetitions``). Trials of one
basin share the setup, one sampler each: the budget is then the runs so far plus one trial's
(:meth:`SpotpySetup.start_trial`), and values and the best set accumulate over the trials.

The parameters' bounds are handed to SpotPy explicitly (:func:`uniform_parameter`), so that
nothing depends on numpy's global generator before SpotPy seeds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import spotpy

from runoffbench.calibration.objectives import get_objective
from runoffbench.models.conceptual import ConceptualModel

#: whether each SpotPy algorithm maximises the value returned by ``objectivefunction``
ALGORITHM_MAXIMISES = {"sceua": False, "dds": True}


def uniform_parameter(name: str, low: float, high: float) -> spotpy.parameter.Uniform:
    """SpotPy's uniform parameter on ``[low, high]`` with its bounds given, not estimated.

    Without ``minbound``/``maxbound`` (and ``optguess``/``step``) SpotPy estimates them from 100,000
    draws of numpy's *global* generator when the parameter is made, rounded to 3 significant
    digits. A setup is made before SpotPy seeds that generator with ``random_state``, so a bound
    at 0 became a random value near 1e-5 of the range (EXP-HYDRO's ``f``, ``df``, ``tmax``,
    ``tmin``; SAC-SMA's ``rexp``, ``pfree``, ``pctim``, ``adimp``) that depended on whatever had
    used the generator before: DDS draws its start points and moves inside these bounds, SCE-UA
    checks its points against them, and the first calibration in a fresh process (generator
    seeded from OS entropy) gave a different optimum from the later ones.
    """
    low, high = float(low), float(high)
    return spotpy.parameter.Uniform(name, low, high, minbound=low, maxbound=high,
                                    optguess=0.5 * (low + high), step=0.1 * (high - low))


class SpotpySetup:
    """SpotPy setup of ``model`` on one basin.

    Args:
        model: the registered model.
        inputs: the model's prepared inputs over the simulation window (``model.prepare``).
        observed: indices into the simulation window of the days that enter the objective.
        qobs: observed streamflow on those days [mm/day].
        bounds: ``param -> (lo, hi)`` for every model parameter.
        objective: ``rmse``, ``nse`` or ``kge``.
        algorithm: ``sceua`` or ``dds`` (decides the sign handed to SpotPy).
        budget: most model runs; ``None`` for no limit. Stopping needs :attr:`sampler` set to the
            SpotPy sampler.
    """

    def __init__(
        self,
        model: ConceptualModel,
        inputs: Mapping[str, Any],
        observed: np.ndarray,
        qobs: np.ndarray,
        bounds: Mapping[str, tuple[float, float]],
        objective: str,
        algorithm: str,
        budget: int | None = None,
    ) -> None:
        self.model = model
        self.inputs = inputs
        self.observed = np.asarray(observed)
        self.qobs = np.asarray(qobs, dtype=np.float64)
        self.params = [uniform_parameter(name, *bounds[name]) for name in model.parameter_names]
        self.objective, self.maximise = get_objective(objective)
        self.sign = 1.0 if self.maximise == ALGORITHM_MAXIMISES[algorithm] else -1.0
        self._q_name = model.outputs["qsim"][0]
        self.values: list[float] = []
        self.best_value = np.nan
        self.best_params: np.ndarray | None = None
        self.budget = budget
        self.runs = 0
        self.sampler = None
        self._pending = False  # a new simulation waits for its first scoring
        self._exhausted = np.full(self.qobs.shape, np.nan)  # answer once the budget is spent

    def start_trial(self, sampler, evaluations: int) -> None:
        """Let ``sampler`` (a new SpotPy sampler on this setup) run ``evaluations`` more models."""
        self.sampler = sampler
        self.budget = self.runs + int(evaluations)
        self._pending = False

    def parameters(self):
        return spotpy.parameter.generate(self.params)

    def simulation(self, vector) -> np.ndarray:
        if self.budget is not None and self.runs >= self.budget:
            self._stop()
            return self._exhausted
        self.runs += 1
        if self.budget is not None and self.runs >= self.budget:
            self._stop()
        params = np.fromiter(vector, dtype=np.float64, count=len(self.params))
        simulated = self.model.simulate(params, self.inputs)[self._q_name][self.observed]
        self._pending = True
        return simulated

    def _stop(self) -> None:
        status = getattr(self.sampler, "status", None)
        if status is not None:
            status.stop = True

    def evaluation(self) -> np.ndarray:
        return self.qobs

    def objectivefunction(self, simulation, evaluation, params) -> float:
        """``sign · objective``; ``params`` is SpotPy's ``(values, names)`` of this run.

        Only the first scoring of each new simulation is recorded (SpotPy re-scores stored ones).
        """
        worst = -np.inf if self.maximise else np.inf
        if simulation is self._exhausted:
            return self.sign * worst
        value = self.objective(obs=np.asarray(evaluation), sim=np.asarray(simulation))
        if not np.isfinite(value):
            value = worst
        if not self._pending:
            return self.sign * value
        self._pending = False
        self.values.append(value)
        if self.best_params is None or (value > self.best_value if self.maximise else value < self.best_value):
            self.best_value = value
            self.best_params = np.array(params[0], dtype=np.float64)
        return self.sign * value
