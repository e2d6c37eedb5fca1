"""Production MD and what is measured on it: D per system, species and region, Arrhenius laws, and
the W-isotope model fed by the grain-boundary law.

- **State points**: ``[[production.cases]]`` (system × pressures × temperatures), or for a recipe
  without cases ``production.points`` of its one system. Each point runs ``production.replicas``
  replicas; a replica starts from the last trusted exploration frame at (P, T) or the next lower
  temperature (``exploration.continue_from_last``; a liquid is then already molten), else fresh.
- **Regions** (:func:`region_of`): ``gb`` counts an atom's displacement over a lag only while it
  stays within ``gb_width_A/2`` of a boundary plane for the whole lag (the estimator's
  :class:`~deepearth.properties.trajectory.Region` rule; the bicrystal's two boundaries, half a cell
  apart, are both used); ``grain`` likewise for atoms farther than ``gb_width_A`` from both planes.
  This is our treatment, not the W paper's (it averages the MSD of the atoms *initially* in the slab,
  Peng et al. 2025, Methods): an atom that leaves is not followed into the grain, so D_GB is not
  diluted by lattice diffusion, and the MSD across the thin slab is biased low (the estimator says so).
  The planes are placed at the built bicrystal's fractional positions in each frame's cell.
- **Arrhenius** (:func:`arrhenius_laws`): one fit per (system, species, region) over the diffusive
  points (ΔH, or ΔE and ΔV with covariance when the pressures differ), ``results/arrhenius.json``.
- **W isotopes** (:func:`w_isotopes`): ``[geophysics.w_isotopes]`` turns the 'gb' fit (and the
  'grain' fit as the lattice D, if there is one) into D_eff, diffusion length and OIB μ182W with
  Monte-Carlo bands (SCIENCE.md §5), ``results/w_isotopes.json``.
Units: GPa, K, m²/s, Å.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from deepearth.geophysics.w_isotopes import exchange_from_arrhenius
from deepearth.md.production import ReplicaTask, run_replica
from deepearth.parallel import map_or_raise
from deepearth.pipeline import stages
from deepearth.pipeline.context import RunContext
from deepearth.pipeline.systems import CampaignSystem, state_point
from deepearth.properties import Region, arrhenius_fit, diffusion_coefficient, from_diffusion_results, read_trajectory
from deepearth.properties.arrhenius import ArrheniusResult
from deepearth.rundir import ReplicaResult

log = logging.getLogger("deepearth")

PointKey = tuple[str, float, float]  # (system folder, P GPa, T K)


def production_points(ctx: RunContext) -> list[tuple[CampaignSystem, float, float]]:
    """Every (system, P GPa, T K) production runs at, in recipe order, each once."""
    pr = ctx.recipe.production
    if not pr.cases:
        return [(ctx.systems[0], p.P_GPa, p.T_K) for p in pr.points]
    out: list[tuple[CampaignSystem, float, float]] = []
    for case in pr.cases:
        for p, t in case.points:
            item = (ctx.system(case.system), p, t)
            if item not in out:
                out.append(item)
    return out


def production(ctx: RunContext, model: Path, iterations: int) -> dict[PointKey, list[ReplicaResult]]:
    """Production MD replicas at every state point; results by (system folder, P GPa, T K).
    ``iterations``: how many exploration iterations ran (their frames are the continued starts)."""
    pr = ctx.recipe.production
    points = production_points(ctx)
    ctx.set_stage(f"production MD: {len(points)} points x {pr.replicas} replicas")
    tasks, keys = [], []
    for j, (system, p, t) in enumerate(points):
        start = stages.start_structure(ctx, system, p, t, iterations)
        for r in range(pr.replicas):
            tasks.append((ReplicaTask(str(ctx.rundir.replica_dir(p, t, r, system.folder)), str(model), start, p, t, pr,
                                      ctx.production_engine, ctx.seed(3, j, r), system=system.folder),))
            keys.append((system.folder, p, t))
    replicas: dict[PointKey, list[ReplicaResult]] = {k: [] for k in keys}
    ctx.progress.start("production MD", len(tasks))
    for i, res in map_or_raise(ctx.executor, run_replica, tasks, "production replica"):
        replicas[keys[i]].append(res)
        where = state_point(*keys[i])
        if res.blow_up:
            log.warning("replica at %s stopped: %s", where, res.blow_up)
        else:
            log.info("replica done: %s -> <T> %.0f K, <P> %.1f GPa", where, res.T_mean_K, res.P_mean_GPa)
        ctx.progress.advance()
    ctx.progress.finish()
    return {k: sorted(v, key=lambda r: r.trajectory) for k, v in replicas.items()}


def replica_flags(replicas: dict[PointKey, list[ReplicaResult]]) -> list[str]:
    """One line per production replica that blew up (its frames are not used for properties)."""
    return [f"production replica{' ' + Path(r.trajectory).parent.name if r.trajectory else ''} at "
            f"{state_point(s, p, t)} stopped: {r.blow_up}" for (s, p, t), reps in replicas.items() for r in reps if r.blow_up]


def region_of(system: CampaignSystem, name: str, cell: np.ndarray) -> Region | None:
    """The :class:`Region` of ``name`` ('all': ``None``; 'gb', 'grain') in a trajectory whose cell
    (3×3, Å) is ``cell``: the built bicrystal's boundary planes at the same fractional height."""
    if name == "all":
        return None
    built = system.atoms
    z_b = np.asarray(built.info["boundary_positions_A"], dtype=float)
    scale = np.linalg.norm(np.asarray(cell)[2]) / np.linalg.norm(built.cell[2])
    width = float(system.spec.grain_boundary.gb_width_A) * scale
    planes = 2 if len(z_b) == 2 else 1
    if name == "gb":
        return Region("z", float(z_b[0]) * scale, width, planes=planes)
    return Region("z", float(z_b[0]) * scale, 2 * width, planes=planes, outside=True)


