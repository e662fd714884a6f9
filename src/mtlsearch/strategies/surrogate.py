"""The default strategy: Bayesian optimisation with a Bayesian linear surrogate over main effects,
sparse pairwise interactions and the target's share of the mixture.

The surrogate is the kind of model that fits multi-task transfer: each auxiliary has its own
effect, a few pairs interact, and every addition dilutes the target. It is a Gaussian linear
model on the features

    [1, 1/(1+|S|), |S|/N, x_1..x_N, x_i*x_j (i<j)]

with one prior variance per feature group. The group variances and the noise level are not
fitted to a single best value: predictions average over a grid of them, weighted by their
marginal likelihood, which keeps the model honest with a handful of observations. Up to 16
candidates every one of the 2**N combinations is scored exactly, so the acquisition (expected
improvement by default) needs no inner optimiser; beyond, a local search over inclusion vectors
maximises it (see ``SurrogateStrategy``). Batches are filled kriging-believer style: a pick joins the data at its
predicted mean, which shrinks the uncertainty around it and steers the next pick elsewhere.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from mtlsearch.errors import ConfigError
from mtlsearch.strategies.base import (
    MAX_ENUMERATED_CANDIDATES,
    Combination,
    Observation,
    Proposal,
    SizeBounds,
    Strategy,
    inclusion_matrix,
    masks_to_rows,
    predictions_by_combination,
    rows_to_masks,
    to_combination,
    to_mask,
)
from mtlsearch.strategies.horseshoe import HorseshoeQuadraticSurrogate

from threadpoolctl import threadpool_limits


def _one_blas_thread():
    """The surrogate's matrices are small (observations x observations): several BLAS threads
    only wait for each other, the more so on a machine busy with other work (measured: a
    proposal at N = 64 took 5 s with the default threads on two busy cores, 0.2 s on one)."""
    return threadpool_limits(limits=1, user_api="blas")


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


def standardised_direction(values: Sequence[float] | None, n: int) -> np.ndarray | None:
    """``values`` centred and scaled to unit root mean square; None for no values or values that
    are all equal (they tell no auxiliary from another)."""
    if values is None:
        return None
    p = np.asarray(values, dtype=np.float64).reshape(-1)
    if len(p) != n:
        raise ConfigError(f"prior direction: expected {n} values, one per candidate, got {len(p)}")
    if not n:
        return None
    size = max(1.0, float(np.abs(p).max()))
    p = p - p.mean()
    rms = float(np.sqrt(np.mean(p * p)))
    # relative to the values' size: equal values carry rounding, not a direction
    if not rms > 1e-12 * size:
        return None
    return p / rms


@dataclass
class _Component:
    weight: float
    scales: np.ndarray  # prior variance of each feature group
    noise_var: float
    y: np.ndarray  # standardised observations (plus kriging-believer fantasies)
    inverse: np.ndarray  # (K + noise I)^-1 over the observations
    alpha: np.ndarray  # inverse @ (y - prior mean at the observations)
    # lambda: the prior mean of main effect i is lambda * direction_i (standardised units)
    prior_weight: float = 0.0


class BayesianLinearSurrogate:
    """Gaussian linear regression averaged over a grid of prior scales and noise levels.

    It is computed in its kernel (Gaussian-process) form: every group's kernel between two
    combinations is a function of their sizes and their overlap |S & T| (main effects: |S & T|,
    pairs: C(|S & T|, 2)), so no 2**N x features matrix is needed and the cost grows with the
    number of observations, not features.

    ``prior_direction`` (one value per candidate, or None) gives the main effects a prior mean
    ``lambda * direction`` instead of 0, i.e. the prior mean function ``m(x) = lambda * (p . x)``
    with ``p`` the direction centred and scaled to unit root mean square. ``lambda`` runs over
    ``PRIOR_WEIGHTS`` (0 included), a further axis of the grid averaged by marginal likelihood:
    observations that contradict the direction leave the weight on lambda = 0. The evidence is
    a quadratic in lambda for a given kernel, so the extra axis costs no factorisation.
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
    # The prior direction's weight, in standardised score units per unit of direction. Kept
    # non-negative: a signal that points the wrong way is shrunk to zero, not turned round (a
    # reversed signal is not a thing to count on). Half the prior mass sits on 0, so that a
    # direction has to earn its influence from the observations (see ``fit_rows``).
    PRIOR_WEIGHTS = (0.0, 0.1, 0.25, 0.5, 1.0)
    PRIOR_ZERO_MASS = 0.5
    # Observations that hardly differ are standardised by at least this (score units, a tenth
    # of a point), not blown up to unit spread: a flat landscape then reads as flat.
    SCALE_FLOOR = 1e-3

    def __init__(self, n: int, pairwise: bool = True, prior_direction: Sequence[float] | None = None):
        self.n = n
        self.pairwise = pairwise
        self.direction = standardised_direction(prior_direction, n)
        self.components: list[_Component] = []
        self.offset = 0.0
        self.scale = 1.0
        self._observed = np.zeros((0, n))
        self._cross: np.ndarray | None = None
        self._features: tuple[np.ndarray, np.ndarray] | None = None
        self._prior: np.ndarray | None = None
        self._all_mean: np.ndarray | None = None

    # Every combination, for the methods that score all 2**N of them (small N only); the
    # ``*_rows`` methods take any inclusion vectors instead.
    @property
    def x_all(self) -> np.ndarray:
        return inclusion_matrix(self.n)

    @property
    def _all_prior_mean(self) -> np.ndarray:
        if self._all_mean is None:
            self._all_mean = self._prior_mean(self.x_all)
        return self._all_mean

    @property
    def _prior_diag(self) -> np.ndarray:
        if self._prior is None:
            self._prior = self._group_kernels(self.x_all, self.x_all, diagonal=True)
        return self._prior

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
        """Fit on the combinations with bitmasks ``masks`` (small N)."""
        self.fit_rows(self.x_all[masks], scores)

    def fit_rows(self, rows: np.ndarray, scores: np.ndarray) -> None:
        """Fit on the combinations with inclusion vectors ``rows`` (any N)."""
        y = np.asarray(scores, dtype=float)
        self.offset = float(y.mean())
        self.scale = max(float(y.std()), self.SCALE_FLOOR)
        y = (y - self.offset) / self.scale
        self._observed = np.asarray(rows, dtype=np.float64)
        self._cross = None
        groups = self._group_kernels(self._observed, self._observed)
        eye = np.eye(len(y))
        prior_mean = self._prior_mean(self._observed)
        if prior_mean is None:
            lambdas, log_prior = (0.0,), np.zeros(1)
        else:
            lambdas = self.PRIOR_WEIGHTS
            rest = (1.0 - self.PRIOR_ZERO_MASS) / (len(lambdas) - 1)
            log_prior = np.log([self.PRIOR_ZERO_MASS] + [rest] * (len(lambdas) - 1))
        fits = []
        pair_ratios = self.PAIR_RATIOS if self.pairwise else (0.0,)
        for size, main, ratio, noise in itertools.product(
            self.SIZE_SCALES, self.MAIN_SCALES, pair_ratios, self.NOISE_SCALES
        ):
            scales = np.array([1.0, size, main, main * ratio]) ** 2
            kernel = np.tensordot(scales, groups, axes=1) + noise**2 * eye
            chol = np.linalg.cholesky(kernel)
            half = np.linalg.solve(chol, y)
            log_det = np.log(np.diag(chol)).sum()
            if prior_mean is None:
                log_evidence = -0.5 * half @ half - log_det
                fits.append((log_evidence, scales, noise**2, kernel, 0.0))
                continue
            # The residual y - lambda m, whitened, is linear in lambda: one solve for all lambdas.
            half_mean = np.linalg.solve(chol, prior_mean)
            for lam, log_p in zip(lambdas, log_prior):
                residual = half - lam * half_mean
                log_evidence = -0.5 * residual @ residual - log_det + log_p
                fits.append((log_evidence, scales, noise**2, kernel, lam))
        log_w = np.array([f[0] for f in fits])
        weights = np.exp(log_w - log_w.max())
        # Components with negligible weight change nothing but cost time.
        keep = np.flatnonzero(weights >= 1e-3 * weights.max())
        total = weights[keep].sum()
        self.components = []
        for k in keep:
            _, scales, noise_var, kernel, lam = fits[k]
            if lam:
                inverse, alpha, _ = self._solve(kernel, y - lam * prior_mean)
            else:
                inverse, alpha, _ = self._solve(kernel, y)
            self.components.append(
                _Component(float(weights[k] / total), scales, noise_var, y, inverse, alpha, lam)
            )

    def _prior_mean(self, rows: np.ndarray) -> np.ndarray | None:
        """``p . x`` of every row (lambda = 1), None without a prior direction."""
        if self.direction is None:
            return None
        return np.asarray(rows, dtype=np.float64) @ self.direction

    def prior_weight(self) -> float:
        """The posterior mean of lambda, the prior direction's weight (0 without one)."""
        return float(sum(c.weight * c.prior_weight for c in self.components))

    def _moments(self, component: _Component) -> tuple[np.ndarray, np.ndarray]:
        if self._cross is None or self._cross.shape[2] != len(self._observed):
            self._cross = self._group_kernels(self.x_all, self._observed)
        cross = np.tensordot(component.scales, self._cross, axes=1)
        mean = cross @ component.alpha
        if component.prior_weight:
            mean = mean + component.prior_weight * self._all_prior_mean
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

    def predict_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance of the latent score of the combinations with inclusion
        vectors ``rows`` (score units)."""
        rows = np.asarray(rows, dtype=np.float64)
        cross_groups = self._group_kernels(rows, self._observed)
        prior_groups = self._group_kernels(rows, rows, diagonal=True)
        prior_mean = self._prior_mean(rows)
        mean = np.zeros(len(rows))
        second = np.zeros(len(rows))
        for component in self.components:
            cross = np.tensordot(component.scales, cross_groups, axes=1)
            m = cross @ component.alpha
            if component.prior_weight:
                m = m + component.prior_weight * prior_mean
            v = component.scales @ prior_groups - ((cross @ component.inverse) * cross).sum(1)
            v = np.clip(v, 0.0, None)
            mean += component.weight * m
            second += component.weight * (v + m * m)
        var = np.clip(second - mean * mean, 1e-18, None)
        return mean * self.scale + self.offset, var * self.scale**2

    def sample_joint_rows(
        self, rows: np.ndarray, rng: np.random.Generator, n_draws: int
    ) -> np.ndarray:
        """``n_draws`` joint draws of the latent scores of the combinations ``rows`` (draws in
        rows, score units), in function space: each draw picks a component by its weight and
        draws from that component's Gaussian posterior over these combinations alone, so its
        cost grows with the number of rows, not with the 2**N combinations or the features."""
        rows = np.asarray(rows, dtype=np.float64)
        groups = self._group_kernels(rows, rows)
        cross_groups = self._group_kernels(rows, self._observed)
        prior_mean = self._prior_mean(rows)
        counts = rng.multinomial(n_draws, [c.weight for c in self.components])
        draws = []
        jitter = 1e-9 * np.eye(len(rows))
        for component, count in zip(self.components, counts):
            if count == 0:
                continue
            cross = np.tensordot(component.scales, cross_groups, axes=1)
            mean = cross @ component.alpha
            if component.prior_weight:
                mean = mean + component.prior_weight * prior_mean
            cov = np.tensordot(component.scales, groups, axes=1) - cross @ component.inverse @ cross.T
            cov = 0.5 * (cov + cov.T)
            try:
                chol = np.linalg.cholesky(cov + jitter)
            except np.linalg.LinAlgError:
                # Rows the data pin down leave the covariance singular to rounding: the
                # eigen-decomposition clips the few tiny negative eigenvalues instead.
                values, vectors = np.linalg.eigh(cov)
                chol = vectors * np.sqrt(np.clip(values, 0.0, None))
            draws.append((mean[:, None] + chol @ rng.standard_normal((len(rows), int(count)))).T)
        return np.vstack(draws) * self.scale + self.offset

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
        rhs = phi.T @ component.y / component.noise_var
        if component.prior_weight:
            rhs = rhs + self._weight_prior_mean(component, groups) / prior_var
        mean = np.linalg.solve(precision, rhs)
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
            rhs = phi_a.T @ component.y / component.noise_var
            if component.prior_weight:
                rhs = rhs + (self._weight_prior_mean(component, groups) / np.where(
                    active, prior_var, 1.0))[active]
            mean = np.linalg.solve(precision, rhs)
            weights = mean[:, None] + np.linalg.solve(
                chol.T, rng.standard_normal((len(mean), int(count)))
            )
            draws.append((features[:, active] @ weights).T)
        return np.vstack(draws) * self.scale + self.offset

    def _weight_prior_mean(self, component: _Component, groups: np.ndarray) -> np.ndarray:
        """The prior mean of the linear model's weights (``design_matrix`` columns): lambda *
        direction on the main effects, 0 elsewhere."""
        mean = np.zeros(len(groups))
        mean[groups == 2] = component.prior_weight * self.direction
        return mean

    def condition_on_mean(self, mask: int) -> None:
        """Add a fantasy observation at the current predicted mean (kriging believer): the mean
        stays, the uncertainty around ``mask`` shrinks."""
        self.condition_on_row(self.x_all[mask])

    def condition_on_row(self, row: np.ndarray) -> None:
        """``condition_on_mean`` for the combination with inclusion vector ``row``."""
        row = np.asarray(row, dtype=np.float64).reshape(1, -1)
        observed = np.vstack([self._observed, row])
        groups = self._group_kernels(observed, observed)
        prior_mean = self._prior_mean(observed)
        for component in self.components:
            cross = np.tensordot(
                component.scales, self._group_kernels(row, self._observed), axes=1
            )[0]
            fantasy = cross @ component.alpha
            if component.prior_weight:
                fantasy += component.prior_weight * prior_mean[-1]
            y = np.append(component.y, fantasy)
            kernel = np.tensordot(component.scales, groups, axes=1) + component.noise_var * np.eye(
                len(y)
            )
            component.y = y
            if component.prior_weight:
                component.inverse, component.alpha, _ = self._solve(
                    kernel, y - component.prior_weight * prior_mean
                )
            else:
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
    feasible combination is evaluated; ``improvement_probability`` tells the search loop when more
    evaluations are unlikely to pay (its "model" stopping rule).

    Size bounds: the design keeps to them (no target alone when ``low`` > 0, groups topped up
    to ``low`` or split to at most ``high``, the largest feasible mixture for the whole pool) and
    so do the acquisition, ``improvement_probability`` and ``predict_all``.

    Up to ``EXACT_LIMIT`` (16) candidates every combination is scored exactly. Beyond, up to
    ``max_candidates`` (64), the 2**N combinations are never listed: the acquisition is maximised
    over inclusion vectors by a multi-start local search (as BOCS does): from the best observed
    combinations and from random feasible ones, climb by the best single flip or swap (all
    flips, ``LOCAL_SWAPS`` random swaps a step) until none improves; the surrogate is evaluated
    on just the rows visited. The model there is ``model="auto"`` (default): the horseshoe
    quadratic regression of :mod:`mtlsearch.strategies.horseshoe` (few large pair effects among
    C(N, 2), which the Gaussian model's one shared pair variance cannot hold), its expected
    improvement averaged over posterior draws; ``model="gaussian"`` keeps the Gaussian model,
    evaluated in its kernel form. ``improvement_probability`` and
    ``predict_all`` then range over a candidate set: the rows the local search found best
    (under the upper confidence bound and under the mean), the neighbourhood of its optimum, and
    random feasible rows; ``predict_all`` returns the evaluated combinations and that set.

    A prior from a relatedness signal: ``prior`` names the signal ("gradts": each candidate's
    Kendall tau with the target's head importance, centred; "pvi": in the target's PVI group or
    not, so at most two distinct values) and ``prior_effects`` holds its numbers, one per
    candidate, higher = expected to help more. They act on the model: the main effects get the
    prior mean ``lambda * p`` (``p`` the values centred and scaled to unit root mean square), i.e.
    a prior mean function ``lambda * (p . x)``, with ``lambda`` on a small grid that includes 0
    (``BayesianLinearSurrogate.PRIOR_WEIGHTS``, half the prior mass on 0) and joins the grid
    averaged by marginal likelihood. A signal the observations contradict ends with its weight
    on lambda = 0 (the model without a prior); a right one is believed as soon as a few
    observations agree with it. ``lambda`` is never negative: a reversed signal is shrunk away,
    not exploited. ``prior_weight`` reports the posterior mean of ``lambda``.

    With a prior and up to ``EXACT_LIMIT`` candidates the partition design is shorter:
    ``n_initial`` defaults to
    ``PRIOR_N_INITIAL`` (1), so the design is the target alone and the whole pool (or, under
    ``high``, groups of at most ``high`` and the largest feasible mixture), and the model, its
    main effects led by the prior mean, takes over from the third evaluation. On development
    seeds (benchmarks/bench_priors.py, 8 landscapes of each of 5 generators) this read 0.56x /
    0.81x / 0.97x of the evaluations to the optimum without a prior (perfect / noisy / random
    signal), against 0.83x / 0.91x / 0.96x with three groups and 0.85x with a perfect signal and
    the design without a prior; without a prior the same short design took 1.05x (one group) and
    1.20x (two groups) of the default's evaluations, so it stays the design of a prior alone.
    Beyond ``EXACT_LIMIT`` the design is the one without a prior: there the horseshoe model,
    after just two design points, weighed a reversed signal up and a right one away.
    The groups are not ordered by the prior: ordering them (the top-prior auxiliaries mixed
    together first) saved nothing by itself with a perfect signal, and with the model's prior it
    did worse than the model's prior alone. The random design ignores the prior; "singles" are
    evaluated in decreasing prior.

    Values that are all equal tell no candidate from another: they change nothing. With
    ``prior="none"`` (the default) the strategy proposes exactly what it did without these
    options. Both the exact (N <= ``EXACT_LIMIT``) and the local-search paths use the prior.
    What the signal itself cost is not counted here.
    """

    name = "surrogate"
    max_candidates = 64
    EXACT_LIMIT = MAX_ENUMERATED_CANDIDATES
    ACQUISITIONS = ("ei", "ucb", "thompson", "mean")
    DESIGNS = ("partition", "random", "singles")
    PRIORS = ("none", "gradts", "pvi")
    # Groups in the partition design when a prior is given: one, the whole pool.
    PRIOR_N_INITIAL = 1
    MODELS = ("auto", "gaussian", "horseshoe")
    IMPROVEMENT_DRAWS = 1000
    # Local search (N > EXACT_LIMIT).
    LOCAL_BEST_STARTS = 6
    LOCAL_RANDOM_STARTS = 6
    LOCAL_SWAPS = 96
    LOCAL_MAX_STEPS = 40
    # Candidate set for improvement_probability / predict_all (N > EXACT_LIMIT).
    CANDIDATE_TOP = 200
    CANDIDATE_NEIGHBOURS = 150
    CANDIDATE_RANDOM = 150

    def __init__(
        self,
        n_candidates: int,
        seed: int = 0,
        acquisition: str = "ei",
        design: str = "partition",
        n_initial: int | None = None,
        pairwise: bool = True,
        ucb_beta: float = 2.0,
        prior: str = "none",
        prior_effects: Sequence[float] | None = None,
        model: str = "auto",
        *,
        size_bounds: SizeBounds | None = None,
    ):
        super().__init__(n_candidates, seed, size_bounds)
        self.prior = prior
        self.prior_effects = self._check_prior(prior, prior_effects, n_candidates)
        if acquisition not in self.ACQUISITIONS:
            raise ConfigError(
                f"acquisition must be one of {self.ACQUISITIONS}, got {acquisition!r}"
            )
        if design not in self.DESIGNS:
            raise ConfigError(f"design must be one of {self.DESIGNS}, got {design!r}")
        if design == "singles" and not self.min_size <= 1 <= self.max_size:
            raise ConfigError(
                f"strategy 'surrogate': design 'singles' needs single auxiliaries to be feasible, "
                f"the size bounds are {self.size_bounds}"
            )
        self.acquisition = acquisition
        self.design = design
        # None where the prior tells no auxiliary from another (none, or all values equal)
        self._direction = standardised_direction(self.prior_effects, n_candidates)
        if design == "singles":
            self.n_initial = n_candidates
        elif (
            n_initial is None
            and design == "partition"
            and self._direction is not None
            and n_candidates <= self.EXACT_LIMIT
        ):
            # The prior mean stands in for what the groups would tell about the main effects;
            # without a prior a design this short did worse (benchmarks/bench_priors.py). Beyond
            # EXACT_LIMIT the horseshoe model, fed two design points, weighed a reversed signal
            # up and a right one away (tests/strategies/test_prior.py), so it keeps the groups.
            self.n_initial = self.PRIOR_N_INITIAL
        elif n_initial is None:
            self.n_initial = min(n_candidates, math.ceil(n_candidates / 2.5))
        else:
            self.n_initial = int(n_initial)
        self.pairwise = bool(pairwise)
        self.ucb_beta = float(ucb_beta)
        self.exact = self.n_candidates <= self.EXACT_LIMIT
        if model not in self.MODELS:
            raise ConfigError(f"strategy 'surrogate': option model must be one of {self.MODELS}, got {model!r}")
        if model == "horseshoe" and (self.exact or not self.pairwise):
            raise ConfigError(
                f"strategy 'surrogate': model 'horseshoe' is the model for more than {self.EXACT_LIMIT} "
                f"candidates with pairs, got {n_candidates} candidates and pairwise {self.pairwise}; "
                "use model 'auto' or 'gaussian'"
            )
        if model == "horseshoe" or (model == "auto" and not self.exact and self.pairwise):
            self.model = HorseshoeQuadraticSurrogate(n_candidates, self._direction, seed)
        else:
            self.model = BayesianLinearSurrogate(
                n_candidates, pairwise=self.pairwise, prior_direction=self.prior_effects
            )
        self.model_name = "horseshoe" if isinstance(self.model, HorseshoeQuadraticSurrogate) else "gaussian"
        self._design: list[int] | None = None

    @classmethod
    def _check_prior(
        cls, prior: str, effects: Sequence[float] | None, n: int
    ) -> tuple[float, ...] | None:
        where = "strategy 'surrogate'"
        if prior not in cls.PRIORS:
            raise ConfigError(f"{where}: option prior must be one of {cls.PRIORS}, got {prior!r}")
        if prior == "none":
            if effects is not None:
                raise ConfigError(
                    f"{where}: option prior_effects given ({list(effects)!r}) but prior is 'none': "
                    f"set prior to the signal they come from, one of {cls.PRIORS[1:]}"
                )
            return None
        if effects is None or isinstance(effects, (str, bytes)):
            raise ConfigError(
                f"{where}: prior {prior!r} needs option prior_effects, one number per candidate "
                f"({n}), got {effects!r}"
            )
        try:
            values = tuple(float(v) for v in effects)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{where}: option prior_effects expected {n} numbers, got {effects!r}"
            ) from None
        if len(values) != n:
            raise ConfigError(
                f"{where}: option prior_effects has {len(values)} values, expected one per "
                f"candidate ({n})"
            )
        if not all(math.isfinite(v) for v in values):
            raise ConfigError(
                f"{where}: option prior_effects expected finite numbers, got {list(values)!r}"
            )
        if prior == "pvi" and len(set(values)) > 2:
            raise ConfigError(
                f"{where}: prior 'pvi' is a grouping, option prior_effects expected two values "
                f"at most (in the group or not), got {list(values)!r}"
            )
        return values

    def _prior_order(self, order: np.ndarray) -> np.ndarray:
        """``order`` sorted by decreasing prior, ties left in their order."""
        if self._direction is None:
            return order
        return order[np.argsort(-self._direction[order], kind="stable")]

    # The initial design.

    def _top_up(self, group: list[int]) -> list[int]:
        """``group`` with random other auxiliaries added up to the smallest feasible size."""
        if len(group) >= self.min_size:
            return group
        others = [i for i in range(self.n_candidates) if i not in group]
        extra = self.rng.choice(others, size=self.min_size - len(group), replace=False)
        return group + [int(i) for i in extra]

    def _make_design(self) -> list[int]:
        n = self.n_candidates
        if self.design == "singles":
            return [1 << int(i) for i in self._prior_order(np.arange(n))]
        if self.design == "partition":
            # Small groups: each auxiliary is seen once, mixed with only one or two others,
            # so that one harmful partner hides little of a helpful one.
            order = self.rng.permutation(n)
            count = max(1, min(self.n_initial, n))
            if self.max_size > 0:
                count = max(count, math.ceil(n / self.max_size))
            groups = np.array_split(order, count) if n else []
            design = []
            for group in groups:
                if len(group):
                    mask = to_mask(self._top_up([int(i) for i in group]))
                    if mask not in design:
                        design.append(mask)
            # Then the whole pool (or the largest feasible mixture): without one large mixture
            # the model only extrapolates to them, and auxiliaries that pay off only together
            # look hopeless to it (and to the stopping rule that asks it).
            if n >= 4 and self.max_size >= 4:
                if self.max_size == n:
                    whole = self.n_combinations - 1
                else:
                    whole = to_mask(
                        int(i) for i in self.rng.permutation(n)[: self.max_size]
                    )
                if whole not in design:
                    design.append(whole)
            return design
        low, high = max(1, n // 4), max(1, (n + 1) // 2)
        low, high = max(low, self.min_size), min(high, self.max_size)
        if low > high:
            low, high = self.min_size, self.max_size
        if self.exact:
            sizes = inclusion_matrix(n).sum(1)
            pool = np.flatnonzero((sizes >= low) & (sizes <= high))
            picks = self.rng.choice(pool, size=min(self.n_initial, len(pool)), replace=False)
            return [int(m) for m in picks]
        design = []
        for _ in range(100 * max(1, self.n_initial)):
            if len(design) >= self.n_initial:
                break
            size = int(self.rng.integers(low, high + 1))
            mask = to_mask(int(i) for i in self.rng.choice(n, size=size, replace=False))
            if mask not in design:
                design.append(mask)
        return design

    def _initial(self, seen: dict[int, float], n: int) -> list[int]:
        """What is left of the initial design: the target alone (where feasible), then the
        design combinations, for as long as the history holds fewer combinations than the
        design and the target."""
        if self._design is None:
            self._design = self._make_design()
        full = [0, *self._design] if self.is_feasible(0) else list(self._design)
        missing = len(full) - len(seen)
        chosen = [m for m in full if m not in seen][: max(0, missing)]
        return chosen[:n]

    # Acquisition.

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
        with _one_blas_thread():
            return self._propose_pending(history, n, pending)

    def _propose_pending(
        self, history: Sequence[Observation], n: int, pending: Collection[Combination]
    ) -> list[Proposal]:
        seen = self.observed(history)
        running = {to_mask(c) for c in pending} - set(seen)
        if n <= 0 or self.exhausted(set(seen) | running):
            return []
        initial = [m for m in self._initial(seen, n + len(running)) if m not in running][:n]
        if initial:
            return [Proposal(to_combination(m)) for m in initial]
        if not self.exact:
            return self._propose_local(seen, running, n)
        masks = np.fromiter(seen, dtype=np.int64)
        self.model.fit(masks, np.fromiter(seen.values(), dtype=float))
        # evaluations still running join as fantasies at their predicted mean (kriging
        # believer), as a batch's earlier picks do below, so the next pick goes elsewhere
        for mask in running:
            self.model.condition_on_mean(mask)
        mean, var = self.model.predict()
        excluded = set(seen) | running
        infeasible = ~self.feasible_array()
        chosen: list[Proposal] = []
        if self.acquisition == "thompson":
            for _ in range(n):
                draw = self.model.sample(self.rng)
                draw[list(excluded)] = -np.inf
                draw[infeasible] = -np.inf
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
            score[infeasible] = -np.inf
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

    # Large pools: local search over inclusion vectors.

    def _fit_seen(self, seen: dict[int, float]) -> np.ndarray | None:
        """Fit the model on the observations ``seen``; their rows beyond ``EXACT_LIMIT``."""
        if self.exact:
            self.model.fit(np.fromiter(seen, dtype=np.int64), np.fromiter(seen.values(), dtype=float))
            return None
        return self._fit_rows(seen)

    def _fit_rows(self, seen: dict[int, float]) -> np.ndarray:
        rows = masks_to_rows(seen, self.n_candidates)
        self.model.fit_rows(rows, np.fromiter(seen.values(), dtype=float))
        return rows

    def _neighbours(self, row: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Feasible rows one flip or one swap from ``row`` (every flip, up to ``LOCAL_SWAPS``
        random swaps)."""
        n = self.n_candidates
        size = int(row.sum())
        out = []
        if size + 1 <= self.max_size or size - 1 >= self.min_size:
            flips = np.repeat(row[None, :], n, axis=0)
            flips[np.arange(n), np.arange(n)] ^= True
            sizes = flips.sum(1)
            out.append(flips[(sizes >= self.min_size) & (sizes <= self.max_size)])
        inside, outside = np.flatnonzero(row), np.flatnonzero(~row)
        n_swaps = len(inside) * len(outside)
        if n_swaps:
            picks = np.arange(n_swaps)
            if n_swaps > self.LOCAL_SWAPS:
                picks = rng.choice(n_swaps, size=self.LOCAL_SWAPS, replace=False)
            swaps = np.repeat(row[None, :], len(picks), axis=0)
            k = np.arange(len(picks))
            swaps[k, inside[picks // len(outside)]] = False
            swaps[k, outside[picks % len(outside)]] = True
            out.append(swaps)
        return np.vstack(out) if out else np.zeros((0, n), dtype=bool)

    def _local_search(
        self,
        value: Callable[[np.ndarray], np.ndarray],
        starts: np.ndarray,
        excluded: set[int],
        rng: np.random.Generator,
    ) -> dict[int, tuple[float, np.ndarray]]:
        """Hill-climb ``value`` (of bool rows) from every start at once by the best flip or swap;
        returns every feasible row visited that is not in ``excluded``: bitmask -> (value, row).
        A start in ``excluded`` counts as -inf, so it is left for any neighbour."""
        visited: dict[int, tuple[float, np.ndarray]] = {}

        def score(rows: np.ndarray) -> np.ndarray:
            keys = rows_to_masks(rows)
            values = np.full(len(rows), -np.inf)
            fresh = [k for k, key in enumerate(keys) if key not in excluded and key not in visited]
            if fresh:
                computed = value(rows[fresh])
                for k, v in zip(fresh, computed):
                    visited[keys[k]] = (float(v), rows[k])
            for k, key in enumerate(keys):
                if key in visited:
                    values[k] = visited[key][0]
            return values

        current = np.asarray(starts, dtype=bool)
        current_value = score(current)
        active = np.ones(len(current), dtype=bool)
        for _ in range(self.LOCAL_MAX_STEPS):
            if not active.any():
                break
            blocks, owners = [], []
            for k in np.flatnonzero(active):
                rows = self._neighbours(current[k], rng)
                blocks.append(rows)
                owners.append(np.full(len(rows), k))
            rows = np.vstack(blocks)
            owner = np.concatenate(owners)
            values = score(rows)
            for k in np.flatnonzero(active):
                mine = np.flatnonzero(owner == k)
                if not len(mine):
                    active[k] = False
                    continue
                best = mine[int(np.argmax(values[mine]))]
                if values[best] > current_value[k]:
                    current[k], current_value[k] = rows[best], values[best]
                else:
                    active[k] = False
        return visited

    def _starts(self, seen: dict[int, float], rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The best observed feasible combinations, then random feasible ones."""
        order = sorted(range(len(rows)), key=lambda k: -list(seen.values())[k])
        best = [rows[k].astype(bool) for k in order if self.is_feasible(list(seen)[k])]
        starts = best[: self.LOCAL_BEST_STARTS]
        random_rows = self.random_feasible_rows(self.LOCAL_RANDOM_STARTS, rng)
        return np.vstack([*starts, *random_rows]) if starts else random_rows

    def _acquisition_fn(self, incumbent: float, kind: str | None = None):
        kind = kind or self.acquisition

        if kind == "ei" and isinstance(self.model, HorseshoeQuadraticSurrogate):
            return lambda rows: self.model.expected_improvement_rows(rows, incumbent)

        def value(rows: np.ndarray) -> np.ndarray:
            mean, var = self.model.predict_rows(rows)
            if kind == "mean":
                return mean
            if kind == "ucb":
                return mean + self.ucb_beta * np.sqrt(var)
            std = np.sqrt(var)
            z = (mean - incumbent) / std
            return (mean - incumbent) * _norm_cdf(z) + std * _norm_pdf(z)

        return value

    def _propose_local(self, seen: dict[int, float], running: set[int], n: int) -> list[Proposal]:
        rows = self._fit_rows(seen)
        for mask in running:
            self.model.condition_on_row(masks_to_rows([mask], self.n_candidates)[0])
        excluded = set(seen) | running
        incumbent = float(self.model.predict_rows(rows)[0].max())
        chosen: list[Proposal] = []
        for _ in range(n):
            if self.exhausted(excluded):
                break
            starts = self._starts(seen, rows, self.rng)
            if self.acquisition == "thompson":
                visited = self._local_search(self._acquisition_fn(incumbent, "ucb"), starts, excluded, self.rng)
                keys = sorted(visited, key=lambda m: -visited[m][0])[: self.CANDIDATE_TOP]
                if not keys:
                    keys = self.random_unevaluated(excluded, 1)
                candidates = masks_to_rows(keys, self.n_candidates)
                draw = self.model.sample_joint_rows(candidates, self.rng, 1)[0]
                mask = keys[int(np.argmax(draw))]
            else:
                visited = self._local_search(self._acquisition_fn(incumbent), starts, excluded, self.rng)
                if visited:
                    mask = max(visited, key=lambda m: visited[m][0])
                else:  # every neighbour of every start taken: a random feasible one
                    mask = self.random_unevaluated(excluded, 1)[0]
            row = masks_to_rows([mask], self.n_candidates)
            predicted = float(self.model.predict_rows(row)[0][0])
            excluded.add(mask)
            chosen.append(Proposal(to_combination(mask), predicted))
            if len(chosen) < n:
                self.model.condition_on_row(row[0])
                incumbent = max(incumbent, predicted)
        return chosen

    def _candidate_set(
        self, seen: dict[int, float], rows: np.ndarray, rng: np.random.Generator
    ) -> list[int]:
        """Unevaluated feasible bitmasks standing for all of them (N > EXACT_LIMIT): the best
        rows a local search finds under the upper confidence bound and under the mean, the
        neighbourhood of the best of them, random feasible rows."""
        excluded = set(seen)
        keys: dict[int, None] = {}
        for kind in ("ucb", "mean"):
            visited = self._local_search(
                self._acquisition_fn(0.0, kind), self._starts(seen, rows, rng), excluded, rng
            )
            ranked = sorted(visited, key=lambda m: -visited[m][0])
            keys.update(dict.fromkeys(ranked[: self.CANDIDATE_TOP // 2]))
            if ranked:
                around = self._neighbours(visited[ranked[0]][1], rng)
                picks = rng.permutation(len(around))[: self.CANDIDATE_NEIGHBOURS // 2]
                keys.update(dict.fromkeys(m for m in rows_to_masks(around[picks]) if m not in excluded))
        keys.update(dict.fromkeys(self.random_unevaluated(excluded | set(keys), self.CANDIDATE_RANDOM, rng)))
        return list(keys)

    def _history_rng(self, n_seen: int) -> np.random.Generator:
        # Its own generator, seeded by the history: asking never changes what is proposed.
        seed = int(self.seed) if isinstance(self.seed, (int, np.integer)) else 0
        return np.random.default_rng([abs(seed), n_seen, 0x5709])

    @contextmanager
    def _asking(self) -> Iterator[None]:
        """Questions asked of the model (the stopping rule, the predictions) are answered by a
        copy of a sampled model: its chain moves on with every fit, so a fit made to answer one
        would change what is proposed next."""
        with _one_blas_thread():
            if not isinstance(self.model, HorseshoeQuadraticSurrogate):
                yield
                return
            proposing = self.model
            self.model = copy.deepcopy(proposing)
            try:
                yield
            finally:
                self.model = proposing

    def improvement_probability(
        self, history: Sequence[Observation], min_gain: float
    ) -> float | None:
        with self._asking():
            return self._improvement_probability(history, min_gain)

    def _improvement_probability(
        self, history: Sequence[Observation], min_gain: float
    ) -> float | None:
        """P(max over unevaluated feasible combinations of the latent score > latent score of
        the best observed combination + ``min_gain``), a Monte-Carlo estimate from joint
        posterior draws.

        Joint draws, because the 2**N combinations are strongly correlated (they share
        auxiliaries): the union bound 1 - prod(1 - P_i) treats them as independent and stays
        near 1 with thousands of combinations, max_i P_i ignores that many small chances add
        up; the maximum of a joint draw counts each way of improving once. The incumbent enters
        as its latent score, not its observation: a lucky noisy observation does not make the
        rest look hopeless. None until the initial design is done (the model is not yet
        proposing). Beyond ``EXACT_LIMIT`` candidates the maximum is over the candidate set
        (see the class), drawn jointly with the incumbent in function space.
        """
        seen = self.observed(history)
        if self.exhausted(seen):
            return 0.0
        if not seen or self._design is None or self._initial(seen, 1):
            return None
        rng = self._history_rng(len(seen))
        scores = np.fromiter(seen.values(), dtype=float)
        if not self.exact:
            rows = self._fit_rows(seen)
            candidates = self._candidate_set(seen, rows, rng)
            best = rows[int(np.argmax(scores))]
            draws = self.model.sample_joint_rows(
                np.vstack([masks_to_rows(candidates, self.n_candidates), best]),
                rng,
                self.IMPROVEMENT_DRAWS,
            )
            return float(np.mean(draws[:, :-1].max(1) - draws[:, -1] > min_gain))
        masks = np.fromiter(seen, dtype=np.int64)
        self.model.fit(masks, scores)
        free = self.feasible_array().copy()
        free[masks] = False
        best = int(masks[int(np.argmax(scores))])
        chunk = max(1, (1 << 22) // self.n_combinations)  # draws held in memory at once
        hits, left = 0, self.IMPROVEMENT_DRAWS
        while left > 0:
            draws = self.model.sample_joint(rng, min(chunk, left))
            hits += int((draws[:, free].max(1) - draws[:, best] > min_gain).sum())
            left -= len(draws)
        return hits / self.IMPROVEMENT_DRAWS

    def prior_weight(self, history: Sequence[Observation]) -> float | None:
        seen = self.observed(history)
        if self._direction is None or not seen:
            return None
        with self._asking():
            self._fit_seen(seen)
            return self.model.prior_weight()

    def predict_all(self, history: Sequence[Observation]) -> dict[Combination, float] | None:
        """The posterior mean of every feasible combination; beyond ``EXACT_LIMIT`` candidates,
        of the evaluated feasible combinations and the candidate set (see the class) only."""
        with self._asking():
            return self._predict_all(history)

    def _predict_all(self, history: Sequence[Observation]) -> dict[Combination, float] | None:
        seen = self.observed(history)
        if not seen:
            return None
        rows = self._fit_seen(seen)
        if not self.exact:
            keys = [m for m in seen if self.is_feasible(m)]
            keys += self._candidate_set(seen, rows, self._history_rng(len(seen)))
            mean = self.model.predict_rows(masks_to_rows(keys, self.n_candidates))[0]
            return {to_combination(m): float(v) for m, v in zip(keys, mean)}
        return predictions_by_combination(self.model.predict()[0], self.feasible_array())
