"""Tokenizer and chat template. Two fixtures, both written by make_fixture.py with transformers, so no
transformers is needed here:
- tests/fixtures/qwen3-tokenizer/: the REAL Qwen2/Qwen3 byte-level BPE (from llama.cpp's copy of its
  vocabulary, checked there against the ids the Hugging Face tokenizer gave), trimmed to the fixture texts,
  with transformers' ids for them: our loading and encoding against the real tokenizer's behaviour;
- tests/fixtures/tokenizer/: a tiny tokenizer our build_tokenizer trained, with transformers' renders of the
  Qwen3 chat template and its encodings: the template, and how the shipped agent's tokenizer is built."""
import json
import unicodedata
from pathlib import Path

import pytest

from tokenizer import build_tokenizer, load_tokenizer
from make_fixture import CORPUS, VOCAB_SIZE

FIXTURE = Path(__file__).parent / "fixtures" / "tokenizer"
RENDERS = json.loads((FIXTURE / "expected_renders.json").read_text())
ENCODES = json.loads((FIXTURE / "expected_encodes.json").read_text())


QWEN3 = Path(__file__).parent / "fixtures" / "qwen3-tokenizer"
QWEN3_ENCODES = json.loads((QWEN3 / "expected_encodes.json").read_text())


@pytest.mark.parametrize("case", QWEN3_ENCODES, ids=[f"qwen3-{i}" for i in range(len(QWEN3_ENCODES))])
def test_encode_matches_the_real_qwen3_tokenizer(case):
    tok = load_tokenizer(QWEN3)
    assert tok.encode(case["text"]) == case["ids"]
    assert tok.decode(case["ids"]) == unicodedata.normalize("NFC", case["text"])


def test_the_real_qwen3_ids_of_the_scaffold_tokens():
    tok = load_tokenizer(QWEN3)
    assert [tok.token_id(t) for t in ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>",
                                      "<tool_response>", "</tool_response>", "<think>", "</think>")] == \
        [151643, 151644, 151645, 151657, 151658, 151665, 151666, 151667, 151668]
    assert tok.stop_ids == [151645, 151643] and tok.pad_id == 151643
    assert tok.encode("<think>\nls\n</think>") == [151667, 198, 4730, 198, 151668]


def test_build_tokenizer_splits_and_normalises_as_qwen3_does():
    """The shipped agent's tokenizer has its own (small) vocabulary but Qwen3's pipeline: the same NFC
    normaliser, pre-tokenizer regex and byte-level mapping, so a text splits into the same pieces. (Only
    the offsets-only trim_offsets flag and the post-processor, which adds nothing for one sequence,
    may differ between the files transformers writes and Qwen3's own.)"""
    real = json.loads((QWEN3 / "tokenizer.json").read_text())
    ours = json.loads(build_tokenizer(CORPUS, vocab_size=VOCAB_SIZE).hf.to_str())
    ids_only = lambda p: [{k: v for k, v in x.items() if k != "trim_offsets"} for x in p["pretokenizers"]]  # noqa: E731
    assert ours["normalizer"] == real["normalizer"] and ours["decoder"] == real["decoder"]
    assert ids_only(ours["pre_tokenizer"]) == ids_only(real["pre_tokenizer"])
    built, qwen = build_tokenizer(CORPUS, vocab_size=VOCAB_SIZE), load_tokenizer(QWEN3)
    for case in QWEN3_ENCODES:
        pieces = lambda t: [p for p, _ in t.hf.pre_tokenizer.pre_tokenize_str(t.hf.normalizer.normalize_str(case["text"]))]  # noqa: E731
        assert pieces(built) == pieces(qwen)


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer(FIXTURE)


@pytest.mark.parametrize("case", RENDERS, ids=[f"render{i}" for i in range(len(RENDERS))])
def test_render_matches_qwen3_template(tok, case):
    text = tok.render(case["messages"], case["add_generation_prompt"], case["enable_thinking"])
    assert text == case["text"]
    assert tok.encode(text) == case["ids"]
    assert tok.decode(case["ids"]) == text


