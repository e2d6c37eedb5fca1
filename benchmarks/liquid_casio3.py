"""Melt–quench of CaSiO3 with a POD model trained on PBE melt frames (tests/data/casio3-melt-pbe).

The quickstart MgO model cannot make a liquid (benchmarks/liquid_mgo.py: no short-range repulsion,
blow-ups above 7000 K); a model trained on first-principles melt can. Trains one POD model on the three
PBE files (``deepearth.potentials.training.train_from_frames``, ≈ 80 s on one core), builds cubic
davemaoite 3×3×3 (135 atoms) at the melt frames' density, melts it (NVT, 5000 K), quenches it to
3000 K and 3 GPa (NPT) and runs the liquid check over 6 ps (``deepearth.structures.melt_quench``).

    OMP_NUM_THREADS=1 python benchmarks/liquid_casio3.py [WORKDIR]
"""

import sys
import tempfile
import time
from pathlib import Path

from ase.io import read

import deepearth
from deepearth.potentials.training import train_from_frames
from deepearth.reference import read_frames
from deepearth.structures import melt_quench, mineral, supercell
from deepearth.units import A2_PER_PS_TO_M2_PER_S

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "casio3-melt-pbe"


def main(workdir: Path) -> None:
    t0 = time.time()
    frames = [a for T in (2500, 3000, 4000) for a in read_frames(DATA / f"train_{T}K.xyz")]
    res = train_from_frames(frames, "pod", workdir / "pod")
    t_train = time.time() - t0
    calc = deepearth.load_potential(res.models[0])
    crystal = supercell(mineral("davemaoite"), n_atoms=135)
    ref = read(DATA / "train_3000K.xyz", index=0)
    crystal.set_cell(crystal.cell.array * (ref.get_volume() / len(ref) * len(crystal) / crystal.get_volume()) ** (1 / 3),
                     scale_atoms=True)
    t1 = time.time()
    liquid = melt_quench(crystal, calc, T_melt_K=5000, T_K=3000, P_GPa=3.0, melt_steps=1500, quench_steps=1500,
                         equilibrate_steps=1000, check_steps=6000, timestep_fs=1.0, melt_ensemble="nvt", seed=1)
    c = liquid.info["liquid_check"]
    print("| quantity | value |\n|---|---|")
    print(f"| training (1 POD model, {res.n_train} frames) | {t_train:.0f} s; held-out F RMSE "
          f"{res.held_out['rmse_force_eV_per_A']:.3f} eV/Å |")
    print(f"| melt–quench + check ({len(crystal)} atoms, 11000 steps) | {time.time() - t1:.0f} s |")
    print(f"| NVT window | {c['T_mean_K']:.0f} K, {c['P_mean_GPa']:.2f} GPa, {c['volume_A3'] / len(liquid):.2f} Å³/atom |")
    print(f"| MSD slope (all atoms) | {c['msd_slope_A2_per_ps']:.2f} Å²/ps → D ≈ "
          f"{c['msd_slope_A2_per_ps'] / 6 * A2_PER_PS_TO_M2_PER_S:.2e} m²/s; exponent {c['msd_exponent']:.2f} |")
    print(f"| largest g(r) beyond the first shell | {c['rdf_max_g_after_first_shell']:.2f} ({c['rdf_max_g_pair']}) |")
    print(f"| liquid | {c['is_liquid']} |")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="liquid-casio3-")))
