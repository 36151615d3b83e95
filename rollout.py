# ----------------------------------------------------------------------------------------------------
# The episode: the agent scaffold of METHOD.md §4 (system prompt, action parser, observation text) and the
# token bookkeeping of METHOD.md §1 (every token of a rollout gets one role). The scaffold is pure functions;
# the tokenizer is duck-typed (tokenizer.py's Tokenizer is one): encode(text) -> ids,
# encode_offsets(text) -> (ids, each token's (start, end) in text), decode(ids) -> text,
# token_id(token) -> id, stop_ids (the ids a turn ends at), and
# render(messages, add_generation_prompt, enable_thinking) -> text (Qwen3's chat template).
# ----------------------------------------------------------------------------------------------------
import json
import re
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from functools import partial

import torch

import harbor
from errors import say
from generate import Generator
from harbor import Outcome

# METHOD.md §1: the role of each token of a rollout. ACTION is trained by GRPO (Eq. 2), ENV by L_Env (Eq. 3);
# WARNING and ENV together are |O|; CONTEXT is trained by nothing.
CONTEXT, ACTION, WARNING, ENV = 0, 1, 2, 3

DEFAULT_TIMEOUT = 30          # METHOD.md §4: bash(command, timeout=30)

# METHOD.md §4: two tools in Qwen's XML tool-call format (the layout of Qwen3-Coder's tool section).
SYSTEM_PROMPT = """You are a Linux terminal agent. You complete the user's task by running shell commands and reading their output. When you think the task is complete, verify it (inspect the files, run the program or its tests), then call done.

# Tools

You have access to the following functions:

<tools>
<function>
<name>bash</name>
<description>Run a command in a persistent bash shell; the working directory and variables carry over between calls. Returns the output and the exit code.</description>
<parameters>
<parameter>
<name>command</name>
<type>string</type>
<description>The bash command to run.</description>
</parameter>
<parameter>
<name>timeout</name>
<type>integer</type>
<description>Seconds before the command is stopped (default 30).</description>
</parameter>
<required>["command"]</required>
</parameters>
</function>
<function>
<name>done</name>
<description>End the episode. Call it only when the task is finished and verified.</description>
<parameters>
</parameters>
</function>
</tools>

Each turn, think first inside <think>...</think>, then call exactly one function in this format, with nothing after it:

<tool_call>
<function=bash>
<parameter=command>
ls -la
</parameter>
</function>
</tool_call>

When the task is finished and verified:

<tool_call>
<function=done>
</function>
</tool_call>

<IMPORTANT>
- One tool call per turn: only the first tool call of a turn is executed.
- Required parameters must be given; a parameter value may span several lines.
- Write no text outside <think>...</think> and the tool call.
</IMPORTANT>"""

# METHOD.md §4: the observation of a turn that does not parse is the parser's error message, one short
# sentence as in the released harness. Limits.format_reminder (echo.py --format-reminder) appends this
# worked example too, which helps an untrained agent find the format and costs ~70 tokens per error.
FORMAT_REMINDER = """Respond with your reasoning, then </think>, then exactly one tool call:
<tool_call>
<function=bash>
<parameter=command>
ls -la
</parameter>
</function>
</tool_call>
or, when the task is finished and verified:
<tool_call>
<function=done>
</function>
</tool_call>"""


@dataclass
class Action:
    tool: str | None                  # "bash" | "done" | None when the turn did not parse
    command: str | None = None        # bash only
    timeout: int | None = None        # bash only; DEFAULT_TIMEOUT when not given (Limits may cap it)
    error: str | None = None          # parse error, shown to the agent as the observation (ENV tokens)
    warnings: list[str] = field(default_factory=list)  # format warnings of a turn that parsed


