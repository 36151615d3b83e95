"""Contracts of the tokenizer's special ids and of scale.py's rollout sizing, by hand."""
import torch

import model as M
import scale
from test_rollout import TOK


def test_generation_stops_at_im_end_or_endoftext_and_pads_with_endoftext():
    assert TOK.stop_ids == [TOK.token_id("<|im_end|>"), TOK.token_id("<|endoftext|>")]
    assert TOK.pad_id == TOK.token_id("<|endoftext|>") != TOK.token_id("<|im_end|>")


def test_consecutive_tool_messages_share_one_user_turn():
    text = TOK.render([{"role": "user", "content": "q"}, {"role": "tool", "content": "a"},
                       {"role": "tool", "content": "b"}], add_generation_prompt=False)
    assert text == ("<|im_start|>user\nq<|im_end|>\n<|im_start|>user\n<tool_response>\na\n</tool_response>"
                    "\n<tool_response>\nb\n</tool_response><|im_end|>\n")


def test_generation_prompt_without_thinking_closes_an_empty_think_block():
    m = [{"role": "user", "content": "q"}]
    assert TOK.render(m).endswith("<|im_start|>assistant\n")
    assert TOK.render(m, enable_thinking=False).endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")


def test_rollout_rows_keep_ten_percent_spare_and_whole_groups():
    c = M.Qwen3Config(vocab_size=97, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, head_dim=16)
    per_row = 100 * 2 * 2 * 2 * 16 * 2      # tokens · (K, V) · layers · kv heads · head_dim · bf16 bytes
    # 12 rows' worth less 10% spare: 10.8 rows, so 2 whole groups of 4
    assert scale.rollout_rows(c, 4, 100, 12 * per_row, torch.bfloat16) == (8, per_row)
    assert scale.rollout_rows(c, 4, 100, 0, torch.bfloat16) == (4, per_row)              # at least one group
    assert scale.rollout_rows(c, 4, 100, 12 * per_row, torch.float32)[1] == 2 * per_row
