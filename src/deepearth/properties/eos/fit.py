"""``fit``: an isothermal EOS (BM3 or Vinet) fitted to P(V) or E(V) points, with its covariance.

Nonlinear least squares (Levenberg–Marquardt, ``scipy.optimize.least_squares``; ln V0 and ln K0 as
the internal variables so both stay positive) from the BM3 variable-projection start of
:mod:`.start`. The covariance is ``(JᵀWJ)⁻¹`` at the minimum (J the Jacobian in V0, K0, K0' and E0,
W = 1/σ²):

* with point errors (``pressures_stderr_GPa`` / ``energies_stderr_eV``) the points are weighted
  and the covariance is taken as absolute (``absolute_sigma``): χ²_red is then a goodness-of-fit
  check — ≫ 1 means the form or the errors are wrong;
* without them every point has unit weight and the covariance is scaled by χ²/dof, the residual
  variance (Bevington & Robinson 2003, §8.5; ``curve_fit``'s default): errors then assume the form
  is right and the scatter is random. ``method`` says which was done.

``fixed`` holds parameters at given values (``{"K0_prime": 4.0}``: second-order Birch–Murnaghan);
they do not count as fitted parameters (dof) and have zero variance. ``prior`` adds a Gaussian
constraint ``{"K0_prime": (4.0, 0.5)}`` as one more residual (θ − μ)/σ (a penalised, maximum a
posteriori fit; needs point errors so that its weight is defined): five points at 100–140 GPa
cannot fix V0, K0 and K0' alone — in about a quarter of 0.5 %-noise draws the least-squares optimum
lies at K0 → 0, K0' → ∞, which no start can cure, and the fit says so — while a prior on K0' from the
systematics of oxides and silicates (K0' ≈ 4) makes every draw converge. Only numpy and scipy are needed.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

from deepearth.properties.checks import require_at_least, require_finite, require_varies
from deepearth.properties.eos.forms import FORMS
from deepearth.properties.eos.result import PARAMETERS, EOSFit, runs_test_p_value
from deepearth.properties.eos.start import bm3_linear_start, vinet_linear_start

__all__ = ["fit"]

_POSITIVE = ("V0", "K0")
#: K0' beyond which a fit counts as run off to the edge of the parameter space (solids: about 3-8).
_MAX_K0_PRIME = 30.0


def _array(name: str, values, n: int | None = None) -> np.ndarray:
    a = np.atleast_1d(require_finite(f"EOS fit: {name}", values))
    if a.ndim != 1:
        raise ValueError(f"EOS fit: {name} must be a 1-D array, got shape {a.shape}")
    if n is not None and a.size != n:
        raise ValueError(f"EOS fit: {name} has {a.size} values but volumes_A3 has {n}; give one per point")
    return a


def _check_prior(prior, allowed, fixed, weighted: bool) -> dict[str, tuple[float, float]]:
    out = {}
    for k, val in (prior or {}).items():
        if k not in allowed or k in fixed:
            raise ValueError(f"EOS fit: prior on {k!r}: not a free parameter (free: "
                             f"{', '.join(a for a in allowed if a not in fixed)})")
        try:
            mu, sd = (float(x) for x in val)
        except (TypeError, ValueError):
            raise ValueError(f"EOS fit: prior[{k!r}] must be (mean, sigma), got {val!r}") from None
        if not (np.isfinite(mu) and np.isfinite(sd) and sd > 0):
            raise ValueError(f"EOS fit: prior[{k!r}] = ({mu:g}, {sd:g}) needs a finite mean and a sigma > 0")
        out[k] = (mu, sd)
    if out and not weighted:
        raise ValueError("EOS fit: a prior needs point errors (pressures_stderr_GPa or energies_stderr_eV): "
                         "with unit weights its weight is arbitrary")
    return out


def _check_inputs(volumes_A3, pressures_GPa, energies_eV, form, stderr, fixed):
    if form not in FORMS:
        raise ValueError(f"EOS fit: form {form!r} is unknown (one of {', '.join(FORMS)})")
    if (pressures_GPa is None) == (energies_eV is None):
        which = "both were" if pressures_GPa is not None else "neither was"
        raise ValueError(f"EOS fit: give either pressures_GPa or energies_eV ({which} given)")
    energies = energies_eV is not None
    yname = "energies_eV" if energies else "pressures_GPa"
    v = _array("volumes_A3", volumes_A3)
    y = _array(yname, energies_eV if energies else pressures_GPa, v.size)
    if np.any(v <= 0):
        i = int(np.flatnonzero(v <= 0)[0])
        raise ValueError(f"EOS fit: volumes must be > 0 A^3; volumes_A3[{i}] = {v[i]:g}")
    sname = "energies_stderr_eV" if energies else "pressures_stderr_GPa"
    sigma = None
    if stderr is not None:
        sigma = _array(sname, stderr, v.size)
        if np.any(sigma <= 0):
            i = int(np.flatnonzero(sigma <= 0)[0])
            raise ValueError(f"EOS fit: {sname} must be > 0; {sname}[{i}] = {sigma[i]:g}")
    fixed = dict(fixed or {})
    allowed = PARAMETERS if energies else PARAMETERS[1:]
    for k, val in fixed.items():
        if k not in allowed:
            raise ValueError(f"EOS fit: fixed parameter {k!r} is not one of {', '.join(allowed)}")
        if not np.isfinite(val) or (k in _POSITIVE and val <= 0):
            raise ValueError(f"EOS fit: fixed {k} = {val!r} must be finite" + (" and > 0" if k in _POSITIVE else ""))
    free = [p for p in allowed if p not in fixed]
    if not free:
        raise ValueError("EOS fit: every parameter is fixed; nothing to fit")
    why = f"{len(free)} free parameters ({', '.join(free)}) and one spare point for their errors"
    need = max(4, len(free) + 1)
    require_at_least("EOS fit", v.size, need, f"({'V, E' if energies else 'V, P'}) points", why)
    require_at_least("EOS fit", np.unique(v).size, need, "distinct volumes", why)
    require_varies(f"EOS fit: {yname}", y, ["the energy" if energies else "the pressure"],
                   hint="no compression curve to fit")
    if not energies and np.polyfit(v - v.mean(), y, 1)[0] >= 0 and np.mean(y) > 0:
        # under tension, past the spinodal, P rises with V on a BM3 or Vinet curve; under compression never
        raise ValueError("EOS fit: pressures_GPa rise with volume under compression; a compression curve has P "
                         "falling as V grows (check the columns and their units)")
    return v, y, sigma, energies, fixed, free


def _model(form, energies: bool, v: np.ndarray, p: dict) -> np.ndarray:
    if energies:
        return form.energy(v, p["E0"], p["V0"], p["K0"], p["K0_prime"])
    return form.pressure(v, p["V0"], p["K0"], p["K0_prime"])


def _covariance(form, energies, v, w, params: dict, free: list[str], prior: dict) -> np.ndarray:
    """(JᵀWJ)⁻¹ in the free parameters (central-difference Jacobian); ValueError if singular."""
    cols = []
    for name in free:
        h = 1e-6 * max(abs(params[name]), 1e-3)
        up, dn = dict(params), dict(params)
        up[name] += h
        dn[name] -= h
        cols.append((_model(form, energies, v, up) - _model(form, energies, v, dn)) / (2 * h))
    J = np.column_stack(cols) * w[:, None]
    if prior:
        J = np.vstack([J] + [[1 / prior[k][1] if n == k else 0.0 for n in free] for k in prior])
    scale = np.linalg.norm(J, axis=0)
    if not np.all(np.isfinite(J)) or np.any(scale == 0):
        raise ValueError("EOS fit: the parameter covariance is undefined (a parameter does not change the fit); "
                         "spread the volumes over a wider pressure range or fix a parameter")
    _, s, vt = np.linalg.svd(J / scale, full_matrices=False)
    if s[-1] <= 1e-12 * s[0]:
        got = ", ".join(f"{n} = {params[n]:.4g}" for n in free)
        raise ValueError(f"EOS fit: the {v.size} points do not determine {', '.join(free)} (best fit {got}; parameter "
                         "covariance undefined); spread the volumes over a wider pressure range or fix a parameter, "
                         "e.g. fixed={'K0_prime': 4.0}")
    return (vt.T / s**2) @ vt / np.outer(scale, scale)


def _solve(form, energies, v, y, w, start: dict, fixed: dict, free: list[str], prior: dict, max_nfev: int = 1000):
    """Levenberg–Marquardt from ``start``: (params, cost, converged), or None when it broke down; an
    iteration limit reached (converged False) still returns where it went (to say where it ran off to)."""
    def unpack(x):
        p = dict(start, **fixed)
        for name, xi in zip(free, x):
            p[name] = float(np.exp(xi)) if name in _POSITIVE else float(xi)
        return p

    def resid(x):
        p = unpack(x)
        r = (y - _model(form, energies, v, p)) * w
        if prior:
            r = np.concatenate([r, [(p[k] - mu) / sd for k, (mu, sd) in prior.items()]])
        return np.where(np.isfinite(r), r, 1e10)

    x0 = np.array([np.log(start[n]) if n in _POSITIVE else start[n] for n in free], float)
    try:
        with np.errstate(all="ignore"):
            sol = least_squares(resid, x0, method="lm", x_scale="jac", xtol=1e-11, ftol=1e-11, gtol=1e-11,
                                max_nfev=max_nfev)
    except (ValueError, FloatingPointError):
        return None
    if sol.status < 0 or not np.all(np.isfinite(sol.x)):
        return None
    with np.errstate(all="ignore"):
        p = unpack(sol.x)
        r = resid(sol.x)
    if np.any(np.abs(r) >= 1e9):
        return None
    return p, float(r @ r), sol.status > 0


def fit(volumes_A3, pressures_GPa=None, energies_eV=None, form: str = "bm3", *,
        pressures_stderr_GPa=None, energies_stderr_eV=None, fixed: dict[str, float] | None = None,
        guess: dict[str, float] | None = None, prior: dict[str, tuple[float, float]] | None = None) -> EOSFit:
    """Fit an isothermal EOS ``form`` (``"bm3"``: Birch 1947; ``"vinet"``: Vinet et al. 1987) to
    (V, P) points (``pressures_GPa``) or (V, E) points (``energies_eV``) — exactly one of the two.

    Units: volumes Å³ (per cell, atom or formula unit: V0 comes back per the same), pressures and
    K0 GPa, energies eV. ``pressures_stderr_GPa`` / ``energies_stderr_eV``: 1σ per point — a weighted
    fit with an absolute covariance; without them the covariance is scaled by χ²_red (module doc).
    ``fixed``: parameters held (``{"K0_prime": 4.0}`` is BM2; names V0, K0, K0_prime, E0).
    ``guess``: an extra start ({"V0", "K0", "K0_prime", "E0"}); the better of it and the robust BM3
    variable-projection start (:mod:`.start`) is kept. ``prior``: Gaussian constraints
    ``{name: (mean, sigma)}`` on free parameters (module doc); needs point errors.

    Bad input (mismatched arrays, NaN, < 4 points or distinct volumes, both or neither of P and E,
    an unknown form or fixed name, a fit that does not converge, an undefined covariance) raises one
    ``ValueError`` line.
    """
    v, y, sigma, energies, fixed, free = _check_inputs(volumes_A3, pressures_GPa, energies_eV, form,
                                                       energies_stderr_eV if energies_eV is not None
                                                       else pressures_stderr_GPa, fixed)
    prior = _check_prior(prior, PARAMETERS if energies else PARAMETERS[1:], fixed, sigma is not None)
    eos = FORMS[form]
    w = np.ones_like(v) if sigma is None else 1.0 / sigma
    starts = []
    # the BM3 least-squares minimum; BM2 (K0' = 4) and each prior's mean held, in case that runs off;
    # for Vinet P(V) also its own linearisation
    holds = [fixed, dict({"K0_prime": 4.0}, **fixed)] + [dict(fixed, **{k: mu}) for k, (mu, _) in prior.items()]
    for held in holds:
        linear = bm3_linear_start(v, y, 1.0 / w, energies, held)
        if linear is not None:
            starts.append(dict(linear, **fixed))
    if form == "vinet" and not energies:
        linear = vinet_linear_start(v, y, 1.0 / w, fixed)
        if linear is not None:
            starts.append(dict(linear, **fixed))
    if guess:
        base = dict(starts[0]) if starts else {"E0": float(np.min(y)) if energies else 0.0, "V0": float(v.max()),
                                               "K0": 100.0, "K0_prime": 4.0}
        starts.append(dict(base, **{k: float(val) for k, val in guess.items() if k in PARAMETERS}, **fixed))
    best = stray = None
    for k, s in enumerate(starts):
        if s["V0"] <= 0 or s["K0"] <= 0:
            continue
        got = _solve(eos, energies, v, y, w, s, fixed, free, prior)
        if got is not None and not got[2] and 0 < got[0]["K0_prime"] < _MAX_K0_PRIME:  # slow, not running off
            got = _solve(eos, energies, v, y, w, got[0], fixed, free, prior, max_nfev=5000)
        if got is not None and not got[2]:
            stray = got if stray is None or got[1] < stray[1] else stray
        elif got is not None and (best is None or got[1] < best[1]):
            best = got
        if k == 0 and best is not None and form == "bm3" and not prior and 0 < best[0]["K0_prime"] < _MAX_K0_PRIME:
            break  # the BM3 variable-projection start is the global least-squares optimum: nothing to beat
    if best is None and (stray is None or 0 < stray[0]["K0_prime"] < _MAX_K0_PRIME):
        raise ValueError(f"EOS fit: the {form} fit to {v.size} ({'V, E' if energies else 'V, P'}) points did not "
                         "converge; check the units (A^3, GPa, eV) and that the points lie on one compression curve")
    params, chi2, _ = best or stray
    if not 0 < params["K0_prime"] < _MAX_K0_PRIME:
        raise ValueError(f"EOS fit: the {v.size} points do not determine {', '.join(free)}: the best {form} fit runs off "
                         f"to K0 = {params['K0']:.3g} GPa, K0' = {params['K0_prime']:.3g} (no solid has K0' outside "
                         f"0-{_MAX_K0_PRIME:g}); spread the volumes over a wider pressure range or fix a parameter, "
                         "e.g. fixed={'K0_prime': 4.0}, or give a prior")
    cov_free = _covariance(eos, energies, v, w, params, free, prior)
    dof = v.size + len(prior) - len(free)
    chi2_red = chi2 / dof
    if sigma is None:
        cov_free = cov_free * chi2_red
    cov = np.zeros((4, 4))
    idx = [PARAMETERS.index(n) for n in free]
    cov[np.ix_(idx, idx)] = cov_free
    err = np.sqrt(np.diag(cov))
    if not (np.all(np.isfinite(cov)) and all(np.isfinite(params[n]) for n in free)):
        raise ValueError(f"EOS fit: the {form} parameters or their covariance are not finite; "
                         "spread the volumes over a wider pressure range or fix a parameter")
    resid = y - _model(eos, energies, v, params)
    order = np.argsort(v)
    what = "E(V)" if energies else "P(V)"
    if sigma is None:
        cov_note = (f"no point errors given: unit weights, covariance scaled by the residual variance "
                    f"chi2/dof = {chi2_red:.3g} ({'eV' if energies else 'GPa'}^2)")
    else:
        cov_note = f"weighted by the given point errors, absolute covariance (chi2_red = {chi2_red:.3g} is the check)"
    held = f"; fixed {', '.join(f'{k} = {val:g}' for k, val in fixed.items())}" if fixed else ""
    if prior:
        held += ("; Gaussian prior " + ", ".join(f"{k} = {mu:g} +- {sd:g}" for k, (mu, sd) in prior.items())
                 + " (one residual each, counted in chi2 and dof)")
    method = (f"least-squares fit of {what} to the {eos.reference} EOS; Levenberg-Marquardt from the BM3 "
              f"variable-projection start; {cov_note}{held}")
    return EOSFit(
        form=form, data=what, V0=params["V0"], K0=params["K0"], K0_prime=params["K0_prime"],
        V0_stderr=float(err[1]), K0_stderr=float(err[2]), K0_prime_stderr=float(err[3]),
        E0=params["E0"] if energies else None, E0_stderr=float(err[0]) if energies else None,
        covariance=cov.tolist(), fixed={k: float(val) for k, val in fixed.items()}, chi2=chi2,
        chi2_red=chi2_red, dof=int(dof), n_points=int(v.size), weighted=sigma is not None,
        rms_residual=float(np.sqrt(np.mean(resid**2))), runs_p_value=runs_test_p_value(resid[order]),
        volumes_A3=v.tolist(), values=y.tolist(), values_stderr=None if sigma is None else sigma.tolist(),
        residuals=resid.tolist(), method=method, prior={k: [mu, sd] for k, (mu, sd) in prior.items()})
