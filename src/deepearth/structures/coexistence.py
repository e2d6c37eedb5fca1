"""Solid–liquid coexistence cells: a crystal and its melt side by side along one axis.

:func:`coexistence_cell` repeats a crystal ``n_layers`` times along ``axis``; the upper half is then
either melted in place (the lower half's atoms held by :class:`ase.constraints.FixAtoms` through a
Langevin NVT melt at ``T_melt_K`` and a Langevin NVT cooling to ``T_K``; Langevin because its
thermostat acts per atom, so the moving atoms get the target temperature whatever the number of fixed
ones, which a Nosé–Hoover chain counting 3N degrees of freedom would not), or replaced by a given
liquid block whose in-plane cell is rescaled to the crystal's and whose length is set so that it
keeps its own density (the density at P if it came from :func:`~deepearth.structures.liquid.melt_quench`).
The constraint is then removed and a short run (isotropic MTK NPT at ``P_GPa`` by default, the only
barostat :class:`~deepearth.md.engine.ASEEngine` has; or NVT at the built volume) must keep two interfaces.

Solid or liquid, per atom (:func:`lattice_match_order`): the fraction of an atom's ideal first-shell
bond vectors (taken from the input crystal, in fractional coordinates, so they follow the cell)
that some current neighbour matches within ``tol`` × the nearest-neighbour distance, averaged over
the last sampled frames. A crystal near melting scores ~0.9–1 (bond-vector rms ≈ √2 × Lindemann
0.1 r₁, well inside 0.25 r₁); a liquid ~0.15–0.25 (the chance that one of ~12 random neighbours
falls within 0.25 r₁ of a given direction). Atoms at ≥ 0.5 are solid. Growth from the melt is epitaxial,
so it is recognised too. The profile of the solid fraction along the axis must cross 0.5 exactly
twice (two interfaces); otherwise ``RuntimeError`` with the profile.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.constraints import FixAtoms
from ase.neighborlist import neighbor_list

from deepearth.md.engine import ASEEngine, Engine, MDSettings
from deepearth.structures.checks import check_timestep
from deepearth.structures.liquid import (require_atoms, require_calculator, require_positive,
                                         require_steps)
from deepearth.units import KB_EV_PER_K, stress_to_pressure_gpa

#: Neighbours within this factor of an atom's nearest-neighbour distance make its ideal first shell.
SHELL_FACTOR = 1.1
#: A reference bond is matched by a neighbour within this fraction of the nearest-neighbour distance.
MATCH_TOL = 0.25
#: Atoms whose score reaches this are solid.
SOLID_SCORE = 0.5
#: After the in-place melt, at least this fraction of the liquid half must score liquid (the planes
#: next to the fixed crystal stay templated by it: 2 of n_layers planes of an fcc [001] stack).
MIN_MELTED = 2 / 3


def reference_bonds(crystal: Atoms, shell_factor: float = SHELL_FACTOR) -> tuple[np.ndarray, np.ndarray]:
    """Per-atom ideal first-shell bond vectors of ``crystal`` in fractional coordinates of its cell
    (N, K, 3; padded with NaN) and each atom's nearest-neighbour distance (N,), Å."""
    d_nn = np.full(len(crystal), np.inf)
    # the densest packing (fcc/hcp) has d_nn = 1.12 (V/N)^(1/3): 1.6 (V/N)^(1/3) holds every first shell
    i, d = neighbor_list("iD", crystal, 1.6 * (crystal.get_volume() / len(crystal)) ** (1 / 3))
    r = np.linalg.norm(d, axis=1)
    np.minimum.at(d_nn, i, r)
    if not np.isfinite(d_nn).all():
        raise ValueError("crystal: an atom has no neighbour (is it a crystal?)")
    keep = r <= shell_factor * d_nn[i]
    i, d = i[keep], d[keep]
    counts = np.bincount(i, minlength=len(crystal))
    ref = np.full((len(crystal), counts.max(), 3), np.nan)
    slot = np.concatenate([np.arange(c) for c in counts])
    order = np.argsort(i, kind="stable")
    ref[i[order], slot] = d[order] @ np.linalg.inv(crystal.cell.array)
    return ref, d_nn