def parse_action(text: str) -> Action:
    """Parse one sampled turn. `text` starts inside the <think> block the harness opened.

    A turn that parses may still get format warnings (METHOD.md §4), in this order:
      missing </think> | duplicate <think> | duplicate </think> | empty <think> block |
      text outside tags (after </think>, outside the first <tool_call>...</tool_call> and its function) |
      N tool calls (only the first tool call was executed) | nested <tool_call> | nested <function=...> |
      unclosed <function=NAME> | per parameter: unclosed <parameter=KEY>, duplicate <parameter=KEY>
      (first used), empty <parameter=KEY> (default used) | unknown parameter KEY (ignored).
    A turn does not parse (Action.error set, no warnings) when: no <tool_call> after </think>, unclosed
    <tool_call>, no <function=...>, unknown function, bash without a non-empty command, bad timeout.
    """
    for stop in ("<|im_end|>", "<|endoftext|>"):  # in case the caller decoded the stop token too
        text = text.removesuffix(stop)
    warnings = []
    n_open, n_close = text.count("<think>"), text.count("</think>")
    if n_close == 0:
        warnings.append("missing </think>: end your reasoning with </think> before the tool call")
    if n_open:
        warnings.append("duplicate <think>: the turn already starts inside <think>")
    if n_close > 1:
        warnings.append("duplicate </think>: close the reasoning once")
    if n_close and not text.split("</think>")[0].replace("<think>", "").strip():
        warnings.append("empty <think> block: reason before you call a tool")
    # The tool call is looked for after the last </think>; without one, the whole turn is searched and
    # the text before the call counts as (unclosed) reasoning, not as text outside tags.
    rest = text.rsplit("</think>", 1)[1] if n_close else text
    start = rest.find("<tool_call>")
    if start < 0:
        return _error("No tool call found after </think>.")
    end = rest.find("</tool_call>", start)
    if end < 0:
        return _error("Unclosed <tool_call>: end the call with </tool_call>.")
    block, after = rest[start + len("<tool_call>"):end], rest[end + len("</tool_call>"):]
    # METHOD.md §4: only the first tool call of a turn runs; later calls are dropped, not text outside tags.
    later = re.sub(r"<tool_call>.*?(</tool_call>|$)", "", after, flags=re.S)
    m = re.search(r"<function=([^>\n]*)>", block)
    fn_end = block.find("</function>", m.end()) if m else -1
    stray = (rest[:start] if n_close else "") + later
    if m:  # text inside <tool_call> but outside <function=...>...</function> is stray too
        stray += block[:m.start()] + (block[fn_end + len("</function>"):] if fn_end >= 0 else "")
    if stray.strip():
        warnings.append("text outside tags: after </think> write only the tool call")
    n_calls = 1 + after.count("<tool_call>")
    if n_calls > 1:
        warnings.append(f"{n_calls} tool calls: only the first tool call was executed")
    if "<tool_call>" in block:
        warnings.append("nested <tool_call> inside <tool_call>")
    if not m:
        return _error("No <function=...> inside <tool_call>.")
    name, body = m.group(1).strip(), block[m.end():fn_end if fn_end >= 0 else len(block)]
    if name not in ("bash", "done"):
        return _error(f"Unknown function {name!r}: the functions are bash and done.")
    if "<function=" in body:
        warnings.append("nested <function=...>: one function per tool call")
    if fn_end < 0:
        warnings.append(f"unclosed <function={name}>: end it with </function>")
    params = _parameters(body, warnings)
    allowed = {"bash": ("command", "timeout"), "done": ()}[name]
    for key in params:
        if key not in allowed:
            warnings.append(f"unknown parameter {key!r} of {name} was ignored")
    if name == "done":
        return Action("done", warnings=warnings)
    command = params.get("command")
    if not command or not command.strip():
        return _error("bash needs a non-empty <parameter=command>.")
    timeout = params.get("timeout")
    if timeout is None:
        return Action("bash", command, DEFAULT_TIMEOUT, warnings=warnings)
    if not re.fullmatch(r"\s*[0-9]+\s*", timeout) or int(timeout) <= 0:
        return _error(f"Invalid timeout {timeout!r}: give a positive whole number of seconds.")
    return Action("bash", command, int(timeout), warnings=warnings)


def _parameters(body: str, warnings: list[str]) -> dict[str, str]:
    # Qwen3-Coder's convention: a value runs to </parameter> (or, if unclosed, to the next <parameter=
    # or the end of the function) and loses one leading and one trailing newline.
    opens = list(re.finditer(r"<parameter=([^>\n]*)>", body))
    params = {}
    for i, m in enumerate(opens):
        key, limit = m.group(1).strip(), opens[i + 1].start() if i + 1 < len(opens) else len(body)
        close = body.find("</parameter>", m.end(), limit)
        if close < 0:
            warnings.append(f"unclosed <parameter={key}>: end it with </parameter>")
        value = body[m.end():close if close >= 0 else limit].removeprefix("\n").removesuffix("\n")
        if key in params:
            warnings.append(f"duplicate <parameter={key}>: only the first was used")
        elif not value.strip() and key != "command":  # an empty command is an error, not a warning
            warnings.append(f"empty <parameter={key}>: the default was used")
        else:
            params[key] = value
    return params


def _error(reason: str) -> Action:
    return Action(None, error=reason)


def format_action(command: str | None, thought: str) -> str:
    """The text of one well-formed assistant turn (the inverse of parse_action), as the message content
    starts: "<think>\n", the thought, then a bash call of `command`, or done() when command is None.
    Used to write demonstration turns (eval.py's scripted oracle)."""
    call = ("<function=done>\n</function>" if command is None else
            f"<function=bash>\n<parameter=command>\n{command}\n</parameter>\n</function>")
    return f"<think>\n{thought}\n</think>\n\n<tool_call>\n{call}\n</tool_call>"


