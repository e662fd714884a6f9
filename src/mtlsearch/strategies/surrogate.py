"""The default strategy: Bayesian optimisation with a Bayesian linear surrogate over main effects,
sparse pairwise interactions and the target's share of the mixture.

The surrogate is the kind of model that fits multi-task transfer: each auxiliary has its own
effect, a few pairs interact, and every addition dilutes the target. It is a Gaussian linear
model on the features

    [1, 1/(1+|S|), |S|/N, x_1..x_N, x_i*x_j (i<j)]

with one prior variance per feature group. The group variances and the noise level are not
fitted to a single best value: predictions average over a grid of them, weighted by their
marginal likelihood, which keeps the model honest with a handful of observations. Every one of
the 2**N combinations is scored exactly, so the acquisition (expected improvement by default)
needs no inner optimiser. Batches are filled kriging-believer style: a pick joins the data at its
predicted mean, which shrinks the uncertainty around it and steers the next pick elsewhere.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from mtlsearch.errors import ConfigError
from mtlsearch.strategies.base import (
    Combination,
    Observation,
    Proposal,
    Strategy,
    inclusion_matrix,
    predictions_by_combination,
    to_combination,
    to_mask,
)

_erf = np.vectorize(math.erf, otypes=[float])
_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)


def _norm_cdf(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + _erf(z / _SQRT2))


def _norm_pdf(z: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * z * z) / _SQRT2PI


def design_matrix(n: int, pairwise: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Features of every combination, and the prior group of each feature column.

    Groups: 0 intercept, 1 shared size terms, 2 main effects, 3 pairwise interactions.
    """
    x = inclusion_matrix(n)
    size = x.sum(1, keepdims=True)
    columns = [np.ones_like(size), 1.0 / (1.0 + size), size / max(n, 1), x]
    groups = [0, 1, 1] + [2] * n
    if pairwise and n > 1:
        i, j = np.triu_indices(n, k=1)
        columns.append(x[:, i] * x[:, j])
        groups += [3] * len(i)
    return np.hstack(columns), np.asarray(groups)


@dataclass
class _Component:
    weight: float
    scales: np.ndarray  # prior variance of each feature group
    noise_var: float
    y: np.ndarray  # standardised observations (plus kriging-believer fantasies)
    inverse: np.ndarray  # (K + noise I)^-1 over the observations
    alpha: np.ndarray  # inverse @ y


