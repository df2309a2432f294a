"""Unroll one recurrent layer over time, with a backward pass derived by hand from the cells.

Why not let autograd differentiate the Python loop? Because it records about ten small ops per
step, keeps each step's graph alive, and builds the hidden-to-hidden weight gradient as T small
matmuls added one by one. The backward written here needs, per step, one matmul
(``dh_{t-1} = dz_t W_hh``) and a handful of pointwise ops; everything that does not depend on
the backward recursion (the gate derivatives) is computed for all steps at once, and the weight
gradient is a single matmul over all steps: ``dW_hh = sum_t dz_t^T h_{t-1}``. Same equations
as ``cells.py`` (tests check values and gradients against torch.nn in float64), fewer and
larger kernels.

Tensors are time-major ([T, B, ...]) so that each step's slice is contiguous; the caller
projects its input straight into that layout (``recurrent.py``), so nothing is transposed or
copied on the way in. ``keep`` [B, T] (bool) marks real steps of right-padded sequences: past
its length a row keeps its state and outputs zeros, exactly as ``recurrent.py`` documents.

Notation: ``gx`` [T, B, G*H] is the input projection ``W_ih x + b_ih``; for rnn and lstm the
hidden bias ``b_hh`` simply adds, so callers fold it into the projection's bias and pass
``bias_hh=None`` (for gru the reset gate multiplies ``W_hn h + b_hn``: it must stay apart).
``z`` is a pre-activation, ``h_seq`` [T+1, B, H] the carried hidden state before each step
(``h_seq[0]`` is the initial state).
"""

from __future__ import annotations

import torch
from torch import Tensor

_ZERO = torch.zeros(())  # what padded positions output (a tensor: where(out=) needs one)


def unroll(cell: str, gx: Tensor, state, weight_hh: Tensor, bias_hh: Tensor | None,
           keep: Tensor | None):
    """gx [T, B, G*H] and a state -> (outputs [B, T, H] (a view), final state).

    ``bias_hh`` is required for gru and optional for rnn/lstm (None: already in ``gx``).
    Uses the hand-written backward when gradients are needed; without them (generation,
    prediction) it runs the same forward and saves nothing.
    """
    if bias_hh is None and cell == "gru":
        raise ValueError("gru needs bias_hh: its reset gate multiplies W_hn h + b_hn")
    if bias_hh is not None and cell != "gru":
        gx, bias_hh = gx + bias_hh, None
    h0, c0 = state if cell == "lstm" else (state, None)
    dtype = gx.dtype  # under autocast the projection may be bf16/fp16: the state follows it
    h0 = h0.to(dtype)
    c0 = None if c0 is None else c0.to(dtype)
    keep_t = None if keep is None else keep.t().unsqueeze(-1).contiguous()  # [T, B, 1]
    tensors = [t for t in (gx, h0, c0, weight_hh, bias_hh) if t is not None]
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
        out, h, c = _Unroll.apply(cell, gx, h0, c0, weight_hh, bias_hh, keep_t)
    else:
        with torch.no_grad():
            out, h, c, _ = _forward(cell, gx, h0, c0, weight_hh, bias_hh, keep_t)
    return out.transpose(0, 1), ((h, c) if cell == "lstm" else h)


class _Unroll(torch.autograd.Function):
    """Autograd wrapper: forward saves what ``_backward_*`` needs, backward runs it."""

    @staticmethod
    def forward(ctx, cell, gx, h0, c0, weight_hh, bias_hh, keep):  # type: ignore[override]
        with torch.autocast(gx.device.type, enabled=False):
            out, h, c, saved = _forward(cell, gx, h0, c0, weight_hh, bias_hh, keep)
        ctx.cell, ctx.masked = cell, keep is not None
        ctx.save_for_backward(weight_hh.to(gx.dtype), *saved, *(() if keep is None else (keep,)))
        ctx.dtypes = (weight_hh.dtype, None if bias_hh is None else bias_hh.dtype)
        return out, h, c

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, d_out, d_h, d_c):  # type: ignore[override]
        weight, *saved = ctx.saved_tensors
        keep = saved.pop() if ctx.masked else None
        step_grads = {"lstm": _backward_lstm, "gru": _backward_gru, "rnn": _backward_rnn}
        dz, dzh, h_seq, dh0, dc0 = step_grads[ctx.cell](saved, d_out, d_h, d_c, weight, keep)
        # The weight gradient over all steps in one matmul: [G*H, T*B] @ [T*B, H].
        flat = dzh.flatten(0, 1)
        d_weight = (flat.t() @ h_seq[:-1].flatten(0, 1)).to(ctx.dtypes[0])
        d_bias = None if ctx.dtypes[1] is None else flat.sum(0).to(ctx.dtypes[1])
        return None, dz, dh0, dc0, d_weight, d_bias, None