def format_observation(command: str, output: str, exit_code: int, timed_out: bool, timeout: int) -> str:
    """METHOD.md §4: the observation body of a bash call (ENV tokens). The sandbox has already cut the
    output to its first 50,000 characters plus a note (sandbox.Limits.output_chars)."""
    if timed_out:
        return f"Command '{command}' timed out after {timeout} seconds.\n\n(exit_code=-1)"
    status = "executed successfully" if exit_code == 0 else "failed"
    return f"Command '{command}' {status}. Output: {output}\n\n(exit_code={exit_code})"


def format_warnings(warnings: list[str]) -> str:
    """METHOD.md §4: the WARNINGS prefix of an observation (WARNING tokens); '' for a format-clean turn."""
    if not warnings:
        return ""
    return "WARNINGS:\n" + "".join(f"- {w}\n" for w in warnings) + "\n"


# ----------------------------------------------------------------------------------------------------
# Token deltas (METHOD.md §1). A rollout is built by appending, never by re-rendering: prompt_ids, then per
# turn the sampled ids (ACTION, stop token included), close_turn_ids, observation_delta. Each segment is
# tokenized on its own, which equals tokenizing the whole rendered chat because every seam between
# segments is an added token (<|im_end|>, <tool_response>, ...), where the pre-tokenizer always splits.
# Inside an observation the roles can meet within one token (Qwen2's regex makes ")\n" of "(exit_code=0)"
# one pre-token): observation_delta gives such a token the role of the text it holds.
# Caveat (as in any Qwen harness that encodes text): an added token written in command output, say
# "<|im_end|>", becomes that token's id, not its characters.
# ----------------------------------------------------------------------------------------------------
def prompt_ids(tokenizer, instruction: str, system_prompt: str = SYSTEM_PROMPT) -> tuple[list[int], list[int]]:
    """System + user messages, the generation prompt and the opened <think>\\n (METHOD.md §4), all CONTEXT."""
    messages = [{"role": "system", "content": system_prompt}, {"role": "user", "content": instruction}]
    text = tokenizer.render(messages, add_generation_prompt=True, enable_thinking=True) + "<think>\n"
    ids = tokenizer.encode(text)
    return ids, [CONTEXT] * len(ids)


def close_turn_ids(tokenizer, sampled_ids: list[int]) -> tuple[list[int], list[int]]:
    """The <|im_end|> the harness adds (as CONTEXT, METHOD.md §1) when a turn stopped without one
    (max tokens, or <|endoftext|>); nothing when the policy sampled it (then it is an ACTION token)."""
    im_end = tokenizer.token_id("<|im_end|>")
    if sampled_ids and sampled_ids[-1] == im_end:
        return [], []
    return [im_end], [CONTEXT]


def observation_delta(tokenizer, warning_text: str, body: str) -> tuple[list[int], list[int]]:
    """Qwen3's template delta from a closed assistant turn to the next opened one:
    "\\n<|im_start|>user\\n<tool_response>" + "\\n" + warning_text + body + "\\n" + "</tool_response><|im_end|>\\n"
    + "<|im_start|>assistant\\n<think>\\n". Wrappers CONTEXT, warning_text WARNING, body ENV.

    The text between <tool_response> and </tool_response> is tokenized in one piece, exactly as tokenizing
    the rendered chat does (added tokens always split, nothing else does), and each token gets the role of
    the characters it covers: ENV if any of the body's, else WARNING if any of the warning's, else CONTEXT.
    So a body of any text, another harness's "$ ls" or "\\n\\nout" included, keeps TITO exact; the harness's
    own bodies start with a letter and end in ")", which only the final ")\\n" token joins to the wrapper."""
    prefix = tokenizer.encode("\n<|im_start|>user\n<tool_response>")
    inner_ids, _, inner_roles, _ = tool_response_tokens(tokenizer, warning_text, body)
    suffix = tokenizer.encode("</tool_response><|im_end|>\n<|im_start|>assistant\n<think>\n")
    ids = prefix + list(inner_ids) + suffix
    return ids, [CONTEXT] * len(prefix) + inner_roles + [CONTEXT] * len(suffix)


