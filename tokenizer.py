"""Qwen3's tokenizer and chat format, without transformers or jinja2: text <-> ids.

Tokenizer wraps a Hugging Face `tokenizers` byte-level BPE and adds render(), a Python port of Qwen3-8B's
Jinja chat template, byte-identical to it. load_tokenizer() reads a Hugging Face tokenizer directory
(a Qwen/Qwen3-8B snapshot); build_tokenizer() trains a small tokenizer of the same shape for the tests and
the CPU demo.
"""
import json
from dataclasses import dataclass, field
from pathlib import Path

import tokenizers
from errors import MissingError
from tokenizers import AddedToken, Regex, decoders, models, normalizers, pre_tokenizers, processors, trainers

# Files a Hugging Face tokenizer directory may hold; whichever exist are kept byte for byte, so that
# saving a loaded Qwen3 tokenizer writes back exactly what was read.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "vocab.json",
                   "merges.txt")
# Qwen2/Qwen3 pre-tokenizer: splits text into words, numbers (one digit each), punctuation runs, newlines.
QWEN2_SPLIT_REGEX = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"""
                     r""" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""")
# The subset of Qwen3's added tokens the agent uses, in Qwen3's id order. The first three are "special"
# (dropped by skip_special_tokens); the tag tokens are not, exactly as in Qwen3's tokenizer.json.
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
TAG_TOKENS = ("<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>", "<think>", "</think>")


@dataclass
class Tokenizer:
    hf: tokenizers.Tokenizer
    chat_template: str               # the Jinja source; render() is a Python port of QWEN3_CHAT_TEMPLATE
    files: dict[str, bytes]          # file name -> exact bytes, written back by save()
    source: str = "<built>"          # where it was loaded from, for error messages
    stop_ids: list[int] = field(init=False)  # generation ends at <|im_end|> (end of turn) or <|endoftext|>
    pad_id: int = field(init=False)

    def __post_init__(self):
        self.stop_ids = [self.token_id("<|im_end|>"), self.token_id("<|endoftext|>")]
        self.pad_id = self.token_id("<|endoftext|>")

    @property
    def vocab_size(self) -> int:
        return self.hf.get_vocab_size(with_added_tokens=True)

    def encode(self, text: str) -> list[int]:
        # No BOS/EOS: Qwen adds none. Added tokens written in the text (<|im_start|>, <think>) become one id.
        return self.hf.encode(text, add_special_tokens=False).ids

    def encode_offsets(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """encode(text) and each token's (start, end) character span in text."""
        enc = self.hf.encode(text, add_special_tokens=False)
        return enc.ids, enc.offsets

    def decode(self, ids: list[int]) -> str:
        # Keep special tokens so decode(encode(s)) == s for rendered chats (s NFC-normalized).
        return self.hf.decode(ids, skip_special_tokens=False)

    def token_id(self, token: str) -> int:
        i = self.hf.token_to_id(token)
        if i is None:
            raise KeyError(f"token {token!r} is not in the vocabulary of tokenizer {self.source}")
        return i

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for name, data in self.files.items():
            (path / name).write_bytes(data)

    def render(self, messages: list[dict], add_generation_prompt: bool = True,
               enable_thinking: bool = True) -> str:
        """Byte-identical to Qwen3's Jinja chat template called without tools=.

        Subtleties carried over from the template: earlier assistant turns lose their <think> block unless
        they come after the last real user query (a multi-step tool chain keeps its reasoning); a user
        message wrapped in <tool_response>...</tool_response> does not count as a query; consecutive tool
        messages share one user turn; a system message that is not first renders like a user message.
        """
        if self.chat_template != QWEN3_CHAT_TEMPLATE:
            raise NotImplementedError(f"tokenizer {self.source}: its chat template is not Qwen3-8B's, "
                                      "and render() is a port of that one template only")
        if not messages:
            raise ValueError("render: messages is empty")
        # ns.last_query_index: the last user message that is a real query, not a wrapped tool response.
        last_query = len(messages) - 1
        for i in reversed(range(len(messages))):
            role, c = messages[i]["role"], messages[i]["content"]
            if role == "user" and not (c.startswith("<tool_response>") and c.endswith("</tool_response>")):
                last_query = i
                break
        out = []
        for i, m in enumerate(messages):
            role, content, last = m["role"], m["content"], i == len(messages) - 1
            if role in ("user", "system"):
                out.append(f"<|im_start|>{role}\n{content}<|im_end|>\n")
            elif role == "assistant":
                if m.get("reasoning_content") is not None:
                    reasoning = m["reasoning_content"]
                elif "</think>" in content:
                    reasoning = content.split("</think>")[0].rstrip("\n").split("<think>")[-1].lstrip("\n")
                    content = content.split("</think>")[-1].lstrip("\n")
                else:
                    reasoning = ""
                # Reasoning is shown only after the last query, and for a mid-chain turn only if non-empty.
                if i > last_query and (last or reasoning):
                    think = reasoning.strip("\n")
                    out.append("<|im_start|>assistant\n<think>\n" + think + "\n</think>\n\n"
                               + content.lstrip("\n"))
                else:
                    out.append(f"<|im_start|>assistant\n{content}")
                # The agent never sends tool_calls (its calls are in the content); mirrored for fidelity.
                for j, call in enumerate(m.get("tool_calls") or []):
                    call = call.get("function") or call
                    args = call["arguments"]
                    if not isinstance(args, str):
                        args = json.dumps(args, ensure_ascii=False)  # what the template's | tojson writes
                    out.append("\n" if content or j > 0 else "")
                    out.append(f'<tool_call>\n{{"name": "{call["name"]}", "arguments": {args}}}'
                               '\n</tool_call>')
                out.append("<|im_end|>\n")
            elif role == "tool":
                if i == 0 or messages[i - 1]["role"] != "tool":
                    out.append("<|im_start|>user")
                out.append(f"\n<tool_response>\n{content}\n</tool_response>")
                if last or messages[i + 1]["role"] != "tool":
                    out.append("<|im_end|>\n")
            else:  # the template silently drops unknown roles; a typo here would silently drop a turn
                raise ValueError(f"render: message {i} has role {role!r}; "
                                 "expected system, user, assistant or tool")
        if add_generation_prompt:
            out.append("<|im_start|>assistant\n" + ("" if enable_thinking else "<think>\n\n</think>\n\n"))
        return "".join(out)


