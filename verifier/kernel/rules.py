"""RULES: the closed table of the kernel's rules, and the one way a rule fails.

Every rejection names exactly one rule of this table (`Reject` refuses any other name, and a test reads
every `Reject(...)` in the kernel with `ast` to keep it so).  proofs/FORMAT.md lists exactly these names,
with the argument for why passing all of them proves a certificate's claim.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RULES: dict[str, str] = {
    # reading (verifier/kernel/read.py, certificate.py)
    "json": "The file is strict JSON: no NaN or Infinity, no floating-point number, no duplicate key.",
    "rational": "Every rational is a canonical string 'n' or 'n/d' (d > 1, lowest terms) and every vector "
                "entry a canonical integer string.",
    "schema": "Every object has exactly the keys of its kind, every list its length, every index its range, "
              "and the counts (regions, cell_count) match what is listed.",
    "format": "format is 'verifier-certificate'.",
    "version": "version is one this kernel knows: 1 (disc), 2 (cones), 3 (moments), 4 (enumeration) or 5 (boxes).",
    # the claim's subject (verifier/kernel/claim.py)
    "method": "method is the version's own ('disc' for 1, 'cones' for 2, 'moments' for 3, 'enumeration' for 4, "
              "'boxes' for 5) and covers the model's seq_len (disc: 2; cones: 3 with polygon evidence, 4 to 7 with "
              "facets evidence; moments: 2 with facets evidence, 3 with polygon evidence; enumeration: 2 to 8; "
              "boxes: any).",
    "model": "The model is a bias-free ReLU RNN: of the position family with one output per position "
             "(versions 1, 2, 5), or of the scalar family with one output (version 3); or an attention-only "
             "transformer with one head per layer (version 4).",
    "task": "task is argmax, 2nd_argmax or argmedian, and argmedian has an odd seq_len (versions 1, 2, 5); "
            "median (version 3); longest_cycle (version 4).",
    "weights-digest": "model.weights_sha256 is the SHA-256 of the canonical JSON of the three weight matrices "
                      "(version 4: of embed, pos_embed, layers and unembed).",
    "checkpoint": "checkpoint.sha256 is a SHA-256 hex digest.",
    "checkpoint-hash": "With a checkpoint given, its bytes hash to checkpoint.sha256.",
    "checkpoint-weights": "With a checkpoint given, the certificate's weights are the exact values of its tensors, "
                          "read without torch.",
    # regions and their claims (verifier/kernel/disc.py, cones.py)
    "roots": "roots are every ordering chamber (or, for 2nd argmax at n >= 4, every top-two cone "
             "x_j > x_k > the rest) times both signs of x_0, in canonical order; on each the "
             "target is one position (version 2) or one linear form, the median (version 3).",
    "pattern": "On every region each neuron's pre-activation, computed under the claimed pattern of the "
               "earlier steps, has the claimed sign (an identically zero one is off).",
    "label": "On every region the task's target is one constant position, the one claimed.",
    "prediction": "On every region each logit difference that decides the argmax has one claimed sign, or is "
                  "identically zero where so marked, and the claimed prediction follows.",
    "wrong": "Every region's right/wrong flag is exactly whether torch's argmax (first index on ties) differs "
             "from the target.",
    "polygon": "Each seq_len-3 cell's edges form a convex spherical polygon whose vertices satisfy every "
               "constraint of the cell.",
    "rays": "Each listed extreme ray is the generalised cross product of its n - 1 constraints, oriented "
            "into the closed cell.",
    "witness": "The sum of a cell's extreme rays is strictly inside every constraint of the cell.",
    "facet": "A facet's point lies on its hyperplane and strictly inside every other constraint not "
             "positively proportional to it.",
    "redundant": "A non-facet constraint is a positive multiple of a facet, or a nonnegative combination of at "
                 "most n linearly independent facets (Farkas).",
    "edges": "A cell marked whole (seq_len 5, or 6 and 7 in a partial certificate) lists each extreme ray once, and for every listed ray and every "
             "2-face of the cell through it another listed ray lies on that 2-face: the graph of a polytope is "
             "connected, so the listed rays are all the cell's extreme rays.",
    "cover": "The regions tile the input space: the disc's sectors wind exactly once; each cone cell is "
             "listed once, every root has one, and across every facet that is not a root wall the listed "
             "neighbour of the same root contains the far side.",
    "wedges": "The wrong sectors are grouped into runs of consecutive wrong sectors, each at most pi wide, "
              "every wrong sector in exactly one run.",
    "triangulation": "The measured cells, and only they, carry simplicial cones that tile each cell or are whole "
                     "(seq_len 5; only a partial certificate gives simplices by pulling paths).",
    "partial": "A partial (anytime) certificate is of seq_len 4 to 7 and lists each cell at most once, with no "
               "neighbours and no 'measured'; every listed cell carries simplicial cones that tile it, distinct simplicial cones of its "
               "pulling triangulation by their paths (pairwise interior-disjoint), or is whole (seq_len 5 to 7), so the "
               "error lies in [measure of the cones and whole cells of the listed wrong cells, 1 - measure of "
               "those of the listed right cells].  A partial median certificate (version 3) is of seq_len 5 and "
               "every listed cell is whole: the MSE lies in [sum of their second moments, that sum + n S^2 (1 - "
               "their measure)] (rule tail).",
    "closed-form": "The closed form is exactly the canonical expression the kernel rebuilds from the regions "
                   "it derived itself: the measure of the wrong regions (error), or the cells' second moments "
                   "of the residual model - median (mse).",
    "enclosure": "[lower, upper] of the error (or mse) contains the kernel's own ball-arithmetic enclosure of "
                 "the closed form (and 0 when it is exactly 0), and the certificate says it is rigorous.",
    "accuracy": "accuracy is exactly 1 - error, bound for bound.",
    "rmse": "[rmse.lower, rmse.upper] contains the square root of every value in [mse.lower, mse.upper], "
            "checked exactly by squaring.",
    "tail": "A partial median certificate (version 3) proves abs(model - median) <= S norm(x) everywhere: its 2n face "
            "trees cut the faces of [-D, D]^n (coordinate j held at +-D) into boxes, and on every leaf box the "
            "kernel's exact symbolic interval propagation (triangle relaxation) bounds the residual r by R with "
            "R^2 <= S^2 min norm(u)^2 over the box; so the cells not listed add at most n S^2 (1 - their mass) to the "
            "MSE.",
    # version 4, enumeration of the longest-cycle transformers' inputs (verifier/kernel/cycle.py)
    "inputs": "inputs is n^n; the wrong and undecided inputs are functions on 0..n-1, each list strictly "
              "increasing, the two disjoint, and the counts match them.",
    "wrong-inputs": "Every listed wrong input's prediction differs from its target, the longest cycle length "
                    "minus 1, computed by the kernel.",
    "forward": "At every input not listed undecided, the kernel's own ball-arithmetic forward pass proves that "
               "torch's argmax (first index on ties) is the claimed class: the listed prediction of a wrong "
               "input, the target of any other.",
    "tally": "error is exactly [wrong / n^n, (wrong + undecided) / n^n].",
    # version 5, boxes: an anytime interval for any seq_len (verifier/kernel/boxes.py)
    "box-tree": "The tree splits the cube [-radius, radius]^n (grid units) by cuts of one coordinate at an integer "
                "strictly inside its box; every leaf is R (right), W (wrong) or U (undecided), and counts match.",
    "box-label": "On every R or W leaf some position k has exactly r intervals at or above its own and the other "
                 "n - 1 - r at or below it (r the task's rank): off a null set of ties the target is k on the box.",
    "box-prediction": "On every R or W leaf the kernel's exact symbolic interval propagation proves one argmax c (torch's "
                      "first index on ties) on the whole closed box, and the leaf is W exactly when c is not the target.",
    "box-mass": "The interval is rigorous and error.lower is at most the kernel's lower arb bound on the Gaussian mass of "
                "the W leaves (products of Phi differences), error.upper at least 1 minus its lower bound on the R leaves'.",
    # outside the trusted path: only with --z3 (verifier/interop/second_opinion.py)
    "z3": "Second opinion (only with --z3): Z3 finds no point of a region that breaks its pattern, "
          "label or right/wrong claim.",
}


class Reject(Exception):
    """A rule failed: `rule` names it (a key of RULES), the message names the culprit."""

    def __init__(self, rule: str, message: str):
        if rule not in RULES:
            raise KeyError(f"kernel bug: {rule!r} is not a rule in RULES")
        if len(message) > 400:  # a hostile file's value quoted in full would drown the one-line verdict
            message = message[:400] + " ..."
        super().__init__(f"[{rule}] {message}")
        self.rule = rule
        self.message = message

    def __reduce__(self):  # a worker's failure travels back to the parent process as itself
        return Reject, (self.rule, self.message)


class Unreadable(Exception):
    """The input could not be read at all (a missing file, a checkpoint of another kind): exit 2 at the CLI."""


@dataclass
class Verdict:
    """The kernel's answer: accepted, or the first failed rule and why."""

    accepted: bool
    rule: str | None = None
    message: str = ""
    summary: dict = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.accepted