def tool_response_tokens(tokenizer, warning_text: str, body: str):
    """"\\n" + warning_text + body + "\\n", the text between <tool_response> and </tool_response>, tokenized
    in one piece: (its ids, their character spans, each token's role by the characters it covers, where the
    body starts)."""
    inner = "\n" + warning_text + body + "\n"
    ids, offsets = tokenizer.encode_offsets(inner)
    w0, b0, b1 = 1, 1 + len(warning_text), 1 + len(warning_text) + len(body)  # character spans in `inner`
    roles = [ENV if s < b1 and e > b0 else WARNING if s < b0 and e > w0 else CONTEXT for s, e in offsets]
    return ids, offsets, roles, b0


def n_obs(roles: list[int]) -> int:
    """|O| of METHOD.md §1 / Eq. 3: the warning + env tokens of a rollout (wrappers excluded)."""
    return sum(r in (WARNING, ENV) for r in roles)


def split_tool_message(content: str) -> tuple[str, str]:
    """A tool message as (its WARNINGS block or "", the observation body)."""
    if content.startswith("WARNINGS:\n") and "\n\n" in content:
        warn, body = content.split("\n\n", 1)
        return warn + "\n\n", body
    return "", content


def tokenize_messages(tokenizer, messages: list[dict]) -> tuple[list[int], list[int]]:
    """Re-tokenize a saved conversation (system, user, then assistant/tool turns, e.g. an episode of
    another model or harness) with this tokenizer, by the same appends a live episode makes. Used for
    expert SFT (METHOD.md §3) and the env-token cross-entropy transfer test (§6)."""
    if [m["role"] for m in messages[:2]] != ["system", "user"]:
        raise ValueError("tokenize_messages: want a system then a user message first, got "
                         f"{[m['role'] for m in messages[:2]]}")
    text = tokenizer.render(messages[:2], add_generation_prompt=True) + "<think>\n"
    ids = tokenizer.encode(text)
    roles = [CONTEXT] * len(ids)
    for m in messages[2:]:
        if m["role"] == "assistant":  # content as sampled after the opened "<think>\n"
            a = tokenizer.encode(m["content"].removeprefix("<think>\n")) + [tokenizer.token_id("<|im_end|>")]
            ids, roles = ids + a, roles + [ACTION] * len(a)
        elif m["role"] == "tool":
            d, r = observation_delta(tokenizer, *split_tool_message(m["content"]))
            ids, roles = ids + d, roles + r
        else:
            raise ValueError(f"tokenize_messages: unexpected {m['role']!r} message after the prompt")
    while roles and roles[-1] == CONTEXT and messages[-1]["role"] == "tool":  # drop the opened next turn
        ids, roles = ids[:-1], roles[:-1]
    return ids, roles


# ----------------------------------------------------------------------------------------------------
# Episodes: many at once, token in, token out. METHOD.md §4 limits; a failing episode is reward 0 with its
# reason recorded and never stops the others.
# ----------------------------------------------------------------------------------------------------
@dataclass
class Limits(harbor.Limits):         # the environment's limits (harbor.Limits) and the agent's, one record
    # inherited: command_timeout 30 s (the agent may ask for less, not more), episode_timeout 600 s (over it:
    # reward 0 and every mask of the rollout zero), output_chars 50,000 (command output cut to its first
    # 50,000 characters plus a note), and the sandbox's resources, which task.toml sets per task
    max_turns: int = 16              # METHOD.md §4
    max_turn_tokens: int = 2048      # generated tokens per turn
    max_context: int = 16_384        # no new turn starts at or past this many tokens
    max_total: int = 34_096          # hard cap: over it, reward 0 and the verifier is skipped
    # seconds per command: None takes the agent's bash(timeout=...) (default 30) as the released harness does,
    # with only the episode clock above it; a number caps the agent's value (the printed paper's 30 s)
    command_timeout: float | None = None
    format_reminder: bool = False    # a parse error's observation also shows FORMAT_REMINDER (not in §4)
    # "persistent": one shell per episode, cwd and variables carry over (METHOD.md §4, the paper);
    # "per-command": each command in a subshell of it, started afresh in the task's workdir, as one exec per
    # command (the released harness, METHOD.md's last table)
    shell: str = "persistent"
    system_prompt: str = SYSTEM_PROMPT  # §4's; the miniature's tiny agent uses a short one (compare.py)


