"""A/B tests: the sticky split, the request log, the analysis's error rates measured on simulated tests, the gate.

Simulated users (ftlab.ops.simulate) differ among themselves (each has an offset on the win rate, sd 0.25 here,
and 1-15 requests): the within-user correlation that makes a per-request analysis too sure of itself.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ftlab.cli import main
from ftlab.errors import FtlabError
from ftlab.ops.ab_test import analyse, apply_gate, choose_version, decide
from ftlab.ops.request_log import RequestLog, RequestRecord, read_requests
from ftlab.ops.simulate import simulate_ab_traffic

HALF = {"1": 0.5, "2": 0.5}


def equal_test(seed: int, users: int = 200) -> list[RequestRecord]:
    return simulate_ab_traffic(users, HALF, {"1": 0.6, "2": 0.6}, requests_per_user=8, user_spread=0.25, seed=seed)


# ---- the split ---------------------------------------------------------------------------------------------------

def test_the_split_is_sticky_proportional_and_a_ramp_up_only_moves_users_in():
    users = [f"user-{i}" for i in range(20000)]
    weights = {"1": 0.9, "2": 0.1}
    first = [choose_version(u, weights, "exp") for u in users]
    assert first == [choose_version(u, weights, "exp") for u in users]  # sticky
    assert first.count("2") / len(users) == pytest.approx(0.1, abs=0.01)
    wider = [choose_version(u, {"1": 0.7, "2": 0.3}, "exp") for u in users]
    assert wider.count("2") / len(users) == pytest.approx(0.3, abs=0.015)
    assert all(w == "2" for f, w in zip(first, wider) if f == "2")  # nobody leaves the candidate while it grows
    other = [choose_version(u, HALF, "another-experiment") for u in users]
    same = [choose_version(u, HALF, "exp") for u in users]
    assert np.mean([a == b for a, b in zip(other, same)]) == pytest.approx(0.5, abs=0.02)  # reshuffled
    three = [choose_version(u, {"a": 1, "b": 2, "c": 1}, "exp") for u in users]
    assert [three.count(v) / len(users) for v in "abc"] == pytest.approx([0.25, 0.5, 0.25], abs=0.015)
    assert {choose_version(u, {"1": 0, "2": 3}) for u in users[:500]} == {"2"}


def test_the_split_is_the_same_in_another_process():
    """Python's own hash() changes between processes; the split must not (several server workers)."""
    users = [f"user-{i}" for i in range(200)]
    here = [choose_version(u, HALF, "exp") for u in users]
    code = ("import json; from ftlab.ops.ab_test import choose_version; "
            f"print(json.dumps([choose_version(u, {HALF!r}, 'exp') for u in {users!r}]))")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(Path(__file__).parent.parent)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(out.stdout) == here


def test_bad_weights_are_explained():
    for weights, message in [
        ({}, "weights: give at least one version with a weight, e.g. {'1': 0.9, '2': 0.1}."),
        ({"1": 0.5, "2": -0.1}, "weights: 2=-0.1: a weight is a number >= 0 (a share of the traffic)."),
        ({"1": float("nan")}, "weights: 1=nan: a weight is a number >= 0 (a share of the traffic)."),
        ({"1": 0, "2": 0}, "weights: they add up to 0; give at least one version a positive share of the traffic."),
    ]:
        with pytest.raises(FtlabError) as err:
            choose_version("u", weights)
        assert str(err.value) == message


# ---- the request log ------------------------------------------------------------------------------------------

