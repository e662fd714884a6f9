"""``kedro run --pipeline search`` with the user's own trainer as the evaluator: a python function
and a command, on a real MLflow store; failures are data points, a killed search resumes."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from collections import Counter

import mlflow
import pytest
import yaml
from interrupt import kill_9_when
from mlflow_runs import finished_runs

from mtlsearch.errors import ConfigError

POOL = "aux00+aux01+aux02"

# the target's score: t alone 0.5, each auxiliary's gain, an interaction; 0.001 per seed
GAIN = {"aux00": 0.03, "aux01": 0.01, "aux02": -0.02}


def target_score(datasets, seed=0):
    score = 0.5 + sum(GAIN[d] for d in datasets if d in GAIN) + 0.001 * seed
    return score - (0.035 if {"aux00", "aux01"} <= set(datasets) else 0.0)


# the trainers below score with the same function
LANDSCAPE = f"GAIN = {GAIN!r}\n\n\n{inspect.getsource(target_score)}"

FUNCTION_MODULE = LANDSCAPE + '''
import os
from pathlib import Path

CALLS = Path(__file__).with_name("function_calls.log")


def train(datasets, seed):
    with open(CALLS, "a") as calls:
        calls.write(f"{'+'.join(datasets)} {seed}\\n")
    with open(CALLS.with_name("function_pids.log"), "a") as pids:
        pids.write(f"{os.getpid()}\\n")
    return {d: target_score(datasets, seed) if d == "t" else 0.4 for d in datasets}
'''

SCRIPT = LANDSCAPE + '''
import json
import sys
import time

args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
datasets = args["--datasets"].split("+")
with open(args["--calls"], "a") as calls:
    calls.write(f"{args['--datasets']} {args['--seed']}\\n")
time.sleep(float(args.get("--delay", 0)))
if args["--datasets"] == args.get("--hang-on"):
    time.sleep(600)
if datasets == ["aux01", "t"]:
    for line in range(30):
        print(f"epoch {line}: loss diverged", file=sys.stderr)
    sys.exit(3)
with open(args["--out"], "w") as out:
    if datasets == ["aux02", "t"]:
        out.write("{'t': 0.5}")  # not JSON
    else:
        json.dump({d: target_score(datasets, int(args["--seed"])) if d == "t" else 0.4 for d in datasets}, out)
'''


@pytest.fixture
def function_module(project, monkeypatch):
    (project / "own_trainer_for_tests.py").write_text(FUNCTION_MODULE)
    monkeypatch.syspath_prepend(str(project))
    sys.modules.pop("own_trainer_for_tests", None)
    yield project / "function_calls.log"
    sys.modules.pop("own_trainer_for_tests", None)


@pytest.fixture
def script(project):
    path = project / "train_script.py"
    path.write_text(SCRIPT)
    return path


def calls(path) -> Counter:
    return Counter(path.read_text().splitlines()) if path.exists() else Counter()


def exhaustive(**extra):
    params = {"search.target": "t", "search.candidates": POOL, "search.strategy": "exhaustive", "search.budget": 8,
              "search.patience": None, "search.stopping": "patience"}
    params.update({f"search.{k}": v for k, v in extra.items()})
    return params


def write_command(project, script, *extra):
    """The command in conf/local, as a user writes it: a YAML list of arguments."""
    command = [sys.executable, str(script), "--datasets", "{datasets}", "--seed", "{seed}", "--out", "{output}",
               "--calls", str(project / "command_calls.log"), *extra]
    (project / "conf" / "local" / "parameters_search.yml").write_text(
        yaml.safe_dump({"search": {"evaluator": "command", "command": command}})
    )
    return command


def evaluation_runs(uri):
    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name("mtlsearch")
    return client.search_runs([experiment.experiment_id], "tags.`mtlsearch.kind` = 'evaluation'", max_results=1000)


def test_python_evaluator_searches_confirms_and_resumes(project, run_pipeline, load, function_module):
    uri = os.environ["MLFLOW_TRACKING_URI"]
    params = exhaustive(evaluator="python", callable="own_trainer_for_tests:train",
                        confirm={"top_k": 1, "seeds": 1})
    run_pipeline("search", params)
    history = load("search_history")
    best = load("best_combination")
    assert len(history) == 8 and (history["status"] == "finished").all() and not history["reused"].any()
    for datasets, score in zip(history["datasets"], history["score"]):
        assert score == pytest.approx(target_score(datasets.split("+")))
    assert best["best_observed"]["datasets"] == "aux00+t" and best["selection_split"] == "dev"
    assert best["test_score"] is None  # the function gives one score per member: no test split
    # the confirmation called the function with the next seed for the target alone and the top one
    assert best["confirmation"]["seeds"] == [0, 1]
    assert calls(function_module) == Counter({**{f"{d} 0": 1 for d in history["datasets"]}, "t 1": 1, "aux00+t 1": 1})

    runs = evaluation_runs(uri)
    assert len(runs) == 10 and {r.data.tags["mtlsearch.status"] for r in runs} == {"finished"}
    assert {r.data.tags["mlflow.parentRunId"] for r in runs} == {best["search_run_id"]}
    assert {r.data.tags["mtlsearch.evaluator"] for r in runs} == {"python"}
    by_seed = {seed: {r.data.tags["mtlsearch.fingerprint"] for r in runs if r.data.params["seed"] == seed}
               for seed in ("0", "1")}
    assert len(by_seed["0"]) == len(by_seed["1"]) == 1 and by_seed["0"] != by_seed["1"]
    assert {r.data.params["callable"] for r in runs} == {"own_trainer_for_tests:train"}
    assert {r.data.params["evaluator_version"] for r in runs} == {"1"}
    one = next(r for r in runs if r.data.tags["mtlsearch.datasets"] == "aux00+aux02+t")
    assert one.data.params["member.aux00"] == "1" and one.data.params["member.aux01"] == "0"
    assert one.data.metrics["t.f1"] == pytest.approx(target_score(["aux00", "aux02", "t"]))

    # a rerun reuses every finished evaluation, the confirmation's included: nothing is called
    run_pipeline("search", params)
    assert load("search_history")["reused"].all()
    assert sum(calls(function_module).values()) == 10
    # a new evaluator_version is a fresh ledger
    run_pipeline("search", {**params, "search.evaluator_version": "2", "search.budget": 2,
                            "search.confirm": {"top_k": 0}})
    fresh = load("search_history")
    assert len(fresh) == 2 and not fresh["reused"].any()
    assert sum(calls(function_module).values()) == 12


def test_command_failures_are_failed_runs_with_reasons_and_the_search_goes_on(project, run_pipeline, load, script):
    write_command(project, script)
    run_pipeline("search", exhaustive(confirm={"top_k": 0}))
    history = load("search_history")
    assert len(history) == 8
    failed = history[history["status"] == "failed"].set_index("datasets")
    assert sorted(failed.index) == ["aux01+t", "aux02+t"]
    assert failed["score"].isna().all()
    nonzero = failed.loc["aux01+t", "failure_reason"]
    assert "exited with status 3; last lines of its stderr:" in nonzero
    assert "epoch 29: loss diverged" in nonzero and "epoch 10: loss diverged" in nonzero
    assert "epoch 9: loss diverged" not in nonzero  # the last 20 lines only
    assert "is not JSON" in failed.loc["aux02+t", "failure_reason"]
    finished = history[history["status"] == "finished"]
    assert len(finished) == 6
    for datasets, score in zip(finished["datasets"], finished["score"]):
        assert score == pytest.approx(target_score(datasets.split("+")))
    best = load("best_combination")
    assert best["evaluations_new"] == 6 and best["evaluations_failed"] == 2 and best["datasets"] == "aux00+t"

    uri = os.environ["MLFLOW_TRACKING_URI"]
    runs = {r.data.tags["mtlsearch.datasets"]: r for r in evaluation_runs(uri)}
    assert len(runs) == 8
    for datasets in failed.index:
        run = runs[datasets]
        assert run.info.status == "FAILED" and run.data.tags["mtlsearch.status"] == "failed"
        assert run.data.tags["failure_reason"] == failed.loc[datasets, "failure_reason"]
        assert run.data.tags["mlflow.parentRunId"] == best["search_run_id"]
    assert runs["aux00+t"].data.params["command"].endswith("--calls " + str(project / "command_calls.log"))
    assert runs["aux00+t"].data.tags["mtlsearch.evaluator"] == "command"


def test_a_command_past_search_command_timeout_s_fails_and_the_search_goes_on(project, run_pipeline, load, script):
    write_command(project, script, "--hang-on", "aux00+aux02+t")
    run_pipeline("search", exhaustive(confirm={"top_k": 0}, command_timeout_s=2))
    history = load("search_history").set_index("datasets")
    assert len(history) == 8
    assert sorted(history.index[history["status"] == "failed"]) == ["aux00+aux02+t", "aux01+t", "aux02+t"]
    assert "did not finish within search.command_timeout_s = 2 s and was stopped" in \
        history.loc["aux00+aux02+t", "failure_reason"]
    assert load("best_combination")["datasets"] == "aux00+t"
    with pytest.raises(ConfigError, match=r"^search\.command_timeout_s: expected a positive number or null, got 0$"):
        run_pipeline("search", exhaustive(command_timeout_s=0))


def test_a_trainer_that_cannot_be_run_stops_the_search_before_any_evaluation(project, run_pipeline, function_module):
    with pytest.raises(ConfigError, match=r"^search\.callable: 'own_trainer_for_tests' has no attribute 'trian' "
                                          r"\(value 'own_trainer_for_tests:trian'\)$"):
        run_pipeline("search", exhaustive(evaluator="python", callable="own_trainer_for_tests:trian"))
    with pytest.raises(ConfigError, match=r"^search\.command: expected a list of arguments \(a YAML list of strings; "
                                          r"no shell\), not a string, got 'python train\.py \{datasets\} \{output\}'$"):
        run_pipeline("search", exhaustive(evaluator="command", command="python train.py {datasets} {output}"))
    with pytest.raises(ConfigError, match=r"^search\.candidates: dataset id 'aux 1' cannot be passed to search\.command"):
        run_pipeline("search", exhaustive(evaluator="command", candidates=["aux00", "aux 1"],
                                          command=["prog", "{datasets}", "{output}"]))
    assert finished_runs(os.environ["MLFLOW_TRACKING_URI"]).empty


def test_kill_9_mid_search_with_a_command_then_rerun_repeats_nothing(project, script):
    write_command(project, script, "--delay", "0.5")
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"}
    params = f"search.target=t,search.candidates={POOL},search.strategy=exhaustive,search.budget=8," \
             "search.patience=null,search.stopping=patience,search.confirm.top_k=0"
    command = [sys.executable, "-m", "kedro", "run", "--pipeline", "search", "--params", params]
    uri = os.environ["MLFLOW_TRACKING_URI"]
    finished_runs(uri)  # create the store first: two processes migrating one new sqlite file race
    kill_9_when(command, project, lambda: (finished_runs(uri)["status"] == "finished").sum() >= 3,
                "three evaluations finished")
    before = finished_runs(uri)
    done_before = set(before.loc[before["status"] == "finished", "datasets"])
    assert 3 <= len(done_before) < 8

    rerun = subprocess.run(command, check=False, cwd=project, env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert f"reusing {len(done_before)} finished evaluation(s)" in rerun.stdout + rerun.stderr
    after = finished_runs(uri)
    finished = after[after["status"] == "finished"]
    assert done_before <= set(finished["datasets"]) and finished["datasets"].is_unique
    assert len(finished) + (after["status"] == "failed").sum() == 8
    # the command ran once for each evaluation finished before the kill: none was repeated
    invoked = calls(project / "command_calls.log")
    assert all(invoked[f"{d} 0"] == 1 for d in done_before)


def test_python_evaluator_on_ray_workers_imports_the_function_by_name(project, run_pipeline, load, function_module,
                                                                      monkeypatch):
    # the workers of a local cluster find the module as a user's would: on their PYTHONPATH
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(project), os.environ.get("PYTHONPATH")) if p))
    run_pipeline("search", exhaustive(evaluator="python", callable="own_trainer_for_tests:train", budget=4,
                                      executor="ray", batch_size=2, confirm={"top_k": 0},
                                      ray={"local_num_cpus": 2, "num_cpus": 1}))
    history = load("search_history")
    assert len(history) == 4 and (history["status"] == "finished").all()
    for datasets, score in zip(history["datasets"], history["score"]):
        assert score == pytest.approx(target_score(datasets.split("+")))
    assert sum(calls(function_module).values()) == 4  # each called once, on a worker
    pids = set(function_module.with_name("function_pids.log").read_text().split())
    assert pids and str(os.getpid()) not in pids
    runs = evaluation_runs(os.environ["MLFLOW_TRACKING_URI"])
    assert len(runs) == 4 and {r.data.tags["mlflow.parentRunId"] for r in runs} == {load("best_combination")["search_run_id"]}