@dataclass
class Episode:
    task: str
    seed: int
    messages: list[dict]
    ids: list[int]
    roles: list[int]                 # CONTEXT / ACTION / WARNING / ENV per token (METHOD.md §1)
    reward: float = 0.0
    reason: str = ""                 # why the episode ended / why its reward is 0 when it is not the tests
    outcome: str = ""                # the same as a harbor.Outcome value: what code reads, never `reason`
    turns: int = 0
    valid_turns: int = 0             # turns with a tool call that parsed
    clean_turns: int = 0             # turns that parsed without format warnings
    done: bool = False               # the agent called done()
    timed_out: bool = False          # episode wall clock exceeded: masks are zeroed for training
    crashed: bool = False            # a sandbox error ended it mid-episode: masks zeroed (released code)
    filtered: bool = False           # dropped by an env-only filter (METHOD.md §3): env mask zeroed
    infra_error: bool = False        # Outcome.machine: the machine's fault, not the policy's
    completion_tokens: int = 0
    command_timeouts: int = 0
    # log p of each ACTION token, in order, under softmax(logits / T) when it was sampled: what the training
    # forward's log-prob at θ_old = θ should equal (echo.py reports the gap; README "Sampler-trainer gap")
    sample_logprobs: list[float] = field(default_factory=list)
    timings: dict = field(default_factory=lambda: {"generate_s": 0.0, "sandbox_s": 0.0, "verify_s": 0.0})

    @property
    def n_obs(self) -> int:
        return n_obs(self.roles)


def save_episodes(path, episodes: list[Episode]):
    with open(path, "a") as f:
        for e in episodes:
            f.write(json.dumps(asdict(e)) + "\n")


def load_episodes(path) -> list[Episode]:
    with open(path) as f:
        return [Episode(**json.loads(line)) for line in f if line.strip()]


def _safely(ep: Episode, what: str, fn, *args):
    """Run one episode's environment step; an exception ends that episode with reward 0, its outcome
    (harbor.outcome_of) and its reason."""
    try:
        return fn(*args)
    except Exception as e:  # noqa: BLE001 - METHOD.md: a failed rollout is reward 0, logged, not hidden
        _end(ep, harbor.outcome_of(e), f"{what} error: {type(e).__name__}: {e}")
        return None


def _end(ep: Episode, outcome: Outcome, reason: str) -> None:
    ep.outcome, ep.reason, ep.infra_error = outcome, reason, outcome.machine


@dataclass(eq=False)  # rows are compared by identity (sets of rows), never by their contents
class _Row:
    """One rollout while run_episodes runs it."""
    id: int                           # its place in job order: the index of its Episode and its Generator row
    ep: Episode                       # what the caller gets back
    task: harbor.Task
    box: harbor.Environment | None = None  # its own environment; None when setup failed (ep.outcome says why)
    clock_start: float = 0.0          # time.monotonic() at admission: the METHOD.md §4 episode clock's start,
                                      # moved later by each wait for the batch-mates' commands (_take_turn)
    acted_at: float = 0.0             # time.monotonic() when this turn's own command (or decode) ended
    holds_slot: bool = False          # holds a KV-cache slot in the Generator (from admission until released)


