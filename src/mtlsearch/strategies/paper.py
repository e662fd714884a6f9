"""The reference method: a small neural network predicts every unevaluated combination's score
from the evaluated ones; evaluate the best predicted; stop when that no longer improves."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from mtlsearch.strategies.base import (
    Combination,
    Observation,
    Proposal,
    SizeBounds,
    Strategy,
    inclusion_matrix,
    predictions_by_combination,
    to_combination,
    to_mask,
)


class MLPRegressor:
    """A two-hidden-layer perceptron fitted by full-batch Adam on standardised scores."""

    def __init__(
        self, hidden: int = 64, epochs: int = 400, lr: float = 1e-2, weight_decay: float = 1e-4
    ):
        self.hidden = hidden
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay

    def fit_predict(self, x: np.ndarray, y: np.ndarray, x_all: np.ndarray, seed: int) -> np.ndarray:
        """Fit on ``(x, y)`` from a seeded initialisation; predict every row of ``x_all``."""
        threads = torch.get_num_threads()
        # A network this small trains fastest on one thread: more threads only synchronise, and
        # on a busy machine they wait for each other. fork_rng keeps the caller's global torch
        # random state untouched by the seeded initialisation.
        torch.set_num_threads(1)
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                return self._fit_predict(x, y, x_all)
        finally:
            torch.set_num_threads(threads)

    def _fit_predict(self, x: np.ndarray, y: np.ndarray, x_all: np.ndarray) -> np.ndarray:
        mean, scale = float(y.mean()), float(y.std()) or 1.0
        net = torch.nn.Sequential(
            torch.nn.Linear(x.shape[1], self.hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(self.hidden, self.hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(self.hidden, 1),
        )
        inputs = torch.tensor(x, dtype=torch.float32)
        targets = torch.tensor((y - mean) / scale, dtype=torch.float32)[:, None]
        optimizer = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        for _ in range(self.epochs):
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(net(inputs), targets)
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            out = net(torch.tensor(x_all, dtype=torch.float32))[:, 0].numpy()
        return out.astype(np.float64) * scale + mean


class PaperStrategy(Strategy):
    """MLP predictor on binary inclusion vectors, as published.

    ``n_initial`` random combinations start it; then each round evaluates the unevaluated
    combination the network predicts best, and it stops as soon as the last round's proposals did
    not improve the best score seen before them (``stop_on_no_improvement=False`` leaves stopping
    to the caller). A batch (n > 1) is filled kriging-believer style: each pick joins the
    training data at its predicted score before the next is chosen.
    """

    name = "paper"
    enumerates = True

    def __init__(
        self,
        n_candidates: int,
        seed: int = 0,
        n_initial: int = 5,
        hidden: int = 64,
        epochs: int = 400,
        lr: float = 1e-2,
        stop_on_no_improvement: bool = True,
        *,
        size_bounds: SizeBounds | None = None,
    ):
        super().__init__(n_candidates, seed, size_bounds)
        self.n_initial = int(n_initial)
        self.stop_on_no_improvement = bool(stop_on_no_improvement)
        self.model = MLPRegressor(hidden=hidden, epochs=epochs, lr=lr)
        self._last_round: set[int] = set()
        self._stopped = False
        self._fits = 0

    def _last_round_failed(self, history: Sequence[Observation]) -> bool:
        best_before = -np.inf
        round_best = -np.inf
        found = False
        for observation in history:
            mask = to_mask(observation.combination)
            if mask in self._last_round:
                found = True
                round_best = max(round_best, observation.score)
            elif not found:
                best_before = max(best_before, observation.score)
        return found and round_best <= best_before

    def _fit_predict(self, masks: list[int], scores: list[float]) -> np.ndarray:
        x_all = inclusion_matrix(self.n_candidates)
        self._fits += 1
        return self.model.fit_predict(
            x_all[masks], np.asarray(scores), x_all, seed=self.seed * 100_003 + self._fits
        )

    def propose(self, history: Sequence[Observation], n: int = 1) -> list[Proposal]:
        seen = self.observed(history)
        if self.stop_on_no_improvement and (
            self._stopped or (self._last_round and self._last_round_failed(history))
        ):
            self._stopped = True
            return []
        missing_initial = self.n_initial - len(seen)
        if missing_initial > 0:
            masks = self.random_unevaluated(set(seen), min(n, missing_initial))
            return [Proposal(to_combination(m)) for m in masks]
        masks, scores = list(seen), list(seen.values())
        excluded = set(seen)
        infeasible = ~self.feasible_array()
        chosen: list[Proposal] = []
        while len(chosen) < n and not self.exhausted(excluded):
            prediction = self._fit_predict(masks, scores)
            prediction[list(excluded)] = -np.inf
            prediction[infeasible] = -np.inf
            mask = int(np.argmax(prediction))
            excluded.add(mask)
            chosen.append(Proposal(to_combination(mask), float(prediction[mask])))
            masks.append(mask)
            scores.append(float(prediction[mask]))
        self._last_round = {to_mask(p.combination) for p in chosen}
        return chosen

    def predict_all(self, history: Sequence[Observation]) -> dict[Combination, float] | None:
        seen = self.observed(history)
        if not seen:
            return None
        return predictions_by_combination(
            self._fit_predict(list(seen), list(seen.values())), self.feasible_array()
        )
