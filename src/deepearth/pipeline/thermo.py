"""The thermodynamic properties a recipe asks for, measured with the final model after production:
``[properties.eos]``, ``[properties.elastic]``, ``[properties.melting]`` (:mod:`deepearth.recipe_thermo`)
and ``[properties.phase]`` on the production replicas.

Each stage runs its workflow on the context's executor with the production engine and writes one
record atomically, ``results/<eos|elastic|melting|phase>.json``, holding the recipe's section
(``section``), the model (``model``: member 0's file, relative to the run directory) and the workflow's
``to_dict()``; the files the workflows write (EOS points table, stress series, coexistence frames)
go to ``properties/<name>/``.

- **EOS** (:func:`~deepearth.pipeline.eos_scan.eos_scan`): the system's crystal (a liquid: its random
  packing) rescaled at every point to the reference's static volume for P
  (:func:`deepearth.pipeline.stages.reference_eos`; a liquid × :data:`~deepearth.pipeline.stages.LIQUID_START_VOLUME`).
- **Elastic** (:func:`~deepearth.pipeline.elastic_md.elastic_constants_md`, and with ``static_check``
  :func:`~deepearth.pipeline.elastic_static.static_elastic_constants` at each P): one task per (P, T),
  from the crystal at the reference's static volume for P; the record is rewritten after each task, so a
  killed run keeps its finished points.
- **Melting** (:func:`~deepearth.pipeline.melting.coexistence_melting`): one layer of the coexistence
  cell is the system's unit cell (a conventional cell; a structure file's own cell) repeated ``layer``
  times in plane (built again from its ``[system]`` keys), scaled to the reference's static volume per
  atom for P; member 0, or every committee member (``committee``: their spread of T_m enters the error
  budget).
- **Phase** (:func:`~deepearth.properties.phase.identify_phase`): every production state point.

Reuse on a resume (the ``properties`` keys are free, :mod:`deepearth.pipeline.resume`): a complete
record whose section and model equal the recipe's and the final model's is kept; any other is
recomputed (elastic: the finished points of an unfinished record with the same section and model are
kept). A record holding an error is recomputed. MD stops, like production, when a configuration
leaves the model's training envelope (``production.envelope_tolerance``).
Units: GPa, K, Å³, fs.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ase import Atoms

from deepearth.files import json_ready
from deepearth.md.engine import Engine, MDGuard
from deepearth.pipeline import melting as melting_workflow
from deepearth.pipeline import stages
from deepearth.pipeline.context import RunContext
from deepearth.pipeline.elastic_md import ElasticMDSettings, elastic_constants_md
from deepearth.pipeline.elastic_static import static_elastic_constants
from deepearth.pipeline.eos_scan import EOSScanSettings, eos_scan
from deepearth.potentials.envelope import load_envelope
from deepearth.potentials.registry import load_potential
from deepearth.properties import read_trajectory
from deepearth.properties.phase import identify_phase
from deepearth.rundir import point_name
from deepearth.structures.build import build_system

__all__ = ["elastic", "elastic_task", "eos", "eos_task", "melting", "melting_task", "phase", "reusable",
           "thermo_properties"]

log = logging.getLogger("deepearth")


def _guard(model: str, tolerance: float) -> MDGuard:
    return MDGuard(envelope=load_envelope(model), envelope_tolerance=tolerance)


def eos_task(start: Atoms, model: str, pressures: list[float], temperatures: list[float], settings: dict,
             engine: Engine, volumes: dict[float, float], table: str, tolerance: float) -> dict:
    """The EOS scan of ``start`` with ``model`` (one executor task): every point from ``start`` at
    ``volumes[P]`` (Å³); the points table written to ``table``; the result's ``to_dict()``."""
    s = EOSScanSettings(**settings, guard=_guard(model, tolerance))
    res = eos_scan(start, load_potential(model), pressures, temperatures, s, engine,
                   volume_guess=lambda P, T: volumes[float(P)])
    res.write_table(table)
    return res.to_dict()


