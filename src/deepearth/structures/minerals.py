"""The mineral library: conventional cells of the deep Earth's minerals from crystallographic data.

``mineral(name)`` builds the conventional cell with :func:`ase.spacegroup.crystal` from the space
group, the Wyckoff positions and the lattice parameters of one cited structure determination (or, for
fcc FeH, of one stated construction from cited data). Every cell carries in ``atoms.info``:

- ``mineral``: the canonical name; ``formula``: the formula unit; ``formula_units``: Z of the cell;
- ``source``: the citation(s) of the cell; ``note``: simplifications and what the cell is not;
- ``space_group``: Hermann–Mauguin symbol of the setting used and the number, e.g. ``"Pbnm (62)"``;
  ``space_group_number``: the number (spglib finds it on the built cell, see the tests);
- ``conditions``: ``{"P_GPa": ..., "T_K": ...}`` of the cited cell (high-pressure phases are *not*
  at ambient: ε-Fe, post-perovskite, fcc FeH, davemaoite — see each entry);
- ``source_density_g_cm3``: the density of the cited source (reported, or from its cell volume).

Names are case-insensitive and forgiving (``"Wüstite"``, ``"wustite"``, ``"post_perovskite"``,
``"PPV"``, ``"hcp Fe"``, ``"ε-Fe"``); an unknown name raises one ``ValueError`` listing the known names.

Entries (the test module checks space group and density of each, and the handbook density of the
ambient ones):

=================  ============  =================================================================
name               space group   cell (source)
=================  ============  =================================================================
periclase          Fm-3m (225)   a = 4.2136 Å, 300 K, 0 GPa (Zhang 2000)
wüstite            Fm-3m (225)   a = 4.326 Å, FeO, 298 K (Fjellvåg et al. 1996)
ferropericlase     Fm-3m (225)   the periclase cell (Mg,Fe substitution is done elsewhere)
bridgmanite        Pbnm (62)     a, b, c = 4.775, 4.929, 6.897 Å, quenched (Horiuchi et al. 1987)
post-perovskite    Cmcm (63)     a, b, c = 2.456, 8.042, 6.093 Å at 121 GPa, 300 K (Murakami 2004)
stishovite         P4_2/mnm 136  a = 4.1801, c = 2.6678 Å, x(O) = 0.3067 (Ross et al. 1990)
davemaoite         Pm-3m (221)   V0 = 45.58 Å³ of cubic CaSiO3, 0 GPa / 300 K extrapolated
                                 (Tamai & Yagi 1989); cubic only at high T (see the entry)
forsterite         Pbnm (62)     a, b, c = 4.756, 10.207, 5.980 Å, 25 °C (Smyth & Hazen 1973)
hcp-Fe (ε)         P6_3/mmc 194  V = 6.10 cm³/mol at 20 GPa, 300 K (Takahashi & Bassett 1964)
fcc-Fe (γ)         Fm-3m (225)   a = 3.6498 Å at 1200 K, 0 GPa (Seki & Nagata 2005)
bcc-Fe (α)         Im-3m (229)   a = 2.8675 Å at 295 K, 0 GPa (Seki & Nagata 2005)
fcc-FeH            Fm-3m (225)   constructed at 20 GPa, 300 K: V(ε-Fe) + 2.21 Å³ per H (Machida 2014)
=================  ============  =================================================================
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ase import Atoms
from ase.data import atomic_masses, atomic_numbers
from ase.formula import Formula
from ase.spacegroup import crystal
from ase.spacegroup.spacegroup import spacegroup_from_data

from deepearth.units import A3_PER_CM3_MOL, AMU_PER_A3_TO_G_PER_CM3

#: The eight general positions of space group 62 in the Pbnm setting (axes c a b of Pnma), as printed
#: in the CIFs of the American Mineralogist Crystal Structure Database for olivine and MgSiO3
#: perovskite. ASE's table holds only the standard Pnma setting, so Pbnm cells are built from these.
PBNM_OPERATIONS: tuple[str, ...] = (
    "x,y,z", "x,y,1/2-z", "-x,-y,1/2+z", "1/2+x,1/2-y,1/2+z",
    "1/2-x,1/2+y,1/2-z", "1/2-x,1/2+y,z", "1/2+x,1/2-y,-z", "-x,-y,-z",
)


@dataclass(frozen=True)
class MineralEntry:
    """One cited cell: what :func:`mineral` builds and records in ``atoms.info``.

    ``basis`` holds one representative position per Wyckoff site (fractional, in the setting of
    ``space_group``); ``cellpar`` is (a, b, c, α, β, γ) in Å and degrees; ``formula_units`` is Z of
    the conventional cell; ``source_density_g_cm3`` is the density the cited source gives (reported,
    or computed from its cell volume, as ``source`` says).
    """

    name: str
    formula: str
    space_group: str
    space_group_number: int
    symbols: tuple[str, ...]
    basis: tuple[tuple[float, float, float], ...]
    cellpar: tuple[float, float, float, float, float, float]
    formula_units: int
    P_GPa: float
    T_K: float
    source: str
    source_density_g_cm3: float
    note: str = ""
    aliases: tuple[str, ...] = ()
    operations: tuple[str, ...] | None = None  # non-standard setting: its symmetry operations

    def build(self) -> Atoms:
        if self.operations is None:
            spacegroup = self.space_group_number
        else:
            spacegroup = spacegroup_from_data(no=self.space_group_number, setting=1,
                                              sitesym=list(self.operations), centrosymmetric=False)
        atoms = crystal(list(self.symbols), [tuple(p) for p in self.basis], spacegroup=spacegroup,
                        cellpar=list(self.cellpar), pbc=True, primitive_cell=False)
        atoms.info.update({
            "mineral": self.name,
            "formula": self.formula,
            "source": self.source,
            "note": self.note,
            "space_group": f"{self.space_group} ({self.space_group_number})",
            "space_group_number": self.space_group_number,
            "conditions": {"P_GPa": float(self.P_GPa), "T_K": float(self.T_K)},
            "formula_units": self.formula_units,
            "source_density_g_cm3": float(self.source_density_g_cm3),
        })
        return atoms


def _cubic(a: float) -> tuple[float, float, float, float, float, float]:
    return (a, a, a, 90.0, 90.0, 90.0)


def _density_from_volume(mass_amu_per_cell: float, volume_A3: float) -> float:
    return mass_amu_per_cell / volume_A3 * AMU_PER_A3_TO_G_PER_CM3


def _mass(formula: str) -> float:
    """Mass (amu, ASE's atomic masses) of ``formula``, e.g. ``"Mg4Si4O12"``."""
    return float(sum(atomic_masses[atomic_numbers[s]] * n for s, n in Formula(formula).count().items()))

# --- ε-Fe: Takahashi & Bassett (1964) measured V = 6.10 ± 0.08 cm³/mol at 200 kbar, room T. ---------
_HCP_FE_V_ATOM_A3 = 6.10 * A3_PER_CM3_MOL
_HCP_FE_C_OVER_A = 1.60
_HCP_FE_A = (2 * _HCP_FE_V_ATOM_A3 / (3 ** 0.5 / 2 * _HCP_FE_C_OVER_A)) ** (1 / 3)

# --- fcc FeH, constructed: V(FeH) = V(ε-Fe, 20 GPa) + ΔV_H, ΔV_H = 2.21 Å³ per interstitial H (D). ------
_FEH_DELTA_V_H_A3 = 2.21
_FEH_V_FU_A3 = _HCP_FE_V_ATOM_A3 + _FEH_DELTA_V_H_A3
_FEH_A = (4 * _FEH_V_FU_A3) ** (1 / 3)

# --- γ- and α-Fe: Seki & Nagata (2005) lattice constants (nm) as functions of T (K). -----------------
_GAMMA_FE_T_K = 1200.0
_GAMMA_FE_A = 10 * (0.35519 + 8.1593e-6 * _GAMMA_FE_T_K)
_ALPHA_FE_T_K = 295.0
_ALPHA_FE_A = 10 * (0.2860 + 2.059e-6 * _ALPHA_FE_T_K + 1.602e-9 * _ALPHA_FE_T_K**2)

_ENTRIES: tuple[MineralEntry, ...] = (
    MineralEntry(
        name="periclase", formula="MgO", space_group="Fm-3m", space_group_number=225,
        symbols=("Mg", "O"), basis=((0, 0, 0), (0.5, 0.5, 0.5)), cellpar=_cubic(4.2136),
        formula_units=4, P_GPa=0.0, T_K=300.0,
        source="Zhang J. (2000) Effect of pressure on the thermal expansion of MgO up to 8.2 GPa, "
               "Phys. Chem. Minerals 27, 145-148 (a = 4.2136 Å at 300 K, 0 GPa; AMCSD 0008367, "
               "D(calc) = 3.579 g/cm³)",
        source_density_g_cm3=3.579,
        aliases=("mgo",),
    ),
    MineralEntry(
        name="wüstite", formula="FeO", space_group="Fm-3m", space_group_number=225,
        symbols=("Fe", "O"), basis=((0, 0, 0), (0.5, 0.5, 0.5)), cellpar=_cubic(4.326),
        formula_units=4, P_GPa=0.0, T_K=298.0,
        source="Fjellvåg H., Grønvold F., Stølen S., Hauback B. (1996) On the crystallographic and "
               "magnetic structures of nearly stoichiometric iron monoxide, J. Solid State Chem. "
               "124, 52-57 (a = 4.326 Å at 298 K; AMCSD 0013893, D(calc) = 5.895 g/cm³)",
        source_density_g_cm3=5.895,
        note="Simplified to stoichiometric, cubic, non-magnetic FeO: natural wüstite is Fe(1-x)O "
             "(x ~ 0.05-0.15, with vacancy-interstitial clusters); below the Néel temperature "
             "(198 K) and above ~16 GPa at 300 K it is antiferromagnetic (AFM-II, moments along "
             "[111]) with a rhombohedral distortion (R-3m). No magnetic moments are set: a "
             "spin-polarised reference calculation must choose its own ordering (AFM-II needs a "
             "rhombohedral doubled cell).",
        aliases=("wustite", "wuestite", "feo"),
    ),
    MineralEntry(
        name="ferropericlase", formula="MgO", space_group="Fm-3m", space_group_number=225,
        symbols=("Mg", "O"), basis=((0, 0, 0), (0.5, 0.5, 0.5)), cellpar=_cubic(4.2136),
        formula_units=4, P_GPa=0.0, T_K=300.0,
        source="the periclase cell: Zhang J. (2000) Phys. Chem. Minerals 27, 145-148 (a = 4.2136 Å)",
        source_density_g_cm3=3.579,
        note="The periclase (MgO) cell: the (Mg,Fe)O composition is made by substituting Fe for Mg "
             "in a supercell (deepearth.structures.substitute), not here; Fe-Mg mixing changes the "
             "lattice parameter (Vegard-like) and, for Fe2+, the spin state with pressure.",
        aliases=("fp", "magnesiowustite", "magnesiowuestite", "mgfeo"),
    ),
    MineralEntry(
        name="bridgmanite", formula="MgSiO3", space_group="Pbnm", space_group_number=62,
        symbols=("Mg", "Si", "O", "O"),
        basis=((0.5141, 0.5560, 0.25), (0.5, 0.0, 0.5), (0.1028, 0.4660, 0.25), (0.1961, 0.2014, 0.5531)),
        cellpar=(4.775, 4.929, 6.897, 90.0, 90.0, 90.0), formula_units=4, P_GPa=0.0, T_K=298.0,
        source="Horiuchi H., Ito E., Weidner D. J. (1987) Perovskite-type MgSiO3: single-crystal X-ray "
               "diffraction study, Am. Mineral. 72, 357-360 (single crystal synthesised at 27 GPa, "
               "quenched, measured at ambient; V = 162.3 Å³, D = 4.108 g/cm³; the positions give "
               "Si-O 1.78-1.80 Å and Mg-O 2.01-3.12 Å as in the paper)",
        source_density_g_cm3=_density_from_volume(_mass("Mg4Si4O12"),
                                                  4.775 * 4.929 * 6.897),
        note="Pbnm setting (a < b < c, c the long axis; standard setting Pnma with axes c a b), as used "
             "in mineral physics; metastable at ambient (quenched from 27 GPa).",
        aliases=("mgsio3-perovskite", "mg-perovskite", "mgpv", "pv", "perovskite", "silicate-perovskite"),
        operations=PBNM_OPERATIONS,
    ),
    MineralEntry(
        name="post-perovskite", formula="MgSiO3", space_group="Cmcm", space_group_number=63,
        symbols=("Mg", "Si", "O", "O"),
        basis=((0.0, 0.253, 0.25), (0.0, 0.0, 0.0), (0.0, 0.923, 0.25), (0.0, 0.631, 0.436)),
        cellpar=(2.456, 8.042, 6.093, 90.0, 90.0, 90.0), formula_units=4, P_GPa=121.0, T_K=300.0,
        source="Murakami M., Hirose K., Kawamura K., Sata N., Ohishi Y. (2004) Post-perovskite phase "
               "transition in MgSiO3, Science 304, 855-858 (cell at 121 GPa, 300 K after laser "
               "heating; atomic positions from their structure model, COD 9009217); CaIrO3 type as "
               "also found by Oganov A. R., Ono S. (2004) Nature 430, 445-448",
        source_density_g_cm3=_density_from_volume(_mass("Mg4Si4O12"),
                                                  2.456 * 8.042 * 6.093),
        note="High-pressure phase (stable above ~ 120 GPa, 2500 K): this is the cell AT 121 GPa; it "
             "is not quenchable to ambient. Scale it with scale_to_pressure for other pressures.",
        aliases=("ppv", "postperovskite", "mgsio3-ppv", "mgppv", "post-pv"),
    ),
    MineralEntry(
        name="stishovite", formula="SiO2", space_group="P4_2/mnm", space_group_number=136,
        symbols=("Si", "O"), basis=((0.0, 0.0, 0.0), (0.3067, 0.3067, 0.0)),
        cellpar=(4.1801, 4.1801, 2.6678, 90.0, 90.0, 90.0), formula_units=2, P_GPa=0.0, T_K=298.0,
        source="Ross N. L., Shu J.-F., Hazen R. M., Gasparik T. (1990) High-pressure crystal "
               "chemistry of stishovite, Am. Mineral. 75, 739-747 (P = 0 in the diamond cell; "
               "AMCSD 0001306, D(calc) = 4.281 g/cm³)",
        source_density_g_cm3=4.281,
        note="Metastable at ambient (synthesised above ~ 9 GPa); rutile type.",
        aliases=("stv", "sio2-stishovite"),
    ),
    MineralEntry(
        name="davemaoite", formula="CaSiO3", space_group="Pm-3m", space_group_number=221,
        symbols=("Ca", "Si", "O"), basis=((0.0, 0.0, 0.0), (0.5, 0.5, 0.5), (0.5, 0.5, 0.0)),
        cellpar=_cubic(45.58 ** (1 / 3)), formula_units=1, P_GPa=0.0, T_K=300.0,
        source="Tamai H., Yagi T. (1989) High-pressure and high-temperature phase relations in CaSiO3 "
               "and CaMgSi2O6 and elasticity of perovskite-type CaSiO3, Phys. Earth Planet. Inter. "
               "54, 370-377 (cubic perovskite CaSiO3, BM fit to 300-K compression up to 31.5 GPa: "
               "V0 = 45.58(7) Å³, i.e. a0 = 3.5722 Å)",
        source_density_g_cm3=_density_from_volume(_mass("CaSiO3"), 45.58),
        note="Zero-pressure volume of the cubic (Pm-3m) description, extrapolated from high "
             "pressure: CaSiO3 perovskite is stable only above ~ 10-14 GPa and amorphises on "
             "decompression. At 300 K and high P it is slightly tetragonal (I4/mcm, octahedral "
             "tilts; Shim et al. 2002 Geophys. Res. Lett.; Chen et al. 2018 Am. Mineral. 103, "
             "462-468) and turns cubic on heating: ~ 500-600 K in experiments (e.g. Komabayashi et "
             "al. 2007), higher in theory (1150 K at 0 GPa, 2450 K at 140 GPa; Stixrude et al. 2007 "
             "Phys. Rev. B 75, 024108). The cubic cell is the structure at mantle temperatures; "
             "scale it to the pressure of interest with scale_to_pressure.",
        aliases=("capv", "ca-perovskite", "casio3-perovskite", "calcium-perovskite", "ca-pv"),
    ),
    MineralEntry(
        name="forsterite", formula="Mg2SiO4", space_group="Pbnm", space_group_number=62,
        symbols=("Mg", "Mg", "Si", "O", "O", "O"),
        basis=((0.0, 0.0, 0.0), (0.9915, 0.2774, 0.25), (0.4262, 0.0940, 0.25),
               (0.7657, 0.0913, 0.25), (0.2215, 0.4474, 0.25), (0.2777, 0.1628, 0.0331)),
        cellpar=(4.756, 10.207, 5.980, 90.0, 90.0, 90.0), formula_units=4, P_GPa=0.0, T_K=298.0,
        source="Smyth J. R., Hazen R. M. (1973) The crystal structures of forsterite and hortonolite "
               "at several temperatures up to 900 °C, Am. Mineral. 58, 588-593 (synthetic, 25 °C; "
               "AMCSD 0000328, D(calc) = 3.219 g/cm³)",
        source_density_g_cm3=3.219,
        note="Pbnm setting (standard Pnma with axes c a b), as used for olivine. Upper-mantle mineral.",
        aliases=("fo", "mg-olivine", "olivine-fo"),
        operations=PBNM_OPERATIONS,
    ),
    MineralEntry(
        name="hcp-Fe", formula="Fe", space_group="P6_3/mmc", space_group_number=194,
        symbols=("Fe",), basis=((1 / 3, 2 / 3, 0.25),),
        cellpar=(_HCP_FE_A, _HCP_FE_A, _HCP_FE_C_OVER_A * _HCP_FE_A, 90.0, 90.0, 120.0),
        formula_units=2, P_GPa=20.0, T_K=300.0,
        source="Takahashi T., Bassett W. A. (1964) High-pressure polymorph of iron, Science 145, "
               "483-486 (ε-Fe: V = 6.10 ± 0.08 cm³/mol, density 9.1 ± 0.1 g/cm³, at 200 kbar and "
               "room temperature); c/a = 1.60 as measured for ε-Fe at 15-30 GPa (e.g. Jephcoat A. P., "
               "Mao H. K., Bell P. M. (1986) J. Geophys. Res. 91, 4677-4684)",
        source_density_g_cm3=9.1,
        note="ε-Fe is stable only above ~ 13 GPa (300 K): this is the cell AT 20 GPa, not an ambient "
             "cell. Non-magnetic. Scale it to core pressures with scale_to_pressure.",
        aliases=("epsilon-fe", "fe-hcp", "hcp-iron", "epsilon-iron", "hexaferrum", "e-fe"),
    ),
    MineralEntry(
        name="fcc-Fe", formula="Fe", space_group="Fm-3m", space_group_number=225,
        symbols=("Fe",), basis=((0.0, 0.0, 0.0),), cellpar=_cubic(_GAMMA_FE_A),
        formula_units=4, P_GPa=0.0, T_K=_GAMMA_FE_T_K,
        source="Seki I., Nagata K. (2005) Lattice constant of iron and austenite including its "
               "supersaturation phase of carbon, ISIJ International 45, 1789-1794 (γ-iron: "
               "a0/nm = 0.35519 + 8.1593e-6 T/K, 1183-1550 K; here T = 1200 K, a = 3.6498 Å)",
        source_density_g_cm3=_density_from_volume(_mass("Fe4"), _GAMMA_FE_A**3),
        note="γ-Fe is stable at ambient pressure only between 1185 and 1667 K (cell at 1200 K); at "
             "high pressure it is the high-temperature phase next to ε-Fe. Non-magnetic.",
        aliases=("gamma-fe", "fe-fcc", "fcc-iron", "gamma-iron", "austenite", "g-fe"),
    ),
    MineralEntry(
        name="bcc-Fe", formula="Fe", space_group="Im-3m", space_group_number=229,
        symbols=("Fe",), basis=((0.0, 0.0, 0.0),), cellpar=_cubic(_ALPHA_FE_A),
        formula_units=2, P_GPa=0.0, T_K=_ALPHA_FE_T_K,
        source="Seki I., Nagata K. (2005) ISIJ International 45, 1789-1794 (α-iron: a0/nm = 0.2860 "
               "+ 2.059e-6 T/K + 1.602e-9 (T/K)², 295-1183 K; here T = 295 K, a = 2.8675 Å)",
        source_density_g_cm3=_density_from_volume(_mass("Fe2"), _ALPHA_FE_A**3),
        note="α-Fe, the ambient phase (ferromagnetic below 1043 K; no magnetic moments are set here).",
        aliases=("alpha-fe", "fe-bcc", "bcc-iron", "alpha-iron", "a-fe", "ferrite-fe"),
    ),
    MineralEntry(
        name="fcc-FeH", formula="FeH", space_group="Fm-3m", space_group_number=225,
        symbols=("Fe", "H"), basis=((0.0, 0.0, 0.0), (0.5, 0.5, 0.5)), cellpar=_cubic(_FEH_A),
        formula_units=4, P_GPa=20.0, T_K=300.0,
        source="CONSTRUCTED, not a measured cell: V(FeH) = V(ε-Fe at 20 GPa, 300 K) + ΔV_H = "
               "10.13 + 2.21 Å³ per FeH (a = 3.668 Å), with V(ε-Fe) from Takahashi T., Bassett W. A. "
               "(1964) Science 145, 483-486 (6.10 cm³/mol at 200 kbar; fcc and hcp Fe differ by "
               "< 1 % in volume) and the expansion of fcc Fe by interstitial D, 2.21 Å³ per atom on "
               "octahedral sites, from Machida A. et al. (2014) Site occupancy of interstitial "
               "deuterium atoms in face-centred cubic iron, Nat. Commun. 5, 5063",
        source_density_g_cm3=_density_from_volume(_mass("Fe4H4"), 4 * _FEH_V_FU_A3),
        note="NaCl-type FeH (H on the octahedral 4b sites, stoichiometric x = 1), a high-pressure "
             "phase: fcc FeHx forms above ~ 5 GPa at high temperature and is retained on thermal "
             "quenching at 18-68 GPa (Thompson E. C. et al. 2018, Geochem. Geophys. Geosyst. 19, "
             "305-314). The volume is uncertain by ~ 2 % (ΔV_H was measured at 6.3 GPa, 988 K and "
             "shrinks with pressure): replace with a measured fcc FeH cell when one is at hand.",
        aliases=("feh", "feh-fcc", "fcc-iron-hydride", "iron-hydride-fcc"),
    ),
)


def _key(name: str) -> str:
    """Case-, accent- and punctuation-insensitive key: 'Wüstite', 'post_perovskite', 'ε-Fe'."""
    text = str(name).strip().lower()
    for greek, latin in (("α", "alpha"), ("γ", "gamma"), ("ε", "epsilon")):
        text = text.replace(greek, latin)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]", "", text)


