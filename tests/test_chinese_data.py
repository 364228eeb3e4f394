"""Chinese and mixed Chinese/English rows through the quality steps: PII, normalisation, length, near duplicates."""

import json
import random
import re
from pathlib import Path

import pytest

from ftlab.data.dedup import jaccard, shingles
from ftlab.data.pii import MASKS, card_ok, luhn_ok, mask_pii, resident_id_ok
from ftlab.data.quality import LengthFilter, NearDedup, Normalize, StepReport
from ftlab.data.records import Record
from ftlab.errors import FtlabError

PII_ROWS = [json.loads(line) for line in
            (Path(__file__).parent / "data" / "pii_mixed.jsonl").read_text(encoding="utf-8").splitlines()]
_MASK = re.compile("|".join(map(re.escape, set(MASKS.values()))))


def qa(q, a, where):
    return Record("qa", [{"role": "user", "content": q}, {"role": "assistant", "content": a}], meta={"where": where})


def run(step, records):
    report = StepReport(step.name, step.params(), rows_in=len(records))
    return step.apply(records, random.Random(0), report), report


def masked_parts(original: str, masked: str) -> list[str]:
    """The pieces of ``original`` that the placeholders in ``masked`` replaced."""
    pieces = _MASK.split(masked)
    return list(re.fullmatch("(.+?)".join(map(re.escape, pieces)), original, re.S).groups())


# --- personal data --------------------------------------------------------------


def test_the_labelled_pii_set_is_what_it_claims():
    spans = [(s["kind"], s["text"]) for r in PII_ROWS for s in r["spans"]]
    negatives = [k for r in PII_ROWS for k in r["keep"]]
    assert len(PII_ROWS) >= 150 and len(negatives) >= 60
    assert {r["domain"] for r in PII_ROWS} == {"customer_service", "hr", "ecommerce", "tech_support", "negatives"}
    assert all(s["text"] in r["text"] for r in PII_ROWS for s in r["spans"])
    assert all(k in r["text"] for r in PII_ROWS for k in r["keep"])
    ids = [text for kind, text in spans if kind == "cn_id"]
    cards = [re.sub(r"\D", "", text) for kind, text in spans if kind == "credit_card"]
    assert len(ids) >= 10 and all(resident_id_ok(t) for t in ids)
    assert len(cards) >= 10 and all(card_ok(c) for c in cards)
    # the wrong check digits among the negatives really are wrong
    id_like = [k for k in negatives if re.fullmatch(r"\d{17}[\dX]", k)]
    card_like = [re.sub(" ", "", k) for k in negatives if re.fullmatch(r"62[\d ]{14,21}", k)]
    assert len(id_like) >= 2 and not any(resident_id_ok(k) for k in id_like)
    assert len(card_like) >= 2 and not any(luhn_ok(k) for k in card_like)


def test_pii_on_mixed_rows_finds_95_percent_and_masks_no_hard_negative():
    missed, wrong = [], []
    for row in PII_ROWS:
        masked, _ = mask_pii(row["text"])
        parts = masked_parts(row["text"], masked)
        labelled = [s["text"] for s in row["spans"]]
        missed += [f"{s['kind']} {s['text']!r} in {row['text']!r}" for s in row["spans"] if s["text"] not in parts]
        wrong += [f"{part!r} in {row['text']!r}" for part in parts if part not in labelled]
    n = sum(len(r["spans"]) for r in PII_ROWS)
    assert not wrong and len(missed) <= 0.05 * n, (
        f"recall {1 - len(missed) / n:.1%} of {n} spans; missed:\n" + "\n".join(missed)
        + f"\n{len(wrong)} false mask(s):\n" + "\n".join(wrong))


