"""Gradient-trained models, registered by name (docs/architecture.md, "Models", kind ``nn``).

Every entry of :data:`NN_MODELS` is a subclass of :class:`~runoffbench.models.nn.base.NeuralModel`
(the interface: constructor, batch keys, outputs). ``models.<name>.model`` in the config names the
class (default: the entry's name); :func:`get_model` resolves it.

=============  ==============================================  ================  =======
name           model                                           training          mode
=============  ==============================================  ================  =======
lstm           LSTM (Kratzert et al. 2019)                     regional, local   either
ealstm         EA-LSTM (Kratzert et al. 2019)                  regional          either
mclstm         MC-LSTM (Hoedt et al. 2021; Frame 2023;         regional, local   either
               Li & Zhao: local)
mclstm_hybrid  MC-LSTM whose gates read an LSTM's hidden       regional          either
               state (Nearing et al. 2020)
dhbv           δ models: dPL+HBV, δn, δn(β^t), δn(γ^t),        regional          seq2seq
               δn(γ^t,β^t), δn(NN_r) (Feng et al. 2022;
               ``variant`` selects)
dexphydro      differentiable EXP-HYDRO (Jiang et al. 2020;    regional, local   seq2seq
               Li & Zhao)
=============  ==============================================  ================  =======

``mode: seq2seq`` models need a warm-up (``models.<name>.warmup``): the trainer passes it to the
model as the option ``warmup``, so the model spins its stores up over exactly the days the loss skips.
"""

from __future__ import annotations

from runoffbench.errors import ConfigError
from runoffbench.models.nn.base import RAW_FORCINGS, NeuralModel
from runoffbench.models.nn.dexphydro import DifferentiableEXPHYDRO
from runoffbench.models.nn.dhbv import DeltaHBV
from runoffbench.models.nn.ealstm import EALSTM
from runoffbench.models.nn.lstm import LSTM
from runoffbench.models.nn.mclstm import MCLSTM, HybridMCLSTM

NN_MODELS: dict[str, type[NeuralModel]] = {
    "lstm": LSTM,
    "ealstm": EALSTM,
    "mclstm": MCLSTM,
    "mclstm_hybrid": HybridMCLSTM,
    "dhbv": DeltaHBV,
    "dexphydro": DifferentiableEXPHYDRO,
}


def get_model(name: str) -> type[NeuralModel]:
    """The model class registered as ``name``; :class:`ConfigError` lists the known names."""
    try:
        return NN_MODELS[name]
    except KeyError:
        raise ConfigError(f"unknown nn model {name!r}; known: {', '.join(sorted(NN_MODELS))}") from None


__all__ = ["NN_MODELS", "RAW_FORCINGS", "NeuralModel", "get_model"]
