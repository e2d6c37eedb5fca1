"""Production MD outside what a model learned: the final model of a finished run (by default the
quickstart's) driven at temperatures above its grid, each replica's outcome printed as a table.

    OMP_NUM_THREADS=1 python benchmarks/outside_envelope.py [RUN_DIR] [T_K ...]

Before issue 17 the quickstart model ran away at 8000 K (T → 1.7 × 10⁵ K once O–O fell to 1.4 Å)
and at 10,000 K within 0.64 ps; a replica must now stop with the envelope it left.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from deepearth.md.engine import ASEEngine
from deepearth.md.production import ReplicaTask, run_replica
from deepearth.pipeline.stages import scaled
from deepearth.potentials.envelope import load_envelope
from deepearth.recipe import Recipe
from deepearth.files import read_json, read_toml
from deepearth.rundir import RunDir
from deepearth.structures.build import build_system


def main() -> int:
    run = RunDir(sys.argv[1] if len(sys.argv) > 1 else "runs/mgo-quickstart", create=False)
    temps = [float(t) for t in sys.argv[2:]] or [5000.0, 8000.0, 10000.0]
    recipe = Recipe.model_validate(read_toml(run.recipe_file, "recipe copy"))
    model = run.root / read_json(run.summary_file)["final_model"]
    env = load_envelope(model)
    print(f"model {model}: envelope of {env.n_frames} frames, closest pairs "
          + ", ".join(f"{k} {v:.2f} Å" for k, v in env.min_pair_distance_A.items()))
    s = recipe.system
    structure = build_system(s.structure, s.formula, s.lattice_constant_A, s.supercell, Path.cwd())
    eos = read_json(run.result_file("reference_eos"))
    from deepearth.properties.eos import BirchMurnaghan3

    v = BirchMurnaghan3(eos["V0_A3"], eos["K0_GPa"], eos["K0_prime"]).volume(140.0)
    pr = recipe.production.model_copy(update={"equilibration_steps": 500, "steps": 2000, "replicas": 1})
    print(f"| T (K) | outcome (140 GPa, NPT 0.5 ps then NVT 2 ps) | wall (s) |\n|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for t in temps:
            t0 = time.time()
            res = run_replica(ReplicaTask(f"{tmp}/T{t:g}", str(model), scaled(structure, v), 140.0, t, pr,
                                          ASEEngine(), seed=1))
            what = res.blow_up or f"ran to the end: <T> {res.T_mean_K:.0f} K, <P> {res.P_mean_GPa:.1f} GPa"
            print(f"| {t:g} | {what} | {time.time() - t0:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
