"""Thermal and magnetic evolution of Earth's basal magma ocean (Dragulet & Stixrude 2025, Methods eqs. 14–18).

The paper's equations did not survive in our copy of the text; they are reconstructed here from its
description (after Labrosse, Hernlund & Coltice 2007 and Stixrude, Scipioni & Desjarlais 2020) and are
labelled "reconstructed" where the form is ours. State: outer radius R of the BMO (its top) and the iron
fraction X = Fe/(Fe+Mg) of the well-mixed liquid; the temperature is the liquidus T = T_L(X) (the BMO
sits at its liquidus at its top, where it freezes), and the core cools with it.

Eq. 14 (heat balance at the BMO top; all terms in W)::

    Q = 4π R² k_m (T_L − T_m)/δ
      = −M_B C_B dT_L/dt − M_c C_c dT_L/dt + H − 4π R² ρ_B T_L ΔS dR/dt

  (BMO secular cooling, core secular cooling, radiogenic heat, latent heat of the moving freezing front;
  dR/dt < 0 while the front moves down, > 0 if it melts back up when H > Q).

Eq. 15 (reconstructed, non-linear liquidus with constant Fe–Mg distribution coefficient K_D between
bridgmanite and melt; ideal solid and liquid solutions, Stixrude 1997)::

    T_L(X) = T_Mg − (T_Mg − T_Fe) ln(1 + (K_D − 1) X) / ln K_D

  i.e. the freezing-point depression of MgSiO3, ``ln(x_Mg^s / x_Mg^l) = −ln(1 − X + K_D X)``, linear in
  1/T near T_Mg, normalised so that T_L(0) = T_MgSiO3 and T_L(1) = T_FeSiO3 (K_D → 1: linear).

Eq. 16 (fractional crystallisation; Fe partition coefficient D = X_s/X = K_D/(1 − X + K_D X))::

    M_B dX/dt = (D − 1) X dM_B/dt,   M_B = (4π/3) ρ_B (R³ − r_c³)
    ⇒ dX/dt = 3 R² (D − 1) X / (R³ − r_c³) · dR/dt        (0 without Fe enrichment)

Eqs. 17–18 (Christensen 2010), buoyancy flux F = q/(ρ_B H_T), q = Q/(4π R²), H_T = c_p/(α g) = T/(dT/dz)_ad::

    u_MLT = c_MLT (F D)^(1/3)            u_CIA = c_CIA F^(2/5) D^(1/5) Ω^(−1/5)

Dynamo: Rm = μ0 u D σ_el(P, T, X) (σ from :func:`magma_ocean.electrical_conductivity`, eq. 12) with
D = R − r_c; a dynamo needs Rm > 40 (Christensen & Aubert 2006). Convection needs Q above the heat
conducted down the adiabat, Q_cond = 4π R² k (dT/dz)_ad with k = κ_el (eq. 13) + κ_ionic.

R, X are integrated with a hand-written classical RK4 (vectorised over parameter sets, so the Monte
Carlo runs all samples at once). Parameters and their sources: ``data/bmo_parameters.toml``.
SI units inside; outputs carry their units in their names.

The modules of this package: :mod:`.physics` (eqs. 15–18 in closed form), :mod:`.parameters`
(:class:`BMOParameters` from the cited TOML) and :mod:`.model` (integration, Monte Carlo, the paper's
standard cases and lifetimes).
"""

from deepearth.geophysics.bmo_evolution.model import (PAPER_DYNAMO_LIFETIME_GYR, BMOEvolution, LifetimeUncertainty,
                                                      StandardCases, case_label, dynamo_lifetime_uncertainty,
                                                      evolve_bmo, standard_cases)
from deepearth.geophysics.bmo_evolution.parameters import BMOParameters
from deepearth.geophysics.bmo_evolution.physics import (buoyancy_flux, liquidus_K, liquidus_slope_K, magnetic_reynolds,
                                                        partition_coefficient, velocity_cia, velocity_mlt)

__all__ = ["BMOParameters", "BMOEvolution", "evolve_bmo", "LifetimeUncertainty", "dynamo_lifetime_uncertainty",
           "PAPER_DYNAMO_LIFETIME_GYR", "case_label", "StandardCases", "standard_cases", "liquidus_K",
           "liquidus_slope_K", "partition_coefficient", "buoyancy_flux", "velocity_mlt", "velocity_cia",
           "magnetic_reynolds"]
