"""eos_scan: NPT over a (P, T) grid with EMT copper (⟨P⟩ at its target, K0 next to EMT's static K0),
and the plumbing of fits, thermal EOS, table and blow-ups with a scripted engine (no MD)."""

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.singlepoint import SinglePointCalculator

from deepearth.md.engine import ASEEngine, MDBlowUp
from deepearth.pipeline.eos_scan import EOSScanSettings, eos_scan
from deepearth.properties import eos
from deepearth.units import GPA_TO_EV_PER_A3


def copper():
    from emt_copper import write_copper  # noqa: F401  (the shared EMT copper helpers: same 32-atom cell)

    return bulk("Cu", "fcc", a=3.61, cubic=True).repeat((2, 2, 2))


@pytest.fixture(scope="module")
def static_eos():
    """EMT copper's static E(V) fit: K0 ≈ 134 GPa."""
    a = copper()
    v, e = [], []
    for s in np.linspace(0.95, 1.04, 8):
        b = a.copy()
        b.set_cell(a.cell * s, scale_atoms=True)
        b.calc = EMT()
        v.append(b.get_volume())
        e.append(b.get_potential_energy())
    return eos.fit(v, energies_eV=e)


def test_emt_copper_npt_scan(static_eos):
    """Four pressures at 300 K, 150 NPT steps of 3 fs each, started at the static volume (+0.8 %): ⟨P⟩ is at
    its target within its block error, and the 300 K isotherm's K0 lies a little below the static one."""
    settings = EOSScanSettings(steps=120, equilibration_steps=30, timestep_fs=3.0, sample_interval=5, n_blocks=8,
                               pdamp_fs=500.0, form="bm3")
    r = eos_scan(copper(), EMT(), [0.0, 7.0, 14.0, 21.0], [300.0], settings, engine=ASEEngine(),
                 volume_guess=lambda P, T: 1.008 * static_eos.volume(P))
    assert r.n_atoms == 32 and r.engine == "ase" and len(r.points) == 4 and not r.notes
    for p in r.points:
        assert abs(p.P_GPa - p.P_target_GPa) < 4 * p.P_stderr_GPa + 0.3, p
        assert 0 < p.V_stderr_A3 < 0.01 * p.V_A3 and 200 < p.T_mean_K < 400
        assert p.msd_A2 < 0.1  # a crystal at 300 K: atoms vibrate, they do not diffuse
    fit = r.isotherms[0]
    assert fit["T_K"] == 300.0 and r.thermal is None  # one isotherm: no thermal EOS
    assert 0.75 * static_eos.K0 < fit["K0"] < static_eos.K0 + 3 * fit["K0_stderr"]
    assert fit["V0"] > static_eos.V0  # thermal expansion


class ScriptedEngine:
    """Stands in for MD: every observed frame sits at the volume of a Mie–Grüneisen solid at (P, T),
    V(P, T) from P = P_vinet(V) + γ/V · 3 N k_B (T − 300), γ = 1.5, with a little noise."""

    name = "scripted"

    def __init__(self, fail_at=None, diffuse_at=None):
        self.rng = np.random.default_rng(0)
        self.fail_at = fail_at
        self.diffuse_at = diffuse_at  # (P, T) where the atoms random-walk (a melt)

    def run(self, atoms, calc, s):
        if self.fail_at == (s.pressure_GPa, s.temperature_K):
            self.fail_at = None  # the first replica there blows up, the second does not
            raise MDBlowUp("close contact at step 3", step=3)
        n = len(atoms)
        e_th = 3 * n * 8.617333262e-5 * (s.temperature_K - 300.0)
        v0 = 11.8 * n

        def pressure(v):
            return eos.vinet_pressure(v, v0, 140.0, 4.5) + 1.5 / v * e_th / GPA_TO_EV_PER_A3

        lo, hi = 0.5 * v0, 1.3 * v0
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if pressure(mid) > s.pressure_GPa else (lo, mid)
        for step in range(0, s.steps + 1):
            for fn, k in s.observers:
                if step % k == 0:
                    v = lo * (1 + 2e-4 * self.rng.standard_normal())
                    atoms.set_cell(atoms.cell.array * (v / atoms.get_volume()) ** (1 / 3), scale_atoms=True)
                    if self.diffuse_at == (s.pressure_GPa, s.temperature_K):
                        atoms.positions += 0.3 * self.rng.standard_normal((n, 3))
                    p = pressure(v) + 0.05 * self.rng.standard_normal()
                    stress = -np.array([p, p, p, 0, 0, 0]) * GPA_TO_EV_PER_A3
                    energy = -3.0 * n + e_th + 0.01 * self.rng.standard_normal()
                    atoms.calc = SinglePointCalculator(atoms, energy=energy, stress=stress)
                    atoms.set_momenta(np.zeros((n, 3)))
                    fn(atoms, step)
        return atoms


def test_grid_fits_thermal_table_and_blow_ups(tmp_path):
    settings = EOSScanSettings(steps=200, equilibration_steps=20, sample_interval=5, replicas=2, form="vinet")
    r = eos_scan(copper(), EMT(), [10, 30, 50, 70, 90, 110], [300, 1500, 3000], settings,
                 engine=ScriptedEngine(fail_at=(50.0, 1500.0), diffuse_at=(110.0, 3000.0)))
    bad = [p for p in r.points if not p.ok]
    assert len(bad) == 0 and any("close contact" in n for n in r.notes)  # one replica lost, the other kept
    one = [p for p in r.points if p.P_target_GPa == 50 and p.T_K == 1500][0]
    assert one.replicas == 1 and one.blow_ups == ["replica 0: close contact at step 3"]
    assert [f["T_K"] for f in r.isotherms] == [300.0, 1500.0, 3000.0]
    mobile = [n for n in r.notes if "atoms moved" in n]
    assert len(mobile) == 1 and mobile[0].startswith("110 GPa, 3000 K")
    assert r.isotherms[0]["K0"] == pytest.approx(140.0, rel=0.05)
    assert np.allclose(r.thermal["gamma"], 1.5, atol=0.1)
    table = r.write_table(tmp_path / "grid.dat")
    assert table.read_text().startswith("# P_target_GPa T_K V_A3")
    assert r.to_dict()["settings"]["replicas"] == 2


def test_bad_settings_are_one_line():
    with pytest.raises(ValueError, match="at least 16 needed for 8 blocks"):
        eos_scan(copper(), EMT(), [0.0], [300.0], EOSScanSettings(steps=50, sample_interval=5))
    with pytest.raises(ValueError, match="temperatures > 0 K"):
        eos_scan(copper(), EMT(), [0.0], [0.0], EOSScanSettings())
