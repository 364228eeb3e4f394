"""The chat playground with real runtimes: the built-in model and a noisy copy of it, answering side by side.

Every answer a pane shows must be the model's greedy answer to that pane's own dialogue (what ``generate``
says), arrived in more than one piece; the buttons work as ``.click()`` drives them, and a source that cannot be
opened says why in its pane.
"""

import threading
from pathlib import Path

import pytest

from ftlab.errors import FtlabError
from ftlab.export.opening import open_runtime
from ftlab.export.runtime import Generation
from ftlab.models.tiny import BUILTIN_MODEL
from ftlab.widgets import Playground
from ftlab.widgets.playground import drain, export_sources

FIRST, SECOND = "Repeat: abracadabra", "Uppercase: kalorimeter"  # answers the built-in model streams letter by letter


@pytest.fixture
def playground(noisy_tiny_chat):
    playground = Playground([BUILTIN_MODEL, str(noisy_tiny_chat)], max_new_tokens=24)
    yield playground
    playground.close()


def test_a_stream_ends_with_the_generation_that_generate_gives():
    runtime = open_runtime(BUILTIN_MODEL)
    dialogue = [{"role": "user", "content": FIRST}]
    pieces = []
    generation = drain(runtime.stream(dialogue, 24), pieces.append)
    greedy = runtime.generate(dialogue, 24)
    assert isinstance(generation, Generation)
    assert len(pieces) > 5 and "".join(pieces).strip() == generation.text == greedy.text
    assert generation.new_tokens == greedy.new_tokens == len(greedy.text) + 1  # a token per letter, then end of turn
    with pytest.raises(ValueError, match="`max_new_tokens` must be greater than 0"):
        list(runtime.stream(dialogue, 0))  # raised in the generating thread, re-raised here instead of hanging


def test_both_panes_answer_each_message_as_their_model_greedily_would(playground, noisy_tiny_chat):
    assert playground._runtimes == {}  # nothing opens before it is used
    shown = []
    playground.panes[0].view.observe(lambda change: shown.append(change["new"]), names="value")
    left, right = playground.send(FIRST)
    streaming = [value for value in shown if "class='ftlab-streaming'" in value]
    assert len(streaming) == 1 + len(left.pieces)  # the pane redrawn as the answer began and at every piece
    assert f"opening {BUILTIN_MODEL}…" in streaming[0] and not any("opening" in v for v in streaming[1:])
    assert f">{left.pieces[0]}▌</div>" in streaming[1] and f">{left.text}▌</div>" in streaming[-1]
    opened = dict(playground._runtimes)
    assert set(opened) == {0, 1}
    dialogue = [{"role": "user", "content": FIRST}]
    for answer, index in ((left, 0), (right, 1)):
        greedy = opened[index].generate(dialogue, 24)
        assert answer.text == greedy.text and answer.tokens == greedy.new_tokens and answer.error is None
        assert len(answer.pieces) > 3 and "".join(answer.pieces).strip() == answer.text  # it streamed in
        assert answer.tokens_per_second == pytest.approx(answer.tokens / answer.seconds)
    assert left.text != right.text  # two models: the noisy copy answers otherwise

    # the second turn goes after each pane's own dialogue (its own first answer), with the models kept open
    shown.clear()
    second = playground.send(SECOND)
    assert playground._runtimes == opened and not any("opening" in value for value in shown)  # open already
    for pane, answer, first in zip(playground.panes, second, (left, right)):
        history = [*dialogue, {"role": "assistant", "content": first.text}, {"role": "user", "content": SECOND}]
        assert answer.text == opened[pane.source].generate(history, 24).text
        assert pane.history == [*history, {"role": "assistant", "content": answer.text}]
        assert pane.view.value.count("class='ftlab-answer'") == 2
        assert f"{answer.tokens} tokens · {answer.tokens_per_second:.1f} tokens/s" in pane.view.value
    assert playground.panes[0].view.value.startswith(f"<div><b>{BUILTIN_MODEL}</b></div>")
    assert playground.panes[1].view.value.startswith(f"<div><b>{noisy_tiny_chat}</b></div>")


