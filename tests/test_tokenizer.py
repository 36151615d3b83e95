"""Tokenizer and chat template, checked against what transformers produced for the same tokenizer
(tests/fixtures/tokenizer/, written by make_fixture.py). No transformers needed here."""
import json
import unicodedata
from pathlib import Path

import pytest

from tokenizer import build_tokenizer, load_tokenizer
from make_fixture import CORPUS, VOCAB_SIZE

FIXTURE = Path(__file__).parent / "fixtures" / "tokenizer"
RENDERS = json.loads((FIXTURE / "expected_renders.json").read_text())
ENCODES = json.loads((FIXTURE / "expected_encodes.json").read_text())


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
