"""Electronic temperature as a model input (issue #4 item 2): T_el-blind vs T_el-aware vs per-T_el models.

    python benchmarks/tel_demo.py [--workdir runs/benchmarks/tel] [--configs 36] [--steps 4000] [--no-multi]

The same rattled 8-atom MgO cells (a0 3.9, 4.05, 4.2 Å) labelled by GFN1-xTB at T_el = 300, 3000,
6000, 10000 K (label = Mermin free energy); one third of the configurations held out (all their
T_el). Prints, per T_el, the electronic-entropy scale F(T) − F(300 K) and the held-out energy and
force RMSE of each model; writes ``result.json`` and the figures (``deepearth.report.tel_figures``) in the
work directory. GFN1-xTB's near-zero MgO gap makes the entropy term unphysically large: this shows
the machinery, not MgO physics.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
from pathlib import Path

for key in ("OMP_NUM_THREADS", "DP_INTRA_OP_PARALLELISM_THREADS", "DP_INTER_OP_PARALLELISM_THREADS"):
    os.environ.setdefault(key, "1")

from deepearth.potentials.tel import electronic_temperature_demo  # noqa: E402


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workdir", default="runs/benchmarks/tel")
    p.add_argument("--configs", type=int, default=36)
    p.add_argument("--steps", type=int, default=4000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-multi", action="store_true", help="skip the one-model-per-T_el alternative")
    args = p.parse_args(argv)
    res = electronic_temperature_demo(args.workdir, n_configs=args.configs, training_steps=args.steps,
                                      seed=args.seed, multi_model=not args.no_multi)
    res.to_json(Path(args.workdir) / "result.json")
    print(f"# {datetime.date.today()} {platform.node()} {platform.processor() or platform.machine()}, one thread")
    print(res.method)
    print(res.table())
    print("seconds:", {k: round(v, 1) for k, v in res.seconds.items()})
    from deepearth.report.tel_figures import make_figures

    for f in make_figures(res, Path(args.workdir)):
        print("figure:", f)


if __name__ == "__main__":
    main()