def _forward(cell, gx, h0, c0, weight_hh, bias_hh, keep):
    """-> outputs [T, B, H], final h, final c (or None), tensors saved for the backward."""
    weight = weight_hh.to(gx.dtype)
    if cell == "gru":
        return _forward_gru(gx, h0, weight, bias_hh.to(gx.dtype), keep)
    if cell == "lstm":
        return _forward_lstm(gx, h0, c0, weight, keep)
    return _forward_rnn(gx, h0, weight, keep)


def _outputs(h_seq: Tensor, outs: Tensor | None) -> Tensor:
    """[T, B, H] outputs: the carried states when unmasked, else the zero-padded ones."""
    return h_seq[1:] if outs is None else outs


# ----- LSTM ------------------------------------------------------------------------------------
def _forward_lstm(gx, h, c, weight, keep):
    """i, f, g, o = sigma, sigma, tanh, sigma of (gx + W_hh h); c' = f c + i g; h' = o tanh(c')."""
    steps, hidden = gx.shape[0], h.shape[-1]
    g_rows = slice(2 * hidden, 3 * hidden)
    weight_t = weight.t()
    acts = torch.empty_like(gx)
    tanh_c = gx.new_empty(steps, *h.shape)
    h_seq, c_seq = gx.new_empty(steps + 1, *h.shape), gx.new_empty(steps + 1, *h.shape)
    h_seq[0], c_seq[0] = h, c
    outs = None if keep is None else gx.new_empty(steps, *h.shape)
    for t in range(steps):
        z = torch.addmm(gx[t], h, weight_t)
        s = torch.sigmoid(z, out=acts[t])  # one sigmoid for all four, then tanh for g
        i, f, g, o = s.chunk(4, dim=-1)
        torch.tanh(z[:, g_rows], out=g)
        if keep is None:  # write straight into the saved sequences
            c = torch.addcmul(f * c, i, g, out=c_seq[t + 1])
            h = torch.mul(o, torch.tanh(c, out=tanh_c[t]), out=h_seq[t + 1])
            continue
        c_new = torch.addcmul(f * c, i, g)
        h_new = o * torch.tanh(c_new, out=tanh_c[t])
        torch.where(keep[t], h_new, _ZERO.to(h_new), out=outs[t])
        h = torch.where(keep[t], h_new, h, out=h_seq[t + 1])
        c = torch.where(keep[t], c_new, c, out=c_seq[t + 1])
    return _outputs(h_seq, outs), h.clone(), c.clone(), (acts, tanh_c, h_seq, c_seq)


def _backward_lstm(saved, d_out, d_h, d_c, weight, keep):
    acts, tanh_c, h_seq, c_seq = saved
    steps, hidden = tanh_c.shape[0], tanh_c.shape[-1]
    i, f, g, o = acts.chunk(4, dim=-1)
    # What does not depend on the recursion, for all steps at once: with dc the gradient of
    # the cell state, dc += dh * k, and dz = [dc g, dc c_prev, dc i, dh tanh(c)] * act'.
    k = torch.addcmul(o, o * tanh_c, tanh_c, value=-1)  # o (1 - tanh(c)^2)
    q = torch.addcmul(acts, acts, acts, value=-1)  # sigma' = s (1 - s) ...
    torch.addcmul(torch.ones_like(g), g, g, value=-1, out=q[..., 2 * hidden:3 * hidden])
    q.mul_(torch.cat([g, c_seq[:-1], i, tanh_c], dim=-1))  # ... tanh' = 1 - g^2
    dz = torch.empty_like(acts)
    dh, dc = _zeros_like_state(d_h, h_seq[0]), _zeros_like_state(d_c, h_seq[0])
    for t in range(steps - 1, -1, -1):
        dh_t = dh if d_out is None else dh + d_out[t]
        if keep is None:
            dct = torch.addcmul(dc, dh_t, k[t])
        else:  # masked rows pass the state gradients straight through to the previous step
            m = keep[t].to(dh.dtype)
            dh_t, dc_new = dh_t * m, dc * m
            dct = torch.addcmul(dc_new, dh_t, k[t])
        torch.mul(torch.cat([dct, dct, dct, dh_t], dim=-1), q[t], out=dz[t])
        if keep is None:
            dc = dct * f[t]
            dh = dz[t] @ weight
        else:
            dc = torch.addcmul(dc - dc_new, dct, f[t])
            dh = torch.addmm(dh - dh * m, dz[t], weight)
    return dz, dz, h_seq, dh, dc


