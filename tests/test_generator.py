"""generate.Generator at rollout scale, in miniature: logits only at each row's last position, extend split by
a token budget (chunked prefill) equal to the unsplit computation, capacity capped at max_len, and the cache
slots of released rows reused and compacted away."""
import pytest
import torch

import model as M
from generate import Generator, generate


def tiny():
    c = M.Qwen3Config(vocab_size=97, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, head_dim=16, tie_word_embeddings=True)
    return M.init_weights(M.Qwen3(c), 0).eval()


def last_logits(m, ids):
    with torch.no_grad():
        return m(torch.tensor([ids]))[0, -1]


def test_extend_computes_logits_only_at_each_rows_last_position():
    m = tiny()
    shapes = []
    m.lm_head.register_forward_hook(lambda mod, inp, out: shapes.append(tuple(out.shape)))
    g = Generator(m, 3, stop_ids=[])
    g.extend([0, 1, 2], [[1, 2, 3, 4, 5, 6, 7], [8, 9], [10, 11, 12]])
    a = g.sample([0, 1, 2], 4, temperature=0)
    g.extend([0, 1, 2], [[13, 14, 15], [16], [17, 18, 19, 20]])
    assert shapes and all(len(s) == 2 and s[0] <= 3 and s[1] == 97 for s in shapes)  # (rows, V), never (rows, n, V)
    assert torch.allclose(g.next_logits[1], last_logits(m, [8, 9] + a[1].ids + [16]), atol=1e-5)


def test_extend_split_by_token_budget_equals_unsplit():
    m = tiny()
    prompts, obs = [[1, 2, 3], list(range(5, 25)), [7] * 9, [40]], [list(range(30, 43)), [50, 51], [60], list(range(70, 78))]

    def run(max_tokens):
        g, sizes = Generator(m, 4, stop_ids=[], max_tokens=max_tokens), []
        hook = m.model.embed_tokens.register_forward_hook(lambda mod, inp, out: sizes.append(inp[0].numel()))
        g.extend(range(4), prompts)
        first = g.next_logits.clone()
        a = g.sample(range(4), 3, temperature=0)
        g.extend(range(4), obs)
        b = g.sample(range(4), 5, temperature=0)
        hook.remove()
        return first, g.next_logits.clone(), [s.ids for s in a + b], max(sizes)

    f1, l1, ids1, biggest = run(8192)
    f2, l2, ids2, split = run(5)
    assert biggest > 5 >= split  # every forward within the budget: the 20-token prompt went in 4 pieces
    assert (f1 - f2).abs().max() <= 1e-5 and (l1 - l2).abs().max() <= 1e-5 and ids1 == ids2


def test_capacity_grows_geometrically_but_never_past_max_len():
    m = tiny()
    g = Generator(m, 2, stop_ids=[], capacity=8, max_len=21)
    g.extend([0], [list(range(1, 10))])  # 9 tokens: doubles to 16
    assert g.cache.k[0].shape[2] == 16
    g.extend([0], [list(range(10, 20))])  # 19 tokens: doubling would give 32, max_len caps it at 21
    assert g.cache.k[0].shape[2] == 21
    # row 0 reaches max_len exactly while row 1's longer chunk pads row 0 to 19 + 9 = 28 positions: the
    # padding is computed but never written, so it needs no capacity
    g.extend([0, 1], [[20, 21], list(range(30, 39))])
    assert g.cache.k[0].shape[2] == 21
    assert torch.allclose(g.next_logits[0], last_logits(m, list(range(1, 22))), atol=1e-5)
    assert torch.allclose(g.next_logits[1], last_logits(m, list(range(30, 39))), atol=1e-5)
    with pytest.raises(ValueError, match="22 tokens, over max_len=21"):
        g.extend([0], [[5]])


def test_released_rows_are_compacted_away_and_live_rows_decode_the_same():
    m = tiny()
    prompts = [[1, 2, 3], [4, 5], [6, 7, 8, 9], [10]]
    ref = generate(m, prompts, 8, stop_ids=[], temperature=0)
    g = Generator(m, 4, stop_ids=[])
    g.extend(range(4), prompts)
    first = g.sample(range(4), 3, temperature=0)
    g.release([0, 2])
    rest = g.sample([1, 3], 5, temperature=0)
    assert [first[r].ids + s.ids for r, s in zip([1, 3], rest)] == [ref[1].ids, ref[3].ids]
    assert g.cache.k[0].shape[0] == 2 and g.cache.all  # two slots, not four, and decoding both is a view
    g.extend([7], [[6, 7, 8, 9]])  # a new row id: the cache grows back (at most to rows=4), the slot starts empty
    assert g.sample([7], 8, temperature=0)[0].ids == ref[2].ids
    with pytest.raises(ValueError, match="5 rows would hold a cache slot, over rows=4"):
        g.extend([8, 9], [[1], [2]])
