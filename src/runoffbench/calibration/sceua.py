"""SpotPy's SCE-UA with the competitive complex evolution step of Duan's SCE-UA 2.1.

SpotPy's ``sceua`` (1.6, from S. Van Hoey's Python port) differs in its evolution step from Duan's
Fortran SCE-UA 2.1 (the published algorithm: Duan et al. 1992, 1994) in two ways that matter for a
20-odd-parameter model such as SAC-SMA + Snow-17:

- where the reflected point leaves the parameter box, and where reflection and contraction both
  fail, SpotPy draws a point *uniformly over the whole box*, and the point always replaces the
  sub-complex's worst one. In 22 dimensions a uniform point is nearly always far worse than the
  complex, so late in a search most of these evaluations are wasted and the complexes keep being
  fed poor points (optima lie near the bounds — SAC-SMA's ``pctim``, ``adimp``, ``lzpk`` — and
  in a 3,000-run calibration of the snowy test basin a quarter of the 2,160 reflections left the
  box: about one run in five was such a point). Duan draws it from a normal distribution centred on the
  sub-complex's *best* point with the population's standard deviation per parameter (``getpnt``
  with ``idist = 2``, resampled until inside the bounds), a local move that keeps the search
  converging;
- SpotPy always puts the complex's *second-best* point into the sub-complex (``lcs[0] = 1``, a
  1-based index left in 0-based code) and the best one only by chance; Duan draws every
  sub-complex member from the trapezoidal distribution, the best point most likely.

:class:`DuanSCEUA` overrides only the evolution of one complex (``simulate`` in SpotPy's
complex-evolution phase) and the point generation (``_cceua``); SpotPy's burn-in, shuffling,
convergence tests (``kstop``, ``pcento``, ``peps``), status and database are unchanged. Random
numbers come from numpy's global generator, which SpotPy seeds with ``random_state``.
"""

from __future__ import annotations

import numpy as np
import spotpy
from spotpy.algorithms import _algorithm

#: floor of a parameter's variance in the population (Duan's ``parstt``: ``delta``)
_VARIANCE_FLOOR = 1.0e-20
#: redraws of one coordinate of a Gaussian point before it is clipped into the bounds
_MAX_REDRAWS = 1000


class DuanSCEUA(spotpy.algorithms.sceua):
    """SCE-UA (minimises) whose complexes evolve as in Duan's SCE-UA 2.1 (see the module docstring)."""

    _population_std: np.ndarray | None = None

    def simulate(self, id_params_tuple):
        if not self.repeat.phase:  # burn-in: one model run
            return _algorithm.simulate(self, id_params_tuple)
        igs, x, xf, cx, cf, sce_vars = id_params_tuple
        (self.npg, self.nopt, self.ngs, self.nspl, self.nps, self.bl, self.bu,
         self.stochastic_parameters, discarded_runs) = sce_vars
        if igs == 0 or self._population_std is None:
            # the population at the start of this shuffling loop (complexes run in order, seq)
            self._population_std = np.sqrt(np.maximum(np.var(x, axis=0), _VARIANCE_FLOOR))
        k1 = np.arange(self.npg, dtype=int)
        k2 = k1 * self.ngs + igs
        cx = np.array(x[k2, :], dtype=np.float64)
        cf = np.array(xf[k2], dtype=np.float64)
        likes, pars, sims = [], [], []
        for _ in range(self.nspl):
            lcs = self._subcomplex()
            snew, fnew, simulation, discarded_runs = self._cceua(cx[lcs], cf[lcs], discarded_runs)
            likes.append(fnew)
            pars.append(snew)
            sims.append(simulation)
            # the new point replaces the sub-complex's worst; keep the complex sorted
            cx[lcs[-1]] = snew
            cf[lcs[-1]] = fnew
            order = np.argsort(cf, kind="stable")
            cx, cf = cx[order], cf[order]
        return igs, likes, pars, sims, cx, cf, k1, k2, discarded_runs

    def _subcomplex(self) -> np.ndarray:
        """``nps`` distinct positions of the sorted complex, each drawn with probability
        2 (npg + 1 − i) / (npg (npg + 1)) for the i-th best (Duan's trapezoidal rule), sorted."""
        npg, nps = self.npg, self.nps
        if nps >= npg:
            return np.arange(npg)
        chosen: list[int] = []
        while len(chosen) < nps:
            position = int(np.floor(npg + 0.5 - np.sqrt((npg + 0.5) ** 2 - npg * (npg + 1) * np.random.random())))
            position = min(position, npg - 1)
            if position not in chosen:
                chosen.append(position)
        return np.sort(np.array(chosen))

    def _gaussian_point(self, focus: np.ndarray) -> np.ndarray:
        """A point around ``focus`` with the population's spread, inside the bounds (``getpnt``, idist 2)."""
        point = np.array(focus, dtype=np.float64)
        for j in np.flatnonzero(self.stochastic_parameters):
            for _ in range(_MAX_REDRAWS):
                value = focus[j] + self._population_std[j] * np.random.normal()
                if self.bl[j] <= value <= self.bu[j]:
                    break
            point[j] = min(max(value, self.bl[j]), self.bu[j])
        return point

    def _evaluate(self, rep: int, point: np.ndarray) -> tuple[float, object]:
        _, _, simulation = _algorithm.simulate(self, (rep, point))
        like = self.postprocessing(rep, point, simulation, save_run=False, block_print=True)
        return like, simulation

    def _cceua(self, s, sf, discarded_runs):
        """One new point from the sorted sub-complex ``s`` (values ``sf``): reflection, else
        contraction, else a Gaussian point around the best member."""
        constant = ~self.stochastic_parameters
        best, worst, f_worst = s[0], s[-1], sf[-1]
        centroid = np.mean(s[:-1], axis=0)
        new = centroid + (centroid - worst)
        new[constant] = worst[constant]
        if np.any(new < self.bl) or np.any(new > self.bu):
            new = self._gaussian_point(best)
        f_new, simulation = self._evaluate(1, new)
        discarded_runs += 1
        if f_new > f_worst:
            new = centroid - 0.5 * (centroid - worst)
            new[constant] = worst[constant]
            f_new, simulation = self._evaluate(2, new)
            discarded_runs += 1
            if f_new > f_worst:
                new = self._gaussian_point(best)
                f_new, simulation = self._evaluate(3, new)
                discarded_runs += 1
        return new, f_new, simulation, discarded_runs