def lattice_match_order(positions: np.ndarray, cell: np.ndarray, ref_frac: np.ndarray, d_nn: np.ndarray,
                        tol: float = MATCH_TOL) -> np.ndarray:
    """Per-atom score in [0, 1]: the fraction of the atom's reference bonds (``ref_frac``, fractional,
    from :func:`reference_bonds`) matched by a current neighbour within ``tol × d_nn``; ``positions``
    (N, 3) Å in ``cell`` (3, 3), or (F, N, 3) frames in one cell (then averaged over frames)."""
    pos = np.asarray(positions, dtype=float)
    if pos.ndim == 3:
        return np.mean([lattice_match_order(p, cell, ref_frac, d_nn, tol) for p in pos], axis=0)
    cell = np.asarray(cell, dtype=float)
    ref = ref_frac @ cell  # (N, K, 3), NaN padding stays NaN
    n_ref = np.isfinite(ref[..., 0]).sum(axis=1)
    cutoff = float(np.nanmax(np.linalg.norm(ref, axis=-1)) + tol * d_nn.max())
    atoms = Atoms(positions=pos, cell=cell, pbc=True)
    i, d = neighbor_list("iD", atoms, cutoff)
    dist = np.linalg.norm(d[:, None, :] - ref[i], axis=-1)  # (pairs, K)
    hit = np.nan_to_num(dist, nan=np.inf) < (tol * d_nn[i])[:, None]
    matched = np.zeros(ref.shape[:2], dtype=bool)
    np.logical_or.at(matched, i, hit)
    return matched.sum(axis=1) / np.maximum(n_ref, 1)


def solid_profile(frac_axis: np.ndarray, solid: np.ndarray, n_bins: int) -> tuple[np.ndarray, list[float]]:
    """Solid fraction per bin of the fractional coordinate along the axis, and the (fractional,
    interpolated) positions where this periodic profile crosses 0.5."""
    b = np.minimum((np.mod(frac_axis, 1.0) * n_bins).astype(int), n_bins - 1)
    n = np.bincount(b, minlength=n_bins)
    s = np.bincount(b, weights=solid.astype(float), minlength=n_bins)
    prof = np.divide(s, n, out=np.full(n_bins, 0.5), where=n > 0)
    crossings = []
    for k in range(n_bins):
        a, c = prof[k] - 0.5, prof[(k + 1) % n_bins] - 0.5
        if (a >= 0) != (c >= 0):
            t = a / (a - c)
            crossings.append(float(((k + 0.5 + t) / n_bins) % 1.0))
    return prof, sorted(crossings)


def _join_liquid(solid_block: Atoms, liquid: Atoms, axis: int, gap: float) -> tuple[Atoms, float]:
    """``solid_block`` + ``liquid`` along ``axis``: the liquid's in-plane cell set to the solid's, its
    length to keep its volume, its atoms pulled in by ``gap`` Å from both faces (no atom sits on a
    crystal plane; the constrained relaxation lets the liquid refill those gaps). Returns the cell and
    the fractional extent of the solid along the axis."""
    cs = solid_block.cell.array
    for k in ((axis + 1) % 3, (axis + 2) % 3):
        ratio = np.linalg.norm(cs[k]) / np.linalg.norm(liquid.cell.array[k])
        if not 0.9 < ratio < 1.1:
            raise ValueError(f"liquid: its cell vector {k} ({np.linalg.norm(liquid.cell.array[k]):.3g} Å) would be "
                             f"rescaled by {ratio:.3g} to the crystal's cross-section; make the liquid with an "
                             "in-plane cell within 10 % of the crystal block's (rescaling further distorts it)")
    liq = liquid.copy()
    liq.set_constraint()
    frac = liq.get_scaled_positions(wrap=True)
    normal = np.cross(cs[(axis + 1) % 3], cs[(axis + 2) % 3])
    area = np.linalg.norm(normal)
    h_solid = abs(cs[axis] @ (normal / area))
    h_liq = liq.get_volume() / area
    axis_dir = cs[axis] / h_solid  # the crystal's axis vector, per unit height
    frac[:, axis] = (gap + frac[:, axis] * (h_liq - 2 * gap)) / h_liq
    new_cell = cs.copy()
    new_cell[axis] = axis_dir * h_liq
    liq.set_cell(new_cell, scale_atoms=False)
    liq.set_scaled_positions(frac)
    liq.positions += axis_dir * h_solid
    total = cs.copy()
    total[axis] = axis_dir * (h_solid + h_liq)
    out = solid_block.copy()
    out.set_constraint()
    out.extend(liq)
    out.set_cell(total, scale_atoms=False)
    return out, h_solid / (h_solid + h_liq)


