"""Exact cone traversal with adjacency-checked coverage (the geometry of certificate version 2).

R^n is split into 2 * n! roots: an ordering chamber (x_{r0} > x_{r1} > ... , the task's target is
constant there) intersected with a half-space x_0 > 0 or x_0 < 0 (which makes every cone pointed).
Inside a root we traverse cells: a cell is the open cone of points with activation pattern sigma
(over all n*d neurons) and decision signs tau (the sign of l_k - l_j for the root's target k and each
j != k).  Every cell is entirely right or entirely wrong.

Per cell we compute exactly (integer vectors) its constraints, its extreme rays by the double
description method (starting from the root's n walls), its facets, and across each facet that is
not a root wall its neighbour (the pattern recomputed step by step across the facet), then visit the
neighbours.  The evidence written into the certificate lets the checker re-verify coverage without
a solver (see proofs/FORMAT.md):
  n = 3  "polygon": the cyclic list of facet constraints; vertices are cross products of consecutive
         facets, and every other constraint is checked at the vertices;
  other  "facets": an interior witness, a facet witness point with its neighbour for every facet,
         "same" for constraints that repeat a facet, and the support of Farkas multipliers for the
         implied (redundant) constraints.
The traversal works for any n >= 2 (the pipeline uses it for 3 to 5; seq_len 2 is the disc's); the
measure of the cells is the pipeline's business (certification.py with measure.py): spherical polygons
for n = 3, triangulations (`triangulate`) and orthant probabilities for n = 4, 5.
"""

from __future__ import annotations

import contextlib
import itertools
import random
import time
from dataclasses import dataclass, field

from ..errors import InternalError, LimitReached, UnsupportedError
from .exact import dot, independent_subset, null_vector, primitive, rank, solve_nonneg
from .triangulate import triangulate
from ..loading.model import IntRNN
from ..loading.tasks import POSITION_TASKS, SCALAR_TASKS, label_of_ranking


@dataclass(frozen=True)
class Root:
    index: int
    ranking: tuple[int, ...]
    sign: int  # sign of x_0
    walls: tuple[tuple[int, ...], ...]
    label: int | None  # the target position (None for median: no decisions, the target is a linear form)


def top_two(n: int, task: str) -> bool:
    """Whether the roots are the top-two cones {x_j >= x_k >= every other x_i} (2nd argmax at n >= 4: the target
    is constant on them, and there are n (n - 1) of them instead of n! chambers; the cells of the chambers
    inside one come together -- M(3,5): 19,177 cells -> 8,114) rather than the ordering chambers."""
    return task == "2nd_argmax" and n >= 4


def make_roots(n: int, task: str) -> list[Root]:
    """The roots in canonical order, each with both signs of x_0 (+1, then -1): the ordering chambers
    (permutations lexicographically) or, where `top_two`, the top-two cones (pairs (j, k) lexicographically).
    Walls as the kernel writes them (kernel/cones.py `_walls`): x_a - x_b for consecutive a, b of the ranking,
    then (a prefix) x_last - x_i for each position i not in it, ascending, then sign * x_0."""
    rankings = (((j, k) for j in range(n) for k in range(n) if k != j) if top_two(n, task)
                else itertools.permutations(range(n)))
    roots = []
    for ranking in rankings:
        for sign in (1, -1):
            walls = []
            for a, b in zip(ranking, ranking[1:]):
                w = [0] * n
                w[a] += 1
                w[b] -= 1
                walls.append(tuple(w))
            for i in range(n):
                if i not in ranking:
                    w = [0] * n
                    w[ranking[-1]] += 1
                    w[i] -= 1
                    walls.append(tuple(w))
            e0 = [0] * n
            e0[0] = sign
            walls.append(tuple(e0))
            label = None if task in SCALAR_TASKS else label_of_ranking(task, ranking, n)
            roots.append(Root(len(roots), tuple(ranking), sign, tuple(walls), label))
    return roots


