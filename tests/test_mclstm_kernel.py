"""The fused MC-LSTM kernel (runoffbench.models.nn.kernels): its numba day functions (the CPU) and their
torch versions (other devices) against the autograd definition, float32 against float64 at the
benchmark's kind of inputs (precipitation as mass input, initial weights, a 365-day adjoint that decays
into the subnormal range), mass conservation in float32."""

from __future__ import annotations

import pytest
import torch

from runoffbench.models.nn import kernels
from runoffbench.models.nn.mclstm import MCLSTM

pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture
def torch_days(monkeypatch):
    """Run the MC-LSTM's day functions as torch operations (the path of a GPU) on the CPU."""
    monkeypatch.setattr(kernels, "_mclstm_days", lambda x: (
        kernels._mclstm_forward_day_torch, kernels._mclstm_backward_day_torch, False))


def _problem(days=37, samples=3, hidden=4, n_dynamic=2, n_static=3, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    dynamic = torch.randn(samples, days, n_dynamic, generator=g, dtype=dtype)
    static = torch.randn(samples, n_static, generator=g, dtype=dtype)
    wet = torch.rand(samples, days, 1, generator=g, dtype=dtype) < 0.5
    rain = torch.rand(samples, days, 1, generator=g, dtype=dtype) * 30.0
    mass = torch.where(wet, rain, torch.zeros((), dtype=dtype))
    gates = 2 * hidden + hidden**2
    weight = torch.randn(gates, n_dynamic + n_static + hidden, generator=g, dtype=dtype)
    bias = torch.randn(gates, generator=g, dtype=dtype)
    bias[2 * hidden + hidden : 2 * hidden + 2 * hidden] = -50.0  # a dead redistribution row
    return dynamic, static, mass, weight, bias, hidden


def _values_and_gradients(function, dynamic, static, mass, weight, bias, hidden, probe_seed=1):
    inputs = [x.detach().clone().requires_grad_() for x in (dynamic, static, mass, weight, bias)]
    outputs = function(*inputs, hidden)
    g = torch.Generator().manual_seed(probe_seed)
    probe = [torch.randn(x.shape, generator=g, dtype=x.dtype) for x in outputs]
    gradients = torch.autograd.grad(sum((x * p).sum() for x, p in zip(outputs, probe)), inputs)
    return [x.detach() for x in outputs], gradients


@pytest.mark.parametrize("path", ["numba", "torch"])
def test_both_day_paths_match_the_definition(path, request):
    if path == "torch":
        request.getfixturevalue("torch_days")
    problem = _problem()
    fused = _values_and_gradients(kernels.mclstm_sequence, *problem)
    reference = _values_and_gradients(kernels.mclstm_reference, *problem)
    for a, b in zip(fused[0], reference[0]):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    for a, b in zip(fused[1], reference[1]):  # dynamic, static, mass, weight, bias
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)
    with torch.no_grad():  # the prediction path: the same steps, nothing kept
        for a, b in zip(kernels.mclstm_sequence(*problem), fused[0]):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_torch_day_path_passes_gradcheck(torch_days):
    dynamic, static, mass, weight, bias, hidden = _problem(days=6)
    inputs = tuple(x.requires_grad_() for x in (dynamic, static, mass, weight, bias))
    assert torch.autograd.gradcheck(lambda *x: kernels.mclstm_sequence(*x, hidden), inputs)


def _benchmark_like(days=365, samples=16, hidden=16, seed=0):
    """Initial MC-LSTM weights, precipitation as the mass input, standardised auxiliaries (float32)."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = MCLSTM({"hidden_size": hidden}, 4, 5)
    wet = torch.rand(samples, days, 1, generator=g) < 0.4
    rain = -torch.log(torch.rand(samples, days, 1, generator=g)) * 8.0
    batch = {"x_d": torch.randn(samples, days, 4, generator=g), "x_s": torch.randn(samples, 5, generator=g),
             "x_mass": torch.where(wet, rain, torch.zeros(()))}
    dynamic, static = model._gate_inputs(batch, batch["x_mass"])
    return dynamic, static, batch["x_mass"], model.gates.weight.detach(), model.gates.bias.detach(), hidden


def test_float32_gradients_equal_float64_to_rounding_through_subnormal_adjoints():
    """Sequence-to-one (the benchmark's loss): the adjoint of the cell state falls by ~20x a day, below
    float32's smallest normal number within ~30 days; the kernel sets it to zero there (module
    docstring of kernels), and the float32 gradients still equal float64's to float32 rounding."""
    problem = _benchmark_like()

    def last_day(dtype, wrt):
        inputs = [x.to(dtype).requires_grad_() for x in problem[:5]]
        h, _ = kernels.mclstm_sequence(*inputs, problem[5])
        return h.detach(), torch.autograd.grad((h[:, -1, 1:].sum(-1) ** 2).mean(), [inputs[i] for i in wrt])

    h32, (dw32, db32) = last_day(torch.float32, (3, 4))
    h64, (dw64, db64) = last_day(torch.float64, (3, 4))
    torch.testing.assert_close(h32.double(), h64, rtol=1e-5, atol=1e-5 * h64.abs().max().item())
    for a, b in ((dw32, dw64), (db32, db64)):
        error = (a.double() - b).abs().max() / b.abs().max()
        assert error < 1e-5, error
    # the regime the flush is for: in float64, the gradient of the gates' inputs falls by more than 20
    # orders of magnitude in 30 days, so it would reach float32's subnormal range (< 1.2e-38) within
    # ~60 of the window's 365 days
    _, (d_dynamic,) = last_day(torch.float64, (0,))
    assert 0 < d_dynamic[:, -31].abs().max() < 1e-20 * d_dynamic[:, -1].abs().max()


def test_float32_kernel_conserves_mass():
    dynamic, static, mass, weight, bias, hidden = _benchmark_like(samples=8)
    with torch.no_grad():
        h, c = kernels.mclstm_sequence(dynamic, static, mass, weight, bias, hidden)
    rain = mass.sum(dim=(1, 2))
    balance = rain - h.sum(dim=(1, 2)) - c[:, -1].sum(-1)
    assert (balance.abs() / rain).max() <= 1e-5
    assert (h >= 0).all() and (c >= 0).all()


@pytest.mark.parametrize("path", ["numba", "torch"])
def test_a_nan_weight_shows_in_outputs_and_gradients(path, request):
    """A diverged weight is not hidden: NaN in a redistribution or gate bias reaches h, c and the gradients
    (as it does in the definition), it is not read as a dead row or flushed away."""
    if path == "torch":
        request.getfixturevalue("torch_days")
    dynamic, static, mass, weight, bias, hidden = _problem(days=10)
    for entry in (1, hidden + 2, 2 * hidden + 3):  # input gate, output gate, redistribution
        broken = bias.clone()
        broken[entry] = float("nan")
        (h, c), gradients = _values_and_gradients(kernels.mclstm_sequence, dynamic, static, mass, weight, broken,
                                                  hidden)
        (h_ref, c_ref), _ = _values_and_gradients(kernels.mclstm_reference, dynamic, static, mass, weight, broken,
                                                  hidden)
        assert torch.equal(h.isnan(), h_ref.isnan()) and torch.equal(c.isnan(), c_ref.isnan())
        assert h.isnan().any() and gradients[3].isnan().any()
