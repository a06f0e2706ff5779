r"""The ``ensemble`` member: the mean prediction over the members (seeds) of one run.

.. math:: Q_s^\text{ens}(b, t) = \frac{1}{|M_{b,t}|} \sum_{m \in M_{b,t}} Q_s^m(b, t)

over the members :math:`M_{b,t}` with a value on that day, as Kratzert et al. (2019) averaged the
eight seeds of their LSTMs. Internal fluxes that every member reports are averaged the same way;
variables per model component (a δ model's dynamic parameters) are not: component k of one seed is
not component k of another, so the ensemble file leaves them out.

Reference
---------
Kratzert, F., Klotz, D., Shalev, G., Klambauer, G., Hochreiter, S. and Nearing, G. (2019): Towards
learning universal, regional, and local hydrological behaviors via machine learning applied to
large-sample datasets, Hydrol. Earth Syst. Sci., 23, 5089-5110, doi:10.5194/hess-23-5089-2019.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from runoffbench.errors import DataError
from runoffbench.predictions import ENSEMBLE_MEMBER, make_predictions


def ensemble_mean(members: Sequence[xr.Dataset], sources: Sequence[str] | None = None) -> xr.Dataset:
    """Average the ``qsim`` (and common fluxes) of ``members`` of one model, forcing and split.

    Raises DataError naming the members that belong to another run or cover other basins or dates.
    """
    members = list(members)
    sources = list(sources) if sources is not None else [f"member {m.attrs.get('member')}" for m in members]
    if not members:
        raise DataError("ensemble: no member predictions given")
    first = members[0]
    run = tuple(first.attrs[key] for key in ("model", "forcing", "split"))
    for member, source in zip(members[1:], sources[1:]):
        other = tuple(member.attrs[key] for key in ("model", "forcing", "split"))
        if other != run:
            raise DataError(f"ensemble: {source} belongs to run {other}, not {run}")
        if not (np.array_equal(member["basin"].values, first["basin"].values)
                and np.array_equal(member["date"].values, first["date"].values)):
            raise DataError(f"ensemble: {source} covers other basins or dates than {sources[0]}")
    # fluxes (basin, date) only: the components of a δ model (dims basin, date, component) are not the
    # same components in two members, so their mean means nothing
    fluxes = [name for name in first.data_vars if name not in ("qsim", "qobs")
              and first[name].dims == ("basin", "date") and all(name in member for member in members)]
    stacked = {name: xr.concat([member[name] for member in members], dim="member") for name in ("qsim", *fluxes)}
    mean = {name: values.mean("member", skipna=True) for name, values in stacked.items()}
    labels = ",".join(str(member.attrs["member"]) for member in members)
    return make_predictions(
        mean["qsim"].values, first["qobs"].values, first["basin"].values, first["date"].values,
        model=run[0], forcing=run[1], split=run[2], member=ENSEMBLE_MEMBER,
        fluxes={name: (mean[name].values, first[name].attrs.get("units", "")) for name in fluxes},
        attrs={"members": labels, "n_members": len(members)},
    )
