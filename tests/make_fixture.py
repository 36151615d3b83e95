"""Regenerate tests/fixtures/: tiny random Qwen3 checkpoints written by transformers with the logits
its Qwen3ForCausalLM computes for fixed inputs (qwen3-*), and a tiny tokenizer built by
tokenizer.build_tokenizer with what transformers renders and encodes with it (tokenizer/).
tests/test_model.py and tests/test_tokenizer.py check our model.py and tokenizer.py against them, so the
test suite itself never needs transformers.

This is the only file in the project that imports transformers (inside functions, so the tests can
import its CORPUS without it). Run it in an environment that has it:
    pip install transformers jinja2 && python tests/make_fixture.py
(`--bf16` rewrites only the bf16 logits of the committed checkpoints; `--qwen2-gguf` only the real
Qwen3 tokenizer fixture, see make_qwen3_tokenizer_fixture.)
It also checks the other direction: a directory written by model.save() loads in transformers and
gives the same logits.
"""
import json
import shutil
import sys
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import model as echo_model  # noqa: E402
import tokenizer as echo_tokenizer  # noqa: E402

OUT = Path(__file__).parent / "fixtures"
# GQA (4 query heads share 2 KV heads) and head_dim 16 != hidden 48 / 4 heads, as in Qwen3-0.6B and 4B.
CONFIG = dict(vocab_size=256, hidden_size=48, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=2, head_dim=16, rms_norm_eps=1e-6, rope_theta=1_000_000.0,
              max_position_embeddings=512)


def make(name: str, tie: bool, seed: int, shard: str | None = None) -> Path:
    from transformers import Qwen3Config, Qwen3ForCausalLM
    torch.manual_seed(seed)
    config = Qwen3Config(**CONFIG, tie_word_embeddings=tie)
    hf = Qwen3ForCausalLM(config).eval()
    with torch.no_grad():  # HF's init leaves norm weights at 1; randomise them so a norm bug can't hide
        for n, p in hf.named_parameters():
            if n.endswith("norm.weight"):
                p.copy_(1 + 0.1 * torch.randn_like(p))
    path = OUT / name
    shutil.rmtree(path, ignore_errors=True)
    hf.save_pretrained(path, max_shard_size=shard) if shard else hf.save_pretrained(path)
    if tie:  # real tied checkpoints sometimes also store lm_head.weight; ours must stay tied to the embedding
        f = path / "model.safetensors"
        sd = load_file(f)
        sd["lm_head.weight"] = sd["model.embed_tokens.weight"].clone()
        save_file(sd, f, metadata={"format": "pt"})
    return path, hf


def make_model_fixtures():
    from transformers import AutoModelForCausalLM
    OUT.mkdir(exist_ok=True)
    g = torch.Generator().manual_seed(1234)
    input_ids = torch.randint(0, CONFIG["vocab_size"], (2, 24), generator=g)
    expected = {"input_ids": input_ids}
    for name, tie, seed, shard in [("qwen3-untied", False, 1, None), ("qwen3-tied", True, 2, None),
                                   ("qwen3-sharded", False, 3, "60KB")]:
        path, hf = make(name, tie, seed, shard)
        with torch.no_grad():
            expected[name] = hf(input_ids).logits.contiguous()
        files = sorted(p.name for p in path.iterdir())
        print(f"{name}: {files}")
        for p in path.iterdir():  # keep only what a checkpoint needs: config + weights (+ index)
            if p.name == "generation_config.json":
                p.unlink()
        # the other direction: our save() is readable by transformers
        ours = echo_model.load_model(path)
        with tempfile.TemporaryDirectory() as tmp:
            echo_model.save_model(ours, tmp, max_shard_bytes=50_000 if shard else None)
            back = AutoModelForCausalLM.from_pretrained(tmp).eval()
            with torch.no_grad():
                err = (back(input_ids).logits - expected[name]).abs().max().item()
            print(f"  model.save() -> transformers: max abs logit diff {err:.2e}")
            assert err < 1e-5, err
    save_file(expected, OUT / "qwen3-logits.safetensors")
    size = sum(p.stat().st_size for p in OUT.rglob("qwen3-*") if p.is_file())
    size += sum(p.stat().st_size for d in OUT.glob("qwen3-*") if d.is_dir() for p in d.iterdir())
    print(f"fixture size: {size / 1e6:.2f} MB")


