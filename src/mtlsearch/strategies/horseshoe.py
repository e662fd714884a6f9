"""The default strategy's model beyond ``EXACT_LIMIT`` candidates: a sparse Bayesian quadratic
regression over inclusion vectors, sampled by Gibbs, as BOCS does (Baptista and Poloczek, ICML
2018; the horseshoe sampler of Makalic and Schmidt, 2016).

Why not the Gaussian kernel model of :mod:`mtlsearch.strategies.surrogate` there: it gives all
C(N, 2) pair effects one shared prior variance. At N = 40 that is 780 pairs of which a dozen
matter (two auxiliaries that each hurt alone and pay together, a threshold group), and one
variance cannot hold a few large effects among many zeros: the model either shrinks the large
ones away or spreads their variance over every pair. The horseshoe gives every coefficient its
own scale under a shared one, so a few pairs can be large while the rest stay at zero. Main
effects and pairs each have their own global scale (the mains are dense, the pairs sparse);
the intercept and the mixture-size terms (``1/(1+k)``, ``k/N``, ``(k/N)**2``: the dilution of
the target's share) get a fixed Gaussian prior and are not shrunk.

The posterior is kept as ``SAMPLES`` draws of the coefficients; every prediction, the
expected improvement and the joint draws that the stopping rule reads are averages over them.
A fit starts from the last fit's state (the chain moves on as observations arrive, as BOCS
re-runs its sampler), with ``BURNIN`` sweeps the first time and ``SWEEPS`` after; the random
numbers of a fit are seeded by the model's seed and the number of observations, and a fit on
the same observations is reused, so asking the model questions never changes what it proposes.

A prior direction (a relatedness signal, standardised as for the Gaussian model) enters as one
more feature, ``p . x``, whose weight ``lambda`` has half its prior mass at 0 and half on a
half-normal: never negative, shrunk to 0 when the observations contradict it.
"""

from __future__ import annotations

import hashlib

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.special import expit, log_ndtr, ndtr, ndtri

N_FIXED = 4  # intercept and the three size terms