def _cases(ctx: RunContext) -> list[tuple[CampaignSystem, list[str], list[tuple[float, float]], list[str]]]:
    """(system, species, points, regions) of every case; a recipe without cases: its one system,
    ``properties.diffusion.species`` (empty: every element), ``production.points``, 'all'."""
    pr, spec = ctx.recipe.production, ctx.recipe.properties.diffusion
    if pr.cases:
        return [(ctx.system(c.system), c.species, c.points, c.regions) for c in pr.cases]
    return [(ctx.systems[0], spec.species, [(p.P_GPa, p.T_K) for p in pr.points], ["all"])]


def diffusion(ctx: RunContext, replicas: dict[PointKey, list[ReplicaResult]], model_converged: bool = True) -> list[dict]:
    """D per case, state point, species and region from the replicas that ran to the end
    (``results/diffusion.json``: each entry a :class:`~deepearth.properties.DiffusionResult` dict with
    ``system`` (campaigns), ``region`` and ``model_converged``). A state point whose replicas all blew up,
    or a region no atom stays in, has none (logged)."""
    spec = ctx.recipe.properties.diffusion
    ctx.set_stage("properties: diffusion")
    out = []
    for system, species, points, regions in _cases(ctx):
        elements = species or sorted(set(system.atoms.get_chemical_symbols()))
        for p, t in points:
            trajs = [read_trajectory(r.trajectory) for r in replicas.get((system.folder, p, t), []) if not r.blow_up]
            if not trajs:
                log.warning("no diffusion coefficient at %s%g GPa, %g K: every replica blew up", system.label_prefix, p, t)
                continue
            for sp in elements:
                for name in regions:
                    region = region_of(system, name, trajs[0].cells_A[0])
                    try:
                        res = diffusion_coefficient(trajs, species=sp, min_fit_start_ps=spec.min_fit_start_ps, T_K=t,
                                                    P_GPa=p, region=region)
                    except ValueError as exc:
                        log.warning("no D(%s) in region %s of %s at %g GPa, %g K: %s", sp, name, system.name, p, t, exc)
                        continue
                    # the estimator's label names the slab (its position scales with each cell): the element
                    # and the region name group the rows, the slab is kept beside them
                    row = {**res.to_dict(curves=True), "species": sp, "region": name,
                           "region_slab": None if region is None else region.to_dict(), "model_converged": model_converged,
                           **({"system": system.name} if system.folder else {})}
                    out.append(row)
                    log.info("D(%s%s) at %s%g GPa, %g K = %.3e +/- %.3e m^2/s (window %.2f-%.2f ps%s)", sp,
                             "" if name == "all" else f", {name}", system.label_prefix, p, t, res.D_m2_per_s,
                             res.D_stderr_m2_per_s, *res.fit_window_ps, "" if res.diffusive else ", not diffusive")
    ctx.rundir.write_result("diffusion", out)
    return out