@pytest.mark.parametrize("case", ENCODES, ids=[f"encode{i}" for i in range(len(ENCODES))])
def test_encode_matches_transformers(tok, case):
    assert tok.encode(case["text"]) == case["ids"]
    # The NFC normalizer makes decoding return the composed form of decomposed input.
    assert tok.decode(tok.encode(case["text"])) == unicodedata.normalize("NFC", case["text"])


def test_added_tokens_are_single_ids_from_the_file(tok):
    added = {t["content"]: t for t in json.loads((FIXTURE / "tokenizer.json").read_text())["added_tokens"]}
    for content, t in added.items():
        assert tok.token_id(content) == t["id"]
        assert tok.encode(content) == [t["id"]]
    assert [c for c, t in added.items() if t["special"]] == ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    assert not added["<think>"]["special"] and not added["</tool_call>"]["special"]  # as in Qwen3
    assert tok.stop_ids == [added["<|im_end|>"]["id"], added["<|endoftext|>"]["id"]]
    assert tok.pad_id == added["<|endoftext|>"]["id"]
    assert tok.vocab_size == max(t["id"] for t in added.values()) + 1 == VOCAB_SIZE


def test_generation_prompt_variants(tok):
    msgs = [{"role": "user", "content": "hi"}]
    assert tok.render(msgs, add_generation_prompt=False) == "<|im_start|>user\nhi<|im_end|>\n"
    assert tok.render(msgs).endswith("<|im_end|>\n<|im_start|>assistant\n")
    assert tok.render(msgs, enable_thinking=False).endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")


def test_render_rejects_unknown_role_and_empty(tok):
    with pytest.raises(ValueError, match="'tools'"):
        tok.render([{"role": "tools", "content": "x"}])
    with pytest.raises(ValueError, match="empty"):
        tok.render([])


def test_build_is_deterministic_and_reproduces_fixture():
    built = build_tokenizer(CORPUS, vocab_size=VOCAB_SIZE)
    assert built.hf.to_str() == build_tokenizer(CORPUS, vocab_size=VOCAB_SIZE).hf.to_str()
    assert built.hf.to_str() == load_tokenizer(FIXTURE).hf.to_str()


def test_built_tokenizer_encodes_any_bytes():
    tok = build_tokenizer(["just a little ascii text"] * 10, vocab_size=300)
    s = "日本 🚀 \x00\x7f ünïcödé\t\r\n"
    assert tok.decode(tok.encode(s)) == s


def test_save_load_roundtrip(tmp_path):
    tok = load_tokenizer(FIXTURE)
    tok.save(tmp_path / "a")
    for name in ("tokenizer.json", "tokenizer_config.json"):  # a loaded tokenizer saves its files unchanged
        assert (tmp_path / "a" / name).read_bytes() == (FIXTURE / name).read_bytes()
    built = build_tokenizer(CORPUS, vocab_size=300)
    built.save(tmp_path / "b")
    again = load_tokenizer(tmp_path / "b")
    config = json.loads((tmp_path / "b" / "tokenizer_config.json").read_text())
    assert (config["eos_token"], config["pad_token"]) == ("<|im_end|>", "<|endoftext|>")
    assert again.chat_template == built.chat_template
    s = RENDERS[12]["text"]
    assert again.encode(s) == built.encode(s) and again.decode(again.encode(s)) == s


def test_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="tokenizer.json missing"):
        load_tokenizer(tmp_path)
    tok = load_tokenizer(FIXTURE)
    with pytest.raises(KeyError, match=r"<\|fim_pad\|>.*fixtures/tokenizer"):
        tok.token_id("<|fim_pad|>")
    tok.chat_template = "{{ messages }}"
    with pytest.raises(NotImplementedError, match="not Qwen3-8B's"):
        tok.render([{"role": "user", "content": "hi"}])