@dataclass
class Cell:
    """One traversed cell and its evidence (keys of neighbours are resolved to indices later)."""

    root: int
    sigma: tuple[tuple[int, ...], ...]
    tau: str  # per position j: '.', at the label, else '+', '-' or '0' (sign of l_k - l_j)
    wrong: bool
    constraints: list[tuple[int, ...]]
    rays: list[tuple[int, ...]]
    polygon: list[int] | None = None  # n = 3: cyclic facet constraint indices
    edge_neighbors: list = field(default_factory=list)  # n = 3: neighbour key per edge (None = wall)
    evidence: list = field(default_factory=list)  # other n: per constraint
    masks: list = field(default_factory=list)  # other n: constraints tight at each ray (bit masks)
    ray_cons: list = field(default_factory=list)  # other n: n - 1 independent tight constraints per ray
    simplices: list = field(default_factory=list)  # n >= 4, measured cells: triangulation (ray indices)
    paths: list = field(default_factory=list)  # partial certificates: each simplex's pulling path
    estimates: list = field(default_factory=list)  # partial certificates: float estimates of the cones' measures
    pulled: list | None = None  # partial certificates: the paths of the simplices measured (then no `simplices`)
    whole: bool = False  # n = 5: measured at once (Gauss-Bonnet), no simplices; its rays are all its extreme rays

    @property
    def key(self):
        return (self.sigma, self.tau)


class _FarkasFinder:
    """Supports of Farkas multipliers: g = sum lam_i f_i, lam >= 0, over independent facet normals f_i.

    The dual cone (generated by the facet normals) is triangulated once per cell with the same pulling
    triangulation as the primal cells (its face lattice is the primal's, transposed: facet normal i lies on the
    dual facet of extreme ray r iff f_i . r = 0).  An implied g lies in the dual cone, so in one of its simplices:
    the first simplex (in the triangulation's order) whose exact multipliers are all >= 0 gives the support.  The
    multipliers of simplex S are lam_i = (c_i . g) / (c_i . f_i) with c_i the generalised cross product of the
    other n - 1 normals of S, so each test is n integer dot products.  Exact throughout; the exact Phase-I
    simplex remains as a fallback.
    """

    def __init__(self, facet_cols, rays, tight):
        self.cols = facet_cols
        n = len(rays[0])
        dual_masks = []
        for t in tight:  # primal rays on each facet
            m = 0
            for r in t:
                m |= 1 << r
            dual_masks.append(m)
        self.n = n
        self.simplices = [(S, [None] * n) for S in triangulate(facet_cols, dual_masks, n, len(rays))]

    def _cofactor(self, S, cof, i):
        """c_i of simplex S, computed when first needed (most simplices fail their first or second test)."""
        c = cof[i]
        if c is None:
            c = null_vector([self.cols[j] for j in S if j != S[i]], self.n)
            if dot(c, self.cols[S[i]]) < 0:
                c = tuple(-v for v in c)
            cof[i] = c
        return c

    def support(self, g) -> list[int]:
        for S, cof in self.simplices:
            ys = []
            for i in range(self.n):
                y = dot(self._cofactor(S, cof, i), g)
                if y < 0:
                    break
                ys.append(y)
            else:
                return sorted(S[i] for i, y in enumerate(ys) if y)
        lam = solve_nonneg(self.cols, g)
        if lam is None:
            raise InternalError("an implied constraint has no Farkas multipliers")
        return [i for i, v in enumerate(lam) if v != 0]


def _wrong(tau: str, k: int) -> bool:
    """torch's argmax picks k iff l_k > l_j for j < k and l_k >= l_j for j > k."""
    for j, c in enumerate(tau):
        if j < k and c != "+":
            return True
        if j > k and c == "-":
            return True
    return False


