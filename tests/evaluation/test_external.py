"""The user's own trainer as the evaluator: a python function or a command that writes JSON."""

from __future__ import annotations

import json
import pickle
import sys
import textwrap
from pathlib import Path

import mlflow
import pytest

from mtlsearch.errors import ConfigError
from mtlsearch.evaluation.external import (
    CommandEvaluator,
    EvaluationFailed,
    PythonEvaluator,
    check_dataset_ids,
)
from mtlsearch.search.loop import Failure, Guarded

POOL = ("aux00", "aux01", "aux02")

TRAINER_MODULE = '''
import json

CALLS = []
NOT_A_FUNCTION = 3


def scores(datasets, seed=0):
    CALLS.append((datasets, seed))
    return {d: 0.5 + 0.01 * len(datasets) + 0.001 * seed for d in datasets}


def no_seed(datasets):
    CALLS.append((datasets, None))
    return {"t": 0.7}


def helper(datasets):
    raise RuntimeError("CUDA out of memory while training on " + "+".join(datasets))


def boom(datasets):
    helper(datasets)


def exits(datasets):
    import sys

    sys.exit("usage: train.py --datasets IDS")


def a_list(datasets):
    return [0.5]


def nan(datasets):
    return {"t": float("nan")}


def text(datasets):
    return {"t": "0.5"}


def no_target(datasets):
    return {d: 0.5 for d in datasets if d != "t"}


def outsider(datasets):
    return {"t": 0.5, "zz": 0.1}


class Trainer:
    @staticmethod
    def evaluate(datasets, **options):
        CALLS.append((datasets, options.get("seed")))
        return {"t": 0.6}
'''

TRAINER_SCRIPT = '''
import json
import sys

args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
datasets = args["--datasets"].split("+")
mode = args.get("--mode", "ok")
with open(args["--calls"], "a") as calls:
    calls.write(" ".join(sys.argv[1:]) + "\\n")
if mode == "fail":
    for line in range(30):
        print(f"stderr line {line}", file=sys.stderr)
    sys.exit(3)
if mode == "quiet-fail":
    print("the only line, on stdout")
    sys.exit(1)
if mode == "no-output":
    print("done, but wrote nothing", file=sys.stderr)
    sys.exit(0)
with open(args["--out"], "w") as out:
    if mode == "bad-json":
        print("writing half a file", file=sys.stderr)
        out.write('{"t": 0.5')
    elif mode == "no-target":
        json.dump({d: 0.5 for d in datasets if d != "t"}, out)
    elif mode == "strings":
        json.dump({d: "high" for d in datasets}, out)
    else:
        print(f"trained on {len(datasets)} datasets")
        json.dump({d: 0.5 + 0.01 * len(datasets) + 0.001 * int(args["--seed"]) for d in datasets}, out)
'''


