"""Fused recurrences with hand-written backward passes (MC-LSTM, EA-LSTM) for the CPU and the GPU.

``torch.autograd`` records, and keeps the inputs of, every operation of every time step of a Python
loop; for the recurrent models that are not ``torch.nn.LSTM`` this adds memory traffic and
bookkeeping to the matrix products (neuralhydrology's MC-LSTM spends about half of a CPU step
normalising and storing B × H × H matrices). The :class:`torch.autograd.Function` s here run the
whole sequence as one node instead: the forward pass
keeps only what the backward pass needs, in preallocated time-major buffers, and the backward pass is
the adjoint recurrence written out (below), with the weight gradients accumulated in place.
The plain autograd versions (:func:`mclstm_reference`, :func:`ealstm_reference`) define the models
and are what the tests compare these against (values and gradients, float64).

MC-LSTM (:mod:`~runoffbench.models.nn.mclstm`), one step with dynamic auxiliaries a_t, static
attributes x_s, s = c/(Σc + ε) and the gate layer W = [W_d | W_x | W_s], b (rows: input gate H,
output gate H, redistribution H²)::

    p = W_d a_t + (W_x x_s + b) + W_s s      (the bracket once per sample: it does not change in time)
    σ = sigmoid(p_i), i = σ/Σσ                o = sigmoid(p_o)
    R = relu(p_r) (H × H), T_j = Σ_k R_jk, w_j = c_j/T_j (T_j > 0; else 0), k_j = c_j [T_j = 0]
    m = Rᵀ w + k + i x_t       h = o ⊙ m       c' = m − h

adjoint, given ∂L/∂h and ∂L/∂c' (δh, δc')::

    δm = o δh + (1 − o) δc'            δp_o = (δh − δc') m o(1 − o)
    δσ = (x_t δm − ⟨x_t δm, i⟩)/Σσ      δp_i = δσ σ(1 − σ)
    δw = R δm      δT = −δw w/T       δp_r,jk = [R_jk > 0] (w_j δm_k + δT_j)
    δc = δw/T (T > 0) or δm (T = 0)  + δs/(Σc + ε) − ⟨δs, c⟩/(Σc + ε)²,   δs = W_sᵀ δp
    δ[W_d | W_s] += Σ_t [a_t ; s_t] δp_tᵀ   δW_x = (Σ_t δp_t)ᵀ x_s   δb = Σ_t δp_t

A day is three matrix products (the only operations that touch the weights) and one pass over the
sample's B × H² redistribution values:

- forward: p_t = [W_d | W_s] v_t with v_t = [a_t ; s_t] (the static part W_x x_s + b is computed
  once per sample and added where p_t is read), the gate activations, then
  :func:`_mclstm_forward_day`: R, T, w, m, h, c' and v_{t+1} in one pass per sample (R_t written
  over the day's product, row by row while it is in the L1 cache);
- backward: the same p_t recomputed (keeping R would take T × B × H² values, 1.5 GB for 256 samples
  × 365 days × H = 64), :func:`_mclstm_backward_day` (δm, the gate adjoints, δw, δT and δp_r in one
  pass per sample, written over p_t), then δs_t = W_sᵀ δp_t and δ[W_d | W_s] += v_t δp_tᵀ.

On the CPU the day functions are numba kernels; on other devices (the GPU) the same steps run as
torch operations on the same buffers (``_mclstm_*_day_torch``; the tests check both against the
definition). The weights enter only the three products (``_gate_product``, ``_state_adjoint``,
``_weight_gradient``) and the once-per-sample static part, so the per-basin form changes those alone:
with ``weight`` (A, 2H + H², ·) and ``bias`` (A, 2H + H²) — one gate layer per group — the batch is A
groups of k samples each, group a the samples a·k ... (a + 1)·k − 1, and each product is a batched one
over the groups (``torch.bmm``); the day functions see the flat batch as before. The MC-LSTM trained
per basin (``training: local``) hands its basins' weights in this form.

The adjoint of the cell state decays by about 1 − o per day (≈ 0.05 for the initial output gate), so
after some 30 days it reaches the subnormal range of float32, where every operation on it takes a
micro-code assist on x86 CPUs (measured: 100 ms instead of 8 ms for such a day). Entries of δc below
θ = ε_mach² · max(|δh|, |δc'|) (ε_mach of the dtype: 1.4e-14 of the largest incoming gradient in
float32) are set to zero, a change of the gradient ~10⁷ times below its float32 rounding.

EA-LSTM (:mod:`~runoffbench.models.nn.ealstm`), gate order [f | o | g], input gate i fixed per sample,
P_t = W x_t + b computed for :data:`CHUNK` days in one product::

    z = P_t + U h       f, o = sigmoid(z_f), sigmoid(z_o)     g = tanh(z_g)
    c = f ⊙ c₋ + i ⊙ g                                        h = o ⊙ tanh(c)

adjoint (δc carried back through f)::

    δc ← δc + δh o (1 − tanh²c)       δz_o = δh tanh(c) o(1 − o)
    δz_f = δc c₋ f(1 − f)             δz_g = δc i (1 − g²)          δi += δc g
    δh₋ = Uᵀ δz (one matmul per step)   δc₋ = δc f
    δU = Σ_t δz_t h₋ᵀ, δW = Σ_t δz_t x_tᵀ, δb = Σ_t δz_t — after the loop, one product each.
"""