def run_episodes(model, tokenizer, jobs: list[tuple], n: int, limits: Limits = Limits(), temperature=0.8,
                 top_p=1.0, top_k=0, seed=0, log=say, max_rows: int | None = None,
                 progress=None, start_task=None) -> list[Episode]:
    """jobs: (task, instance seed) pairs; n rollouts of each, in job order (groups for Eq. 2a).

    Admitted episodes advance together: one batched decode for every episode still running, then every
    command of that turn runs at once in its own sandbox, then the observations are appended to the KV
    cache. At most max_rows rollouts (None: all) hold a KV-cache slot at once: whole groups are admitted
    in job order as slots free up, their prompt prefilled once and copied to their n rows, and each
    episode's clock (METHOD.md §4 episode timeout) starts when its group is admitted. Each episode is
    verified as soon as it ends, as Harbor verifies a trial when its agent ends, while the others go on.
    progress(phase, finished, total, tokens), if given, is told after every turn how far the rollouts are,
    then after each verify that the last turn left.
    start_task(task, seed, limits) -> an environment (default harbor.start_task; the door's contract)."""
    if max_rows is not None and max_rows < n:
        raise ValueError(f"run_episodes: max_rows={max_rows} < n={n}; a group's n rollouts are admitted "
                         f"together, so max_rows must be at least n")
    rows = []
    for task, instance_seed in jobs:
        for _ in range(n):
            messages = [{"role": "system", "content": limits.system_prompt},
                        {"role": "user", "content": task.instruction}]
            episode = Episode(task=task.name, seed=instance_seed, messages=messages, ids=[], roles=[])
            rows.append(_Row(id=len(rows), ep=episode, task=task))
    start = partial(_start_sandbox, start_task=start_task or harbor.start_task, limits=limits)
    with ThreadPoolExecutor(max_workers=min(32, len(rows))) as pool:
        # every sandbox starts at once
        for row, box in zip(rows, pool.map(start, rows)):
            row.box = box
        report = progress or _no_progress
        report("sandboxes ready", 0, len(rows), 0)
        # A row is verified the moment it ends, beside the rows still acting, with a thread of its own so it
        # never waits in a queue: what the agent's processes do after its done() (or its clock) must not
        # reach the reward, and a row's survivors ran on until the whole batch was done (rt16b p17: a job
        # started before done() wrote the answer 14 s later and scored 1.0).
        verifier = ThreadPoolExecutor(max_workers=len(rows))
        verifies = {}  # row -> the future of its verify, submitted when it ended

        def end(row: _Row) -> None:
            if row not in verifies:
                verifies[row] = verifier.submit(_verify, row)
        try:
            slots = len(rows) if max_rows is None else min(max_rows, len(rows))
            # only a row that will start another turn gets its observation cached (_take_turn), so a row's
            # cache ends at most one turn past max_context
            gen = Generator(model, slots, tokenizer.stop_ids,
                            max_len=limits.max_context + limits.max_turn_tokens)
            sampler = torch.Generator(device=model.lm_head.weight.device).manual_seed(seed)
            sampling = dict(max_new_tokens=limits.max_turn_tokens, temperature=temperature, top_p=top_p,
                            top_k=top_k, generator=sampler)
            waiting = deque(rows[g * n:(g + 1) * n] for g in range(len(jobs)))  # groups not yet admitted
            active = []  # the rows that take the next turn, in row order: the order the sampler draws in
            while True:
                _release_slots(gen, rows, keep=active)
                if waiting and sum(row.holds_slot for row in rows) + n <= slots:
                    group = waiting.popleft()
                    started = _admit_group(gen, tokenizer, group, limits=limits)
                    for row in group:
                        if row not in started:  # ended before a turn (a limit, or no sandbox)
                            end(row)
                    active += started
                    continue  # the group's rows that cannot start free their slots before the next admission
                if not active:
                    break
                active = _take_turn(gen, tokenizer, active, pool=pool, limits=limits, sampling=sampling,
                                    end=end)
                finished = sum(row.clock_start > 0 or row.box is None for row in rows) - len(active)
                report("turns", finished, len(rows), sum(row.ep.completion_tokens for row in rows))
            del gen  # free the KV cache
            for row in rows:  # every row ended above; a row never admitted (none today) is verified here
                end(row)
            tokens = sum(row.ep.completion_tokens for row in rows)
            verified = sum(f.done() for f in verifies.values())
            report("verifying", verified, len(rows), tokens)  # those still running when the last turn ended
            for future in as_completed([f for f in verifies.values() if not f.done()]):
                future.result()
                verified += 1
                report("verifying", verified, len(rows), tokens)
            for future in verifies.values():
                future.result()  # a bug in _verify is raised, not hidden
        finally:
            verifier.shutdown(wait=True, cancel_futures=True)  # no sandbox closes under its verifier
            _close_sandboxes(rows, log)
    return [row.ep for row in rows]


def _no_progress(phase: str, finished: int, total: int, tokens: int) -> None:
    pass


def _start_sandbox(row: _Row, start_task, limits: Limits) -> harbor.Environment | None:
    """The row's environment; None when it could not be set up (start_task's retry policy spent): the
    episode is reward 0 with its outcome, setup failed (task or machine), counted, not hidden."""
    return _safely(row.ep, "sandbox setup", start_task, row.task, row.ep.seed, limits)


def _release_slots(gen: Generator, rows: list[_Row], keep: list[_Row]):
    """Rows that hold a KV-cache slot but take no further turn give it back, in row order."""
    keep = set(keep)
    finished = [row for row in rows if row.holds_slot and row not in keep]
    if finished:
        gen.release([row.id for row in finished])
        for row in finished:
            row.holds_slot = False


def _admit_group(gen: Generator, tokenizer, group: list[_Row], limits: Limits) -> list[_Row]:
    """A group's n rollouts take KV-cache slots together: the METHOD.md §4 prompt they share is prefilled
    once and copied to the other rows, and their episode clocks start. Returns the rows that will take
    turns: those whose sandbox started and whose prompt leaves room in the context."""
    ids, roles = prompt_ids(tokenizer, group[0].task.instruction, limits.system_prompt)
    if len(ids) >= limits.max_context:  # a bad task, not a bad batch: its episodes end in one line each
        for row in group:
            row.ep.ids, row.ep.roles = ids[:limits.max_context], roles[:limits.max_context]  # all CONTEXT
            row.clock_start = time.monotonic()
            if not row.ep.outcome:
                _end(row.ep, Outcome.SETUP_TASK, f"the instruction takes {len(ids)} tokens with the system "
                     f"prompt: no room for a turn in the {limits.max_context}-token context")
        return []
    for row in group:
        row.ep.ids, row.ep.roles = list(ids), list(roles)
    gen.extend([group[0].id], [ids])
    gen.copy_row(group[0].id, [row.id for row in group[1:]])
    admitted = time.monotonic()
    for row in group:
        row.holds_slot, row.clock_start = True, admitted
        if row.box is not None:
            row.box.start_clock()  # the environment's clock, which caps commands, starts with ours
    return [row for row in group if row.box is not None and _may_start_turn(row.ep, limits)]