def arrhenius_laws(ctx: RunContext, rows: list[dict]) -> list[dict]:
    """One Arrhenius fit per (system, species, region) with diffusive D at ≥ 2 temperatures
    (``results/arrhenius.json``); a group that cannot be fitted gets ``not_fitted`` with the reason."""
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r.get("system", ""), r["species"], r["region"]), []).append(r)
    out = []
    for (system, species, region), items in groups.items():
        head = {"system": system, "species": species, "region": region}
        usable = [r for r in items if r.get("diffusive")]
        if len({r["T_K"] for r in usable}) < 2:
            if len({r["T_K"] for r in items}) >= 2:
                out.append({**head, "not_fitted": f"diffusive at {len(usable)} of {len(items)} state points: an "
                                                  "Arrhenius law needs 2 temperatures"})
            continue
        try:
            fit = arrhenius_fit(*from_diffusion_results(usable, species=species), species=species)
        except ValueError as exc:
            out.append({**head, "not_fitted": str(exc)})
            continue
        log.info("Arrhenius law of D(%s) in %s%s: %s %.0f +/- %.0f kJ/mol over %d points", species,
                 f"{system} " if system else "", region, "dH" if fit.activation_kind == "dH" else "dE", fit.value,
                 fit.stderr, len(usable))
        out.append({**head, **fit.to_dict(), "n_points": len(usable)})
    ctx.rundir.write_result("arrhenius", out)
    return out


def w_isotopes(ctx: RunContext, laws: list[dict]) -> dict | None:
    """``[geophysics.w_isotopes]`` from the run's grain-boundary law (``results/w_isotopes.json``);
    ``None`` (logged) when the section is absent or the law could not be fitted."""
    spec = ctx.recipe.geophysics.w_isotopes
    if spec is None:
        return None
    folder = ctx.system(spec.system).folder
    key = lambda region: next((x for x in laws if (x["system"], x["species"], x["region"]) == (folder, spec.species, region)
                               and "not_fitted" not in x), None)  # noqa: E731
    gb, grain = key("gb"), key("grain")
    if gb is None:
        log.warning("geophysics.w_isotopes: no Arrhenius law of D(%s) in the grain boundary of %s: model not run",
                    spec.species, spec.system)
        return None
    ctx.set_stage("geophysics: W isotopes from the grain-boundary law")
    gb_fit = ArrheniusResult.from_dict(gb, source="results/arrhenius.json (gb)")
    lattice = ArrheniusResult.from_dict(grain, source="results/arrhenius.json (grain)") if grain else None
    res = exchange_from_arrhenius(gb_fit, spec.T_K, spec.P_GPa, spec.pgz_height_km, spec.grain_size_mm * 1e-3, lattice,
                                  spec.D_lattice_m2_per_s, spec.gb_width_nm * 1e-9, spec.time_gyr, seed=ctx.recipe.seed)
    out = {**spec.model_dump(), **res, "lattice": "grain-interior law" if lattice else
           f"D_lattice_m2_per_s = {spec.D_lattice_m2_per_s:g} (given)"}
    ctx.rundir.write_result("w_isotopes", out)
    first = res["results"][0]
    log.info("W isotopes at %g K, %g GPa: D_eff %.2e m^2/s, OIB mu182W %.3f (PGZ %g km)%s", spec.T_K, spec.P_GPa,
             first["D_eff_m2_per_s"]["median"], first["oib_mu182w"]["median"], first["pgz_height_km"],
             " (extrapolated beyond the fit's temperatures)" if res["extrapolated"] else "")
    return out