def make_bf16_logits():
    """transformers' logits for the committed checkpoints loaded in bfloat16 (qwen3-logits-bf16), for the
    test of our bf16 forward: both run the same bf16 weights, so their difference is rounding order alone."""
    from transformers import AutoModelForCausalLM
    input_ids = load_file(OUT / "qwen3-logits.safetensors")["input_ids"]
    expected = {"input_ids": input_ids}
    for name in ("qwen3-untied", "qwen3-tied", "qwen3-sharded"):
        hf = AutoModelForCausalLM.from_pretrained(OUT / name, dtype=torch.bfloat16).eval()
        with torch.no_grad():
            expected[name] = hf(input_ids).logits.contiguous()
        print(f"{name}: bf16 logits, max |logit| {expected[name].abs().max().item():.2f}")
    save_file(expected, OUT / "qwen3-logits-bf16.safetensors")


TOKENIZER_OUT = Path(__file__).parent / "fixtures" / "tokenizer"
VOCAB_SIZE = 512

# Qwen/Qwen3-8B's chat template, verbatim from its tokenizer_config.json. An independent copy: the
# built tokenizer must carry exactly this text, or the fixture would test our template against itself.
QWEN3_CHAT_TEMPLATE = r"""{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0].role == 'system' %}
        {{- messages[0].content + '\n\n' }}
    {%- endif %}
    {{- "# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0].role == 'system' %}
        {{- '<|im_start|>system\n' + messages[0].content + '<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}
{%- for message in messages[::-1] %}
    {%- set index = (messages|length - 1) - loop.index0 %}
    {%- if ns.multi_step_tool and message.role == "user" and not(message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}
        {%- set ns.multi_step_tool = false %}
        {%- set ns.last_query_index = index %}
    {%- endif %}
{%- endfor %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {%- set content = message.content %}
        {%- set reasoning_content = '' %}
        {%- if message.reasoning_content is defined and message.reasoning_content is not none %}
            {%- set reasoning_content = message.reasoning_content %}
        {%- else %}
            {%- if '</think>' in message.content %}
                {%- set content = message.content.split('</think>')[-1].lstrip('\n') %}
                {%- set reasoning_content = message.content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') %}
            {%- endif %}
        {%- endif %}
        {%- if loop.index0 > ns.last_query_index %}
            {%- if loop.last or (not loop.last and reasoning_content) %}
                {{- '<|im_start|>' + message.role + '\n<think>\n' + reasoning_content.strip('\n') + '\n</think>\n\n' + content.lstrip('\n') }}
            {%- else %}
                {{- '<|im_start|>' + message.role + '\n' + content }}
            {%- endif %}
        {%- else %}
            {{- '<|im_start|>' + message.role + '\n' + content }}
        {%- endif %}
        {%- if message.tool_calls %}
            {%- for tool_call in message.tool_calls %}
                {%- if (loop.first and content) or (not loop.first) %}
                    {{- '\n' }}
                {%- endif %}
                {%- if tool_call.function %}
                    {%- set tool_call = tool_call.function %}
                {%- endif %}
                {{- '<tool_call>\n{"name": "' }}
                {{- tool_call.name }}
                {{- '", "arguments": ' }}
                {%- if tool_call.arguments is string %}
                    {{- tool_call.arguments }}
                {%- else %}
                    {{- tool_call.arguments | tojson }}
                {%- endif %}
                {{- '}\n</tool_call>' }}
            {%- endfor %}
        {%- endif %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if loop.first or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
    {%- if enable_thinking is defined and enable_thinking is false %}
        {{- '<think>\n\n</think>\n\n' }}
    {%- endif %}
{%- endif %}"""

