"""Universal-potential baselines on real PBE data: how far does an off-the-shelf model get without our data?

    OMP_NUM_THREADS=1 python benchmarks/baselines.py [--models chgnet-0.3.0,sevennet-0] [--per-T 16]

Data and split as ``benchmarks/backends.py`` (so the numbers sit next to its trained models):
``tests/data/casio3-melt-pbe`` (VASP PBE, 135-atom Ca27Si27O81 melt at 2500/3000/4000 K,
7.3–20.4 Å³/atom, up to 129 GPa), held-out frames = the last 20 % of each block of 10 consecutive AIMD
snapshots at one T and V (16 / 16 / 22 frames); ``--per-T N`` takes N of them per T, evenly spaced.
The baselines saw none of these frames either way (they were trained on MPtrj).

Reported per model and temperature: RMSE of the energy per atom (meV/atom) **after removing one
mean energy offset per atom** (fitted over all held-out frames of that model: its energy zero is not
our PBE's — for CHGNet also the MP2020 O correction), the raw offset (meV/atom), force components
(eV/Å), stress components (GPa, model stress = −virial/V as in ``validation_errors``), and seconds per
135-atom frame on one thread (the machine is shared: ±20 %). Baselines whose package is missing are
listed as skipped.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from backends import TEMPS, split_frames  # noqa: E402  (benchmarks/ is on sys.path for its scripts)


def held_out(per_T: int | None) -> dict[int, list]:
    """The held-out frames of ``benchmarks/backends.py`` per temperature (optionally N evenly spaced)."""
    test = split_frames()[1]
    for temp, frames in test.items():
        for a in frames:
            a.info["temperature_K"] = float(temp)
        if per_T and per_T < len(frames):
            test[temp] = [frames[i] for i in np.linspace(0, len(frames) - 1, per_T).round().astype(int)]
    return test


def score(name: str, test: dict[int, list]) -> dict:
    """Per temperature: (E after offset meV/atom, F eV/Å, S GPa, n); plus offset and s/frame."""
    from deepearth.reference.universal import UniversalEvaluator
    from deepearth.units import EV_PER_A3_TO_GPA

    t0 = time.perf_counter()
    ev = UniversalEvaluator(name)
    load_s = time.perf_counter() - t0
    rows, times = {}, []
    for temp, frames in test.items():
        de, df, ds = [], [], []
        for a in frames:
            t = time.perf_counter()
            e, f, w = ev.evaluate(a.positions, a.cell.array, a.get_chemical_symbols())
            times.append(time.perf_counter() - t)
            de.append((e - a.get_potential_energy()) / len(a))
            df.append(np.ravel(f - a.get_forces()))
            ds.append(np.ravel(-w / a.get_volume() - a.get_stress(voigt=False)))
        rows[temp] = (np.array(de), np.concatenate(df), np.concatenate(ds))
    offset = float(np.mean(np.concatenate([r[0] for r in rows.values()])))  # one composition: one offset per atom
    out = {temp: (1e3 * np.sqrt(np.mean((de - offset) ** 2)), np.sqrt(np.mean(df ** 2)),
                  EV_PER_A3_TO_GPA * np.sqrt(np.mean(ds ** 2)), len(de)) for temp, (de, df, ds) in rows.items()}
    allde = np.concatenate([r[0] for r in rows.values()])
    out["all"] = (1e3 * np.sqrt(np.mean((allde - offset) ** 2)),
                  np.sqrt(np.mean(np.concatenate([r[1] for r in rows.values()]) ** 2)),
                  EV_PER_A3_TO_GPA * np.sqrt(np.mean(np.concatenate([r[2] for r in rows.values()]) ** 2)), len(allde))
    return {"errors": out, "offset_meV": 1e3 * offset, "s_per_frame": float(np.median(times)), "load_s": load_s}


def main() -> None:
    from deepearth.reference.universal import BASELINES, BaselineUnavailable

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(BASELINES), help="comma-separated baseline names")
    parser.add_argument("--per-T", type=int, default=None, help="held-out frames per temperature (default: all)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    test = held_out(args.per_T)
    print("held-out frames: " + ", ".join(f"{t} K: {len(f)}" for t, f in test.items()), flush=True)
    head = ("| baseline | " + " | ".join(f"{t} K" for t in TEMPS) + " | all | E offset (meV/atom) | s/frame |\n"
            "|---|" + "---|" * (len(TEMPS) + 3))
    lines = []
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        try:
            res = score(name, test)
        except BaselineUnavailable as exc:
            lines.append(f"| {name} | skipped: {exc} |")
            print(lines[-1], flush=True)
            continue
        cells = [f"{e:.1f} / {f:.3f} / {s:.2f}" for e, f, s, _ in (res["errors"][k] for k in (*TEMPS, "all"))]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {res['offset_meV']:+.0f} | {res['s_per_frame']:.2f} |")
        print(lines[-1], flush=True)
    print("\nCells: RMSE energy meV/atom (after removing the mean per-atom offset, column 'E offset' = model − PBE) "
          "/ force eV/Å / stress GPa; s/frame: median, 135 atoms, one thread.")
    print(head)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
