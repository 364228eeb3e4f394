import random

import pytest

from ftlab.data.tasks import TASKS, build_splits, get_task, shift_letters
from ftlab.errors import FtlabError


def test_splits_have_the_asked_sizes_and_share_no_prompt():
    splits = build_splits("cipher", seed=3, n_train=300, n_validation=40, n_test=50)
    assert {k: len(v) for k, v in splits.items()} == {"train": 300, "validation": 40, "test": 50}
    train, val, test = ({r.messages[0]["content"] for r in splits[s]} for s in ("train", "validation", "test"))
    assert not (train & val or train & test or val & test)


def test_same_seed_same_data_other_seed_other_data():
    a = build_splits("date_format", seed=1, n_train=20, n_validation=5, n_test=5)
    b = build_splits("date_format", seed=1, n_train=20, n_validation=5, n_test=5)
    c = build_splits("date_format", seed=2, n_train=20, n_validation=5, n_test=5)
    assert a["train"] == b["train"]
    assert a["train"] != c["train"]


def test_cipher_answers_are_the_shifted_word():
    assert shift_letters("xyzabc", 3) == "abcdef"
    question, answer = build_splits("cipher", 0, 5, 1, 1)["train"][0].messages
    assert question["role"] == "user" and answer["role"] == "assistant"
    assert answer["content"] == shift_letters(question["content"].rsplit(": ", 1)[1], 3)


def test_date_format_spells_the_month():
    prompt, completion = get_task("date_format").make(random.Random(0))
    year, month, day = prompt.rsplit(": ", 1)[1].split("-")
    assert completion.split() == [str(int(day)), completion.split()[1], year]
    assert completion.split()[1][:3] in "JanFebMarAprMayJunJulAugSepOctNovDec"


def test_fine_tuning_tasks_are_not_in_the_base_models_corpus():
    assert not TASKS["cipher"].in_base and not TASKS["date_format"].in_base
    assert {"repeat", "reverse", "uppercase", "spell", "next_letter"} <= {t.name for t in TASKS.values() if t.in_base}


def test_errors_name_the_task_and_the_alternatives():
    with pytest.raises(FtlabError, match=r"Unknown built-in task 'sudoku'. Built-in tasks: cipher, date_format"):
        get_task("sudoku")
    with pytest.raises(FtlabError, match="fewer than 1000 distinct examples"):
        build_splits("next_letter", 0, 990, 5, 5)


def test_every_task_leaves_room_for_its_longest_answer_and_the_end_of_turn():
    """Evaluation generates at most max_new_tokens: a shorter bound cuts right answers ("middle" -> "midd")."""
    from ftlab.models.loader import load_tokenizer

    tokenizer = load_tokenizer("ftlab/tiny-chat")
    for task in TASKS.values():
        rng = random.Random(0)
        answers = [task.make(rng)[1] for _ in range(200)] + list(task.labels or ())
        longest = max(len(tokenizer(a, add_special_tokens=False)["input_ids"]) for a in answers)
        assert task.max_new_tokens >= longest + 1, (task.name, task.max_new_tokens, longest)