class Traversal:
    """Exact cell traversal of one model; roots are independent units of work."""

    def __init__(self, rnn, task: str):
        if task not in POSITION_TASKS + SCALAR_TASKS:
            raise UnsupportedError(f"task {task}: traversing its cells is not supported")
        self.rnn = rnn
        self.task = task
        self.n = rnn.seq_len
        self.im = IntRNN.of(rnn)
        self.roots = make_roots(self.n, task)
        self.root_of = {(r.ranking, r.sign): r for r in self.roots}
        self._cache: dict = {}
        self.step_seconds: dict | None = None  # {step: seconds} when set (benchmarks/cell_cost.py): process's split

    def _tick(self, step: str, t0: float) -> float:
        """Add the time since t0 to step_seconds[step] when it is kept; the time now (0 when it is not kept)."""
        if self.step_seconds is None:
            return 0.0
        t = time.perf_counter()
        self.step_seconds[step] = self.step_seconds.get(step, 0.0) + t - t0
        return t

    # ---- forms -------------------------------------------------------------------------------
    def step_forms(self, sigma_prefix: tuple) -> list:
        """Forms of step t = len(sigma_prefix) given the pattern of the earlier steps (cached)."""
        f = self._cache.get(sigma_prefix)
        if f is None:
            t = len(sigma_prefix)
            if t == 0:
                f = self.im.step_forms(0, None, None)
            else:
                prev = self.step_forms(sigma_prefix[:-1])
                f = self.im.step_forms(t, prev, sigma_prefix[-1])
            f = [tuple(r) for r in f]
            self._cache[sigma_prefix] = f
        return f

    def output_forms(self, sigma) -> list:
        key = ("out", sigma)
        f = self._cache.get(key)
        if f is None:
            f = [tuple(r) for r in self.im.output_forms(self.step_forms(sigma[:-1]), sigma[-1])]
            self._cache[key] = f
        return f

    def decision_forms(self, sigma, k) -> list:
        """l_k - l_j per position j (None at k); none for median (one output: the cell is the pattern alone)."""
        if k is None:
            return []
        out = self.output_forms(sigma)
        return [None if j == k else tuple(a - b for a, b in zip(out[k], out[j])) for j in range(self.n)]

    def signs_at(self, root: Root, x) -> tuple:
        """(sigma, tau) at a point, or None if x lies on some neuron or decision hyperplane."""
        sig = []
        for t in range(self.n):
            row = []
            for f in self.step_forms(tuple(sig)):
                v = dot(f, x)
                if v == 0 and any(f):
                    return None
                row.append(1 if v > 0 else 0)
            sig.append(tuple(row))
        sigma = tuple(sig)
        tau = []
        for D in self.decision_forms(sigma, root.label):
            if D is None:
                tau.append(".")
                continue
            v = dot(D, x)
            if v == 0 and any(D):
                return None
            tau.append("+" if v > 0 else "-" if v < 0 else "0")
        return sigma, "".join(tau)

    def constraints(self, root: Root, sigma, tau: str) -> list:
        """The cell's strict constraints g.x > 0 in canonical order: walls, neurons, decisions."""
        out = [tuple(w) for w in root.walls]
        for t in range(self.n):
            for i, pf in enumerate(self.step_primitives(sigma[:t])):
                if pf is not None:
                    out.append(pf if sigma[t][i] else tuple(-c for c in pf))
                elif sigma[t][i]:
                    raise InternalError("pattern has an active neuron whose form is identically zero")
        for j, pd in enumerate(self.decision_primitives(sigma, root.label)):
            if j == root.label:
                continue
            c = tau[j]
            if pd is not None:
                if c == "0":
                    raise InternalError("decision marked tied but its form is not zero")
                out.append(pd if c == "+" else tuple(-v for v in pd))
            elif c != "0":
                raise InternalError("decision form is identically zero but not marked tied")
        return out

    # ---- geometry ----------------------------------------------------------------------------
    def extreme_rays(self, cons: list, n_walls: int):
        """Double description from the root's simplicial cone; (rays, tight masks) or None if not full-dim."""
        n = self.n
        walls = cons[:n_walls]
        rays, masks = [], []
        full = (1 << n_walls) - 1
        for i in range(n_walls):
            r = null_vector([w for j, w in enumerate(walls) if j != i], n)
            if dot(walls[i], r) < 0:
                r = tuple(-c for c in r)
            rays.append(primitive(r))
            masks.append(full & ~(1 << i))
        for j in range(n_walls, len(cons)):
            g = cons[j]
            vals = [dot(g, r) for r in rays]
            pos = [i for i, v in enumerate(vals) if v > 0]
            neg = [i for i, v in enumerate(vals) if v < 0]
            bit = 1 << j
            if not neg:
                for i, v in enumerate(vals):
                    if v == 0:
                        masks[i] |= bit
                continue
            if not pos:
                return None
            new_rays, new_masks = [], []
            for i, v in enumerate(vals):
                if v >= 0:
                    new_rays.append(rays[i])
                    new_masks.append(masks[i] | bit if v == 0 else masks[i])
            for p in pos:
                for q in neg:
                    common = masks[p] & masks[q]
                    if bin(common).count("1") < n - 2:
                        continue
                    if any(r != p and r != q and (masks[r] & common) == common for r in range(len(rays))):
                        continue
                    vp, vq = vals[p], -vals[q]
                    nr = primitive(tuple(vp * a + vq * b for a, b in zip(rays[q], rays[p])))
                    new_rays.append(nr)
                    new_masks.append(common | bit)
            rays, masks = new_rays, new_masks
        allmask = -1
        for m in masks:
            allmask &= m
        if allmask:
            return None  # some constraint is tight on the whole cone: not full-dimensional
        return rays, masks

    def step_primitives(self, prefix) -> list:
        """step_forms(prefix) made primitive, None for an identically zero form (cached)."""
        key = ("prim", prefix)
        got = self._cache.get(key)
        if got is None:
            got = [primitive(f) if any(f) else None for f in self.step_forms(prefix)]
            self._cache[key] = got
        return got

    def decision_primitives(self, sigma, k) -> list:
        """decision_forms(sigma, k) made primitive, None at k and for an identically zero form (cached)."""
        key = ("dprim", sigma, k)
        got = self._cache.get(key)
        if got is None:
            got = [primitive(D) if D is not None and any(D) else None for D in self.decision_forms(sigma, k)]
            self._cache[key] = got
        return got

    def neighbor(self, root: Root, sigma, tau: str, h) -> tuple:
        """(sigma', tau') of the cell across the facet hyperplane h (the cell lies on h > 0).  h is primitive,
        so a form is a positive (negative) multiple of h exactly when its primitive form is h (-h)."""
        hn = tuple(-c for c in h)
        sig = []
        for t in range(self.n):
            row = []
            for i, pf in enumerate(self.step_primitives(tuple(sig))):
                if pf is None or pf == h:  # identically zero, or positive on the cell's side: off across h
                    row.append(0)
                elif pf == hn:
                    row.append(1)
                else:
                    row.append(sigma[t][i])
            sig.append(tuple(row))
        sig = tuple(sig)
        out = []
        for j, pd in enumerate(self.decision_primitives(sig, root.label)):
            if j == root.label:
                out.append(".")
            elif pd is None:
                out.append("0")
            elif pd == h:
                out.append("-")
            elif pd == hn:
                out.append("+")
            else:
                out.append(tau[j])
        return sig, "".join(out)

    def process(self, root: Root, sigma, tau: str) -> Cell:
        """Constraints, extreme rays, facets, neighbours and evidence of one cell."""
        n = self.n
        t = time.perf_counter()
        cons = self.constraints(root, sigma, tau)
        t = self._tick("constraints (pattern forms)", t)
        nw = len(root.walls)
        res = self.extreme_rays(cons, nw)
        t = self._tick("extreme rays (double description)", t)
        if res is None:
            raise InternalError(f"root {root.index}: cell {tau} is not full-dimensional")
        rays, masks = res
        tight = [[r for r, m in enumerate(masks) if m >> j & 1] for j in range(len(cons))]
        rep: dict = {}
        facets = []
        for j, g in enumerate(cons):
            if len(tight[j]) < n - 1:
                continue
            if n > 3 and rank([rays[r] for r in tight[j]]) < n - 1:
                continue
            if g in rep:
                continue
            rep[g] = j
            facets.append(j)
        wall_set = set(cons[:nw])
        t = self._tick("facets (ranks)", t)

        def neighbor_key(j):
            if cons[j] in wall_set or j < nw:
                return None
            return self.neighbor(root, sigma, tau, cons[j])

        cell = Cell(root.index, sigma, tau, _wrong(tau, root.label), cons, rays)
        if n == 3:
            # order facets cyclically: each extreme ray lies on exactly two facets
            on = {}
            for j in facets:
                for r in tight[j]:
                    on.setdefault(r, []).append(j)
            if any(len(v) != 2 for v in on.values()) or len(on) != len(facets):
                raise InternalError("polygon structure is inconsistent")
            order = [facets[0]]
            r_prev = tight[facets[0]][0]
            while len(order) < len(facets):
                j = order[-1]
                r_next = next(r for r in tight[j] if r != r_prev)
                nxt = next(f for f in on[r_next] if f != j)
                order.append(nxt)
                r_prev = r_next
            cell.polygon = order
            cell.edge_neighbors = [neighbor_key(j) for j in order]
            # rays in polygon order: vertex i between edge i and edge i+1
            m = len(order)
            cell.rays = [next(rays[r] for r in tight[order[i]] if r in tight[order[(i + 1) % m]]) for i in range(m)]
        else:
            cell.masks = masks
            cell.ray_cons = [independent_subset([cons[j] for j in range(len(cons)) if masks[r] >> j & 1],
                                                [j for j in range(len(cons)) if masks[r] >> j & 1], n - 1)
                             for r in range(len(rays))]
            t = self._tick("ray evidence (independent constraints)", t)
            facet_cols = [cons[j] for j in facets]
            finder = _FarkasFinder(facet_cols, rays, [tight[j] for j in facets])
            ev = []
            for j, g in enumerate(cons):
                if rep.get(g) == j:
                    ev.append(("facet", list(tight[j]), neighbor_key(j)))
                    t = self._tick("neighbours (facet crossing)", t)
                elif g in rep:
                    ev.append(("same", rep[g]))
                else:
                    support = finder.support(g)
                    ev.append(("implied", [facets[i] for i in support]))
                    t = self._tick("Farkas supports", t)
            cell.evidence = ev
        return cell

    # ---- traversal ---------------------------------------------------------------------------
    def start_point(self, root: Root):
        """A point strictly inside the root and off every neuron and decision hyperplane (seeded search)."""
        n = self.n
        rng = random.Random(1_000_003 * root.index + 7)
        full = root.ranking + tuple(i for i in range(n) if i not in root.ranking)  # a prefix, extended
        for attempt in range(200):
            scale = 1 << (20 + attempt // 20)
            y = [0] * n
            for pos, i in enumerate(full):
                y[i] = (n - pos) * scale + rng.randrange(scale // 4)
            shift = y[0] - root.sign * rng.randrange(1, scale // 8)
            x = tuple(v - shift for v in y)
            if any(dot(w, x) <= 0 for w in root.walls):
                continue
            s = self.signs_at(root, x)
            if s is not None:
                return x, s
        raise InternalError(f"root {root.index}: no generic start point found")

    def traverse_root(self, root: Root, limit=None, on_cell=None) -> list[Cell]:
        """All cells of one root (breadth-first from the start point)."""
        _, start = self.start_point(root)
        seen = {start: None}
        queue = [start]
        cells = []
        head = 0
        while head < len(queue):
            key = queue[head]
            head += 1
            cell = self.process(root, *key)
            cells.append(cell)
            if on_cell is not None:
                on_cell(len(queue) - head)
            nbs = cell.edge_neighbors if self.n == 3 else [e[2] for e in cell.evidence if e[0] == "facet"]
            for nb in nbs:
                if nb is not None and nb not in seen:
                    seen[nb] = None
                    queue.append(nb)
            if limit is not None:
                limit(len(cells))
        return cells


def _root_worker(args):
    """One root's cells on a worker: (index, cells)."""
    rnn, task, root_index = args
    tr = Traversal(rnn, task)
    return root_index, tr.traverse_root(tr.roots[root_index])


def traverse(rnn, task: str, progress: bool = False, max_regions: int | None = None,
             timeout: float | None = None, workers: int = 1) -> tuple[Traversal, list[Cell]]:
    """Traverse every root; cells sorted canonically (root, pattern, decisions). Limits raise LimitReached."""
    tr = Traversal(rnn, task)
    t0 = time.perf_counter()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(desc="cells", unit="cell", leave=False, mininterval=0.5)
    done_before = [0]

    def check_limits(count_in_root):
        total = done_before[0] + count_in_root
        if max_regions is not None and total > max_regions:
            raise LimitReached(f"more than {max_regions} cells (--max-regions); stopped, nothing written")
        if timeout is not None and time.perf_counter() - t0 > timeout:
            raise LimitReached(f"timeout after {timeout:g}s (--timeout) with {total} cells; stopped, "
                               "nothing written")

    by_root: dict = {}
    try:
        if hasattr(workers, "map") or workers > 1:
            from ..kernel.work import mapper

            with contextlib.ExitStack() as stack:
                units = [(rnn, task, r.index) for r in tr.roots]
                pool = mapper(workers, stack)  # a cluster (interop/scale.py) or local processes
                # each result names its root: local processes hand them back as they finish (the limits are
                # looked at sooner), a cluster in order
                results = pool.map_unordered(_root_worker, units) if hasattr(pool, "map_unordered") else \
                    pool.map(_root_worker, units)
                for idx, cells in results:
                    by_root[idx] = cells
                    done_before[0] += len(cells)
                    check_limits(0)
                    if bar is not None:
                        bar.update(len(cells))
                        bar.set_postfix(roots=f"{len(by_root)}/{len(tr.roots)}", refresh=False)
        else:
            for root in tr.roots:
                def on_cell(queue_len, root=root):
                    if bar is not None:
                        bar.update(1)
                        bar.set_postfix(root=f"{root.index + 1}/{len(tr.roots)}", queue=queue_len, refresh=False)

                by_root[root.index] = tr.traverse_root(root, limit=check_limits, on_cell=on_cell)
                done_before[0] += len(by_root[root.index])
    finally:
        if bar is not None:
            bar.close()
    cells = []
    for r in tr.roots:
        cells.extend(sorted(by_root.get(r.index, ()), key=lambda c: ("".join("".join(map(str, s)) for s in c.sigma), c.tau)))
    return tr, cells


# ------------------------------------------------------------------------------------------------
# Certificate (version 2)


def cell_document(cell: Cell, index: dict | None, n: int) -> dict:
    """The certificate entry of a cell; neighbour keys become indices into the cells list (all null when
    index is None: a partial certificate claims no adjacency)."""
    doc = {"root": cell.root, "pattern": ["".join(map(str, row)) for row in cell.sigma], "decision": cell.tau,
           "wrong": cell.wrong}
    if n == 3:
        doc["edges"] = list(cell.polygon)
        doc["neighbors"] = [None if k is None or index is None else index[(cell.root, k)] for k in cell.edge_neighbors]
    else:
        doc["rays"] = [list(rc) for rc in cell.ray_cons]
        ev = []
        for e in cell.evidence:
            if e[0] == "facet":
                ev.append({"facet": list(e[1]),
                           "neighbor": None if e[2] is None or index is None else index[(cell.root, e[2])]})
            elif e[0] == "same":
                ev.append({"same": e[1]})
            else:
                ev.append({"implied": e[1]})
        doc["constraints"] = ev
        if cell.whole:
            doc["whole"] = True
        elif cell.pulled is not None:
            doc["pulled"] = [list(p) for p in cell.pulled]
        elif cell.simplices:
            doc["simplices"] = [list(sx) for sx in cell.simplices]
    return doc