def load_tokenizer(path: str | Path) -> Tokenizer:
    path = Path(path)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        if not (path / name).is_file():
            raise MissingError(f"tokenizer {path}: {name} missing (expected a Hugging Face "
                                    "tokenizer directory, e.g. a Qwen/Qwen3-8B snapshot)")
    files = {name: (path / name).read_bytes() for name in TOKENIZER_FILES if (path / name).is_file()}
    config = json.loads(files["tokenizer_config.json"])
    # transformers >= 4.47 may save the template to chat_template.jinja instead of the config.
    template = config.get("chat_template") or files.get("chat_template.jinja", b"").decode()
    hf = tokenizers.Tokenizer.from_str(files["tokenizer.json"].decode())
    return Tokenizer(hf, template, files, source=str(path))


def build_tokenizer(texts: list[str], vocab_size: int = 2048) -> Tokenizer:
    """Train a Qwen3-shaped byte-level BPE on texts; vocab_size counts the added tokens too."""
    byte_level = dict(add_prefix_space=False, trim_offsets=False, use_regex=False)
    hf = tokenizers.Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    hf.normalizer = normalizers.NFC()
    hf.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_SPLIT_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(**byte_level),  # use_regex=False: the Split above already did the splitting
    ])
    hf.post_processor = processors.ByteLevel(**byte_level)
    hf.decoder = decoders.ByteLevel(**byte_level)
    n_added = len(SPECIAL_TOKENS) + len(TAG_TOKENS)
    # All 256 byte symbols in the alphabet, so any text encodes even if the corpus never showed its bytes.
    trainer = trainers.BpeTrainer(vocab_size=vocab_size - n_added, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    hf.train_from_iterator(texts, trainer)
    # Added after training so their ids follow the BPE vocabulary, as in Qwen3 (151643 onwards).
    hf.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
    hf.add_tokens([AddedToken(t, special=False, normalized=False) for t in TAG_TOKENS])
    added = {str(hf.token_to_id(t)): dict(content=t, lstrip=False, normalized=False, rstrip=False,
                                          single_word=False, special=t in SPECIAL_TOKENS)
             for t in SPECIAL_TOKENS + TAG_TOKENS}
    config = {  # the fields of Qwen3-8B's tokenizer_config.json
        "add_bos_token": False, "add_prefix_space": False, "added_tokens_decoder": added,
        "additional_special_tokens": ["<|im_start|>", "<|im_end|>"], "bos_token": None,
        "chat_template": QWEN3_CHAT_TEMPLATE, "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "errors": "replace", "model_max_length": 131072, "pad_token": "<|endoftext|>",
        "split_special_tokens": False, "tokenizer_class": "Qwen2Tokenizer", "unk_token": None,
    }
    files = {"tokenizer.json": hf.to_str(pretty=True).encode(),
             "tokenizer_config.json": json.dumps(config, indent=2, ensure_ascii=False).encode()}
    return Tokenizer(hf, QWEN3_CHAT_TEMPLATE, files)


# Qwen3-8B's chat template, verbatim from its tokenizer_config.json (a raw string: the Jinja source has
# backslash-n inside its string literals). Written into built tokenizers so transformers renders them too.
# Its lines are left as long as the original's, so the two can be compared line by line.
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
