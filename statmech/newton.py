"""Vectorised damped Newton for many independent 2x2 fixed-point problems (numpy).

Shared by ``statmech.storage`` (numpy reference ``_newton_numpy``; the compiled kernel there is
the same algorithm, one point at a time) and ``statmech.learning``.
"""
from __future__ import annotations

import numpy as np


def damped_newton_2x2(equations, x, y, fix_x, tol, maxiter, lambdas, max_damped=None,
                      x_floor=0.0, y_floor=0.0):
    """Solve R(x, y) = (X(x, y) - x, Y(x, y) - y) = 0 at many points at once (1-D arrays).

    Method: Newton with the analytic Jacobian A = J - 1 of the residual (J the Jacobian of the
    map (X, Y)); step length by Deuflhard's natural monotonicity test: the simplified Newton
    correction A^-1 R(x + lam dx) with the old A must satisfy |.| <= (1 - lam/2) |dx| (or the
    trial residual is already <= tol). The full step lam = 1 is tried for every point, then the
    shorter steps ``lambdas`` of the points that failed in one batched evaluation, the largest
    acceptable one being taken. ``fix_x`` points keep x fixed and solve for y alone.

    A point is stopped with converged = False when: its Newton step is not finite; its line
    search fails; it collapses onto the trivial solution (|x| < x_floor, or y < y_floor for a
    ``fix_x`` point) without having converged; (``max_damped`` given) it needed more than
    ``max_damped`` damped steps; its residual did not halve within 5 iterations (stagnation).

    equations(idx, xt, yt): residuals and map Jacobian at the trial points (xt, yt) of the
    subset ``idx`` (an index array; None for all points) -> (Rx, Ry, J, ok, aux): J the four
    entries (Jxx, Jxy, Jyx, Jyy) (a (4, k) array or a tuple), ok the feasibility mask, aux an
    extra per-point array carried along with the accepted steps (or None).

    Returns x, y, aux, residual (max norm), converged, iterations, J (4, n) at the last iterate.
    """
    x = np.array(x, dtype=np.float64)
    y = np.array(y, dtype=np.float64)
    n = x.size
    Rx, Ry, J, ok, aux = equations(None, x, y)
    Rx[fix_x] = 0.0
    J = np.array(J)                                   # (4, n): Jxx, Jxy, Jyx, Jyy
    res = np.maximum(np.abs(Rx), np.abs(Ry))
    conv = res <= tol
    dead = ~ok
    its = np.zeros(n, dtype=np.int64)
    res_ref = res.copy()
    damped = np.zeros(n, dtype=np.int64)
    any_fix = fix_x.any()
    for it in range(maxiter):
        act = np.flatnonzero(~conv & ~dead)
        if act.size == 0:
            break
        its[act] += 1
        a11, a12, a21, a22 = J[:, act]
        a11 = a11 - 1.0
        a22 = a22 - 1.0
        rx, ry = Rx[act], Ry[act]
        fx = fix_x[act]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            det = a11 * a22 - a12 * a21
            dx = (ry * a12 - rx * a22) / det
            dy = (rx * a21 - ry * a11) / det
            if any_fix:
                dx[fx] = 0.0
                dy[fx] = -ry[fx] / a22[fx]
        finite = np.isfinite(dx) & np.isfinite(dy)
        if not finite.all():
            dead[act[~finite]] = True
            act, dx, dy, a11, a12, a21, a22, det, fx = (v[finite] for v in (act, dx, dy, a11, a12, a21, a22, det, fx))
        norm0 = dx * dx + dy * dy          # natural monotonicity test: |A^-1 R| must shrink
        # step length: the full step for everyone, then the shorter steps of the points that
        # failed, in one batched evaluation (the largest acceptable one is taken)
        pending = np.arange(act.size)
        for lam in (None, lambdas):
            if pending.size == 0:
                break
            if lam is None:
                nl, sel, lt = 1, pending, 1.0
            else:
                nl = lam.size
                sel = np.repeat(pending, nl)
                lt = np.tile(lam, pending.size)
            idx = act[sel]
            xt = x[idx] + lt * dx[sel]
            yt = y[idx] + lt * dy[sel]
            rxt, ryt, Jt, okt, auxt = equations(idx, xt, yt)
            ff = fx[sel]
            if any_fix:
                rxt[ff] = 0.0
            # simplified Newton correction at the trial point with the old Jacobian A = J - 1
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                bx = (ryt * a12[sel] - rxt * a22[sel]) / det[sel]
                by = (rxt * a21[sel] - ryt * a11[sel]) / det[sel]
                if any_fix:
                    bx[ff] = 0.0
                    by[ff] = -ryt[ff] / a22[sel][ff]
                acc = okt & ((bx * bx + by * by <= (1 - 0.5 * lt) ** 2 * norm0[sel])
                             | (np.maximum(np.abs(rxt), np.abs(ryt)) <= tol))
            if nl == 1:
                hit, pick = acc, np.flatnonzero(acc)
            else:
                acc = acc.reshape(pending.size, nl)
                hit = acc.any(axis=1)
                pick = np.flatnonzero(hit) * nl + acc[hit].argmax(axis=1)   # largest acceptable step
            ia = act[pending[hit]]
            if nl > 1:
                damped[ia] += 1
            x[ia], y[ia], Rx[ia], Ry[ia] = xt[pick], yt[pick], rxt[pick], ryt[pick]
            if aux is not None:
                aux[ia] = auxt[pick]
            J[:, ia] = np.asarray(Jt)[:, pick]
            pending = pending[~hit]
        dead[act[pending]] = True
        res[act] = np.maximum(np.abs(Rx[act]), np.abs(Ry[act]))
        conv[act] = res[act] <= tol
        # collapse onto the trivial solution: not the branch sought
        collapsed = np.where(fix_x[act], y[act] < y_floor, np.abs(x[act]) < x_floor)
        dead[act[collapsed & ~conv[act]]] = True
        if max_damped is not None:
            dead[(damped > max_damped) & ~conv] = True
        if it % 5 == 4:   # stagnation (e.g. Newton wandering near a fold's ghost, no root)
            dead[(res > 0.5 * res_ref) & ~conv] = True
            res_ref = res.copy()
    return x, y, aux, res, conv, its, J