def _take_turn(gen: Generator, tokenizer, active: list[_Row], pool: ThreadPoolExecutor, limits: Limits,
               sampling: dict, end) -> list[_Row]:
    """One turn of every active row: one batched decode, then every command of the turn in its own sandbox
    at once, then each observation appended (to the episode, and to the KV cache of a row that goes on).
    A row whose episode ends with its command is handed to end(row) then, not when the slowest command of
    the turn is done. Returns the rows that take another turn."""
    actions, close_ids = _sample_turn(gen, tokenizer, active, sampling, limits)
    acting = {pool.submit(_act, row, action, limits=limits): (row, action)
              for row, action in zip(active, actions)}
    observations = {}
    for future in as_completed(acting):
        row, action = acting[future]
        _skip_wait(row, time.monotonic())  # the moment since its command ended was ours, not the agent's
        observations[row] = _end_turn(row, action, future.result(), tokenizer=tokenizer, limits=limits)
        if observations[row] is None:
            end(row)
    # A row's episode clock counts its own decode and command, never the wait for a batch-mate's longer
    # command (rt16a p18: one rollout's `sleep 600` ran every other row of the batch out of time, a solved
    # episode became TIMEOUT with its masks zeroed): each row's clock, and its environment's, skip the wait.
    now = time.monotonic()
    going_on, chunks = [], []
    for row, close in zip(active, close_ids):
        if observations[row] is not None:
            _skip_wait(row, now)
            going_on.append(row)
            chunks.append(close + observations[row])
    if going_on:
        gen.extend([row.id for row in going_on], chunks)
    return going_on


def _skip_wait(row: _Row, now: float) -> None:
    """The row's clock, and its environment's, skip the time since its own command ended."""
    row.clock_start += now - row.acted_at
    row.box.pause_clock(now - row.acted_at)
    row.acted_at = now


def _sample_turn(gen: Generator, tokenizer, active: list[_Row], sampling: dict, limits: Limits):
    """One batched decode for every active row. Each episode gets the sampled ids as ACTION tokens and the
    <|im_end|> the harness adds when a turn stopped without one (close_turn_ids). Returns each row's parsed
    action and those added ids (not in the KV cache yet: they are fed with the row's observation).
    A row generates at most what its max_total budget has left, less one for that <|im_end|> (§4)."""
    started = time.monotonic()
    caps = [min(sampling["max_new_tokens"], limits.max_total - len(row.ep.ids) - 1) for row in active]
    samples = gen.sample([row.id for row in active], **{**sampling, "max_new_tokens": caps})
    elapsed = time.monotonic() - started  # every row waited for the whole batched decode
    actions, close_ids = [], []
    for row, sample in zip(active, samples):
        ep = row.ep
        ep.timings["generate_s"] += elapsed
        ep.turns += 1
        ep.ids += sample.ids
        ep.roles += [ACTION] * len(sample.ids)  # METHOD.md §1: every sampled token, stop token included
        ep.sample_logprobs += sample.logprobs
        ep.completion_tokens += len(sample.ids)
        text = tokenizer.decode([t for t in sample.ids if t not in tokenizer.stop_ids])
        ep.messages.append({"role": "assistant", "content": "<think>\n" + text})
        actions.append(parse_action(text))
        ids, roles = close_turn_ids(tokenizer, sample.ids)
        ep.ids, ep.roles = ep.ids + ids, ep.roles + roles
        close_ids.append(ids)
    return actions, close_ids


def _act(row: _Row, action: Action, limits: Limits) -> str | None:
    """The observation body of one turn: the command's output, or the parse error (METHOD.md §4); None
    after done() or when the sandbox failed (then ep.reason says why)."""
    row.acted_at = time.monotonic()
    if action.tool is None:
        return f"{action.error} {FORMAT_REMINDER}" if limits.format_reminder else action.error
    if action.tool == "done":
        return None
    cap = limits.command_timeout
    timeout = action.timeout if cap is None else min(action.timeout, cap)
    started = time.monotonic()
    # a subshell forgets cd, variables and exit when it ends (the newline lets the command end in a comment)
    command = f"(\n{action.command}\n)" if limits.shell == "per-command" else action.command
    result = _safely(row.ep, "sandbox", row.box.run, command, timeout)  # the episode clock caps it too
    row.acted_at = time.monotonic()
    row.ep.timings["sandbox_s"] += row.acted_at - started
    if result is None:  # the rollout crashed mid-episode: reward 0, and masks() zeroes it (released code),
        # unless the episode went over its own memory limit: the agent's doing, trained on as reward 0
        row.ep.crashed = row.ep.outcome != Outcome.OUT_OF_MEMORY
        return None
    row.ep.command_timeouts += result.timed_out
    return format_observation(command=action.command, output=result.output, exit_code=result.exit_code,
                              timed_out=result.timed_out, timeout=timeout)