from __future__ import annotations

import numpy as np
import torch
from numba import njit

#: ε of the per-sample L1 normalisation of the MC-LSTM cell state
STATE_EPSILON = 1e-5


# ------------------------------------------------------------------------------------------------
# MC-LSTM
# ------------------------------------------------------------------------------------------------
#: numba's floating-point licence for the day kernels: reassociation (vectorised row sums), fused
#: multiply-add, no signed zeros; no assumptions about NaN or infinity
_FASTMATH = {"reassoc", "contract", "nsz"}


@njit(cache=True, error_model="numpy", fastmath=_FASTMATH)
def _mclstm_forward_day(t, keep, pre, static_part, gates, total_sigma, total, w, m, v, dynamic, mass,
                        outflow, cells, epsilon):  # pragma: no cover - compiled
    """Day t of the MC-LSTM, given its gate product ``pre`` = [W_d | W_s] v_t (B, 2H + H²) and the
    activated gates ``gates[t]`` = [σ | o]: Σσ, T, w, m (kept at t, or at 0 without ``keep``),
    outflow and cells at t and v_{t+1} = [a_{t+1} ; s_{t+1}]. The redistribution columns of ``pre``
    are scratch (overwritten by R_t)."""
    steps, batch, hidden = outflow.shape
    n_dynamic = dynamic.shape[2]
    ts = t if keep else 0
    tn = t + 1 if keep else 0
    zero = epsilon - epsilon
    for b in range(batch):
        g, mb, tb, wb = gates[ts, b], m[ts, b], total[ts, b], w[ts, b]
        sigma_sum = zero
        for k in range(hidden):
            sigma_sum += g[k]
        total_sigma[ts, b] = sigma_sum
        x = mass[t, b, 0]
        for k in range(hidden):
            mb[k] = g[k] / sigma_sum * x
        for j in range(hidden):
            first = 2 * hidden + j * hidden
            row, static_row = pre[b, first : first + hidden], static_part[b, first : first + hidden]
            tj = zero
            for k in range(hidden):
                p = row[k] + static_row[k]
                p = zero if p < zero else p  # ReLU, NaN kept (as torch.relu)
                row[k] = p
                tj += p
            tb[j] = tj
            cj = cells[t - 1, b, j] if t > 0 else zero
            wj = cj / tj if tj > zero else zero
            wb[j] = wj
            for k in range(hidden):  # also for a dead row (w_j = 0): a NaN in R_t reaches m, as in Rᵀ w
                mb[k] += wj * row[k]
            if not tj > zero:
                mb[j] += cj
        c_sum = zero
        for k in range(hidden):
            h = g[hidden + k] * mb[k]
            outflow[t, b, k] = h
            cells[t, b, k] = mb[k] - h
            c_sum += cells[t, b, k]
        if t + 1 < steps:
            denominator = c_sum + epsilon
            for k in range(hidden):
                v[tn, b, n_dynamic + k] = cells[t, b, k] / denominator
            for k in range(n_dynamic):
                v[tn, b, k] = dynamic[t + 1, b, k]