def test_the_log_joins_late_outcomes_and_skips_a_torn_line(tmp_path):
    log = RequestLog(tmp_path / "logs" / "requests.jsonl")
    a = log.write(RequestRecord(user="u1", version="1", prompt="你好, cipher: abc", answer="def", prompt_tokens=14,
                                answer_tokens=3, latency_s=0.2, time=10.0, experiment="exp"))
    b = log.write(RequestRecord(user="u2", version="2", prompt="q", answer="a", time=5.0, win=False))
    log.write_outcome(a.id, score=0.5, win=True)
    log.write_outcome(b.id, win=True)  # the later outcome replaces the one logged with the request
    log.write_outcome("not-in-this-log", score=1.0)
    with open(log.path, "a", encoding="utf-8") as fh:
        fh.write('{"user": "u3", "vers')  # a writer killed mid-line
    records = log.read()
    assert [r.id for r in records] == [b.id, a.id]  # time order
    assert (records[1].prompt, records[1].score, records[1].win, records[1].prompt_tokens) == \
        ("你好, cipher: abc", 0.5, True, 14)
    assert (records[0].win, records[0].score) == (True, None)
    with pytest.raises(FtlabError) as err:
        log.write_outcome(a.id)
    assert str(err.value) == f"outcome for request {a.id}: give a score, a win, or both."

    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps({"user": "u", "version": "1", "prompt": "p", "time": 1}) + "\n")
    with pytest.raises(FtlabError) as err:
        read_requests(broken)
    assert str(err.value) == (f"{broken}: record 1 has no 'answer'; every request line needs time, user, version, "
                              "prompt, answer (see ftlab.ops.request_log.RequestRecord).")


# ---- the analysis ----------------------------------------------------------------------------------------------

def test_a_clearly_better_version_is_found_with_its_confidence():
    records = simulate_ab_traffic(300, HALF, {"1": 0.5, "2": 0.7}, requests_per_user=8, user_spread=0.25, seed=3)
    result = analyse(records, control="1", candidate="2")
    assert result.verdict == "better" and result.significant
    assert result.control_arm.mean == pytest.approx(0.5, abs=0.06)
    assert result.candidate_arm.mean == pytest.approx(0.7, abs=0.06)
    assert result.interval[0] > 0.05 and result.interval[0] < result.difference < result.interval[1]
    assert result.p_value <= 0.001 and result.prob_better > 0.999
    assert result.summary().endswith("Version 2 is better than version 1 at the 95% level.")
    assert result.control_arm.users + result.candidate_arm.users == 300
    assert result.control_arm.requests + result.candidate_arm.requests == len(records)
    # the same log read the other way round: the control is worse
    assert analyse(records, control="2", candidate="1").verdict == "worse"


def test_equal_versions_are_rarely_declared_different_at_the_stated_level():
    """400 simulated A/B tests of two equal versions at the 95% level: about 5% may read as different by chance,
    no more (the upper end of a binomial 99% band around 5% of 400 is 7.5%)."""
    declared = [analyse(equal_test(seed), "1", "2", resamples=1000, seed=seed).significant for seed in range(400)]
    rate = float(np.mean(declared))
    print(f"false-positive rate at the 95% level: {rate:.3f} over {len(declared)} simulated tests")
    assert rate <= 0.075


def test_the_users_still_needed_give_the_power_they_promise():
    """A large pilot of equal versions says how many users find a difference of 10 points with 80% power; tests
    of that size with a true 10-point difference find it about 80% of the time."""
    pilot = analyse(equal_test(1000, users=2000), "1", "2", min_effect=0.1, power=0.8)
    users = pilot.users_required
    assert pilot.users_needed == 0 and 100 < users < 2000
    small = analyse(equal_test(1001, users=100), "1", "2", min_effect=0.1, power=0.8)
    assert small.users_needed == small.users_required - 100 > 0
    found = [analyse(simulate_ab_traffic(users, HALF, {"1": 0.6, "2": 0.7}, requests_per_user=8, user_spread=0.25,
                                         seed=seed), "1", "2", resamples=1000, seed=seed).verdict == "better"
             for seed in range(200)]
    power = float(np.mean(found))
    print(f"{users} users: power {power:.3f} (promised 0.8)")
    assert 0.68 <= power <= 0.92


def test_a_mean_score_is_compared_like_a_win_rate():
    rng = np.random.default_rng(0)
    records = [RequestRecord(user=f"u{i}", version=str(1 + i % 2), prompt="p", answer="a", time=float(i),
                             score=float(rng.normal(3.0 + 0.5 * (i % 2), 1.0))) for i in range(400)]
    records.append(RequestRecord(user="u0", version="1", prompt="p", answer="a", time=999.0))  # no outcome yet
    result = analyse(records, "1", "2", metric="score", min_effect=0.2)
    assert result.verdict == "better" and result.difference == pytest.approx(0.5, abs=0.2)
    assert result.unlogged == 1 and "mean score: version 2" in result.summary()


