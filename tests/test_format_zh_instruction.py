"""The Chinese instruction format (指令 / 输入 / 输出): detected, read, trained on and shown like Alpaca."""

from pathlib import Path

from ftlab.data.parsing import detect, load
from ftlab.data.rows import to_dataset

EXAMPLE = Path(__file__).parent.parent / "examples" / "data" / "zh_instructions.jsonl"


def test_chinese_field_names_are_detected_and_say_which_matched():
    parsed = load(EXAMPLE)
    assert parsed.detection.format == "zh_instruction"
    assert parsed.detection.reason == ("fields instruction='指令', output='输出', input='输入', system='系统提示', "
                                       "history='历史' matched 'zh_instruction'")
    assert len(parsed.records) == 6 and not parsed.problems


def test_rows_become_dialogues_with_system_prompt_history_and_input():
    records = load(EXAMPLE).records
    assert records[0].messages == [
        {"role": "user", "content": "把下面的句子翻译成英文。\n\n今天天气很好，我们去公园散步吧。"},
        {"role": "assistant", "content": "The weather is nice today; let's go for a walk in the park."}]
    assert records[2].messages[0]["content"] == "写出“高兴”的三个近义词。"  # an empty 输入 adds no blank tail
    assert records[3].messages[0] == {"role": "system", "content": "你是一名耐心的客服，回答要简短。"}
    assert [m["role"] for m in records[4].messages] == ["user", "assistant", "user", "assistant"]


def test_sft_rows_keep_the_history_as_context():
    rows = to_dataset(load(EXAMPLE).records, "sft")
    assert [t["content"] for t in rows[4]["prompt"]] == ["我的包裹发了吗？", "已经发货了。", "那大概什么时候能到？"]
    assert rows[4]["completion"] == [{"role": "assistant", "content": "一般发货后两到三天送达。"}]


def test_an_english_alpaca_header_stays_alpaca_and_a_mixed_header_is_chinese():
    assert detect([{"instruction": "Say hi", "output": "hi"}]).format == "alpaca"
    assert detect([{"指令": "打个招呼", "output": "你好"}]).format == "zh_instruction"