@njit(cache=True, error_model="numpy", fastmath=_FASTMATH)
def _mclstm_backward_day(t, d_pre, static_part, gates, total_sigma, total, w, m, mass, cells, d_outflow,
                         d_cells, d_direct, d_state, d_mass, d_pre_sum, theta, epsilon):  # pragma: no cover
    """The adjoint of day t. ``d_pre`` holds [W_d | W_s] v_t on entry and δp_t on return (added to
    ``d_pre_sum``); ``d_direct`` and ``d_state`` (B, H) carry in the parts of δc_t from day t + 1
    (through R_{t+1}, and δs_{t+1} = W_sᵀ δp_{t+1}) and ``d_direct`` carries out that of δc_{t−1};
    ``d_mass[t]`` = ∂L/∂x_t."""
    steps, batch, hidden = cells.shape
    zero = epsilon - epsilon
    one = epsilon / epsilon
    d_m = np.empty(hidden, dtype=cells.dtype)
    d_c = np.empty(hidden, dtype=cells.dtype)
    for b in range(batch):
        g, row_b, sum_b = gates[t, b], d_pre[b], d_pre_sum[b]
        if t + 1 < steps:  # δc_t from day t + 1, then what day t's outputs receive
            denominator = epsilon
            dot = zero
            for j in range(hidden):
                denominator += cells[t, b, j]
                dot += d_state[b, j] * cells[t, b, j]
            for j in range(hidden):
                d_c[j] = d_direct[b, j] + d_state[b, j] / denominator - dot / (denominator * denominator)
        else:
            for j in range(hidden):
                d_c[j] = zero
        for j in range(hidden):
            value = d_c[j] + d_cells[t, b, j]
            d_c[j] = zero if abs(value) < theta else value  # no subnormal numbers (module docstring)
        sigma_sum = total_sigma[t, b]
        x = mass[t, b, 0]
        dot = zero
        d_x = zero
        for k in range(hidden):
            o = g[hidden + k]
            d_h = d_outflow[t, b, k]
            dm = o * d_h + (one - o) * d_c[k]
            d_m[k] = dm
            value = (d_h - d_c[k]) * m[t, b, k] * (o * (one - o))
            row_b[hidden + k] = value
            sum_b[hidden + k] += value
            gate = g[k] / sigma_sum
            dot += dm * x * gate
            d_x += dm * gate
        d_mass[t, b, 0] = d_x
        for k in range(hidden):
            s = g[k]
            value = (d_m[k] * x - dot) / sigma_sum * (s * (one - s))
            row_b[k] = value
            sum_b[k] += value
        for j in range(hidden):
            first = 2 * hidden + j * hidden
            row, static_row, sum_row = (row_b[first : first + hidden], static_part[b, first : first + hidden],
                                        sum_b[first : first + hidden])
            dw = zero
            for k in range(hidden):
                p = row[k] + static_row[k]
                row[k] = p
                dw += (zero if p < zero else p) * d_m[k]
            tj, wj = total[t, b, j], w[t, b, j]
            if tj > zero:
                d_total = -dw * wj / tj
                d_direct[b, j] = dw / tj
            else:
                d_total = zero
                d_direct[b, j] = d_m[j]
            for k in range(hidden):
                value = wj * d_m[k] + d_total if row[k] > zero else zero
                row[k] = value
                sum_row[k] += value


def _mclstm_forward_day_torch(t, keep, pre, static_part, gates, total_sigma, total, w, m, v, dynamic, mass,
                              outflow, cells, epsilon):
    """:func:`_mclstm_forward_day` as torch operations (any device)."""
    steps, batch, hidden = outflow.shape
    n_dynamic = dynamic.shape[2]
    ts, tn = (t, t + 1) if keep else (0, 0)
    r = pre[:, 2 * hidden :].add_(static_part[:, 2 * hidden :]).clamp_(min=0).view(batch, hidden, hidden)
    sigma, o = gates[ts, :, :hidden], gates[ts, :, hidden:]
    torch.sum(sigma, -1, out=total_sigma[ts])
    torch.sum(r, -1, out=total[ts])
    c = cells[t - 1] if t > 0 else torch.zeros_like(cells[0])
    positive = total[ts] > 0
    torch.where(positive, c / torch.where(positive, total[ts], torch.ones_like(c)), torch.zeros_like(c),
                out=w[ts])
    m_t = torch.bmm(w[ts].unsqueeze(1), r, out=m[ts].unsqueeze(1)).squeeze(1)
    m_t += torch.where(positive, torch.zeros_like(c), c)
    m_t += sigma / total_sigma[ts].unsqueeze(-1) * mass[t]
    torch.mul(o, m_t, out=outflow[t])
    torch.sub(m_t, outflow[t], out=cells[t])
    if t + 1 < steps:
        torch.div(cells[t], cells[t].sum(-1, keepdim=True) + epsilon, out=v[tn, :, n_dynamic:])
        v[tn, :, :n_dynamic] = dynamic[t + 1]