# Training text for the tiny tokenizer: terminal-agent flavoured, so common words become merges.
CORPUS = [
    "You are a helpful assistant that solves tasks in a Linux terminal. Run one command per turn.",
    "The user asks you to fix the failing test. First, look at the repository layout with ls -la.",
    "$ ls -la\ntotal 12\ndrwxr-xr-x 2 root root 4096 Jan  1 00:00 .\n-rw-r--r-- 1 root root  120 main.py\n",
    "def add(a, b):\n\treturn a + b\n\n\nif __name__ == '__main__':\n    print(add(1, 2))\n",
    "<think>\nI should list the files first, then read the failing test.\n</think>\n\n",
    "<tool_call>\n<function=bash>\n<parameter=command>\ncat /app/README.md\n</parameter>\n</function>\n</tool_call>",
    "Command 'grep -c ERROR app.log' executed successfully. Output: 17\n\n(exit_code=0)",
    "Command 'python3 solve.py' failed. Output: Traceback (most recent call last):\n  File \"solve.py\", line 3\n\n(exit_code=1)",
    "find . -name '*.txt' | xargs wc -l; tar -czf out.tar.gz data/; chmod +x run.sh; sed -i 's/foo/bar/g' cfg.ini",
    "awk -F, '{s += $3} END {print s}' sales.csv > /app/total.txt && echo done",
    "Ünïcödé tëxt, 日本語のテキスト, emoji 🙂 and numbers 3.14159 2718 0x1F",
] * 8
CASES = [  # (messages, add_generation_prompt, enable_thinking)
    ([{'role': 'system', 'content': 'You are helpful.'}, {'role': 'user', 'content': 'Hi!'}], True, True),
    ([{'role': 'system', 'content': 'You are helpful.'}, {'role': 'user', 'content': 'Hi!'}], False, True),
    ([{'role': 'system', 'content': 'You are helpful.'}, {'role': 'user', 'content': 'Hi!'}], True, False),
    ([{'role': 'user', 'content': 'What is 2+2?'}], True, True),
    ([{'role': 'user', 'content': '2+2?'}, {'role': 'assistant', 'content': '<think>\nadd them\n</think>\n\n4'}], False, True),
    ([{'role': 'user', 'content': '2+2?'}, {'role': 'assistant', 'content': '<think>\nadd them\n</think>\n\n4'}, {'role': 'user', 'content': 'and 3+3?'}, {'role': 'assistant', 'content': '<think>\nadd again\n</think>\n\n6'}], False, True),
    ([{'role': 'user', 'content': '2+2?'}, {'role': 'assistant', 'content': '<think>\nadd them\n</think>\n\n4'}, {'role': 'user', 'content': 'and 3+3?'}], True, False),
    ([{'role': 'user', 'content': 'hello'}, {'role': 'assistant', 'content': 'Hi there.'}], False, True),
    ([{'role': 'user', 'content': 'q1'}, {'role': 'assistant', 'content': 'a1', 'reasoning_content': 'r1'}, {'role': 'user', 'content': 'q2'}, {'role': 'assistant', 'content': '<think>x</think>a2', 'reasoning_content': '\nr2\n'}], False, True),
    ([{'role': 'user', 'content': 'q1'}, {'role': 'assistant', 'content': '<think>\nr1\n</think>\n\na1', 'reasoning_content': None}], True, True),
    ([{'role': 'system', 'content': 'Use tools.'}, {'role': 'user', 'content': 'list files'}, {'role': 'assistant', 'content': '<think>\nI should run ls.\n</think>\n\n<tool_call>\nls\n</tool_call>'}, {'role': 'tool', 'content': 'a.txt\nb.txt'}], True, True),
    ([{'role': 'user', 'content': 'go'}, {'role': 'assistant', 'content': 'running two commands'}, {'role': 'tool', 'content': 'out1'}, {'role': 'tool', 'content': 'out2'}], True, True),
    ([{'role': 'system', 'content': 'You are a terminal agent.'}, {'role': 'user', 'content': 'Fix the test.'}, {'role': 'assistant', 'content': '<think>\nLook first.\n</think>\n\n<tool_call>\nls -la\n</tool_call>'}, {'role': 'tool', 'content': 'main.py\ntests/'}, {'role': 'assistant', 'content': '<think>\nRun both.\n</think>\n\n<tool_call>\ncat main.py\n</tool_call>'}, {'role': 'tool', 'content': 'def add(a, b):\n\treturn a - b'}, {'role': 'tool', 'content': 'FAILED 1 test'}, {'role': 'assistant', 'content': '<think>\nThe sign is wrong.\n</think>\n\nFixed: a + b.'}], False, True),
    ([{'role': 'system', 'content': 'You are a terminal agent.'}, {'role': 'user', 'content': 'Fix the test.'}, {'role': 'assistant', 'content': '<think>\nLook first.\n</think>\n\n<tool_call>\nls -la\n</tool_call>'}, {'role': 'tool', 'content': 'main.py\ntests/'}, {'role': 'tool', 'content': 'exit code 0'}], True, False),
    ([{'role': 'user', 'content': 'start'}, {'role': 'assistant', 'content': '<think>\nr1\n</think>\n\nstep'}, {'role': 'user', 'content': '<tool_response>\nok\n</tool_response>'}, {'role': 'assistant', 'content': '<think>\nr2\n</think>\n\ndone'}], False, True),
    ([{'role': 'user', 'content': 'start'}, {'role': 'assistant', 'content': '<think>\nr1\n</think>\n\nstep'}, {'role': 'user', 'content': '<tool_response>\nok\n</tool_response> now continue'}, {'role': 'assistant', 'content': '<think>\nr2\n</think>\n\ndone'}], True, True),
    ([{'role': 'user', 'content': 'hi'}, {'role': 'assistant', 'content': 'hello'}, {'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'bye'}], True, True),
    ([{'role': 'user', 'content': 'go'}, {'role': 'assistant', 'content': '<think>\n\n</think>\n\nls'}, {'role': 'tool', 'content': 'x'}, {'role': 'assistant', 'content': '<think>\nsaw x\n</think>\n\ncat x'}, {'role': 'tool', 'content': 'y'}, {'role': 'assistant', 'content': 'plain, no think'}, {'role': 'tool', 'content': 'z'}], True, True),
    ([{'role': 'system', 'content': '\nsys\n'}, {'role': 'user', 'content': '\n\nq\n'}, {'role': 'assistant', 'content': '<think>a</think>b</think>\n\nc\n'}, {'role': 'tool', 'content': '\nout\n\n'}, {'role': 'assistant', 'content': '\n\n<think>\n\n\nreason\n\n</think>\n\n\nanswer\n\n'}], False, True),
    ([{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': '<think>\nunclosed'}, {'role': 'user', 'content': 'q2'}, {'role': 'assistant', 'content': '\n\nlast\n'}], False, True),
    ([{'role': 'user', 'content': 'run it'}, {'role': 'assistant', 'content': '', 'tool_calls': [{'type': 'function', 'function': {'name': 'bash', 'arguments': {'command': 'ls -la', 'timeout': 5}}}]}, {'role': 'tool', 'content': 'ok'}, {'role': 'assistant', 'content': '<think>\ntwo more\n</think>\n\nnow', 'tool_calls': [{'name': 'bash', 'arguments': '{"command": "pwd"}'}, {'function': {'name': 'write', 'arguments': {'path': 'ü.txt', 'text': '日本\n', 'n': [1, 2.5, None]}}}]}], True, True),
]
ENCODE_TEXTS = [
    "hello world",
    "héllo wörld — naïve café, Zürich",
    "東京 and Москва: 日本語のテキスト",
    "🚀🔥 done ✅ 👩‍💻",
    "def f(x):\n\tif x:\n\t\treturn x  # tab\n\n\n    pass\r\n",
    "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\nx\n</think>\n\nok<|im_end|>",
    "<tool_call>\nls\n</tool_call><tool_response>\nout\n</tool_response><|endoftext|>",
    "   leading spaces, trailing spaces   \n\n\n",
    "numbers 1234567890 and 3.14159",
    "café (NFD, normalized to NFC)",
    "",
]


def make_tokenizer_fixture():
    from jinja2 import Template  # noqa: F401  (imported to fail early outside an environment with it)
    from transformers import AutoTokenizer

    ours = echo_tokenizer.build_tokenizer(CORPUS, vocab_size=VOCAB_SIZE)
    assert ours.chat_template == QWEN3_CHAT_TEMPLATE, "build_tokenizer's template differs from Qwen3-8B's"
    ours.save(TOKENIZER_OUT)
    hf = AutoTokenizer.from_pretrained(str(TOKENIZER_OUT))
    assert len(hf) == ours.vocab_size, (len(hf), ours.vocab_size)
    renders = []
    for messages, gen, think in CASES:
        text = hf.apply_chat_template(messages, tokenize=False, add_generation_prompt=gen, enable_thinking=think)
        ids = hf.encode(text, add_special_tokens=False)
        assert hf.decode(ids, skip_special_tokens=False) == text
        renders.append(dict(messages=messages, add_generation_prompt=gen, enable_thinking=think, text=text, ids=ids))
    encodes = [dict(text=t, ids=hf.encode(t, add_special_tokens=False)) for t in ENCODE_TEXTS]
    (TOKENIZER_OUT / "expected_renders.json").write_text(json.dumps(renders, indent=1, ensure_ascii=False) + "\n")
    (TOKENIZER_OUT / "expected_encodes.json").write_text(json.dumps(encodes, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {len(renders)} renders and {len(encodes)} encodes to {TOKENIZER_OUT}")


# Qwen3's added tokens after the 151,643 BPE tokens, in id order (151643-151668), and whether each is
# "special". Qwen3 shares Qwen2's BPE vocabulary and merges; these are the ids its tokenizer.json gives.
QWEN3_ADDED = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
               "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
               "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>",
               "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>",
               "<|file_sep|>", "<tool_response>", "</tool_response>", "<think>", "</think>"]
QWEN3_NOT_SPECIAL = {"<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>", "<think>", "</think>",
                     "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>",
                     "<|file_sep|>"}
QWEN_TOKENIZER_OUT = Path(__file__).parent / "fixtures" / "qwen3-tokenizer"


def make_qwen3_tokenizer_fixture(gguf_path: str):
    """The real Qwen2/Qwen3 BPE, trimmed to what the fixture texts can use, with transformers' ids for them.

    No Hugging Face download is possible here, but llama.cpp keeps Qwen2's full vocabulary and merges
    (models/ggml-vocab-qwen2.gguf, also inside the llama-cpp-python sdist on PyPI) together with the ids
    the real Hugging Face tokenizer gave for its test strings (the .inp/.out files beside it). transformers'
    own Qwen2Tokenizer, built from that vocabulary, must reproduce those ids first; it then encodes our
    texts. The committed tokenizer.json keeps the real ids and pipeline but only the vocabulary entries and
    merges that are substrings of the texts' pre-tokenized pieces: a merge that could ever apply to a piece
    joins two neighbours into a substring of it, so the trimmed BPE encodes these texts exactly as the full
    one does (checked below), in a few kilobytes instead of 11 MB.
        pip install transformers jinja2 gguf && pip download --no-deps --no-binary :all: llama-cpp-python
        (unpack */vendor/llama.cpp/models/ggml-vocab-qwen2.gguf*)
        python tests/make_fixture.py --qwen2-gguf .../ggml-vocab-qwen2.gguf
    """
    import gguf
    import tokenizers
    from transformers import Qwen2Tokenizer

    fields = gguf.GGUFReader(gguf_path).fields
    strings = lambda key: [str(bytes(fields[key].parts[i]), "utf-8") for i in fields[key].data]  # noqa: E731
    tokens, merges = strings("tokenizer.ggml.tokens")[:151643], strings("tokenizer.ggml.merges")
    hf = Qwen2Tokenizer(vocab={t: i for i, t in enumerate(tokens)}, merges=[tuple(m.split(" ")) for m in merges],
                        unk_token=None, bos_token=None, eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    hf.add_special_tokens({"additional_special_tokens": [t for t in QWEN3_ADDED if t not in QWEN3_NOT_SPECIAL]})
    for t in QWEN3_ADDED:  # one at a time, so that each gets the next id in Qwen3's order
        hf.add_tokens([t], special_tokens=t not in QWEN3_NOT_SPECIAL)
    got = [hf.convert_tokens_to_ids(t) for t in QWEN3_ADDED]
    assert got == list(range(151643, 151669)), got

    inp = Path(gguf_path + ".inp").read_text().split("\n__ggml_vocab_test__\n")
    out = Path(gguf_path + ".out").read_text().split("\n")
    reference = [(text, [int(x) for x in ids.split()]) for text, ids in zip(inp, out)]
    for text, ids in reference:  # transformers' Qwen2Tokenizer = the tokenizer that wrote the .out file
        assert hf.encode(text, add_special_tokens=False) == ids, text
    texts = [t for t, _ in reference] + ENCODE_TEXTS + CORPUS[:len(CORPUS) // 8]
    texts += [echo_tokenizer.build_tokenizer(["x"], vocab_size=300).render(m, g, e) for m, g, e in CASES]
    encodes = [dict(text=t, ids=hf.encode(t, add_special_tokens=False)) for t in texts]

    full = json.loads(hf.backend_tokenizer.to_str())
    backend = hf.backend_tokenizer
    pieces = {p for t in texts for p, _ in backend.pre_tokenizer.pre_tokenize_str(backend.normalizer.normalize_str(t))}
    inside = lambda s: any(s in p for p in pieces)  # noqa: E731
    alphabet = set(tokenizers.pre_tokenizers.ByteLevel.alphabet())
    vocab = full["model"]["vocab"]
    full["model"]["vocab"] = {t: i for t, i in vocab.items() if t in alphabet or inside(t)}
    # tokenizers numbers an added token missing from the model's vocabulary from the vocabulary's size, which
    # trimming changed; listed in the vocabulary too, each keeps its real id
    full["model"]["vocab"].update({t["content"]: t["id"] for t in full["added_tokens"]})
    pairs = [m if isinstance(m, list) else m.split(" ") for m in full["model"]["merges"]]
    full["model"]["merges"] = [m for m in pairs if inside(m[0] + m[1])]
    trimmed = tokenizers.Tokenizer.from_str(json.dumps(full))
    for e in encodes:
        got = trimmed.encode(e["text"], add_special_tokens=False).ids
        assert got == e["ids"], (e["text"], got, e["ids"], [t["content"] for t in full["added_tokens"]])

    QWEN_TOKENIZER_OUT.mkdir(parents=True, exist_ok=True)
    (QWEN_TOKENIZER_OUT / "tokenizer.json").write_text(json.dumps(full, ensure_ascii=False) + "\n")
    added = {str(151643 + i): dict(content=t, lstrip=False, normalized=False, rstrip=False, single_word=False,
                                   special=t not in QWEN3_NOT_SPECIAL) for i, t in enumerate(QWEN3_ADDED)}
    config = {"add_bos_token": False, "add_prefix_space": False, "added_tokens_decoder": added,
              "bos_token": None, "chat_template": QWEN3_CHAT_TEMPLATE, "clean_up_tokenization_spaces": False,
              "eos_token": "<|im_end|>", "errors": "replace", "model_max_length": 131072,
              "pad_token": "<|endoftext|>", "split_special_tokens": False, "tokenizer_class": "Qwen2Tokenizer",
              "unk_token": None}
    (QWEN_TOKENIZER_OUT / "tokenizer_config.json").write_text(json.dumps(config, indent=1) + "\n")
    (QWEN_TOKENIZER_OUT / "expected_encodes.json").write_text(json.dumps(encodes, indent=1, ensure_ascii=False) + "\n")
    print(f"{QWEN_TOKENIZER_OUT}: {len(reference)} llama.cpp reference strings reproduced; {len(encodes)} texts, "
          f"vocabulary {len(vocab):,} -> {len(full['model']['vocab']):,}, merges {len(pairs):,} -> "
          f"{len(full['model']['merges']):,}")


if __name__ == "__main__":
    if "--qwen2-gguf" in sys.argv:
        make_qwen3_tokenizer_fixture(sys.argv[sys.argv.index("--qwen2-gguf") + 1])
    elif "--bf16" in sys.argv:
        make_bf16_logits()
    else:
        make_model_fixtures()
        make_bf16_logits()
        make_tokenizer_fixture()