def elastic_task(kind: str, start: Atoms, model: str, P: float, T: float | None, settings: dict, engine: Engine,
                 out_dir: str, tolerance: float, symmetry: str | None) -> dict:
    """One (P, T) of stress–strain MD (``kind = "md"``) or the 0 K constants at P (``"static"``) of
    ``start`` with ``model`` (one executor task). A fit that cannot be made or MD that blows up is
    returned as ``error`` (one line), not raised."""
    head = {"P_GPa": float(P)} if kind == "static" else {"P_GPa": float(P), "T_K": float(T)}
    calc = load_potential(model)
    try:
        if kind == "static":
            res = static_elastic_constants(start, calc, pressure_GPa=P, symmetry=symmetry)
        else:
            s = ElasticMDSettings(**settings, symmetry=symmetry, guard=_guard(model, tolerance))
            res = elastic_constants_md(start, calc, P, T, engine, s, out_dir=out_dir)
    except (ValueError, RuntimeError) as exc:  # MDBlowUp is a RuntimeError
        return {**head, "error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
    return json_ready({**head, **res.to_dict()})


def melting_task(layer: Atoms, models: dict[str, str], P: float, temperatures: list[float], settings: dict,
                 engine: Engine, replicas: int, seed: int, out_dir: str) -> dict:
    """The coexistence bracket at ``P`` (one executor task): ``models`` by member label (one: run as
    the only model); the :class:`~deepearth.pipeline.melting.MeltingRun` dict."""
    calcs = {k: load_potential(m) for k, m in models.items()}
    run = melting_workflow.coexistence_melting(
        layer, calcs if len(calcs) > 1 else next(iter(calcs.values())), P, temperatures,
        settings=melting_workflow.CoexistenceSettings(**settings), engine=engine, replicas=replicas, seed=seed,
        out_dir=out_dir)
    return json_ready(run.to_dict())


# -- records ---------------------------------------------------------------------------------------
def _model(ctx: RunContext, path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ctx.rundir.root.resolve()))
    except ValueError:
        return str(path)


def reusable(record: dict | None, section: dict, model: str) -> bool:
    """Whether a record may be kept: complete, without an error, made with this section and model."""
    return (isinstance(record, dict) and record.get("section") == section and record.get("model") == model
            and "error" not in record and record.get("complete", True))


def _head(ctx: RunContext, name: str, models: list[Path], converged: bool) -> tuple[dict, dict | None]:
    """The record's head (section, model, system, model_converged) and the old record when reusable."""
    spec = getattr(ctx.recipe.properties, name)
    head = {"section": json_ready(spec.model_dump(mode="json")), "model": _model(ctx, models[0]),
            "system": getattr(spec, "system", ""), "model_converged": converged}
    old = ctx.rundir.read_result(name)
    if reusable(old, head["section"], head["model"]):
        log.info("properties.%s: results/%s.json made with this section and model: kept", name, name)
        return head, old
    return head, None


def _one(ctx: RunContext, fn, task: tuple, what: str) -> tuple[dict | None, str]:
    """Run one task on the executor: (value, "") or (None, its error line)."""
    ctx.progress.start(f"properties: {what}", 1)
    res = next(iter(ctx.executor.map(fn, [task])))
    ctx.progress.advance()
    ctx.progress.finish()
    return (res.value, "") if res.ok else (None, res.error.splitlines()[0] if res.error else "failed")


#: Longest error text in a run flag (the whole text is in the results file).
FLAG_CHARS = 400


def _flag(name: str, what: str, error: str) -> str:
    """``properties.<name>: <what> (<error>)``, the error cut to :data:`FLAG_CHARS`."""
    if len(error) > FLAG_CHARS:
        error = error[:FLAG_CHARS] + f" ... (whole message in results/{name}.json)"
    return f"properties.{name}: {what} ({error})"


def _folder(ctx: RunContext, name: str) -> Path:
    out = ctx.rundir.root / "properties" / name
    out.mkdir(parents=True, exist_ok=True)
    return out


# -- stages ----------------------------------------------------------------------------------------
def eos(ctx: RunContext, models: list[Path], converged: bool) -> list[str]:
    """``[properties.eos]`` → ``results/eos.json`` (:func:`~deepearth.pipeline.eos_scan.eos_scan`'s dict
    under the head); returns the run's flags."""
    spec = ctx.recipe.properties.eos
    head, old = _head(ctx, "eos", models, converged)
    if old is None:
        system = ctx.system(spec.system)
        ref = stages.reference_eos(ctx, system)
        factor = stages.LIQUID_START_VOLUME if system.builder == "liquid" else 1.0
        volumes = {float(p): factor * ref.volume(p) for p in spec.pressures_GPa}
        start = stages.fresh_start(ctx, system, spec.pressures_GPa[0], ctx.seed(7, 0))
        prior = {"K0_prime": tuple(spec.K0_prime_prior)} if spec.K0_prime_prior else None
        settings = dict(steps=spec.steps, equilibration_steps=spec.equilibration_steps, timestep_fs=spec.timestep_fs,
                        sample_interval=spec.sample_interval, replicas=spec.replicas, n_blocks=spec.n_blocks,
                        seed=ctx.seed(7, 1), form=spec.form, prior=prior)
        n = len(spec.pressures_GPa) * len(spec.temperatures_K)
        ctx.set_stage(f"properties: EOS of {system.name} ({n} points x {spec.replicas} replicas)")
        table = _folder(ctx, "eos") / "points.txt"
        value, error = _one(ctx, eos_task, (start, str(models[0]), list(spec.pressures_GPa), list(spec.temperatures_K),
                                            settings, ctx.production_engine, volumes, str(table),
                                            ctx.recipe.production.envelope_tolerance), "EOS scan")
        start_text = ("the crystal at the reference's static volume for P" if factor == 1 else
                      f"a random packing at {factor:g} x the crystal's static volume for P")
        old = {**head, "error": error} if error else {**head, **value, "start": start_text,
                                                      "table": str(table.relative_to(ctx.rundir.root))}
        ctx.rundir.write_result("eos", old)
    if "error" in old:
        return [_flag("eos", "not measured", old["error"])]
    lost = [p for p in old["points"] if not p["replicas"]]
    flags = [f"properties.eos: isotherm {f['T_K']:g} K not fitted: {f['error']}" for f in old["isotherms"]
             if "error" in f]
    if lost:
        flags.append(f"properties.eos: {len(lost)} of {len(old['points'])} state points lost every replica "
                     "(results/eos.json, notes)")
    return flags