def _mclstm_backward_day_torch(t, d_pre, static_part, gates, total_sigma, total, w, m, mass, cells, d_outflow,
                               d_cells, d_direct, d_state, d_mass, d_pre_sum, theta, epsilon):
    """:func:`_mclstm_backward_day` as torch operations (any device)."""
    steps, batch, hidden = cells.shape
    if t + 1 < steps:
        c = cells[t]
        denominator = c.sum(-1, keepdim=True) + epsilon
        d_c = d_direct + d_state / denominator - (d_state * c).sum(-1, keepdim=True) / denominator**2
        d_c += d_cells[t]
    else:
        d_c = d_cells[t].clone()
    d_c.masked_fill_(d_c.abs() < theta, 0)
    sigma, o = gates[t, :, :hidden], gates[t, :, hidden:]
    d_h = d_outflow[t]
    d_m = o * d_h + (1 - o) * d_c
    torch.mul((d_h - d_c) * m[t], o * (1 - o), out=d_pre[:, hidden : 2 * hidden])
    gate = sigma / total_sigma[t].unsqueeze(-1)
    d_i = d_m * mass[t]
    torch.mul((d_i - (d_i * gate).sum(-1, keepdim=True)) / total_sigma[t].unsqueeze(-1), sigma * (1 - sigma),
              out=d_pre[:, :hidden])
    torch.sum(d_m * gate, -1, keepdim=True, out=d_mass[t])
    r = d_pre[:, 2 * hidden :].add_(static_part[:, 2 * hidden :]).view(batch, hidden, hidden)
    total_t, w_t = total[t], w[t]
    positive = total_t > 0
    safe_total = torch.where(positive, total_t, torch.ones_like(total_t))
    d_w = torch.bmm(d_m.unsqueeze(1), r.clamp(min=0).transpose(1, 2)).squeeze(1)  # Σ_k R_jk δm_k
    d_total = torch.where(positive, -d_w * w_t / safe_total, torch.zeros_like(d_w))
    grad_r = torch.baddbmm(d_total.unsqueeze(-1), w_t.unsqueeze(-1), d_m.unsqueeze(1))
    torch.ops.aten.threshold_backward.grad_input(grad_r, r, 0, grad_input=r)
    torch.where(positive, d_w / safe_total, d_m, out=d_direct)
    d_pre_sum += d_pre


def _mclstm_days(x: torch.Tensor):
    """(forward day, backward day, whether they take numpy arrays) for tensors like ``x``: the numba
    kernels for float32 and float64 on the CPU, torch operations otherwise."""
    if x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64):
        return _mclstm_forward_day, _mclstm_backward_day, True
    return _mclstm_forward_day_torch, _mclstm_backward_day_torch, False


def _kernel_arguments(tensors, scalars, numpy: bool):
    """The day functions' arguments: numpy views of the buffers (numba) or the tensors, then the
    scalars in the buffers' dtype."""
    if not numpy:
        return [*tensors, *scalars]
    arrays = [x.detach().numpy() for x in tensors]
    return [*arrays, *(arrays[0].dtype.type(s) for s in scalars)]


def _split_weight(weight: torch.Tensor, n_dynamic: int, n_static: int):
    """W = [W_d | W_x | W_s] (dynamic auxiliaries, static attributes, cell state), each contiguous; the last
    dimension is split, so per-group weights (A, G, ·) split alike."""
    return (weight[..., :n_dynamic].contiguous(), weight[..., n_dynamic : n_dynamic + n_static].contiguous(),
            weight[..., n_dynamic + n_static :].contiguous())