class HorseshoeQuadraticSurrogate:
    """Main effects, all pairwise products and size terms, horseshoe-shrunk (see the module)."""

    BURNIN = 600
    SWEEPS = 200
    SAMPLES = 96
    FIXED_VAR = 1.0  # prior variance of the unshrunk terms, in standardised score units
    PRIOR_VAR = 1.0  # the prior direction's weight: half-normal scale (squared) of its slab
    PRIOR_ZERO_MASS = 0.5
    SCALE_FLOOR = 1e-3  # as the Gaussian model: near-equal observations are not blown up
    # The noise variance's floor in standardised units (sd 0.1% of the observations' spread):
    # noise-free observations would drive it to 0 and the n x n system out of float range.
    NOISE_FLOOR = 1e-6
    CHUNK = 2048  # rows whose features are built at once

    def __init__(self, n: int, direction: np.ndarray | None = None, seed: int = 0):
        self.n = n
        self.direction = direction
        self.seed = abs(int(seed)) if isinstance(seed, (int, np.integer)) else 0
        self._pairs = np.triu_indices(n, 1)
        p = N_FIXED + n + len(self._pairs[0])
        # -1: fixed Gaussian prior; 0: main effects; 1: pairs (each group its own global scale)
        self._group = np.r_[np.full(N_FIXED, -1), np.zeros(n, int), np.ones(p - N_FIXED - n, int)]
        self._state: dict | None = None
        self._key: bytes | None = None
        self._rows = np.zeros((0, n))
        self._scores = np.zeros(0)
        self._observed, self._observed_scores = self._rows, self._scores
        self._real: tuple | None = None
        self.offset, self.scale = 0.0, 1.0
        self.beta = np.zeros((p, 1))
        self.lam = np.zeros(1)

    # Features.

    def features(self, rows: np.ndarray, dtype=np.float64) -> np.ndarray:
        x = np.asarray(rows) > 0.5
        k = x.sum(1, keepdims=True).astype(dtype)
        out = np.empty((len(x), len(self._group)), dtype=dtype)
        out[:, 0] = 1.0
        out[:, 1:2] = 1.0 / (1.0 + k)
        out[:, 2:3] = k / max(self.n, 1)
        out[:, 3:4] = out[:, 2:3] ** 2
        out[:, N_FIXED : N_FIXED + self.n] = x
        # products of bits are ands: far faster on booleans than on floats
        out[:, N_FIXED + self.n :] = x[:, self._pairs[0]] & x[:, self._pairs[1]]
        return out

    def _signal(self, rows: np.ndarray) -> np.ndarray | None:
        if self.direction is None:
            return None
        return np.asarray(rows, dtype=np.float64) @ self.direction

    # Fitting.

    def fit_rows(self, rows: np.ndarray, scores: np.ndarray) -> None:
        rows = np.asarray(rows, dtype=np.float64)
        scores = np.asarray(scores, dtype=np.float64)
        key = hashlib.blake2b(rows.tobytes() + scores.tobytes(), digest_size=16).digest()
        if key != self._key:
            self._state = self._run(rows, scores, self._state, fantasies=0)
            self._real = (self.beta, self.lam, self.offset, self.scale)
            self._key = key
        elif len(self._observed) != len(rows):  # the same observations after fantasies
            self.beta, self.lam, self.offset, self.scale = self._real
        self._rows, self._scores = rows, scores
        self._observed, self._observed_scores = rows, scores

    def condition_on_row(self, row: np.ndarray) -> None:
        """Add a fantasy observation at the predicted mean (kriging believer). Its fit starts
        from the real fit's state and does not become the state later fits start from."""
        row = np.asarray(row, dtype=np.float64).reshape(1, -1)
        fantasy = float(self.predict_rows(row)[0][0])
        self._observed = np.vstack([self._observed, row])
        self._observed_scores = np.append(self._observed_scores, fantasy)
        self._run(self._observed, self._observed_scores, self._state,
                  fantasies=len(self._observed) - len(self._rows))

    def _run(self, rows: np.ndarray, scores: np.ndarray, state: dict | None, fantasies: int) -> dict:
        n_real = len(scores) - fantasies
        y = scores
        self.offset = float(y[:n_real].mean())
        self.scale = max(float(y[:n_real].std()), self.SCALE_FLOOR)
        y = (y - self.offset) / self.scale
        phi = self.features(rows)
        signal = self._signal(rows)
        n_obs, p = phi.shape
        group = self._group
        shrunk = group >= 0
        gs = group[shrunk]
        rng = np.random.default_rng([self.seed, n_real, fantasies, 0x4853])
        if state is None:
            state = {"sigma2": 1.0, "lam2": np.ones(p), "tau2": np.ones(2), "nu": np.ones(p),
                     "xi": np.ones(2), "lam": 0.0}
            sweeps = self.BURNIN
        else:
            sweeps = self.SWEEPS
        sigma2, lam2, tau2 = state["sigma2"], state["lam2"].copy(), state["tau2"].copy()
        nu, xi, lam = state["nu"].copy(), state["xi"].copy(), state["lam"]
        keep = np.zeros((p, self.SAMPLES))
        kept_lam = np.zeros(self.SAMPLES)
        first = sweeps - 2 * self.SAMPLES
        eye = np.eye(n_obs)
        for sweep in range(sweeps):
            target = y if signal is None else y - lam * signal
            d = np.where(shrunk, sigma2 * lam2 * tau2[np.maximum(group, 0)], self.FIXED_VAR)
            b = self._draw_weights(phi, target, d, sigma2, eye, rng)
            fitted = phi @ b
            residual = target - fitted
            if signal is not None:
                lam = self._draw_signal_weight(y - fitted, signal, sigma2, rng)
                residual = y - fitted - lam * signal
            bs = b[shrunk]
            scale = residual @ residual / 2 + np.sum(bs**2 / (lam2[shrunk] * tau2[gs])) / 2
            sigma2 = max(1.0 / rng.gamma((n_obs + shrunk.sum()) / 2, 1.0 / scale), self.NOISE_FLOOR)
            lam2[shrunk] = np.clip(
                1.0 / rng.exponential(1.0 / (1.0 / nu[shrunk] + bs**2 / (2 * tau2[gs] * sigma2))),
                1e-12, 1e12,
            )
            for g in (0, 1):
                members = group == g
                rate = 1.0 / xi[g] + np.sum(b[members] ** 2 / lam2[members]) / (2 * sigma2)
                tau2[g] = np.clip(1.0 / rng.gamma((members.sum() + 1) / 2, 1.0 / rate), 1e-12, 1e6)
            nu[shrunk] = 1.0 / rng.exponential(1.0 / (1.0 + 1.0 / lam2[shrunk]))
            xi = 1.0 / rng.exponential(1.0 / (1.0 + 1.0 / tau2))
            if sweep >= first and (sweep - first) % 2 == 1:
                k = (sweep - first) // 2
                keep[:, k], kept_lam[k] = b, lam
        self.beta, self.lam = keep, kept_lam
        return {"sigma2": sigma2, "lam2": lam2, "tau2": tau2, "nu": nu, "xi": xi, "lam": lam}

    @staticmethod
    def _draw_weights(phi, y, d, sigma2, eye, rng) -> np.ndarray:
        """One draw of N(S phi'y / s2, S), S = (phi'phi / s2 + diag(d)^-1)^-1, by the sampler of
        Bhattacharya, Chakraborty and Mallick (2016): an n x n solve, so its cost grows with the
        observations, not with the C(N, 2) features."""
        sigma = np.sqrt(sigma2)
        u = rng.standard_normal(len(d)) * np.sqrt(d)
        v = phi @ u / sigma + rng.standard_normal(len(y))
        scaled = phi * d
        system = scaled @ phi.T / sigma2 + eye
        try:
            factor = cho_factor(system)
        except np.linalg.LinAlgError:
            # rounding at extreme scales: a relative jitter restores definiteness
            factor = cho_factor(system + 1e-10 * np.trace(system) / len(system) * eye)
        w = cho_solve(factor, y / sigma - v)
        return u + scaled.T @ w / sigma

    def _draw_signal_weight(self, residual, signal, sigma2, rng) -> float:
        """lambda | the rest: a point mass at 0 or a half-normal slab, by their marginal
        likelihoods, then a normal truncated at 0 for the slab."""
        precision = signal @ signal / sigma2 + 1.0 / self.PRIOR_VAR
        linear = signal @ residual / sigma2
        z = linear / np.sqrt(precision)
        log_slab = (np.log(2.0) - 0.5 * np.log(self.PRIOR_VAR * precision) + 0.5 * z * z
                    + log_ndtr(z) + np.log1p(-self.PRIOR_ZERO_MASS))
        log_spike = np.log(self.PRIOR_ZERO_MASS)
        if rng.random() < expit(log_spike - log_slab):  # the spike's posterior probability
            return 0.0
        # inverse cdf of N(mean, 1/precision) truncated to (0, inf)
        low = ndtr(-z)
        u = low + rng.random() * (1.0 - low)
        return float(max(0.0, linear / precision + ndtri(min(u, 1.0 - 1e-16)) / np.sqrt(precision)))

    # Predictions.

    def prior_weight(self) -> float:
        """The posterior mean of lambda, the prior direction's weight (0 without one)."""
        return float(self.lam.mean()) if self.direction is not None else 0.0

    def draws_rows(self, rows: np.ndarray) -> np.ndarray:
        """The posterior draws of the latent scores of ``rows`` (draws in rows, score units)."""
        rows = np.asarray(rows, dtype=np.float64)
        out = np.empty((self.beta.shape[1], len(rows)))
        # single precision for the many rows a local search scores (twice as fast; the draws
        # differ by far more than its rounding)
        beta = self.beta.astype(np.float32)
        for start in range(0, len(rows), self.CHUNK):
            part = rows[start : start + self.CHUNK]
            values = self.features(part, np.float32) @ beta
            if self.direction is not None:
                values += np.outer(self._signal(part), self.lam)
            out[:, start : start + len(part)] = values.T
        return out * self.scale + self.offset

    def predict_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        draws = self.draws_rows(rows)
        return draws.mean(0), np.clip(draws.var(0), 1e-18, None)

    def expected_improvement_rows(self, rows: np.ndarray, incumbent: float) -> np.ndarray:
        """E[max(f - incumbent, 0)] over the posterior draws."""
        return np.clip(self.draws_rows(rows) - incumbent, 0.0, None).mean(0)

    def sample_joint_rows(self, rows: np.ndarray, rng: np.random.Generator, n_draws: int) -> np.ndarray:
        """``n_draws`` joint draws of the latent scores of ``rows``, resampled from the kept
        posterior draws."""
        draws = self.draws_rows(rows)
        return draws[rng.integers(0, len(draws), n_draws)]