def elastic(ctx: RunContext, models: list[Path], converged: bool) -> list[str]:
    """``[properties.elastic]`` → ``results/elastic.json``: ``points`` (one per (P, T): an
    :class:`~deepearth.properties.elastic.ElasticResult` dict or ``error``) and ``static`` (one per P
    with ``static_check``); returns the run's flags."""
    spec = ctx.recipe.properties.elastic
    head, old = _head(ctx, "elastic", models, converged)
    if old is None:
        prev = ctx.rundir.read_result("elastic") or {}
        same = prev.get("section") == head["section"] and prev.get("model") == head["model"]
        rec = {**head, "points": [p for p in prev.get("points", []) if same and "error" not in p],
               "static": [p for p in prev.get("static", []) if same and "error" not in p], "complete": False}
        system = ctx.system(spec.system)
        ref = stages.reference_eos(ctx, system)
        names = ("strain", "timestep_fs", "npt_equilibration_steps", "npt_steps", "nvt_equilibration_steps",
                 "nvt_steps", "sample_interval", "n_blocks")
        settings = {k: getattr(spec, k) for k in names}
        settings["components"] = tuple(spec.components)
        want = [("md", p, t) for p in spec.P_GPa for t in spec.temperatures_K]
        want += [("static", p, None) for p in spec.P_GPa] if spec.static_check else []
        done = {(p["P_GPa"], p["T_K"]) for p in rec["points"]} | {(p["P_GPa"], None) for p in rec["static"]}
        todo = [(k, p, t) for k, p, t in dict.fromkeys(want) if (p, t) not in done]
        tasks = []
        for j, (kind, p, t) in enumerate(todo):
            out = _folder(ctx, "elastic") / (point_name(p, t) if t is not None else f"P{p:g}-static")
            tasks.append((kind, stages.scaled(system.atoms, ref.volume(p)), str(models[0]), p, t,
                          {**settings, "seed": ctx.seed(8, want.index((kind, p, t)))}, ctx.production_engine, str(out),
                          ctx.recipe.production.envelope_tolerance, spec.symmetry))
        ctx.set_stage(f"properties: elastic constants of {system.name} ({len(todo)} of {len(want)} runs to do)")
        ctx.progress.start("properties: elastic constants", len(want), done=len(want) - len(todo))
        for res in ctx.executor.map(elastic_task, tasks):
            kind, p, t = todo[res.index]
            value = res.value if res.ok else {"P_GPa": p, **({"T_K": t} if t is not None else {}), "error": res.error}
            rec["static" if kind == "static" else "points"].append(value)
            ctx.rundir.write_result("elastic", rec)  # a killed run keeps what finished
            ctx.progress.advance()
        ctx.progress.finish()
        order = {(p, t): k for k, (_, p, t) in enumerate(want)}
        rec["points"].sort(key=lambda x: order.get((x["P_GPa"], x.get("T_K")), 0))
        rec["static"].sort(key=lambda x: x["P_GPa"])
        old = {**rec, "complete": True}
        ctx.rundir.write_result("elastic", old)
    where = lambda x: f"{x['P_GPa']:g} GPa" + (f", {x['T_K']:g} K" if "T_K" in x else " (0 K)")  # noqa: E731
    return [_flag("elastic", f"not measured at {where(x)}", x["error"]) for x in old["points"] + old["static"]
            if "error" in x]