@pytest.fixture
def trainer(tmp_path, monkeypatch):
    """The module ``trainer_fixture_module`` (importable) and the script ``trainer.py``."""
    (tmp_path / "trainer_fixture_module.py").write_text(TRAINER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("trainer_fixture_module", None)
    (tmp_path / "trainer.py").write_text(TRAINER_SCRIPT)
    yield tmp_path
    sys.modules.pop("trainer_fixture_module", None)


def command(trainer, mode="ok", *extra):
    return [sys.executable, str(trainer / "trainer.py"), "--datasets", "{datasets}", "--seed", "{seed}",
            "--out", "{output}", "--calls", str(trainer / "calls.log"), "--mode", mode, *extra]


def calls(trainer) -> list[str]:
    path = trainer / "calls.log"
    return path.read_text().splitlines() if path.exists() else []


# --- python -------------------------------------------------------------------------------


def test_python_function_gets_sorted_members_and_the_seed(trainer):
    import trainer_fixture_module as module

    evaluator = PythonEvaluator("trainer_fixture_module:scores", "t", POOL, seed=4)
    assert evaluator(["t", "aux02", "aux00"]) == pytest.approx({"aux00": 0.534, "aux02": 0.534, "t": 0.534})
    assert module.CALLS[-1] == (("aux00", "aux02", "t"), 4)
    assert evaluator.ids == ("aux00", "aux01", "aux02", "t")


def test_python_function_without_seed_is_called_without_one(trainer):
    import trainer_fixture_module as module

    assert PythonEvaluator("trainer_fixture_module:no_seed", "t", POOL, seed=2)(["t"]) == {"t": 0.7}
    assert module.CALLS[-1] == (("t",), None)
    # an attribute path after the colon, and a seed through **options
    assert PythonEvaluator("trainer_fixture_module:Trainer.evaluate", "t", POOL, seed=5)(["t"]) == {"t": 0.6}
    assert module.CALLS[-1] == (("t",), 5)


@pytest.mark.parametrize("name, message", [
    ("no_such_module_anywhere:f", ("search.callable: cannot import 'no_such_module_anywhere' of "
                                   "'no_such_module_anywhere:f' (ModuleNotFoundError")),
    ("trainer_fixture_module:missing", ("search.callable: 'trainer_fixture_module' has no attribute 'missing' "
                                        "(value 'trainer_fixture_module:missing')")),
    ("trainer_fixture_module:NOT_A_FUNCTION", ("search.callable: 'trainer_fixture_module:NOT_A_FUNCTION' is not "
                                               "callable (int 3); expected a function")),
])
def test_a_callable_that_cannot_be_called_is_a_config_error_at_construction(trainer, name, message):
    with pytest.raises(ConfigError) as error:
        PythonEvaluator(name, "t", POOL)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_python_evaluator_needs_the_pool():
    with pytest.raises(ConfigError, match=r"^search\.candidates: expected the auxiliary ids joined by '\+' "
                                          r"\(search\.evaluator python has no datasets of its own\), got None$"):
        PythonEvaluator("json:dumps", "t", ())


def test_a_raising_function_fails_with_its_traceback_tail(trainer):
    evaluator = PythonEvaluator("trainer_fixture_module:boom", "t", POOL)
    with pytest.raises(EvaluationFailed) as error:
        evaluator(["t", "aux01"])
    reason = str(error.value)
    assert reason.startswith("trainer_fixture_module:boom raised:\n")
    assert reason.rstrip().endswith("RuntimeError: CUDA out of memory while training on aux01+t")
    assert "in helper" in reason and "in boom" in reason
    assert "external.py" not in reason  # the evaluator's own frame is not the trainer's problem
    # a wrapped script's sys.exit ends the evaluation, not the search
    with pytest.raises(EvaluationFailed, match=r"(?s)exits raised:\n.*\nSystemExit: usage: train\.py --datasets IDS$"):
        PythonEvaluator("trainer_fixture_module:exits", "t", POOL)(["t"])
    # as the search loop sees it: a failure with that reason, not a crash
    failure = Guarded(evaluator)(("aux01", "t"))
    assert isinstance(failure, Failure) and "CUDA out of memory" in failure.reason


@pytest.mark.parametrize("function, reason", [
    ("a_list", "expected a mapping of member -> score, got list [0.5]"),
    ("nan", "the score of 't' is nan; expected a finite number"),
    ("text", "the score of 't' is '0.5'; expected a finite number"),
    ("no_target", "no score for the target 't'; got scores of ['aux00']"),
    ("outsider", "scores of datasets outside the combination aux00+t: ['zz']"),
])
def test_an_unusable_answer_is_a_failure_saying_what_is_wrong(trainer, function, reason):
    evaluator = PythonEvaluator(f"trainer_fixture_module:{function}", "t", POOL)
    with pytest.raises(EvaluationFailed) as error:
        evaluator(["t", "aux00"])
    assert str(error.value) == f"trainer_fixture_module:{function} returned no usable scores: {reason}"


def test_python_evaluator_travels_by_name(trainer):
    evaluator = PythonEvaluator("trainer_fixture_module:scores", "t", POOL, seed=1)
    copy = pickle.loads(pickle.dumps(evaluator))
    assert "_function" not in evaluator.__getstate__()
    assert copy._function is None and copy.fingerprint == evaluator.fingerprint
    assert copy(["t"]) == pytest.approx({"t": 0.511})  # imported again where it is called


# --- command ------------------------------------------------------------------------------


def test_command_substitutes_each_argument_without_a_shell(trainer, tmp_path):
    evaluator = CommandEvaluator(["prog", "--datasets={datasets}", "{seed}", "{output}", "{other}", "a b;c"],
                                 "t", POOL, seed=7)
    args = evaluator.arguments(("aux00", "t"), tmp_path / "o.json")
    assert args == ["prog", "--datasets=aux00+t", "7", str(tmp_path / "o.json"), "{other}", "a b;c"]
    scores = CommandEvaluator(command(trainer), "t", POOL, seed=3)(["aux01", "t"])
    assert scores == pytest.approx({"aux01": 0.523, "t": 0.523})
    assert calls(trainer)[-1].startswith("--datasets aux01+t --seed 3 --out ")


@pytest.mark.parametrize("bad", ["-rf", "a b", "a;b", "x/../y", "é", "a+b", ""])
def test_ids_are_validated_before_they_reach_a_command(bad, trainer):
    with pytest.raises(ConfigError, match=r"^search\.candidates: dataset id .* cannot be passed to search\.command; "
                                          r"expected letters, digits, '_' and '-' only \(not starting with '-'\)$"):
        CommandEvaluator(command(trainer), "t", ["aux00", bad])
    with pytest.raises(ConfigError, match=r"^search\.target: dataset id"):
        CommandEvaluator(command(trainer), bad or " ", POOL)
    check_dataset_ids("search.candidates", ["aux-0_1", "B2"])
    # a combination with a bad id never reaches the command either
    with pytest.raises(ConfigError, match="the combination: dataset id"):
        CommandEvaluator(command(trainer), "t", POOL)(["t", bad or "-"])
    assert calls(trainer) == []


def test_a_string_command_is_a_config_error():
    with pytest.raises(ConfigError, match=r"^search\.command: expected a list of arguments \(a YAML list of strings\), "
                                          r"got 'python train\.py \{datasets\}'$"):
        CommandEvaluator("python train.py {datasets}", "t", POOL)


def test_a_failing_command_gives_the_tail_of_its_stderr(trainer):
    with pytest.raises(EvaluationFailed) as error:
        CommandEvaluator(command(trainer, "fail"), "t", POOL)(["t", "aux00"])
    reason = str(error.value)
    assert "exited with status 3; last lines of its stderr:\n" in reason
    assert "--datasets aux00+t" in reason
    lines = reason.split("last lines of its stderr:\n")[1].splitlines()
    assert lines == [f"stderr line {i}" for i in range(10, 30)]  # the last 20 lines


def test_a_failure_without_stderr_shows_stdout(trainer):
    with pytest.raises(EvaluationFailed, match="exited with status 1; no stderr, last lines of its stdout:\n"
                                               "the only line, on stdout$"):
        CommandEvaluator(command(trainer, "quiet-fail"), "t", POOL)(["t"])


@pytest.mark.parametrize("mode, message", [
    ("bad-json", (r"the \{output\} of .* is not JSON \(Expecting ',' delimiter: line 1 column 10 \(char 9\)\); "
                  r"last lines of its stderr:\nwriting half a file$")),
    ("no-target", (r"the \{output\} of .* holds no usable scores: no score for the target 't'; got scores of "
                   r"\['aux00'\]; it printed nothing$")),
    ("strings", r"holds no usable scores: the score of 'aux00' is 'high'; expected a finite number"),
    ("no-output", (r"exited with status 0 but wrote no scores to \{output\}; last lines of its stderr:\n"
                   r"done, but wrote nothing$")),
])
def test_unusable_output_is_a_failure_with_the_reason(trainer, mode, message):
    with pytest.raises(EvaluationFailed, match=message):
        CommandEvaluator(command(trainer, mode), "t", POOL)(["t", "aux00"])


def test_a_command_past_its_time_limit_is_stopped_with_its_children(tmp_path):
    # a launcher that starts a worker and waits on it, as a training script's launcher does
    pid_file = tmp_path / "worker.pid"
    launcher = tmp_path / "launch.py"
    launcher.write_text(textwrap.dedent(f"""
        import subprocess, sys, time
        worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        open({str(pid_file)!r}, "w").write(str(worker.pid))
        print("training...", file=sys.stderr, flush=True)
        worker.wait()
    """))
    evaluator = CommandEvaluator([sys.executable, str(launcher), "{datasets}", "{output}"], "t", POOL,
                                 timeout_s=1.5)
    with pytest.raises(EvaluationFailed, match=r"did not finish within search\.command_timeout_s = 1\.5 s and was "
                                               r"stopped; last lines of its stderr:\ntraining\.\.\.$"):
        evaluator(["t", "aux00"])
    worker = int(pid_file.read_text())
    assert not Path(f"/proc/{worker}").exists() or "Z" in Path(f"/proc/{worker}/stat").read_text().split()[2]
    # the limit is how long to wait, not what a finished evaluation scores: the ledger shares them
    assert evaluator.fingerprint == CommandEvaluator(evaluator.command, "t", POOL).fingerprint
    assert evaluator.with_seed(4).timeout_s == 1.5


@pytest.mark.parametrize("bad", [0, -1])
def test_a_time_limit_must_be_positive(bad):
    with pytest.raises(ConfigError, match=rf"^search\.command_timeout_s: expected a positive number or null, "
                                          rf"got {bad}$"):
        CommandEvaluator(["prog", "{datasets}", "{output}"], "t", POOL, timeout_s=bad)


def test_a_missing_program_is_a_failure():
    with pytest.raises(EvaluationFailed, match="could not run no-such-program-here aux00\\+t .*No such file"):
        CommandEvaluator(["no-such-program-here", "{datasets}", "{output}"], "t", POOL)(["aux00", "t"])


# --- fingerprints -------------------------------------------------------------------------


def test_the_fingerprint_follows_the_trainer_the_version_and_the_seed(trainer):
    base = CommandEvaluator(command(trainer), "t", POOL)
    same = CommandEvaluator(command(trainer), "t", POOL)
    assert base.fingerprint == same.fingerprint
    # the pool and the target are not what the scores depend on: other searches share the ledger
    assert CommandEvaluator(command(trainer), "aux00", ["t", "aux01"]).fingerprint == base.fingerprint
    others = [
        CommandEvaluator(command(trainer), "t", POOL, version="2"),
        CommandEvaluator(command(trainer, "ok", "--lr", "1e-4"), "t", POOL),
        base.with_seed(1),
        PythonEvaluator("trainer_fixture_module:scores", "t", POOL),
        PythonEvaluator("trainer_fixture_module:no_seed", "t", POOL),
        PythonEvaluator("trainer_fixture_module:scores", "t", POOL, version="2"),
        PythonEvaluator("trainer_fixture_module:scores", "t", POOL).with_seed(1),
    ]
    fingerprints = [base.fingerprint, *(o.fingerprint for o in others)]
    assert len(set(fingerprints)) == len(fingerprints)
    seeded = base.with_seed(9)
    assert (seeded.seed, seeded.command, seeded.version) == (9, base.command, base.version)


# --- as MLflow runs -------------------------------------------------------------------------


def test_each_evaluation_is_a_tracked_run_and_a_failure_a_failed_one(trainer, tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    try:
        evaluator = CommandEvaluator(command(trainer), "t", POOL, version="3", seed=2)
        scores = evaluator.evaluate(("aux00", "t"), metric="f1", target="t")
        assert scores == pytest.approx({"aux00": 0.522, "t": 0.522})
        # asked again, the finished run answers: the command is not run twice
        assert evaluator.evaluate(("t", "aux00"), metric="f1", target="t") == pytest.approx(scores)
        assert len(calls(trainer)) == 1
        client = mlflow.MlflowClient(uri)
        [run] = client.search_runs([client.get_experiment_by_name("mtlsearch").experiment_id])
        assert run.info.status == "FINISHED"
        tags, params, metrics = run.data.tags, run.data.params, run.data.metrics
        assert tags["mtlsearch.status"] == "finished" and tags["mtlsearch.evaluator"] == "command"
        assert tags["mtlsearch.fingerprint"] == evaluator.fingerprint and tags["mtlsearch.datasets"] == "aux00+t"
        assert params["evaluator"] == "command" and params["evaluator_version"] == "3" and params["seed"] == "2"
        assert "{datasets}" in params["command"] and params["combination"] == "aux00+t"
        assert params["member.aux00"] == "1" and params["member.aux01"] == "0"
        assert metrics["t.f1"] == pytest.approx(0.522) and metrics["score"] == pytest.approx(0.522)
        assert "evaluation_wall_s" in metrics and not any(".test." in k for k in metrics)

        failing = CommandEvaluator(command(trainer, "fail"), "t", POOL)
        with pytest.raises(EvaluationFailed):
            failing.evaluate(("aux01", "t"), metric="f1", target="t")
        [failed] = client.search_runs([run.info.experiment_id], f"tags.`mtlsearch.fingerprint` = '{failing.fingerprint}'")
        assert failed.info.status == "FAILED" and failed.data.tags["mtlsearch.status"] == "failed"
        assert failed.data.tags["failure_reason"].startswith("EvaluationFailed: ")
        assert failed.data.tags["failure_reason"].endswith("stderr line 29")
        # what the command printed is kept with its run, the whole of it (the reason has 20 lines)
        logs = {a.path: a for a in client.list_artifacts(failed.info.run_id, "logs")}
        assert sorted(logs) == ["logs/stderr.log", "logs/stdout.log"]
        stderr = Path(client.download_artifacts(failed.info.run_id, "logs/stderr.log", str(tmp_path)))
        assert stderr.read_text().splitlines() == [f"stderr line {i}" for i in range(30)]
        stdout = Path(client.download_artifacts(run.info.run_id, "logs/stdout.log", str(tmp_path / "ok")))
        assert stdout.read_text() == "trained on 2 datasets\n"
    finally:
        mlflow.set_tracking_uri("")


def test_the_json_a_command_writes_is_read_as_written(trainer, tmp_path):
    # a trainer wrapped in a few lines: any script that writes {member: score} to {output}
    script = tmp_path / "wrapper.py"
    script.write_text(textwrap.dedent('''
        import json, sys
        datasets, output = sys.argv[1].split("+"), sys.argv[2]
        json.dump({"t": 0.25, **{d: 1.0 for d in datasets if d != "t"}}, open(output, "w"))
    '''))
    evaluator = CommandEvaluator([sys.executable, str(script), "{datasets}", "{output}"], "t", POOL)
    assert evaluator(["aux02", "t"]) == {"aux02": 1.0, "t": 0.25}
    assert json.loads(json.dumps(evaluator.spec())) == [sys.executable, str(script), "{datasets}", "{output}"]


# --- parameters -----------------------------------------------------------------------------


@pytest.mark.parametrize("params, message", [
    ({"evaluator": "python"},
     "search.callable: expected 'package.module:function' (the python evaluator calls it), got None"),
    ({"evaluator": "python", "callable": "train.py"}, "search.callable: expected 'package.module:function', got 'train.py'"),
    ({"evaluator": "command"},
     "search.command: expected a list of arguments with {datasets} and {output} (the command evaluator runs it), got None"),
    ({"evaluator": "command", "command": "python train.py {datasets} {output}"},
     ("search.command: expected a list of arguments (a YAML list of strings; no shell), not a string, "
     "got 'python train.py {datasets} {output}'")),
    ({"evaluator": "command", "command": ["python", "train.py", "{output}"]},
     ("search.command: expected an argument with {datasets} (substituted in each evaluation), "
     "got ['python', 'train.py', '{output}']")),
    ({"evaluator": "command", "command": ["python", "{datasets}", 3]},
     "search.command: expected a list of strings, got ['python', '{datasets}', 3]"),
    ({"evaluator_version": 1.5}, ("search.evaluator_version: expected a non-empty string (bump it when the trainer "
                                 "changes), got 1.5")),
])
def test_trainer_parameters_are_checked_in_one_line(params, message):
    from mtlsearch.parameters import SearchParams

    with pytest.raises(ConfigError) as error:
        SearchParams.from_params({"target": "t", **params})
    assert str(error.value) == message


def test_trainer_parameters_as_the_search_reads_them():
    from mtlsearch.parameters import SearchParams

    params = SearchParams.from_params({"target": "t", "evaluator": "command", "candidates": "a+b",
                                       "command": ["prog", "--d={datasets}", "{output}"], "evaluator_version": 2})
    assert (params.command, params.evaluator_version, params.callable) == (["prog", "--d={datasets}", "{output}"], "2", None)
    assert SearchParams.from_params({"target": "t"}).evaluator_version == "1"