# ----- GRU -------------------------------------------------------------------------------------
def _forward_gru(gx, h, weight, bias, keep):
    """r, z = sigma(gx + W_h h + b_h); n = tanh(gx_n + r (W_hn h + b_hn)); h' = n + z (h - n)."""
    steps, hidden = gx.shape[0], h.shape[-1]
    weight_t = weight.t()
    rz = gx.new_empty(steps, h.shape[0], 2 * hidden)
    n_seq, hn_seq = gx.new_empty(steps, *h.shape), gx.new_empty(steps, *h.shape)
    h_seq = gx.new_empty(steps + 1, *h.shape)
    h_seq[0] = h
    outs = None if keep is None else gx.new_empty(steps, *h.shape)
    for t in range(steps):
        zh = torch.addmm(bias, h, weight_t)
        hn_seq[t] = zh[:, 2 * hidden:]
        r, z = torch.sigmoid(gx[t, :, :2 * hidden] + zh[:, :2 * hidden], out=rz[t]).chunk(2, -1)
        n = torch.tanh(torch.addcmul(gx[t, :, 2 * hidden:], r, hn_seq[t]), out=n_seq[t])
        if keep is None:
            h = torch.addcmul(n, z, h - n, out=h_seq[t + 1])
            continue
        h_new = torch.addcmul(n, z, h - n)
        torch.where(keep[t], h_new, _ZERO.to(h_new), out=outs[t])
        h = torch.where(keep[t], h_new, h, out=h_seq[t + 1])
    return _outputs(h_seq, outs), h.clone(), None, (rz, n_seq, hn_seq, h_seq)


def _backward_gru(saved, d_out, d_h, d_c, weight, keep):
    rz, n, hn, h_seq = saved
    r, z = rz.chunk(2, dim=-1)
    a = (1 - z) * (1 - n * n)  # dn_pre = dh (1 - z) tanh'
    b = (h_seq[:-1] - n) * z * (1 - z)  # dz_pre = dh (h - n) sigma'
    c = hn * r * (1 - r)  # dr_pre = dn_pre (W_hn h + b_hn) sigma'
    scale = torch.cat([torch.ones_like(rz), r], dim=-1)  # the hidden part of n is scaled by r
    steps, hidden = n.shape[0], n.shape[-1]
    dgi, dzh = (n.new_empty(steps, n.shape[1], 3 * hidden) for _ in range(2))
    dh = _zeros_like_state(d_h, h_seq[0])
    for t in range(steps - 1, -1, -1):
        dh_t = dh if d_out is None else dh + d_out[t]
        m = None if keep is None else keep[t].to(dh.dtype)
        if m is not None:
            dh_t = dh_t * m
        dn = torch.mul(dh_t, a[t], out=dgi[t, :, 2 * hidden:])
        torch.mul(dn, c[t], out=dgi[t, :, :hidden])
        torch.mul(dh_t, b[t], out=dgi[t, :, hidden:2 * hidden])
        torch.mul(dgi[t], scale[t], out=dzh[t])
        carried = dh_t * z[t] if m is None else torch.addcmul(dh - dh * m, dh_t, z[t])
        dh = torch.addmm(carried, dzh[t], weight)
    return dgi, dzh, h_seq, dh, None


# ----- RNN -------------------------------------------------------------------------------------
def _forward_rnn(gx, h, weight, keep):
    """h' = tanh(gx + W_hh h)."""
    steps = gx.shape[0]
    weight_t = weight.t()
    h_seq = gx.new_empty(steps + 1, *h.shape)
    h_seq[0] = h
    # Unmasked, the activations are the carried states; masked, they are kept apart.
    acts = h_seq[1:] if keep is None else gx.new_empty(steps, *h.shape)
    outs = None if keep is None else gx.new_empty(steps, *h.shape)
    for t in range(steps):
        h_new = torch.tanh(torch.addmm(gx[t], h, weight_t), out=acts[t])
        if keep is None:
            h = h_new
            continue
        torch.where(keep[t], h_new, _ZERO.to(h_new), out=outs[t])
        h = torch.where(keep[t], h_new, h, out=h_seq[t + 1])
    return _outputs(h_seq, outs), h.clone(), None, (acts, h_seq)


def _backward_rnn(saved, d_out, d_h, d_c, weight, keep):
    acts, h_seq = saved
    deriv = 1 - acts * acts
    dz = torch.empty_like(acts)
    dh = _zeros_like_state(d_h, h_seq[0])
    for t in range(acts.shape[0] - 1, -1, -1):
        dh_t = dh if d_out is None else dh + d_out[t]
        if keep is None:
            dh = torch.mul(dh_t, deriv[t], out=dz[t]) @ weight
        else:
            m = keep[t].to(dh.dtype)
            torch.mul(dh_t * m, deriv[t], out=dz[t])
            dh = torch.addmm(dh - dh * m, dz[t], weight)
    return dz, dz, h_seq, dh, None


def _zeros_like_state(grad: Tensor | None, like: Tensor) -> Tensor:
    return torch.zeros_like(like) if grad is None else grad