def _layer(ctx: RunContext, name: str, layer: tuple[int, int], P_GPa: float) -> Atoms:
    """One layer of the coexistence cell: the system's conventional cell repeated ``layer`` in plane,
    at the reference's static volume per atom for ``P_GPa``."""
    system = ctx.system(name)
    s = system.spec
    base = Path(ctx.recipe.source).parent if ctx.recipe.source else Path.cwd()
    atoms = build_system(s.structure, s.formula, s.lattice_constant_A, (layer[0], layer[1], 1), base,
                         seed=ctx.recipe.seed)
    per_atom = stages.reference_eos(ctx, system).volume(P_GPa) / len(system.atoms)
    return stages.scaled(atoms, per_atom * len(atoms))


def melting(ctx: RunContext, models: list[Path], converged: bool) -> list[str]:
    """``[properties.melting]`` → ``results/melting.json`` (the
    :class:`~deepearth.pipeline.melting.MeltingRun` dict under the head, with ``members``); returns the
    run's flags (no bracket: the workflow's message with the next T to try)."""
    spec = ctx.recipe.properties.melting
    head, old = _head(ctx, "melting", models, converged)
    if old is None:
        members = {f"member-{k}": str(m) for k, m in enumerate(models if spec.committee else models[:1])}
        layer = _layer(ctx, spec.system, spec.layer, spec.P_GPa)
        names = ("n_layers", "timestep_fs", "lattice_steps", "T_melt_factor", "T_melt_K", "melt_steps", "quench_steps",
                 "equilibrate_steps", "check_steps", "crystal_steps", "join_steps", "run_steps", "sample_every",
                 "n_blocks", "liquid_start")
        settings = {k: getattr(spec, k) for k in names}
        n = len(spec.temperatures_K) * spec.replicas * len(members)
        ctx.set_stage(f"properties: melting of {spec.system} at {spec.P_GPa:g} GPa ({n} coexistence runs of "
                      f"{len(layer) * spec.n_layers} atoms)")
        value, error = _one(ctx, melting_task, (layer, members, spec.P_GPa, list(spec.temperatures_K), settings,
                                                ctx.production_engine, spec.replicas, ctx.seed(9, 0),
                                                str(_folder(ctx, "melting"))), "coexistence melting")
        old = {**head, "error": error} if error else {**head, "members": list(members), "layer_atoms": len(layer),
                                                      **value}
        ctx.rundir.write_result("melting", old)
    if "error" in old:
        return [_flag("melting", "no bracket", old["error"])]
    flags = [f"properties.melting: {n}" for n in old.get("notes", [])]
    b = old["bracket"]
    return flags + ([] if b.get("bracketed") else [f"properties.melting: {b.get('message', 'no bracket')}"])


def phase(ctx: RunContext, replicas: dict) -> list[str]:
    """``[properties.phase]`` → ``results/phase.json``: the phase of every production state point
    (``replicas``: :func:`deepearth.pipeline.transport.production`'s); recomputed on every run (cheap)."""
    spec = ctx.recipe.properties.phase
    if spec is None:
        return []
    ctx.set_stage("properties: phase of the production state points")
    names = {s.folder: s.name for s in ctx.systems}
    points, flags = [], []
    for (folder, P, T), reps in replicas.items():
        head = {"system": names.get(folder, folder), "P_GPa": P, "T_K": T}
        trajs = [read_trajectory(r.trajectory) for r in reps if not r.blow_up]
        try:
            if not trajs:
                raise ValueError("every replica blew up")
            res = identify_phase(trajs, D_threshold=spec.D_threshold_m2_per_s, q6_threshold=spec.q6_threshold,
                                 T_K=T, P_GPa=P, min_fit_start_ps=spec.min_fit_start_ps)
        except ValueError as exc:
            points.append({**head, "error": str(exc).splitlines()[0]})
            flags.append(f"properties.phase at {P:g} GPa, {T:g} K: not judged ({points[-1]['error']})")
            continue
        points.append({**head, **res.to_dict()})
        log.info("phase at %g GPa, %g K: %s", P, T, res.phase)
    ctx.rundir.write_result("phase", {"section": json_ready(spec.model_dump(mode="json")), "points": points})
    return flags


def thermo_properties(ctx: RunContext, models: list[Path], converged: bool) -> list[str]:
    """Every ``[properties.eos|elastic|melting]`` section of the recipe, in that order, with the final
    committee ``models`` (member 0 first); returns the run's flags."""
    flags: list[str] = []
    for name, stage in (("eos", eos), ("elastic", elastic), ("melting", melting)):
        if getattr(ctx.recipe.properties, name) is not None:
            flags += stage(ctx, models, converged)
    return flags