def coexistence_cell(crystal: Atoms, liquid: Atoms | None = None, axis: int = 2,
                     calculator: Calculator | None = None, T_K: float | None = None, P_GPa: float = 0.0,
                     n_layers: int = 6, seed: int = 0, *, engine: Engine | None = None,
                     T_melt_K: float | None = None, crystal_steps: int = 200, melt_steps: int = 1000,
                     cool_steps: int = 500, run_steps: int = 500, ensemble: str = "npt", timestep_fs: float = 1.0,
                     sample_every: int = 10, average_frames: int = 5, check: bool = True) -> Atoms:
    """A solid–liquid coexistence cell at (``T_K``, ``P_GPa``), crystal and melt along ``axis``.

    ``crystal`` is the periodic crystal (already at its lattice at (T, P): scale it first, e.g. from
    an NPT run), repeated ``n_layers`` times along ``axis``; the lower ``n_layers // 2`` repeats stay
    crystal. The crystal is first thermalised at ``T_K`` (``crystal_steps`` of Langevin NVT) and its
    atoms are then held there (FixAtoms) until the final run, where they resume with the velocities
    they had. With ``liquid=None`` the rest is melted in place at ``T_melt_K`` (default 2 × ``T_K``,
    ``melt_steps``) with the crystal fixed, then cooled to ``T_K`` (``cool_steps``); at the crystal's
    density, so its pressure is above ``P_GPa`` until the final NPT run relaxes the volume
    (isotropically: the crystal's in-plane lattice is strained by a fraction of the melting volume
    change; ``info["coexistence"]["in_plane_strain"]`` says how much). With a ``liquid`` block (e.g.
    from :func:`~deepearth.structures.liquid.melt_quench` at the same T, P), it is joined at the
    crystal's cross-section at its own density (its atoms kept 0.25 r₁ off the faces), then relaxed for
    ``cool_steps`` with the crystal fixed. Finally ``run_steps`` of ``ensemble`` ("npt": isotropic MTK
    at ``P_GPa``; "nvt": Nosé–Hoover at the built volume) with no constraint.

    Returns the Atoms with ``arrays["phase"]`` (0 solid, 1 liquid, by :func:`lattice_match_order` at
    the end), ``arrays["phase_initial"]`` (the halves as built), ``arrays["solid_score"]``,
    ``info["interface_normal"]`` (unit vector), ``info["interface_positions_A"]`` (where the solid
    fraction profile crosses 0.5 after the run, Å along the normal from the cell origin) and
    ``info["coexistence"]`` (solid fraction in each half, profile, T and P means, protocol). With
    ``check`` it raises ``RuntimeError`` unless exactly two interfaces remain, the solid half is
    mostly solid and the liquid half mostly liquid.
    """
    require_atoms("crystal", crystal)
    if liquid is not None:
        require_atoms("liquid", liquid)
    if isinstance(axis, bool) or axis not in (0, 1, 2):
        raise ValueError(f"axis must be 0, 1 or 2, got {axis!r}")
    require_calculator(calculator)
    T_K = require_positive("T_K", T_K)
    T_melt_K = 2.0 * T_K if T_melt_K is None else require_positive("T_melt_K", T_melt_K)
    if not np.isfinite(float(P_GPa)):
        raise ValueError(f"P_GPa must be finite, got {P_GPa!r}")
    n_layers = require_steps("n_layers", n_layers, 2)
    timestep_fs = require_positive("timestep_fs", timestep_fs)
    check_timestep(timestep_fs, crystal.get_chemical_symbols() + ([] if liquid is None else
                                                                liquid.get_chemical_symbols()), "timestep_fs")
    melt_steps = require_steps("melt_steps", melt_steps, 0 if liquid is not None else 1)
    cool_steps = require_steps("cool_steps", cool_steps, 0)
    crystal_steps = require_steps("crystal_steps", crystal_steps, 0)
    sample_every = require_steps("sample_every", sample_every, 1)
    average_frames = require_steps("average_frames", average_frames, 1)
    run_steps = require_steps("run_steps", run_steps, sample_every)
    if ensemble not in ("npt", "nvt"):
        raise ValueError(f"ensemble must be 'npt' or 'nvt', got {ensemble!r}")
    engine = ASEEngine() if engine is None else engine

    def settings(ens, T, steps, init, **kw):
        return MDSettings(ens, T, steps, timestep_fs=timestep_fs, pressure_GPa=float(P_GPa), seed=seed,
                          init_velocities=init, **kw)

    reps = [1, 1, 1]
    reps[axis] = n_layers
    xtal = crystal.copy()
    xtal.set_constraint()
    xtal.wrap()
    # put the layer boundaries mid-way between atomic planes (the unit's gap across its cell face)
    f = xtal.get_scaled_positions()[:, axis]
    xtal.positions += ((1.0 - f.max() + f.min()) / 2 - f.min()) * xtal.cell.array[axis]
    xtal.wrap()
    n_solid_layers = n_layers // 2
    if liquid is None:
        cell = xtal.repeat(reps)
        layer = np.floor(cell.get_scaled_positions()[:, axis] * n_layers).astype(int) % n_layers
        phase0 = (layer >= n_solid_layers).astype(int)
        ref, d_nn = reference_bonds(cell)
        solid_extent = n_solid_layers / n_layers
        if crystal_steps:
            engine.run(cell, calculator, settings("nvt", T_K, crystal_steps, True, thermostat="langevin"))
    else:
        sreps = list(reps)
        sreps[axis] = n_solid_layers
        block = xtal.repeat(sreps)
        ref_s, dnn_s = reference_bonds(block)
        if crystal_steps:
            engine.run(block, calculator, settings("nvt", T_K, crystal_steps, True, thermostat="langevin"))
        cell, solid_extent = _join_liquid(block, liquid, axis, gap=0.25 * float(dnn_s.min()))
        phase0 = np.r_[np.zeros(len(block), int), np.ones(len(liquid), int)]
        # a liquid atom is judged against the bonds of the crystal's first site of its element
        first = {z: (np.flatnonzero(block.numbers == z)[:1].tolist() or [0])[0] for z in set(liquid.numbers)}
        site = np.r_[np.arange(len(block)), [first[z] for z in liquid.numbers]].astype(int)
        # the bonds are fractional in the block's cell: rescale them to the longer built cell
        scale = np.ones(3)
        scale[axis] = np.linalg.norm(block.cell.array[axis]) / np.linalg.norm(cell.cell.array[axis])
        ref, d_nn = ref_s[site] * scale, dnn_s[site]
    cell_built = cell.cell.array.copy()
    cell.arrays["phase_initial"] = phase0
    solid_idx = np.flatnonzero(phase0 == 0)

    p_solid = cell.get_momenta()[solid_idx]
    cell.set_constraint(FixAtoms(indices=solid_idx))
    melted = None
    if liquid is None:
        engine.run(cell, calculator, settings("nvt", T_melt_K, melt_steps, True, thermostat="langevin"))
        score = lattice_match_order(cell.positions, cell.cell.array, ref, d_nn)
        melted = float(np.mean(score[phase0 == 1] < SOLID_SCORE))
        if check and melted < MIN_MELTED:
            raise RuntimeError(f"the liquid half did not melt at T_melt_K={T_melt_K:g} in melt_steps={melt_steps}: "
                               f"only {melted:.0%} of its atoms score liquid (need {MIN_MELTED:.0%}); "
                               "raise T_melt_K or melt_steps")
    if cool_steps:
        init = liquid is not None and not np.any(liquid.get_momenta())
        engine.run(cell, calculator, settings("nvt", T_K, cool_steps, init, thermostat="langevin"))
    cell.set_constraint()
    # the crystal resumes with the velocities it had when it was frozen (a thermal state at T_K), or,
    # held on ideal sites (crystal_steps=0), with velocities at 2 T_K (equipartition halves them);
    # the liquid keeps its own; the total momentum is zeroed
    p = cell.get_momenta()
    if crystal_steps:
        p[solid_idx] = p_solid
    else:
        m = cell.get_masses()[solid_idx, None]
        rng = np.random.default_rng(seed + 17)
        p[solid_idx] = rng.standard_normal((len(solid_idx), 3)) * np.sqrt(m * KB_EV_PER_K * 2.0 * T_K)
    p -= cell.get_masses()[:, None] * (p.sum(axis=0) / cell.get_masses().sum())
    cell.set_momenta(p)

    frames, T, P = [], [], []

    def observe(atoms, step):
        frames.append((atoms.get_positions(), atoms.cell.array.copy()))
        T.append(atoms.get_temperature())
        P.append(stress_to_pressure_gpa(atoms.get_stress(include_ideal_gas=True)))

    engine.run(cell, calculator, settings(ensemble, T_K, run_steps, False, observers=[(observe, sample_every)]))

    last = frames[-average_frames:]
    score = np.mean([lattice_match_order(p, c, ref, d_nn) for p, c in last], axis=0)
    solid = score >= SOLID_SCORE
    final_cell = cell.cell.array
    frac = (cell.positions @ np.linalg.inv(final_cell))[:, axis]
    n_bins = max(2 * n_layers, 8)
    prof, cross = solid_profile(frac, solid, n_bins)
    in_solid_region = np.mod(frac, 1.0) < solid_extent
    f_solid_in_solid = float(solid[in_solid_region].mean()) if in_solid_region.any() else float("nan")
    f_solid_in_liquid = float(solid[~in_solid_region].mean()) if (~in_solid_region).any() else float("nan")
    normal = np.cross(final_cell[(axis + 1) % 3], final_cell[(axis + 2) % 3])
    normal /= np.linalg.norm(normal)
    height = abs(final_cell[axis] @ normal)
    in_plane = [(axis + 1) % 3, (axis + 2) % 3]
    strain = float(np.mean([np.linalg.norm(final_cell[k]) / np.linalg.norm(cell_built[k]) - 1 for k in in_plane]))

    cell.arrays["phase"] = (~solid).astype(int)
    cell.arrays["solid_score"] = score
    cell.info["interface_normal"] = [float(x) for x in np.eye(3)[axis]] if np.allclose(
        np.abs(normal), np.eye(3)[axis]) else [float(x) for x in normal]
    cell.info["interface_positions_A"] = [float(c * height) for c in cross]
    cell.info["coexistence"] = {
        "axis": axis, "T_K": T_K, "P_GPa": float(P_GPa), "ensemble": ensemble,
        "built_interface_positions_A": [0.0, float(solid_extent * height)],
        "solid_fraction_in_solid_half": f_solid_in_solid,
        "solid_fraction_in_liquid_half": f_solid_in_liquid,
        "liquid_half_melted_fraction": melted,
        "solid_profile": [float(x) for x in prof],
        "n_interfaces": len(cross),
        "T_mean_K": float(np.mean(T[len(T) // 2:])), "P_mean_GPa": float(np.mean(P[len(P) // 2:])),
        "in_plane_strain": strain, "volume_A3": float(cell.get_volume()),
        "crystal_steps": crystal_steps, "T_melt_K": T_melt_K if liquid is None else None,
        "melt_steps": melt_steps if liquid is None else 0,
        "cool_steps": cool_steps, "run_steps": run_steps, "timestep_fs": timestep_fs, "seed": seed,
        "liquid_source": "melted in place" if liquid is None else "given block",
    }
    if check:
        problems = []
        if len(cross) != 2:
            problems.append(f"{len(cross)} interfaces instead of 2")
        if not f_solid_in_solid >= 0.5:
            problems.append(f"the solid half is only {f_solid_in_solid:.0%} solid (it melted)")
        if not f_solid_in_liquid < 0.5:
            problems.append(f"the liquid half is {f_solid_in_liquid:.0%} solid (it crystallised)")
        if problems:
            raise RuntimeError(f"coexistence at {T_K:g} K, {float(P_GPa):g} GPa lost its interfaces after "
                               f"{run_steps} steps: " + "; ".join(problems)
                               + f"; solid-fraction profile along axis {axis}: "
                               + " ".join(f"{x:.2f}" for x in prof))
    return cell