class BayesianLinearSurrogate:
    """Gaussian linear regression averaged over a grid of prior scales and noise levels.

    It is computed in its kernel (Gaussian-process) form: every group's kernel between two
    combinations is a function of their sizes and their overlap |S & T| (main effects: |S & T|,
    pairs: C(|S & T|, 2)), so no 2**N x features matrix is needed and the cost grows with the
    number of observations, not features.
    """

    MAIN_SCALES = (0.05, 0.15, 0.4, 1.0)
    # A zero scale switches a group off: the evidence then compares simpler models too.
    PAIR_RATIOS = (0.0, 0.1, 0.3, 1.0)
    # Noise sd relative to the observations' sd. The grid reaches 0.8 so that observations that
    # are mostly noise (a seed-noise sd as large as the differences, as on recorded
    # landscapes) can be explained as noise; a grid that stops at 0.4 forces most of any
    # spread to be signal and reads noise as structure.
    NOISE_SCALES = (0.02, 0.07, 0.2, 0.45, 0.8)
    SIZE_SCALES = (0.0, 1.0)
    # Observations that hardly differ are standardised by at least this (score units, a tenth
    # of a point), not blown up to unit spread: a flat landscape then reads as flat.
    SCALE_FLOOR = 1e-3

    def __init__(self, n: int, pairwise: bool = True):
        self.n = n
        self.pairwise = pairwise
        self.x_all = inclusion_matrix(n)
        self.components: list[_Component] = []
        self.offset = 0.0
        self.scale = 1.0
        self._observed = np.zeros((0, n))
        self._cross: np.ndarray | None = None
        self._features: tuple[np.ndarray, np.ndarray] | None = None
        self._prior_diag = self._group_kernels(self.x_all, self.x_all, diagonal=True)

    def _group_kernels(self, xa: np.ndarray, xb: np.ndarray, diagonal: bool = False) -> np.ndarray:
        """Kernels of the four feature groups, stacked: intercept, size terms, mains, pairs."""
        sa, sb = xa.sum(1), xb.sum(1)
        norm = max(self.n, 1)
        if diagonal:
            overlap = sa
            size = (1.0 / (1.0 + sa)) ** 2 + (sa / norm) ** 2
        else:
            overlap = xa @ xb.T
            size = np.outer(1.0 / (1.0 + sa), 1.0 / (1.0 + sb)) + np.outer(sa / norm, sb / norm)
        pairs = overlap * (overlap - 1.0) / 2.0 if self.pairwise else np.zeros_like(overlap)
        return np.stack([np.ones_like(overlap), size, overlap, pairs])

    @staticmethod
    def _solve(kernel: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        chol = np.linalg.cholesky(kernel)
        chol_inv = np.linalg.inv(chol)
        inverse = chol_inv.T @ chol_inv
        return inverse, inverse @ y, float(np.log(np.diag(chol)).sum())

    def fit(self, masks: np.ndarray, scores: np.ndarray) -> None:
        y = np.asarray(scores, dtype=float)
        self.offset = float(y.mean())
        self.scale = max(float(y.std()), self.SCALE_FLOOR)
        y = (y - self.offset) / self.scale
        self._observed = self.x_all[masks]
        self._cross = None
        groups = self._group_kernels(self._observed, self._observed)
        eye = np.eye(len(y))
        fits = []
        pair_ratios = self.PAIR_RATIOS if self.pairwise else (0.0,)
        for size, main, ratio, noise in itertools.product(
            self.SIZE_SCALES, self.MAIN_SCALES, pair_ratios, self.NOISE_SCALES
        ):
            scales = np.array([1.0, size, main, main * ratio]) ** 2
            kernel = np.tensordot(scales, groups, axes=1) + noise**2 * eye
            chol = np.linalg.cholesky(kernel)
            half = np.linalg.solve(chol, y)
            log_evidence = -0.5 * half @ half - np.log(np.diag(chol)).sum()
            fits.append((log_evidence, scales, noise**2, kernel))
        log_w = np.array([f[0] for f in fits])
        weights = np.exp(log_w - log_w.max())
        # Components with negligible weight change nothing but cost time.
        keep = np.flatnonzero(weights >= 1e-3 * weights.max())
        total = weights[keep].sum()
        self.components = []
        for k in keep:
            _, scales, noise_var, kernel = fits[k]
            inverse, alpha, _ = self._solve(kernel, y)
            self.components.append(
                _Component(float(weights[k] / total), scales, noise_var, y, inverse, alpha)
            )

    def _moments(self, component: _Component) -> tuple[np.ndarray, np.ndarray]:
        if self._cross is None or self._cross.shape[2] != len(self._observed):
            self._cross = self._group_kernels(self.x_all, self._observed)
        cross = np.tensordot(component.scales, self._cross, axes=1)
        mean = cross @ component.alpha
        var = component.scales @ self._prior_diag - ((cross @ component.inverse) * cross).sum(1)
        return mean, np.clip(var, 0.0, None)

    def predict(self) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance of the latent score of every combination (score units)."""
        mean = np.zeros(len(self.x_all))
        second = np.zeros(len(self.x_all))
        for component in self.components:
            m, v = self._moments(component)
            mean += component.weight * m
            second += component.weight * (v + m * m)
        var = np.clip(second - mean * mean, 1e-18, None)
        return mean * self.scale + self.offset, var * self.scale**2

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """One draw of every combination's latent score from the posterior (Thompson sampling).

        Drawn in weight space (features of every combination, posterior over the weights), which
        is cheap for the few dozen features where a joint draw over 2**N values is not.
        """
        component = self.components[
            rng.choice(len(self.components), p=[c.weight for c in self.components])
        ]
        features, groups = design_matrix(self.n, self.pairwise)
        prior_var = np.maximum(component.scales[groups], 1e-12)
        phi = features[[int(m) for m in (self._observed * (1 << np.arange(self.n))).sum(1)]]
        precision = phi.T @ phi / component.noise_var + np.diag(1.0 / prior_var)
        chol = np.linalg.cholesky(precision)
        mean = np.linalg.solve(precision, phi.T @ component.y / component.noise_var)
        draw = mean + np.linalg.solve(chol.T, rng.standard_normal(len(mean)))
        return (features @ draw) * self.scale + self.offset

    def sample_joint(self, rng: np.random.Generator, n_draws: int) -> np.ndarray:
        """``n_draws`` joint draws of every combination's latent score (rows; score units).

        Each draw picks a component by its weight and draws the weights of the linear model
        from that component's posterior, so a draw keeps the correlations between
        combinations that share auxiliaries, and the spread of the noise level and prior
        scales the grid holds.
        """
        if self._features is None:
            self._features = design_matrix(self.n, self.pairwise)
        features, groups = self._features
        rows = (self._observed * (1 << np.arange(self.n))).sum(1).astype(np.int64)
        phi = features[rows]
        counts = rng.multinomial(n_draws, [c.weight for c in self.components])
        draws = []
        for component, count in zip(self.components, counts):
            if count == 0:
                continue
            prior_var = component.scales[groups]
            active = prior_var > 0  # a group switched off contributes nothing, exactly
            phi_a = phi[:, active]
            precision = phi_a.T @ phi_a / component.noise_var + np.diag(1.0 / prior_var[active])
            chol = np.linalg.cholesky(precision)
            mean = np.linalg.solve(precision, phi_a.T @ component.y / component.noise_var)
            weights = mean[:, None] + np.linalg.solve(
                chol.T, rng.standard_normal((len(mean), int(count)))
            )
            draws.append((features[:, active] @ weights).T)
        return np.vstack(draws) * self.scale + self.offset

    def condition_on_mean(self, mask: int) -> None:
        """Add a fantasy observation at the current predicted mean (kriging believer): the mean
        stays, the uncertainty around ``mask`` shrinks."""
        row = self.x_all[mask][None, :]
        observed = np.vstack([self._observed, row])
        groups = self._group_kernels(observed, observed)
        for component in self.components:
            cross = np.tensordot(
                component.scales, self._group_kernels(row, self._observed), axes=1
            )[0]
            y = np.append(component.y, cross @ component.alpha)
            kernel = np.tensordot(component.scales, groups, axes=1) + component.noise_var * np.eye(
                len(y)
            )
            component.y = y
            component.inverse, component.alpha, _ = self._solve(kernel, y)
        self._observed = observed
        self._cross = None


class SurrogateStrategy(Strategy):
    """Bayesian optimisation over all combinations with ``BayesianLinearSurrogate``.

    It starts with the target alone and an initial design, ``design``:

    * "partition" (default): the auxiliaries shuffled and split into ``n_initial`` groups
      (default: groups of two or three), so that every auxiliary has been seen once, in a small
      mixture, after a handful of evaluations; then (four or more candidates) the whole pool;
    * "random": ``n_initial`` random combinations of a quarter to half of the auxiliaries;
    * "singles": the target with each auxiliary alone (N evaluations; ``n_initial`` unused).

    Evaluations already in the history count towards the design. Then it proposes by
    ``acquisition``: "ei" expected improvement (default), "ucb" upper confidence bound, "thompson"
    posterior samples, "mean" pure exploitation. It never stops on its own before every
    combination is evaluated; ``improvement_probability`` tells the search loop when more
    evaluations are unlikely to pay (its "model" stopping rule).
    """

    name = "surrogate"
    enumerates = True
    ACQUISITIONS = ("ei", "ucb", "thompson", "mean")
    DESIGNS = ("partition", "random", "singles")
    IMPROVEMENT_DRAWS = 1000

    def __init__(
        self,
        n_candidates: int,
        seed: int = 0,
        acquisition: str = "ei",
        design: str = "partition",
        n_initial: int | None = None,
        pairwise: bool = True,
        ucb_beta: float = 2.0,
    ):
        super().__init__(n_candidates, seed)
        if acquisition not in self.ACQUISITIONS:
            raise ConfigError(
                f"acquisition must be one of {self.ACQUISITIONS}, got {acquisition!r}"
            )
        if design not in self.DESIGNS:
            raise ConfigError(f"design must be one of {self.DESIGNS}, got {design!r}")
        self.acquisition = acquisition
        self.design = design
        if design == "singles":
            self.n_initial = n_candidates
        elif n_initial is None:
            self.n_initial = min(n_candidates, math.ceil(n_candidates / 2.5))
        else:
            self.n_initial = int(n_initial)
        self.pairwise = bool(pairwise)
        self.ucb_beta = float(ucb_beta)
        self.model = BayesianLinearSurrogate(n_candidates, pairwise=self.pairwise)
        self._design: list[int] | None = None

    def _initial(self, seen: dict[int, float], n: int) -> list[int]:
        """What is left of the initial design: the target alone, then the design combinations,
        for as long as the history holds fewer combinations than the design and the target."""
        if self._design is None:
            if self.design == "singles":
                self._design = [1 << i for i in range(self.n_candidates)]
            elif self.design == "partition":
                # Small groups: each auxiliary is seen once, mixed with only one or two others,
                # so that one harmful partner hides little of a helpful one.
                order = self.rng.permutation(self.n_candidates)
                groups = np.array_split(order, max(1, min(self.n_initial, self.n_candidates)))
                self._design = [to_mask(g) for g in groups if len(g)]
                # Then the whole pool: without one large mixture the model only extrapolates
                # to them, and auxiliaries that pay off only together look hopeless to it
                # (and to the stopping rule that asks it).
                whole = self.n_combinations - 1
                if self.n_candidates >= 4 and whole not in self._design:
                    self._design.append(whole)
            else:
                sizes = inclusion_matrix(self.n_candidates).sum(1)
                low, high = max(1, self.n_candidates // 4), max(1, (self.n_candidates + 1) // 2)
                pool = np.flatnonzero((sizes >= low) & (sizes <= high))
                picks = self.rng.choice(pool, size=min(self.n_initial, len(pool)), replace=False)
                self._design = [int(m) for m in picks]
        missing = len(self._design) + 1 - len(seen)
        chosen = [m for m in [0, *self._design] if m not in seen][: max(0, missing)]
        return chosen[:n]

    def _scores(self, mean: np.ndarray, var: np.ndarray, incumbent: float) -> np.ndarray:
        std = np.sqrt(var)
        if self.acquisition == "mean":
            return mean
        if self.acquisition == "ucb":
            return mean + self.ucb_beta * std
        z = (mean - incumbent) / std
        return (mean - incumbent) * _norm_cdf(z) + std * _norm_pdf(z)

    def propose(self, history: Sequence[Observation], n: int = 1) -> list[Proposal]:
        return self.propose_pending(history, n, ())

    def propose_pending(
        self, history: Sequence[Observation], n: int, pending: Collection[Combination]
    ) -> list[Proposal]:
        seen = self.observed(history)
        running = {to_mask(c) for c in pending} - set(seen)
        if len(seen) + len(running) >= self.n_combinations or n <= 0:
            return []
        initial = [m for m in self._initial(seen, n + len(running)) if m not in running][:n]
        if initial:
            return [Proposal(to_combination(m)) for m in initial]
        masks = np.fromiter(seen, dtype=np.int64)
        self.model.fit(masks, np.fromiter(seen.values(), dtype=float))
        # evaluations still running join as fantasies at their predicted mean (kriging
        # believer), as a batch's earlier picks do below, so the next pick goes elsewhere
        for mask in running:
            self.model.condition_on_mean(mask)
        mean, var = self.model.predict()
        excluded = set(seen) | running
        chosen: list[Proposal] = []
        if self.acquisition == "thompson":
            for _ in range(n):
                draw = self.model.sample(self.rng)
                draw[list(excluded)] = -np.inf
                mask = int(np.argmax(draw))
                if not np.isfinite(draw[mask]):
                    break
                excluded.add(mask)
                chosen.append(Proposal(to_combination(mask), float(mean[mask])))
            return chosen
        incumbent = float(mean[masks].max())
        current_mean, current_var = mean, var
        for _ in range(n):
            score = self._scores(current_mean, current_var, incumbent)
            score[list(excluded)] = -np.inf
            mask = int(np.argmax(score))
            if not np.isfinite(score[mask]):
                break
            excluded.add(mask)
            chosen.append(Proposal(to_combination(mask), float(mean[mask])))
            if len(chosen) < n:
                self.model.condition_on_mean(mask)
                incumbent = max(incumbent, float(mean[mask]))
                current_mean, current_var = self.model.predict()
        return chosen

    def improvement_probability(
        self, history: Sequence[Observation], min_gain: float
    ) -> float | None:
        """P(max over unevaluated combinations of the latent score > latent score of the best
        observed combination + ``min_gain``), a Monte-Carlo estimate from joint posterior draws.

        Joint draws, because the 2**N combinations are strongly correlated (they share
        auxiliaries): the union bound 1 - prod(1 - P_i) treats them as independent and stays
        near 1 with thousands of combinations, max_i P_i ignores that many small chances add
        up; the maximum of a joint draw counts each way of improving once. The incumbent enters
        as its latent score, not its observation: a lucky noisy observation does not make the
        rest look hopeless. None until the initial design is done (the model is not yet
        proposing).
        """
        seen = self.observed(history)
        if len(seen) >= self.n_combinations:
            return 0.0
        if not seen or self._design is None or self._initial(seen, 1):
            return None
        masks = np.fromiter(seen, dtype=np.int64)
        scores = np.fromiter(seen.values(), dtype=float)
        self.model.fit(masks, scores)
        # Its own generator, seeded by the history: asking never changes what is proposed.
        seed = int(self.seed) if isinstance(self.seed, (int, np.integer)) else 0
        rng = np.random.default_rng([abs(seed), len(seen), 0x5709])
        free = np.ones(self.n_combinations, dtype=bool)
        free[masks] = False
        best = int(masks[int(np.argmax(scores))])
        chunk = max(1, (1 << 22) // self.n_combinations)  # draws held in memory at once
        hits, left = 0, self.IMPROVEMENT_DRAWS
        while left > 0:
            draws = self.model.sample_joint(rng, min(chunk, left))
            hits += int((draws[:, free].max(1) - draws[:, best] > min_gain).sum())
            left -= len(draws)
        return hits / self.IMPROVEMENT_DRAWS

    def predict_all(self, history: Sequence[Observation]) -> dict[Combination, float] | None:
        seen = self.observed(history)
        if not seen:
            return None
        self.model.fit(np.fromiter(seen, dtype=np.int64), np.fromiter(seen.values(), dtype=float))
        return predictions_by_combination(self.model.predict()[0])