MINERALS: dict[str, MineralEntry] = {entry.name: entry for entry in _ENTRIES}
"""The library's entries by canonical name."""

_LOOKUP: dict[str, MineralEntry] = {}
for _entry in _ENTRIES:
    for _alias in (_entry.name, *_entry.aliases):
        _k = _key(_alias)
        if _k in _LOOKUP and _LOOKUP[_k] is not _entry:
            raise RuntimeError(f"mineral alias {_alias!r} is ambiguous")  # a bug in the table above
        _LOOKUP[_k] = _entry


def mineral_names() -> list[str]:
    """The canonical names of the library, in table order."""
    return [entry.name for entry in _ENTRIES]


def is_mineral(name: str) -> bool:
    """True when ``name`` (or an alias) is in the library."""
    return isinstance(name, str) and _key(name) in _LOOKUP


def mineral_entry(name: str) -> MineralEntry:
    """The entry for ``name`` (case-insensitive, aliases accepted); ``ValueError`` if unknown."""
    entry = _LOOKUP.get(_key(name)) if isinstance(name, str) else None
    if entry is None:
        known = ", ".join(mineral_names())
        raise ValueError(f"unknown mineral {name!r}; known minerals: {known} "
                         "(case-insensitive; aliases such as 'MgO', 'PPV', 'ε-Fe' are accepted)")
    return entry


def mineral(name: str) -> Atoms:
    """The conventional cell of mineral ``name`` at the conditions of its cited source.

    A new :class:`ase.Atoms` each call (periodic), with ``info`` as described in the module docstring:
    ``mineral``, ``formula``, ``source``, ``note``, ``space_group``, ``space_group_number``,
    ``conditions`` (P_GPa, T_K of the cited cell), ``formula_units``, ``source_density_g_cm3``.
    """
    return mineral_entry(name).build()


def density_g_cm3(atoms: Atoms) -> float:
    """Mass density of ``atoms`` (ASE masses) in g/cm³."""
    return float(atoms.get_masses().sum() / atoms.get_volume() * AMU_PER_A3_TO_G_PER_CM3)