@pytest.mark.parametrize("text, masked, counts", [
    ("请联系张三zhangsan@example.com或13800138000咨询。", "请联系张三[EMAIL]或[PHONE]咨询。", {"email": 1, "phone": 1}),
    ("客户张伟（身份证11010519491231002X）申请挂失，工资卡6222021234567890128。",
     "客户张伟（身份证[ID]）申请挂失，工资卡[CARD]。", {"cn_id": 1, "credit_card": 1}),
    ("请拨打0571-87654321 转 8001找王经理，报订单号 2023110512345678即可。",
     "请拨打[PHONE]找王经理，报订单号 2023110512345678即可。", {"phone": 1}),
    ("手机 +86 138-0013-8000 / (+86)13800138000 / 138 0013 8000，座机 (0755) 8888 6666、021 6123 4567",
     "手机 [PHONE] / [PHONE] / [PHONE]，座机 [PHONE]、[PHONE]", {"phone": 5}),
    ("护照号码：EA1234567，旧护照G12345678，passport no. 533380006",
     "护照号码：[PASSPORT]，旧护照[PASSPORT]，passport no. [PASSPORT]", {"passport_no": 3}),
    ("时间戳20240315093000，版本 3.10.12，version 1.2.3.4，GLM-4-9B-0414 和 gpt-4o-2024-08-06，价格¥2,999.00",
     "时间戳20240315093000，版本 3.10.12，version 1.2.3.4，GLM-4-9B-0414 和 gpt-4o-2024-08-06，价格¥2,999.00", {}),
    ("身份证号110105199003071235校验位不对，正确的是110105199003071239。",
     "身份证号110105199003071235校验位不对，正确的是[ID]。", {"cn_id": 1}),
])
def test_pii_masks_exactly_what_it_should_in_chinese_text(text, masked, counts):
    assert mask_pii(text) == (masked, counts)


def test_resident_ids_need_the_check_character_and_a_real_birth_date():
    assert resident_id_ok("11010519491231002X")  # the example in GB 11643-1999
    assert resident_id_ok("11010519491231002x")
    assert not resident_id_ok("110105194912310021")
    assert not resident_id_ok("110105199002301231")  # right check character, but 30 February
    assert not resident_id_ok("110105209901011234")  # right check character, born in 2099


def test_cards_need_luhn_and_an_issuer_prefix():
    assert luhn_ok("20240315093003") and not card_ok("20240315093003")  # a timestamp passing Luhn by chance
    assert card_ok("6222021234567890128") and card_ok("4111111111111111")
    assert luhn_ok("4567891234567120") and card_ok("4567891234567120")
    assert mask_pii("订单号 4567891234567120")[1] == {}  # an order number, even one that passes Luhn


# --- normalisation --------------------------------------------------------------


@pytest.mark.parametrize("text, clean", [
    ("Ｈｅｌｌｏ，ｗｏｒｌｄ", "Hello,world"),
    ("请升级到（ｖ２）版本，会议10：30开始！！", "请升级到（v2）版本，会议10:30开始！！"),
    ("Ｗｈａｔ？！ 用ＧＰＵ，训练", "What?! 用GPU，训练"),
    ("\u3000\u3000第一段：ＡＰＩ", "第一段：API"),
    ("①号窗口 ５㎏ x² ﬁle ½", "①号窗口 5㎏ x² ﬁle ½"),  # the rest of NFKC is left alone
])
def test_normalize_makes_letters_and_digits_half_width_and_keeps_chinese_punctuation(text, clean):
    assert Normalize().clean(text) == clean


def test_normalize_reports_width_changes_and_leaves_clean_chinese_alone():
    chinese = "你好，我想问一下：退款（部分）什么时候到账？"
    assert Normalize().clean(chinese) is chinese  # already normal: no new string built
    rows = [qa(chinese, "三到五个工作日。", "row 1"), qa("ＡＰＩ报错", "请重试", "row 2"),
            qa("cafe\u0301", "ｏｋ", "row 3"), qa("a  b", "ｏｋ", "row 4")]
    kept, report = run(Normalize(), rows)
    assert [m["content"] for r in kept for m in r.messages] == [
        chinese, "三到五个工作日。", "API报错", "请重试", "café", "ok", "a b", "ok"]
    assert report.changed == [{"where": "row 2", "what": "width: 1 field(s)"},
                              {"where": "row 3", "what": "unicode NFC: 2 field(s)"},
                              {"where": "row 4", "what": "width: 2 field(s)"}]


# --- length ---------------------------------------------------------------------


