"""The search as an Optuna study, so that Optuna's own tools read any strategy's search.

One study per search, in the RDB storage ``search.optuna_storage`` (by default a sqlite file
beside the MLflow store): one parameter per candidate, named by its dataset id (1: in the
combination, 0: not), one COMPLETE trial per finished evaluation with the target's score as
its value (reused ones too, marked ``reused``), a FAIL trial per failed one. Then

    optuna-dashboard sqlite:///optuna.db
    optuna.visualization.plot_param_importances(optuna.load_study(study_name=..., storage=...))

work on a search of any strategy. The ``tpe`` strategy asks its proposals from the same study.
No other module of the package calls Optuna's storage.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager

import optuna
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState

from mtlsearch.locks import create_once

DATASETS_ATTR = "datasets"


@contextmanager
def quiet_optuna():
    """Optuna's info logs and experimental warnings are not the user's to act on."""
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(previous)


def default_storage(tracking_uri: str) -> str:
    """A sqlite file beside a sqlite MLflow store (``optuna.db``), else in the working folder."""
    if tracking_uri.startswith("sqlite:///"):
        path = tracking_uri[len("sqlite:///"):]
        folder = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
        return f"sqlite:///{folder}optuna.db"
    return "sqlite:///optuna.db"


class SearchStudy:
    """An Optuna study whose trials are the evaluations of combinations of ``names``.

    Combinations are sets of candidate indices, as the strategies see them; each is recorded at
    most once (a combination asked by the sampler is told when its evaluation comes back).
    """

    def __init__(self, study: optuna.Study, names: Sequence[str]):
        self.study = study
        self.names = tuple(names)
        self.distributions = {name: CategoricalDistribution([0, 1]) for name in self.names}
        self._recorded: set[frozenset[int]] = set()
        self._asked: dict[frozenset[int], optuna.trial.Trial] = {}
        index = {name: i for i, name in enumerate(self.names)}
        for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL)):
            if trial.user_attrs.get("duplicate"):
                continue
            self._recorded.add(frozenset(index[n] for n, v in trial.params.items() if v and n in index))

    @classmethod
    def in_memory(cls, names: Sequence[str], sampler=None) -> SearchStudy:
        with quiet_optuna():
            return cls(optuna.create_study(direction="maximize", sampler=sampler), names)

    @classmethod
    def open(cls, storage: str, name: str, names: Sequence[str], attrs: Mapping[str, object] | None = None,
             attempts: int = 20) -> SearchStudy:
        """The study ``name`` in ``storage``, created if missing. A new sqlite file is created
        under a lock beside it, retried while another client creates it (two searches starting
        at once on a new store race Optuna's table creation)."""
        def create() -> optuna.Study:
            return optuna.create_study(storage=storage, study_name=name, direction="maximize", load_if_exists=True)

        with quiet_optuna():
            study = create_once(storage, create, attempts, suffix=".db.lock") if storage.startswith("sqlite:///") \
                else create()
            for key, value in (attrs or {}).items():
                study.set_user_attr(key, value)
        return cls(study, names)

    def params(self, combination: Iterable[int]) -> dict[str, int]:
        members = set(combination)
        return {name: int(i in members) for i, name in enumerate(self.names)}

    def known(self) -> set[frozenset[int]]:
        return set(self._recorded)

    def record(self, combination: Iterable[int], value: float | None, datasets: str = "", **attrs) -> None:
        """A finished evaluation (``value``) or a failed one (None), once per combination."""
        combination = frozenset(combination)
        if combination in self._recorded:
            return
        self._recorded.add(combination)
        attrs = {DATASETS_ATTR: datasets, **attrs}
        with quiet_optuna():
            trial = self._asked.pop(combination, None)
            if trial is not None:
                for key, attr in attrs.items():
                    trial.set_user_attr(key, attr)
                if value is None:
                    self.study.tell(trial, state=TrialState.FAIL)
                else:
                    self.study.tell(trial, float(value))
                return
            self.study.add_trial(
                optuna.trial.create_trial(
                    params=self.params(combination), distributions=self.distributions,
                    value=None if value is None else float(value),
                    state=TrialState.FAIL if value is None else TrialState.COMPLETE, user_attrs=attrs,
                )
            )

    def ask(self) -> tuple[optuna.trial.Trial, frozenset[int]]:
        """The sampler's next combination, as an open trial."""
        with quiet_optuna():
            trial = self.study.ask(self.distributions)
        return trial, frozenset(i for i, name in enumerate(self.names) if trial.params[name])

    def keep(self, trial: optuna.trial.Trial, combination: frozenset[int]) -> None:
        """An asked trial that stands for the evaluation of ``combination`` (told when recorded)."""
        self._asked[combination] = trial

    def reject(self, trial: optuna.trial.Trial) -> None:
        """An asked trial whose combination is already known or taken: failed, marked a duplicate."""
        with quiet_optuna():
            trial.set_user_attr("duplicate", True)
            self.study.tell(trial, state=TrialState.FAIL)

    def close(self) -> None:
        """Asked trials the search never evaluated (it stopped): failed, marked so."""
        with quiet_optuna():
            for trial in self._asked.values():
                trial.set_user_attr("not_evaluated", True)
                self.study.tell(trial, state=TrialState.FAIL)
        self._asked.clear()
