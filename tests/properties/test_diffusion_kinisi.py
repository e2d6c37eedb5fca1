"""Cross-check on real MD data against another library: kinisi's argyrodite XDATCAR (shared/data).

The data README records, for Li with 100 fs between frames: tidynamics FFT MSD + OLS on 2–7 ps gives
D = 1.46e-5 cm²/s, and kinisi 2.1.0 (GLS with the MSD covariance) D* = 1.36e-5 cm²/s with the 95 %
interval [1.21e-5, 1.50e-5] cm²/s.
"""

from pathlib import Path

import pytest

from deepearth.properties.diffusion import diffusion_coefficient
from deepearth.properties.trajectory import read_trajectory

XDATCAR = Path(__file__).resolve().parents[3] / "shared" / "data" / "kinisi-argyrodite" / "example_XDATCAR.gz"
CM2_PER_S = 1e-4  # m²/s


@pytest.mark.skipif(not XDATCAR.is_file(), reason="shared/data is not beside the checkout")
def test_li_diffusion_matches_kinisi_and_tidynamics_on_argyrodite():
    traj = read_trajectory(XDATCAR, dt_ps=0.1, format="vasp-xdatcar")
    assert traj.positions_A.shape == (140, 416, 3)
    res = diffusion_coefficient([traj], species="Li", min_fit_start_ps=2.0)
    assert res.fit_window_ps[0] == pytest.approx(2.0) and res.fit_window_ps[1] == pytest.approx(6.9)
    d_cm2 = res.D_m2_per_s / CM2_PER_S
    assert 1.21e-5 <= d_cm2 <= 1.50e-5  # inside kinisi's 95 % credible interval
    assert d_cm2 == pytest.approx(1.46e-5, rel=0.05)  # the plain OLS reference on the same window
    assert 0 < res.D_stderr_m2_per_s / res.D_m2_per_s < 0.2