def test_analysis_mistakes_are_explained():
    records = equal_test(0, users=50)
    with pytest.raises(FtlabError) as err:
        analyse(records, "1", "3")
    assert str(err.value) == ("version 3 has 0 user(s) with a known win in the log (versions logged: 1, 2); an A/B "
                              "test needs at least 2 users on each side with outcomes.")
    with pytest.raises(FtlabError) as err:
        analyse(records, "1", "2", metric="clicks")
    assert str(err.value) == "metric='clicks': an A/B test compares 'win' (the win rate) or 'score' (the mean score)."


# ---- the gate ------------------------------------------------------------------------------------------------

def test_the_gate_promotes_a_better_candidate_and_rolls_back_a_worse_one(model_registry, lora_run):
    for _ in range(2):
        model_registry.register(lora_run, "repeat")
    model_registry.promote("repeat", 1)
    better = simulate_ab_traffic(300, HALF, {"1": 0.5, "2": 0.7}, requests_per_user=8, user_spread=0.25, seed=3)
    decision = apply_gate(decide(analyse(better, "1", "2")), model_registry, "repeat")
    assert decision.action == "promote" and decision.applied == "repeat@production -> version 2"
    assert model_registry.by_alias("repeat", "production").version == 2
    assert model_registry.history("repeat")[-1]["reason"].startswith("A/B gate: version 2 is better: win rate")

    worse = simulate_ab_traffic(300, HALF, {"1": 0.6, "2": 0.4}, requests_per_user=8, user_spread=0.25, seed=4)
    decision = apply_gate(decide(analyse(worse, "1", "2")), model_registry, "repeat")
    assert decision.action == "rollback"
    assert decision.applied == "repeat@production rolled back from version 2 to version 1"
    assert model_registry.by_alias("repeat", "production").version == 1
    # worse again while production is already the control: nothing to roll back, the candidate stops
    decision = apply_gate(decide(analyse(worse, "1", "2")), model_registry, "repeat")
    assert decision.applied == "repeat@production stays at version 1; stop sending traffic to version 2"
    labelled = [RequestRecord(**{**r.__dict__, "version": {"1": "base", "2": "tuned"}[r.version]}) for r in worse]
    with pytest.raises(FtlabError) as err:
        apply_gate(decide(analyse(labelled, "base", "tuned")), model_registry, "repeat")
    assert str(err.value) == ("the log names versions 'base' and 'tuned'; the gate moves repeat@production between "
                              "registry versions, so the server must log their numbers (e.g. '1' and '2').")


def test_the_gate_waits_for_users_and_stops_a_candidate_that_is_not_better():
    few = decide(analyse(equal_test(5, users=40), "1", "2"))
    assert few.action == "continue" and few.reason.startswith("too few users to decide (version")
    undecided = decide(analyse(equal_test(8, users=200), "1", "2", min_effect=0.05))  # not one of the 5% false
    # positives (equal_test(6) is one)
    assert undecided.action == "continue" and undecided.analysis.users_needed > 0
    assert "more users would find a difference of +5.0 points with 80% probability" in undecided.reason
    enough = decide(analyse(equal_test(7, users=1500), "1", "2", min_effect=0.1))
    assert enough.analysis.verdict == "no difference found" and enough.analysis.users_needed == 0
    assert enough.action == "rollback" and enough.reason.startswith("version 2 is not better by +10.0 points")


def test_the_ab_command_analyses_a_log_and_applies_the_gate(model_registry, lora_run, tmp_path, capsys):
    log = RequestLog(tmp_path / "requests.jsonl")
    for record in simulate_ab_traffic(300, HALF, {"1": 0.5, "2": 0.7}, requests_per_user=8, user_spread=0.25, seed=3):
        log.write(record)
    assert main(["ab", str(log.path), "--control", "1", "--candidate", "2"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["verdict"] == "better" and result["candidate"]["version"] == "2"
    for _ in range(2):
        model_registry.register(lora_run, "repeat")
    model_registry.promote("repeat", 1)
    assert main(["ab", str(log.path), "--control", "1", "--candidate", "2", "--gate", "repeat",
                 "--registry-uri", model_registry.uri]) == 0
    decision = json.loads(capsys.readouterr().out)
    assert (decision["action"], decision["applied"]) == ("promote", "repeat@production -> version 2")
    assert model_registry.by_alias("repeat", "production").version == 2
