"""Local structure of MD frames: g(r) (total and partial) with error bars, coordination numbers and
Steinhardt bond-orientational order q_l per atom (plain or Lechner–Dellago averaged).

Library: **freud** (freud-analysis; Ramasubramani et al., Comput. Phys. Commun. 254, 107275
(2020)) does the neighbour queries, the pair histograms and the q_l. Chosen over ovito's Python
module and pyscal3 because it is a 2 MB BSD-licensed wheel with no GUI stack (ovito's wheel pulls Qt
and keeps some modifiers behind its Pro licence), it is on this project's package index for
CPython 3.11 with numpy 2 (pyscal3 is not), and it does exactly the three jobs needed here in C++
with periodic triclinic boxes: ``freud.density.RDF``, ``freud.order.Steinhardt`` (``average=True``
is Lechner & Dellago, J. Chem. Phys. 129, 114707 (2008), eq. 6) and neighbour lists by distance or
count. What is ours: the frames (any ASE cell orientation, rotated into freud's upper-triangular box
by :func:`deepearth.lammps.cell.lammps_rotation`), the normalisation of partials (an atom's own
pair is left out, so an ideal gas gives g = 1 at every r: g_ab = counts / [(N_a N_b − N_ab)/V ·
shell volume]), the error bars (scatter of blocks of frames), the first shell
(:func:`first_shell`, shared with :mod:`deepearth.structures.liquid`) and the coordination number

    n_ab(r_c) = (N_a N_b − N_ab) / (N_a V) ∫_0^{r_c} g_ab(r) 4π r² dr

(the mean number of b atoms within r_c of an a atom; r_c the first minimum of g_ab). Checked in
tests/properties/test_structure.py against analytic numbers (perfect fcc q6 = 0.5745, bcc with its
14 first- and second-shell neighbours 0.5107 (Steinhardt, Nelson & Ronchetti, Phys. Rev. B 28, 784
(1983); Lechner & Dellago 2008, Table I), ideal gas g(r) = 1, fcc coordination 12) and against the
numpy g(r) of :func:`deepearth.structures.liquid.radial_distribution` on the same frames.

Units: Å, Å⁻³. Frames are positions (F, N, 3) or (N, 3) with cells (F, 3, 3) or (3, 3) (rows are
the cell vectors), or a :class:`~deepearth.properties.trajectory.Trajectory`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from deepearth.lammps.cell import lammps_rotation
from deepearth.properties.checks import require_at_least, require_finite, require_positive
from deepearth.properties.trajectory import Trajectory

__all__ = ["RDFResult", "SHELL_DIP", "SteinhardtResult", "as_frames", "first_shell", "freud_system",
           "radial_distribution_function", "steinhardt", "widths"]

#: A minimum after the first peak shallower than this fraction of the peak is a shoulder (or noise in a
#: partial of a few hundred pairs) inside the first shell, not its end: the partial Ca–Si g(r) of a
#: CaSiO3 melt has such a shoulder before its main peak at 3.4–3.6 Å.
SHELL_DIP = 0.8
#: Frames are grouped into at most this many consecutive blocks for the error bars.
MAX_BLOCKS = 10
#: The first shell is looked for where the mean coordination has reached this many atoms.
MIN_SHELL_ATOMS = 1.0
#: A first peak lower than this (smoothed) is no shell: a gas, or a sublattice without structure.
MIN_PEAK_G = 1.3


def first_shell(r: np.ndarray, g: np.ndarray) -> tuple[float, float]:
    """(r of the first peak, r of the first minimum after it) of a (smoothed) g(r), Å; dips shallower
    than :data:`SHELL_DIP` × the peak do not end the first shell. NaN when g never exceeds 1."""
    above = np.flatnonzero(g > 1.0)
    if len(above) == 0:
        return float("nan"), float("nan")
    i, n = above[0], len(g)
    while True:
        while i + 1 < n and g[i + 1] >= g[i]:
            i += 1
        j = i
        while j + 1 < n and g[j + 1] <= g[j]:
            j += 1
        if j + 1 >= n or g[j] < SHELL_DIP * g[i]:
            return float(r[i]), float(r[j])
        i = j  # a shoulder: climb on to the shell's next maximum


def as_frames(data, cells=None, symbols: Sequence[str] | None = None, name: str = "positions"
              ) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    """``(positions (F, N, 3), cells (F, 3, 3), symbols)`` from a Trajectory or arrays, checked:
    finite, one cell per frame (or one for all), a non-singular periodic cell."""
    if isinstance(data, Trajectory):
        pos, cells, symbols = data.positions_A, data.cells_A, list(data.symbols) if symbols is None else symbols
        name = data.source or name
    else:
        pos = data
    pos = require_finite(name, pos, ("frame", "atom"), "xyz")
    if pos.ndim == 2:
        pos = pos[None]
    if pos.ndim != 3 or pos.shape[2] != 3 or pos.shape[1] == 0:
        raise ValueError(f"{name}: must be (frames, atoms, 3) or (atoms, 3) positions in Å, got shape {pos.shape}")
    if cells is None:
        raise ValueError(f"{name}: the cell is needed (periodic frames: (3, 3) or one (3, 3) per frame, Å)")
    c = require_finite(f"{name}: cells", cells, ("frame", "row"))
    c = np.broadcast_to(c, (pos.shape[0], 3, 3)) if c.shape == (3, 3) else c
    if c.shape != (pos.shape[0], 3, 3):
        raise ValueError(f"{name}: cells must be (3, 3) or ({pos.shape[0]}, 3, 3), got shape {c.shape}")
    vol = np.abs(np.linalg.det(c))
    if not np.all(vol > 1e-6):
        k = int(np.flatnonzero(~(vol > 1e-6))[0])
        raise ValueError(f"{name}: the cell of frame {k} has volume {vol[k]:g} Å³ (periodic cells needed)")
    if symbols is not None and len(symbols) != pos.shape[1]:
        raise ValueError(f"{name}: {len(symbols)} symbols for {pos.shape[1]} atoms")
    return pos, np.array(c, dtype=float), None if symbols is None else [str(s) for s in symbols]


def widths(cell: np.ndarray) -> np.ndarray:
    """Perpendicular widths of a cell (rows), Å."""
    cell = np.asarray(cell, dtype=float)
    return abs(np.linalg.det(cell)) / np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)


def freud_system(positions: np.ndarray, cell: np.ndarray):
    """``(freud.box.Box, points)`` for one frame: the cell rotated into freud's upper-triangular box
    (columns = cell vectors), the positions wrapped into it (centred on the origin) in float32."""
    import freud

    lcell, _ = lammps_rotation(cell)  # rows, lower triangular = freud's box matrix transposed
    frac = np.asarray(positions, dtype=float) @ np.linalg.inv(np.asarray(cell, dtype=float))
    frac -= np.floor(frac)
    return freud.box.Box.from_matrix(lcell.T), ((frac - 0.5) @ lcell).astype(np.float32)


def _blocks(n_frames: int, n_blocks: int | None) -> list[np.ndarray]:
    n = min(n_frames, MAX_BLOCKS) if n_blocks is None else int(n_blocks)
    if not 1 <= n <= n_frames:
        raise ValueError(f"n_blocks must be between 1 and the number of frames ({n_frames}), got {n_blocks!r}")
    return [b for b in np.array_split(np.arange(n_frames), n) if len(b)]


def _block_mean_err(per_frame: np.ndarray, blocks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
    """Mean over frames and the standard error from the scatter of block means (None with one block)."""
    means = np.array([per_frame[b].mean(axis=0) for b in blocks])
    if len(blocks) < 2:
        return per_frame.mean(axis=0), None
    return per_frame.mean(axis=0), means.std(axis=0, ddof=1) / np.sqrt(len(blocks))


def _mask(symbols: list[str] | None, species: str | None, n: int, name: str) -> np.ndarray:
    if species is None:
        return np.ones(n, bool)
    if symbols is None:
        raise ValueError(f"{name}: species {species!r} asked for but the frames carry no chemical symbols")
    m = np.array(symbols) == species
    if not m.any():
        raise ValueError(f"{name}: no atoms of species {species!r} (present: {sorted(set(symbols))})")
    return m


@dataclass
class RDFResult:
    """g_ab(r) averaged over frames with its standard error (scatter of ``n_blocks`` blocks of
    consecutive frames; ``None`` with one frame), the first shell and the coordination number.

    ``pair`` is ``"total"`` or ``"A-B"``; ``coordination`` is the mean number of B atoms within
    ``coordination_cutoff_A`` (the first minimum, or the cutoff asked for) of an A atom.
    """

    pair: str
    r_A: list[float]
    g: list[float]
    g_stderr: list[float] | None
    n_frames: int
    n_blocks: int
    first_peak_A: float | None
    first_minimum_A: float | None
    coordination: float | None
    coordination_stderr: float | None
    coordination_cutoff_A: float | None
    n_a: int
    n_b: int
    density_b_per_A3: float
    method: str = ("freud.density.RDF pair histograms per frame; g_ab = counts/[(N_a N_b - N_ab)/V shell]; "
                   "error = std of block means / sqrt(n_blocks)")
    units: dict = field(default_factory=lambda: {"r": "Å", "g": "1", "coordination": "atoms"})

    def to_dict(self, curves: bool = True) -> dict:
        """JSON-safe dict; without ``curves`` the r, g and error arrays are left out."""
        d = asdict(self)
        if not curves:
            for k in ("r_A", "g", "g_stderr"):
                d.pop(k)
        return d


def radial_distribution_function(data, cells=None, symbols: Sequence[str] | None = None,
                                 pair: tuple[str, str] | None = None, r_max: float | None = None,
                                 dr: float = 0.05, n_blocks: int | None = None,
                                 coordination_cutoff_A: float | None = None, smooth_A: float = 0.06) -> RDFResult:
    """g(r) of frames (total, or the partial ``pair = ("Mg", "O")``) with block error bars and the
    coordination number up to its first minimum (Allen & Tildesley, Computer Simulation of Liquids,
    2nd ed. (2017), §2.6 and eq. 2.103).

    ``data``: a Trajectory or positions (F, N, 3) Å with ``cells`` and ``symbols`` (needed for a
    partial). ``r_max`` defaults to 0.499 × the narrowest cell width of all frames (freud counts each
    pair once, by the minimum image; larger ``r_max`` is refused). ``dr`` is the bin width, Å. The
    first peak and minimum are read on the mean g(r) smoothed by a Gaussian of ``smooth_A`` Å
    (:func:`first_shell`), from where the mean coordination reaches ``MIN_SHELL_ATOMS`` (1 atom) on
    (so a few close pairs in the tiny small-r shells are no "peak"), and only if that peak reaches
    ``MIN_PEAK_G`` (1.3; else there is no shell: a gas); ``coordination_cutoff_A`` overrides the
    minimum as the cutoff.
    """
    import freud
    from scipy.ndimage import gaussian_filter1d

    pos, cells, symbols = as_frames(data, cells, symbols)
    dr = require_positive("dr", dr, "Å")
    w_min = min(float(widths(c).min()) for c in cells)
    if r_max is None:
        r_max = 0.499 * w_min
    r_max = require_positive("r_max", r_max, "Å")
    if r_max >= 0.5 * w_min:
        raise ValueError(f"r_max = {r_max:g} Å reaches past half the narrowest cell width ({0.5 * w_min:.4g} Å): "
                         "pairs would be counted twice; lower r_max or use a bigger cell")
    n = pos.shape[1]
    a_name, b_name = (None, None) if pair is None else pair
    ma, mb = _mask(symbols, a_name, n, "pair"), _mask(symbols, b_name, n, "pair")
    same = bool(np.array_equal(ma, mb))
    if not same and np.any(ma & mb):
        raise ValueError(f"pair {pair!r}: the two sets of atoms overlap partly; give two species or none")
    na, nb = int(ma.sum()), int(mb.sum())
    require_at_least("pair" if pair else "positions", na if same else min(na, nb), 2 if same else 1, "atoms",
                     "a g(r) needs at least one pair")
    n_bins = max(1, int(round(r_max / dr)))
    edges = np.linspace(0.0, r_max, n_bins + 1)
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    n_pairs = na * nb - (na if same else 0)  # ordered pairs, an atom's own left out
    g_frames, vols = [], []
    for p, c in zip(pos, cells):
        box, pts = freud_system(p, c)
        rdf = freud.density.RDF(bins=n_bins, r_max=r_max)
        if same:
            rdf.compute((box, pts[ma]))
        else:
            rdf.compute((box, pts[mb]), query_points=pts[ma])
        counts = np.asarray(rdf.bin_counts, dtype=float)  # ordered (query, point) pairs per bin
        vol = abs(np.linalg.det(c))
        g_frames.append(counts / (n_pairs / vol * shell))
        vols.append(vol)
    g_frames = np.array(g_frames)
    blocks = _blocks(len(pos), n_blocks)
    g, g_err = _block_mean_err(g_frames, blocks)
    r = 0.5 * (edges[1:] + edges[:-1])
    gs = gaussian_filter1d(g, max(smooth_A / dr, 1e-9), mode="nearest")
    # a shell holds atoms: skip the bins before the mean coordination reaches MIN_SHELL_ATOMS (a few close
    # pairs of a gas or a disordered frame make g > 1 spikes in the tiny small-r shells)
    cumulative = np.cumsum(g * shell) * n_pairs / (na * np.mean(vols))
    start = int(np.searchsorted(cumulative, MIN_SHELL_ATOMS))
    peak, minimum = first_shell(r[start:], gs[start:]) if start < len(r) else (float("nan"), float("nan"))
    if np.isfinite(peak) and gs[int(np.argmin(np.abs(r - peak)))] < MIN_PEAK_G:
        peak = minimum = float("nan")
    peak = None if not np.isfinite(peak) else peak
    minimum = None if not np.isfinite(minimum) else minimum
    cutoff = minimum if coordination_cutoff_A is None else require_positive("coordination_cutoff_A",
                                                                            coordination_cutoff_A, "Å")
    cn = cn_err = None
    if cutoff is not None:
        if cutoff > r_max:
            raise ValueError(f"coordination_cutoff_A = {cutoff:g} Å is beyond r_max = {r_max:g} Å")
        # fraction of each bin inside the cutoff (the last one partly)
        inside = np.clip((cutoff - edges[:-1]) / dr, 0.0, 1.0)
        per_frame = np.array([(gf * shell * inside).sum() * n_pairs / (na * v) for gf, v in zip(g_frames, vols)])
        cn_mean, cn_e = _block_mean_err(per_frame, blocks)
        cn, cn_err = float(cn_mean), None if cn_e is None else float(cn_e)
    label = "total" if pair is None else f"{a_name}-{b_name}"
    return RDFResult(label, r.tolist(), g.tolist(), None if g_err is None else g_err.tolist(), len(pos), len(blocks),
                     peak, minimum, cn, cn_err, cutoff, na, nb, float(nb / np.mean(vols)))


@dataclass
class SteinhardtResult:
    """Per-atom Steinhardt q_l (``values``, (F, N_selected), float64) with how neighbours were chosen.

    ``average`` True: Lechner–Dellago q̄_l (the q_lm averaged over the atom and its neighbours before
    the rotational invariant is taken). ``r_max_A`` or ``num_neighbors`` defines the neighbours;
    ``atoms`` are the indices the values belong to (the selection both queries and is the neighbours).
    """

    l: int
    average: bool
    values: np.ndarray
    atoms: np.ndarray
    r_max_A: float | None
    num_neighbors: int | None
    neighbour_rule: str

    @property
    def frame_means(self) -> np.ndarray:
        """Mean q_l over the selected atoms, per frame."""
        return self.values.mean(axis=1)

    def to_dict(self, per_atom: bool = False) -> dict:
        """JSON-safe summary (per-frame means, overall mean and std over atoms); per-atom values too
        with ``per_atom``."""
        d = {"l": self.l, "average": self.average, "r_max_A": self.r_max_A, "num_neighbors": self.num_neighbors,
             "neighbour_rule": self.neighbour_rule, "n_atoms": int(self.values.shape[1]),
             "n_frames": int(self.values.shape[0]), "mean": float(self.values.mean()),
             "std_over_atoms": float(self.values.std()), "frame_means": self.frame_means.tolist()}
        if per_atom:
            d["values"] = self.values.tolist()
            d["atoms"] = self.atoms.tolist()
        return d


def steinhardt(data, cells=None, symbols: Sequence[str] | None = None, l: int = 6, average: bool = False,
               r_max: float | None = None, num_neighbors: int | None = None, species: str | None = None
               ) -> SteinhardtResult:
    """Per-atom Steinhardt q_l (Steinhardt, Nelson & Ronchetti, Phys. Rev. B 28, 784 (1983), eq. 3)
    or, with ``average``, the Lechner–Dellago q̄_l (J. Chem. Phys. 129, 114707 (2008), eq. 6), by freud.

    Neighbours: within ``r_max`` Å, or the ``num_neighbors`` nearest; with neither, within the first
    minimum of the g(r) of the selected atoms in up to 5 frames spread over the run (fcc: the 12 nearest; a hot bcc
    crystal: its 8 + 6 first and second neighbours, one shell once thermal motion merges them — a
    perfect bcc lattice needs ``r_max`` for that). ``species`` restricts the atoms
    (both the centres and their neighbours: a sublattice). Returns (F, N_selected) values.
    """
    import freud

    pos, cells, symbols = as_frames(data, cells, symbols)
    if isinstance(l, bool) or not isinstance(l, (int, np.integer)) or l < 1:
        raise ValueError(f"l must be an integer >= 1, got {l!r}")
    if r_max is not None and num_neighbors is not None:
        raise ValueError("give r_max or num_neighbors, not both")
    sel = np.flatnonzero(_mask(symbols, species, pos.shape[1], "species"))
    require_at_least("species" if species else "positions", len(sel), 2, "atoms", "q_l needs neighbours")
    if num_neighbors is not None:
        if isinstance(num_neighbors, bool) or not isinstance(num_neighbors, (int, np.integer)) or not \
                1 <= num_neighbors < len(sel):
            raise ValueError(f"num_neighbors must be an integer between 1 and {len(sel) - 1}, got {num_neighbors!r}")
        query = {"num_neighbors": int(num_neighbors), "exclude_ii": True}
        rule = f"{int(num_neighbors)} nearest"
    else:
        if r_max is None:
            few = np.unique(np.linspace(0, len(pos) - 1, min(5, len(pos))).astype(int))
            first = radial_distribution_function(pos[few][:, sel], cells[few])
            if first.first_minimum_A is None:
                raise ValueError(f"{species or 'positions'}: no first minimum in g(r) (give r_max or num_neighbors)")
            r_max, rule = first.first_minimum_A, f"within the first minimum of g(r), {first.first_minimum_A:.3f} Å"
        else:
            rule = f"within r_max = {float(r_max):g} Å"
        r_max = require_positive("r_max", r_max, "Å")
        w_min = min(float(widths(c).min()) for c in cells)
        if r_max >= 0.5 * w_min:
            raise ValueError(f"r_max = {r_max:g} Å reaches past half the narrowest cell width ({0.5 * w_min:.4g} Å)")
        query = {"r_max": float(r_max), "exclude_ii": True}
    values = np.empty((len(pos), len(sel)))
    for k, (p, c) in enumerate(zip(pos, cells)):
        box, pts = freud_system(p[sel], c)
        ql = freud.order.Steinhardt(int(l), average=bool(average))
        ql.compute((box, pts), neighbors=query)
        values[k] = np.nan_to_num(np.asarray(ql.particle_order, dtype=float), nan=0.0)  # no neighbour: q = 0
    return SteinhardtResult(int(l), bool(average), values, sel, None if num_neighbors is not None else float(r_max),
                            None if num_neighbors is None else int(num_neighbors), rule)