def _grouped(x: torch.Tensor, groups: int) -> torch.Tensor:
    """(B, ·) as (A, B / A, ·): the A groups of the per-group form."""
    return x.view(groups, x.shape[0] // groups, x.shape[-1])


def _product(x: torch.Tensor, w: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """x (B, K) @ w: one (K, N) matrix for every sample, or one (A, K, N) per group of samples."""
    if w.dim() == 2:
        return torch.mm(x, w, out=out)
    result = torch.bmm(_grouped(x, w.shape[0]), w, out=None if out is None else _grouped(out, w.shape[0]))
    return result.view(x.shape[0], w.shape[-1])


def _transposed(w: torch.Tensor) -> torch.Tensor:
    return w.transpose(-1, -2).contiguous()


def _static_part(bias: torch.Tensor, static: torch.Tensor, w_static: torch.Tensor) -> torch.Tensor:
    """W_x x_s + b per sample, (B, 2H + H²)."""
    if w_static.dim() == 2:
        return torch.addmm(bias, static, w_static.t())
    groups = w_static.shape[0]
    part = torch.baddbmm(bias.unsqueeze(1), _grouped(static, groups), w_static.transpose(1, 2))
    return part.view(static.shape[0], -1)


def _gate_product(v_t: torch.Tensor, w_v_t: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """p_t without its static part: [W_d | W_s] v_t for every sample, (B, 2H + H²)."""
    return _product(v_t, w_v_t, out=out)


def _state_adjoint(d_pre: torch.Tensor, w_state: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """δs_t = W_sᵀ δp_t for every sample, (B, H)."""
    return _product(d_pre, w_state, out=out)


def _weight_gradient(d_w_v_t: torch.Tensor, v_t: torch.Tensor, d_pre: torch.Tensor) -> None:
    """δ[W_d | W_s]ᵀ += v_tᵀ δp_t (the transposed layout: one product per day, K = B; per group: K = k)."""
    if d_w_v_t.dim() == 2:
        d_w_v_t.addmm_(v_t.t(), d_pre)
        return
    groups = d_w_v_t.shape[0]
    d_w_v_t.baddbmm_(_grouped(v_t, groups).transpose(1, 2), _grouped(d_pre, groups))


def _mclstm_forward(dynamic, static, mass, weight, bias, hidden: int, keep: bool):
    """Run the MC-LSTM over dynamic (T, B, A_d), static (B, A_s), mass (T, B, 1).

    The static part of the gate pre-activations, W_x x_s + b, is computed once per sample (it does not
    change in time); each day is the product [W_d | W_s] v_t with v_t = [a_t ; s_t], the gate
    activations and the day function (module docstring). Returns outflow and cell states (T, B, H) and,
    with ``keep``, what the backward pass needs: the static part, v (T, B, A_d + H) and the per-day
    [σ | o], Σσ, T, w, m. The redistribution matrices are not kept.
    """
    steps, batch, n_dynamic = dynamic.shape
    w_dynamic, w_static, w_state = _split_weight(weight, n_dynamic, static.shape[-1])
    static_part = _static_part(bias, static, w_static)
    w_v_t = _transposed(torch.cat([w_dynamic, w_state], dim=-1))
    kept = steps if keep else 1
    v = dynamic.new_zeros(kept, batch, n_dynamic + hidden)  # s_0 = 0
    v[0, :, :n_dynamic] = dynamic[0]
    outflow = dynamic.new_empty(steps, batch, hidden)
    cells = dynamic.new_empty(steps, batch, hidden)
    gates = dynamic.new_empty(kept, batch, 2 * hidden)
    total_sigma = dynamic.new_empty(kept, batch)
    total, w, m = (dynamic.new_empty(kept, batch, hidden) for _ in range(3))
    pre = dynamic.new_empty(batch, weight.shape[-2])
    forward_day, _, numpy = _mclstm_days(dynamic)
    arguments = _kernel_arguments((pre, static_part, gates, total_sigma, total, w, m, v, dynamic.contiguous(),
                                   mass.contiguous(), outflow, cells), (STATE_EPSILON,), numpy)
    static_gates = static_part[:, : 2 * hidden]
    for t in range(steps):
        ts = t if keep else 0
        _gate_product(v[ts], w_v_t, pre)
        torch.add(pre[:, : 2 * hidden], static_gates, out=gates[ts]).sigmoid_()
        forward_day(t, keep, *arguments)
    return outflow, cells, (static_part, gates, total_sigma, total, w, m, v)


class MCLSTMRecurrence(torch.autograd.Function):
    """The MC-LSTM over a sequence (time-major): (dynamic, static, mass, weight, bias) → (h, c).

    dynamic (T, B, A_d), static (B, A_s), mass (T, B, 1); ``weight`` (2H + H², A_d + A_s + H) and
    ``bias`` are the shared gate layer, or (A, 2H + H², ·) and (A, 2H + H²) one per group of B / A
    consecutive samples; outflow h and cell states c are (T, B, H).
    """

    @staticmethod
    def forward(ctx, dynamic, static, mass, weight, bias, hidden: int):
        outflow, cells, kept = _mclstm_forward(dynamic, static, mass, weight, bias, hidden, keep=True)
        ctx.hidden = hidden
        ctx.save_for_backward(static, mass, weight, cells, *kept)
        return outflow, cells

    @staticmethod
    def backward(ctx, d_outflow: torch.Tensor | None, d_cells: torch.Tensor | None):
        static, mass, weight, cells, static_part, gates, total_sigma, total, w, m, v = ctx.saved_tensors
        hidden = ctx.hidden
        steps, batch, n_v = v.shape
        n_dynamic, n_static = n_v - hidden, static.shape[-1]
        n_gates = weight.shape[-2]
        grouped = weight.dim() == 3
        w_dynamic, w_static, w_state = _split_weight(weight, n_dynamic, n_static)
        w_v_t = _transposed(torch.cat([w_dynamic, w_state], dim=-1))
        d_outflow = torch.zeros_like(cells) if d_outflow is None else d_outflow.contiguous()
        d_cells = torch.zeros_like(cells) if d_cells is None else d_cells.contiguous()
        scale = torch.maximum(d_outflow.abs().max(), d_cells.abs().max())
        theta = scale * torch.finfo(cells.dtype).eps ** 2  # δc below this is set to 0 (module docstring)
        theta = torch.where(torch.isfinite(theta), theta, torch.zeros_like(theta))  # inf, NaN: no flush
        d_pre = v.new_empty(batch, n_gates)
        d_pre_sum = v.new_zeros(batch, n_gates)
        d_w_v_t = v.new_zeros(*weight.shape[:-2], n_v, n_gates)
        d_direct = v.new_zeros(batch, hidden)
        d_state = v.new_zeros(batch, hidden)
        d_mass = v.new_empty(steps, batch, 1)
        d_dynamic = v.new_empty(steps, batch, n_dynamic) if ctx.needs_input_grad[0] else None
        _, backward_day, numpy = _mclstm_days(v)
        arguments = _kernel_arguments(
            (d_pre, static_part, gates, total_sigma, total, w, m, mass.contiguous(), cells, d_outflow, d_cells,
             d_direct, d_state, d_mass, d_pre_sum), (theta.item() if numpy else theta, STATE_EPSILON), numpy)
        for t in reversed(range(steps)):
            _gate_product(v[t], w_v_t, d_pre)  # p_t again (its static part is added by the day function)
            backward_day(t, *arguments)
            _state_adjoint(d_pre, w_state, d_state)
            _weight_gradient(d_w_v_t, v[t], d_pre)
            if d_dynamic is not None:
                _product(d_pre, w_dynamic, out=d_dynamic[t])
        d_w_v = d_w_v_t.transpose(-1, -2)
        if grouped:  # one gate layer per group of samples
            groups = weight.shape[0]
            d_w_static = torch.bmm(_grouped(d_pre_sum, groups).transpose(1, 2), _grouped(static, groups))
            d_bias = _grouped(d_pre_sum, groups).sum(1)
        else:
            d_w_static, d_bias = d_pre_sum.t() @ static, d_pre_sum.sum(0)
        d_weight = torch.cat([d_w_v[..., :n_dynamic], d_w_static, d_w_v[..., n_dynamic:]], dim=-1)
        d_static = _product(d_pre_sum, w_static) if ctx.needs_input_grad[1] else None
        return (d_dynamic, d_static, d_mass if ctx.needs_input_grad[2] else None, d_weight, d_bias, None)


def mclstm_sequence(dynamic, static, mass, weight, bias, hidden: int):
    """Outflow h and cell states c, each (B, T, H), of the MC-LSTM.

    ``dynamic`` (B, T, A_d) are the normalised auxiliary forcings, ``static`` (B, A_s) the normalised
    attributes (A_s may be 0), ``mass`` (B, T, 1) the mass input; ``weight`` (2H + H², A_d + A_s + H)
    and ``bias`` the shared gate layer (columns: dynamic, static, normalised cell state). With
    gradients enabled this is :class:`MCLSTMRecurrence`; without, the same steps run without keeping
    anything for a backward pass.
    """
    dynamic_t, mass_t = dynamic.transpose(0, 1).contiguous(), mass.transpose(0, 1).contiguous()
    if torch.is_grad_enabled() and any(x.requires_grad for x in (dynamic, static, mass, weight, bias)):
        h, c = MCLSTMRecurrence.apply(dynamic_t, static, mass_t, weight, bias, hidden)
    else:
        with torch.no_grad():
            h, c, _ = _mclstm_forward(dynamic_t, static, mass_t, weight, bias, hidden, keep=False)
    return h.transpose(0, 1), c.transpose(0, 1)


def mclstm_reference(dynamic, static, mass, weight, bias, hidden):
    """The same MC-LSTM as plain autograd operations (the definition; for tests)."""
    aux = torch.cat([dynamic, static.unsqueeze(1).expand(-1, dynamic.shape[1], -1)], dim=-1)
    batch, steps, _ = aux.shape
    c = aux.new_zeros(batch, hidden)
    outflow, cells = [], []
    for t in range(steps):
        s = c / (c.sum(-1, keepdim=True) + STATE_EPSILON)
        pre = torch.nn.functional.linear(torch.cat([aux[:, t], s], dim=-1), weight, bias)
        sigma = torch.sigmoid(pre[:, :hidden])
        i = sigma / sigma.sum(-1, keepdim=True)
        o = torch.sigmoid(pre[:, hidden : 2 * hidden])
        r = torch.relu(pre[:, 2 * hidden :].view(batch, hidden, hidden))
        total = r.sum(-1)
        positive = total > 0
        w = torch.where(positive, c / torch.where(positive, total, torch.ones_like(total)), torch.zeros_like(c))
        m = torch.bmm(w.unsqueeze(1), r).squeeze(1) + torch.where(positive, torch.zeros_like(c), c) + i * mass[:, t]
        h = o * m
        c = m - h
        outflow.append(h)
        cells.append(c)
    return torch.stack(outflow, dim=1), torch.stack(cells, dim=1)


# ------------------------------------------------------------------------------------------------
# EA-LSTM
# ------------------------------------------------------------------------------------------------
#: days whose input projections (EA-LSTM) are one matrix product (K × B rows instead of B per day)
CHUNK = 16


def _ealstm_forward(x: torch.Tensor, i: torch.Tensor, w_input: torch.Tensor, bias: torch.Tensor,
                    recurrent: torch.Tensor, keep: bool):
    """h (T, B, H) for inputs x (T, B, D), input gate i (B, H), W (3H, D), b (3H), U (3H, H).

    The input part W x_t + b of :data:`CHUNK` days is one product into a reused buffer; with ``keep``
    the activated gates [f | o | g] (T, B, 3H) and the cell states (T, B, H) are kept as well.
    """
    steps, batch, _ = x.shape
    hidden = i.shape[-1]
    recurrent_t = recurrent.t().contiguous()
    w_input_t = w_input.t().contiguous()
    gates = x.new_empty(steps if keep else 1, batch, 3 * hidden)
    cells = x.new_empty(steps, batch, hidden) if keep else None
    outputs = x.new_empty(steps, batch, hidden)
    chunk = x.new_empty(min(CHUNK, steps), batch, 3 * hidden)
    h = x.new_zeros(batch, hidden)
    c = x.new_zeros(batch, hidden)
    for first in range(0, steps, CHUNK):
        last = min(first + CHUNK, steps)
        projected = torch.matmul(x[first:last], w_input_t, out=chunk[: last - first]).add_(bias)
        for t in range(first, last):
            z = torch.addmm(projected[t - first], h, recurrent_t, out=gates[t if keep else 0])
            z[:, : 2 * hidden].sigmoid_()
            z[:, 2 * hidden :].tanh_()
            c = torch.addcmul(z[:, :hidden] * c, i, z[:, 2 * hidden :])
            h = torch.mul(z[:, hidden : 2 * hidden], torch.tanh(c), out=outputs[t])
            if keep:
                cells[t] = c
    return outputs, gates, cells


class EALSTMRecurrence(torch.autograd.Function):
    """The EA-LSTM recurrence (time-major): (x (T, B, D), i (B, H), W (3H, D), b (3H), U (3H, H)) → h (T, B, H).

    Gate order [f | o | g] (forget, output, cell input); the input gate i is the basin's embedding.
    """

    @staticmethod
    def forward(ctx, x, i, w_input, bias, recurrent):
        outputs, gates, cells = _ealstm_forward(x, i, w_input, bias, recurrent, keep=True)
        ctx.save_for_backward(x, i, recurrent, outputs, gates, cells)
        return outputs

    @staticmethod
    def backward(ctx, d_outputs: torch.Tensor):
        x, i, recurrent, outputs, gates, cells = ctx.saved_tensors
        steps, batch, hidden = outputs.shape
        d_gates = torch.empty_like(gates)
        d_i = torch.zeros_like(i)
        d_h = torch.zeros_like(i)
        d_c = torch.zeros_like(i)
        zeros = torch.zeros_like(i)
        for t in reversed(range(steps)):
            z, dz = gates[t], d_gates[t]
            f, o, g = z[:, :hidden], z[:, hidden : 2 * hidden], z[:, 2 * hidden :]
            d_h = d_h + d_outputs[t]
            tanh_c = torch.tanh(cells[t])
            d_c = torch.addcmul(d_c, d_h * o, 1 - tanh_c * tanh_c)
            d_i.addcmul_(d_c, g)
            torch.mul(d_c * i, 1 - g * g, out=dz[:, 2 * hidden :])
            torch.mul(d_h * tanh_c, o * (1 - o), out=dz[:, hidden : 2 * hidden])
            torch.mul(d_c * (cells[t - 1] if t > 0 else zeros), f * (1 - f), out=dz[:, :hidden])
            d_c = d_c * f
            d_h = dz @ recurrent
        flat = d_gates.view(-1, 3 * hidden)
        d_recurrent = d_gates[1:].reshape(-1, 3 * hidden).t() @ outputs[:-1].reshape(-1, hidden)
        d_input = (x.reshape(-1, x.shape[-1]).t() @ flat).t()  # 50x faster than flatᵀ x for few inputs
        return None, d_i, d_input, flat.sum(0), d_recurrent


def ealstm_sequence(x: torch.Tensor, i: torch.Tensor, w_input: torch.Tensor, bias: torch.Tensor,
                    recurrent: torch.Tensor) -> torch.Tensor:
    """Hidden states h (T, B, H) of the EA-LSTM, time-major.

    ``x`` (T, B, D) are the dynamic inputs, ``i`` (B, H) the input gate, ``w_input`` (3H, D) and
    ``bias`` (3H) the input weights of the gates [f | o | g] and ``recurrent`` U (3H, H). With
    gradients enabled this is :class:`EALSTMRecurrence` (no gradient for x: inputs are data); without,
    the same steps run without keeping anything.
    """
    x = x.contiguous()
    if torch.is_grad_enabled() and any(t.requires_grad for t in (i, w_input, bias, recurrent)):
        return EALSTMRecurrence.apply(x, i, w_input, bias, recurrent)
    with torch.no_grad():
        return _ealstm_forward(x, i, w_input, bias, recurrent, keep=False)[0]


def ealstm_reference(x, i, w_input, bias, recurrent):
    """The same EA-LSTM recurrence as plain autograd operations, time-major (the definition; for tests)."""
    hidden = i.shape[-1]
    projected = torch.nn.functional.linear(x, w_input, bias)
    h = projected.new_zeros(projected.shape[1], hidden)
    c = torch.zeros_like(h)
    outputs = []
    for projected_t in projected.unbind(0):
        f, o, g = (projected_t + h @ recurrent.t()).split(hidden, dim=-1)
        c = torch.sigmoid(f) * c + i * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outputs.append(h)
    return torch.stack(outputs)