def _end_turn(row: _Row, action: Action, body: str | None, tokenizer, limits: Limits) -> list[int] | None:
    """After a row's command ran: the episode ends here by a METHOD.md §4 rule (None), or it gets the
    observation and goes on (the observation's ids, to be fed to its KV cache)."""
    ep = row.ep
    ep.valid_turns += action.tool is not None
    ep.clean_turns += action.tool is not None and not action.warnings
    budget = row.box.budget  # the run's episode_timeout or task.toml's, whichever is less
    if time.monotonic() - row.clock_start > budget:  # METHOD.md §4: reward 0 and every mask zero
        ep.timed_out = True
        _end(ep, Outcome.TIMEOUT, f"episode over {budget:g} s")
        return None
    if action.tool == "done" or body is None:
        ep.done = action.tool == "done"
        if ep.done:
            _end(ep, Outcome.DONE, "")
        return None
    warn = format_warnings(action.warnings) if action.tool else ""  # a parse error has no warning block
    ids, roles = observation_delta(tokenizer, warn, body)
    room = limits.max_total - len(ep.ids)
    if len(ids) > room:  # METHOD.md §4 hard cap: the observation is cut to fit; reward 0, verifier skipped
        ids, roles = ids[:room], roles[:room]
        kept = [t for t, r in zip(ids, roles) if r in (WARNING, ENV)]
        ep.messages.append({"role": "tool", "content": tokenizer.decode(kept)})
        ep.ids, ep.roles = ep.ids + ids, ep.roles + roles
        _end(ep, Outcome.TOKEN_LIMIT, f"over {limits.max_total} tokens")
        return None
    ep.messages.append({"role": "tool", "content": warn + body})
    ep.ids, ep.roles = ep.ids + ids, ep.roles + roles
    if not _may_start_turn(ep, limits):  # (16 turns, or the context full): no cache needed
        return None
    return ids


def _may_start_turn(ep: Episode, limits: Limits) -> bool:
    """Whether the episode may start another turn; when not, ep.reason names the METHOD.md §4 limit."""
    if ep.outcome:
        return False
    if ep.turns >= limits.max_turns:
        _end(ep, Outcome.TURN_LIMIT, f"{limits.max_turns} turns")
    elif len(ep.ids) + 1 >= limits.max_total:  # no room left for a token and its <|im_end|>; nothing went
        _end(ep, Outcome.TOKEN_CAP, f"at the {limits.max_total}-token cap")  # past it: the verifier runs
    elif len(ep.ids) >= limits.max_context:
        _end(ep, Outcome.CONTEXT_LIMIT, f"context reached {limits.max_context} tokens")
    return not ep.outcome


def _verify(row: _Row):
    """Run the task's tests unless the episode already has reward 0 by rule (METHOD.md §4)."""
    ep = row.ep
    if row.box is None or not ep.outcome or not Outcome(ep.outcome).verified:
        return
    started = time.monotonic()
    out = _safely(ep, "verifier", row.box.verify)
    ep.timings["verify_s"] += time.monotonic() - started
    if out is not None:
        ep.reward, why = out
        ep.reason = "; ".join(x for x in (ep.reason or ("done" if ep.done else ""), why) if x)


def _close_sandboxes(rows: list[_Row], log):
    for row in rows:
        if row.box is not None:
            try:
                row.box.close()
            except Exception as e:  # noqa: BLE001 - teardown must reach every sandbox
                log(f"sandbox teardown error: {type(e).__name__}: {e}")


def masks(ep: Episode) -> tuple[list[int], list[int], list[int]]:
    """(action, env, warning) 0/1 masks of one episode (METHOD.md §1); all zero for an episode over time
    or one a sandbox error ended (§4), env zero for a rollout an env-only filter dropped (§3: it keeps its
    place in B)."""
    keep, env = (0, 0) if ep.timed_out or ep.crashed else (1, 0 if ep.filtered else 1)
    return ([keep * (r == ACTION) for r in ep.roles], [env * (r == ENV) for r in ep.roles],
            [keep * (r == WARNING) for r in ep.roles])