def test_length_counts_chinese_characters_words_and_tokens():
    answer = "退款会在三到五个工作日内退回到您的账户。"  # 20 characters, no spaces
    rows = [qa("多久到账？", answer, "row 1"), qa("ok?", "ok", "row 2"),
            qa("如何在Windows 11上用pip安装PyTorch？", "运行pip install torch即可。", "row 3")]
    kept, report = run(LengthFilter(min_length=10), rows)
    assert [r.meta["length"] for r in kept] == [26, 51] and report.dropped == [
        {"where": "row 2", "reason": "too short (6 chars < 10)"}]
    kept, report = run(LengthFilter(min_length=10, unit="words"), rows)
    # row 1: 4 + 19 characters (。 is no word); row 3: 如 何 在 Windows 11 上 用 pip 安 装 PyTorch, 运 行 pip install torch 即 可
    assert [r.meta["length"] for r in kept] == [23, 18]
    assert report.dropped == [{"where": "row 2", "reason": "too short (2 words < 10)"}]
    # the tokenizer by name, as the CLI gives it; byte-level, so three tokens per Chinese character
    kept, report = run(LengthFilter(max_length=76, tokenizer="ftlab/tiny-chat"), rows)
    assert [r.meta["length"] for r in kept] == [3 * 25 + 1, 6]
    assert report.dropped == [{"where": "row 3", "reason": "too long (77 tokens > 76)"}]
    with pytest.raises(FtlabError, match=r"length: unit='tokens' needs a tokenizer"):
        run(LengthFilter(unit="tokens"), rows)
    with pytest.raises(FtlabError, match=r"length: unit='bytes'; use 'chars', 'words'"):
        run(LengthFilter(unit="bytes"), rows)


# --- near duplicates -------------------------------------------------------------

ROW_20 = "退款会在三个工作日内退回到您的支付账户。"
ROW_40 = "您好，退款申请已通过，款项会在三到五个工作日内原路退回您的支付账户，请注意查收。"


@pytest.mark.parametrize("a, b, similarity", [
    (ROW_20, ROW_20.replace("三", "五"), 0.8537),  # one character of 20 changed
    (ROW_20, ROW_20.replace("。", "！"), 0.9),  # punctuation
    (ROW_40, ROW_40.replace("五", "七").replace("您的", "你的"), 0.8608),  # two characters of 40
    (ROW_20, ROW_20.replace("三", "五").replace("您", "你"), 0.7273),  # two of 20: a tenth rewritten
    (ROW_20, "退款申请提交以后，客服会在一个工作日内完成审核。", 0.2319),  # same topic, different row
    ("请问Qwen2.5-7B-Instruct怎么用LoRA微调", "请问Qwen2.5-7B-Instruct怎么用LoRA微调？", 0.9375),  # mixed
    ("The quick brown fox jumps over the lazy dog.", "The quick brown fox jumps over the lazy dog!", 0.9512),
])
def test_shingles_suit_short_chinese_rows(a, b, similarity):
    assert len(ROW_20) == 20 and len(ROW_40) == 40
    assert jaccard(shingles(a), shingles(b)) == pytest.approx(similarity, abs=1e-4)


def test_english_shingles_are_the_utf8_byte_windows_they_were():
    text = "Café → bar"
    data = text.lower().encode("utf-8")
    expected = sorted({int.from_bytes(data[i:i + 5], "little") for i in range(len(data) - 4)})
    assert shingles(text).tolist() == expected
    chinese = shingles("退款")  # 退, 款 and the pair, each tagged by the top bit
    assert chinese.tolist() == sorted([(1 << 63) | ord("退"), (1 << 63) | ord("款"),
                                       (1 << 63) | (ord("退") + 1) << 21 | ord("款")])


def test_near_dedup_on_chinese_rows():
    rows = [qa("多久到账？", ROW_20, "row 1"), qa("多久到账？", ROW_20.replace("三", "五"), "row 2"),
            qa("多久到账？", "退款申请提交以后，客服会在一个工作日内完成审核。", "row 3"),
            qa("退款进度", ROW_40, "row 4"), qa("退款进度", ROW_40.replace("五", "七").replace("您的", "你的"), "row 5")]
    kept, report = run(NearDedup(threshold=0.8), rows)
    assert [r.where for r in kept] == ["row 1", "row 3", "row 4"]
    assert report.dropped == [{"where": "row 2", "reason": "near duplicate of row 1 (similarity 0.88)"},
                              {"where": "row 5", "reason": "near duplicate of row 4 (similarity 0.87)"}]