def test_the_buttons_send_in_the_background_clear_and_limit_the_answer(playground):
    busy = []
    playground.send_button.observe(lambda change: busy.append(change["new"]), names="disabled")
    playground.right_choice.value = None  # the right pane off: one model answers
    assert "no model on this side" in playground.panes[1].view.value
    playground.max_new_tokens.value = 4
    playground.message.value = FIRST
    playground.send_button.click()
    assert playground.wait(120)
    assert busy == [True, False]  # nothing to click twice while it answered
    assert playground.message.value == "" and playground.send_button.description == "Send"
    (message, answer), = playground.panes[0].turns
    assert message == FIRST and answer.tokens == 4 and answer.text == "arct"  # 4 of "arctabmma"'s tokens
    assert playground.panes[1].turns == []

    playground.message.value = "   "
    playground.send_button.click()  # nothing to send
    assert playground.wait(0) and busy == [True, False]

    playground.clear_button.click()
    assert playground.panes[0].history == [] and playground.panes[0].turns == []
    assert "type a message below and press Send" in playground.panes[0].view.value
    assert set(playground._runtimes) == {0}  # the model stays open


def test_choosing_another_model_starts_that_pane_again(playground):
    playground.send(FIRST)
    playground.left_choice.value = 1
    assert playground.panes[0].history == [] and playground.panes[0].source == 1
    assert len(playground.panes[1].history) == 2  # the other pane keeps its conversation
    left, _ = playground.send(FIRST)
    assert left.text == playground.runtime(1).generate([{"role": "user", "content": FIRST}], 24).text  # a new start
    assert len(playground.panes[0].history) == 2 and len(playground.panes[1].history) == 4


def test_a_source_that_cannot_be_opened_says_why_in_its_pane(tmp_path):
    with pytest.raises(FtlabError) as expected:
        open_runtime(tmp_path)
    playground = Playground([BUILTIN_MODEL, tmp_path], max_new_tokens=8)
    left, right = playground.send(FIRST)
    assert left.error is None and left.text
    assert right.error == str(expected.value) == (
        f"{tmp_path} is neither an exported artifact (artifact.json), a run directory (config.yaml and final/) nor "
        "a model folder (config.json).")
    pane = playground.panes[1]
    assert f"<div class='ftlab-error' style='background:#fee2e2;border-radius:6px;padding:4px 8px;margin:2px 0'>" \
           f"{tmp_path} is neither an exported artifact" in pane.view.value
    assert "Traceback" not in pane.view.value and pane.history == []  # the failed turn is not in the dialogue
    assert 1 not in playground._runtimes  # tried again next time (the folder may be filled by then)
    playground.close()


def test_runtimes_given_as_objects_and_failures_mid_answer():
    runtime = open_runtime(BUILTIN_MODEL, name="tiny")

    class Relay:  # a runtime of someone's own whose stream hands the pieces on but not the Generation
        name = "relay"

        def stream(self, messages, max_new_tokens=256):
            yield from runtime.stream(messages, max_new_tokens)  # and returns None: the Generation stops here

    playground = Playground([runtime, Relay(), runtime], max_new_tokens=24)
    assert playground.names == ["tiny", "relay", "tiny (2)"]
    left, right = playground.send(FIRST)
    assert right.text == left.text and right.tokens is None
    assert f"{len(right.pieces)} pieces in " in playground.panes[1].view.value
    playground.close()
    assert runtime.model is not None  # a runtime the playground was given is not its to close
    runtime.close()
    left, _ = playground.send(FIRST)
    assert left.error == "AttributeError: 'NoneType' object has no attribute 'parameters'"


def test_an_export_offers_its_run_and_every_built_artifact():
    folder = Path(__file__).parent / "data" / "export"
    assert export_sources(folder) == ["/work/runs/quickstart-cipher"] + [
        str(folder / name) for name in ("merged", "bnb-8bit", "bnb-4bit", "broken-template")]
    with pytest.raises(FtlabError, match="Playground.sources. needs at least one source"):
        Playground([])


def test_a_run_given_relative_to_the_export_folder_is_named_plainly(tmp_path):
    import json
    import shutil

    folder = tmp_path / "out" / "export"
    shutil.copytree(Path(__file__).parent / "data" / "export", folder)
    record = json.loads((folder / "export.json").read_text())
    (folder / "export.json").write_text(json.dumps({**record, "run_dir": "../runs/quickstart-cipher"}))
    assert export_sources(folder)[0] == str(tmp_path / "out" / "runs" / "quickstart-cipher")


def test_two_panes_on_one_source_open_it_once(monkeypatch):
    calls = []

    def counting(source):
        calls.append(source)
        return open_runtime(source)

    monkeypatch.setattr("ftlab.widgets.playground.open_runtime", counting)
    playground = Playground([BUILTIN_MODEL], max_new_tokens=4)
    playground.right_choice.value = 0
    threads = [threading.Thread(target=playground.runtime, args=(0,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    left, right = playground.send(FIRST)
    assert calls == [BUILTIN_MODEL] and left.text == right.text
    playground.close()
