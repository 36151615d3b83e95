"""The agent scaffold of METHOD.md §4 (parser, observation text) and the token roles of METHOD.md §1."""
import itertools

import pytest

from rollout import (ACTION, CONTEXT, ENV, FORMAT_REMINDER, SYSTEM_PROMPT, WARNING, Action,
                     close_turn_ids, format_observation, format_warnings, n_obs, observation_delta, parse_action,
                     prompt_ids)

from tokenizer import build_tokenizer


def call(name="bash", **params):
    """A well-formed Qwen XML tool call."""
    body = "".join(f"<parameter={k}>\n{v}\n</parameter>\n" for k, v in params.items())
    return f"<tool_call>\n<function={name}>\n{body}</function>\n</tool_call>"


LS = call(command="ls -la")
DONE = call("done")


# ---- parse_action: what runs ----

def test_parse_bash_call():
    assert parse_action("I should look around.\n</think>\n\n" + LS) == Action("bash", "ls -la", 30)


def test_parse_done_call():
    assert parse_action("All verified.\n</think>\n\n" + DONE) == Action("done")


def test_parse_keeps_multiline_command_and_drops_stop_text():
    cmd = "cat > a.py <<'EOF'\nprint(1)\n\nEOF"
    assert parse_action("Write it.\n</think>\n\n" + call(command=cmd) + "<|im_end|>") == Action("bash", cmd, 30)


def test_parse_timeout_parameter():
    assert parse_action("x\n</think>\n\n" + call(command="make", timeout="120")).timeout == 120
    a = parse_action("x\n</think>\n\n" + call(command="make", timeout=""))
    assert (a.timeout, a.warnings) == (30, ["empty <parameter=timeout>: the default was used"])
    for bad in ("abc", "0", "-5", "1.5"):
        a = parse_action("x\n</think>\n\n" + call(command="make", timeout=bad))
        assert a.tool is None and a.error.startswith(f"Invalid timeout {bad!r}"), bad


@pytest.mark.parametrize("text, start", [
    ("I am not sure.\n</think>\n\nls -la", "No tool call found after </think>."),
    ("x\n</think>\n\n<tool_call>\n<function=bash>\n<parameter=command>\nls", "Unclosed <tool_call>"),
    ("x\n</think>\n\n<tool_call>\nls\n</tool_call>", "No <function=...> inside <tool_call>."),
    ("x\n</think>\n\n" + call("python", code="1"), "Unknown function 'python'"),
    ("x\n</think>\n\n" + call(command=" \n "), "bash needs a non-empty <parameter=command>."),
    ("x\n</think>\n\n" + call(cmd="ls"), "bash needs a non-empty <parameter=command>."),
    ("<tool_call> in the reasoning " + LS + " only\n</think>\n\nnow nothing", "No tool call found"),
])
def test_unparseable_turn_gets_error_and_no_warnings(text, start):
    a = parse_action(text)
    assert (a.tool, a.command, a.warnings) == (None, None, [])
    assert a.error.startswith(start) and a.error.endswith(FORMAT_REMINDER)


# ---- parse_action: format warnings of a turn that parsed ----

@pytest.mark.parametrize("text, warnings", [
    ("Two calls.\n</think>\n\n" + LS + "\n" + DONE, ["2 tool calls: only the first tool call was executed"]),
    ("No close, straight to it.\n" + LS, ["missing </think>: end your reasoning with </think> before the tool call"]),
    ("Let me run ls.\n</think>\n\nRunning ls now:\n" + LS, ["text outside tags: after </think> write only the tool call"]),
    ("x\n</think>\n\n" + LS + "\nDone!", ["text outside tags: after </think> write only the tool call"]),
    ("<think>\nagain\n</think>\n\n" + LS, ["duplicate <think>: the turn already starts inside <think>"]),
    ("a\n</think>\nb\n</think>\n\n" + LS, ["duplicate </think>: close the reasoning once"]),
    ("\n</think>\n\n" + LS, ["empty <think> block: reason before you call a tool"]),
    ("x\n</think>\n\n<tool_call>\n" + LS + "\n</tool_call>",
     ["text outside tags: after </think> write only the tool call", "nested <tool_call> inside <tool_call>"]),
    ("x\n</think>\n\n<tool_call>\n<function=bash>\n<parameter=command>\nls -la\n</tool_call>",
     ["unclosed <function=bash>: end it with </function>", "unclosed <parameter=command>: end it with </parameter>"]),
    ("x\n</think>\n\n" + call(command="ls -la", cwd="/tmp"), ["unknown parameter 'cwd' of bash was ignored"]),
])
def test_format_warnings_of_a_parsed_turn(text, warnings):
    a = parse_action(text)
    assert (a.tool, a.error, a.warnings) == ("bash", None, warnings)
    assert a.command == "ls -la"  # METHOD.md §4: the first tool call runs regardless


def test_clean_turn_has_no_warnings():
    assert parse_action("Plan: list files.\n</think>\n\n" + LS + "\n\n").warnings == []


# ---- observation text (METHOD.md §4) ----

def test_format_observation_three_forms():
    assert format_observation("ls", "a.txt\n", 0, False, 30) == "Command 'ls' executed successfully. Output: a.txt\n\n\n(exit_code=0)"
    assert format_observation("cat x", "cat: x: No such file", 1, False, 30) == \
        "Command 'cat x' failed. Output: cat: x: No such file\n\n(exit_code=1)"
    assert format_observation("sleep 99", "partial", 0, True, 30) == "Command 'sleep 99' timed out after 30 seconds.\n\n(exit_code=-1)"


def test_format_warnings():
    assert format_warnings([]) == ""
    assert format_warnings(["w1", "w2"]) == "WARNINGS:\n- w1\n- w2\n\n"


def test_system_prompt_is_compact_and_lists_both_tools():
    assert len(SYSTEM_PROMPT.split()) < 350
    assert "<name>bash</name>" in SYSTEM_PROMPT and "<name>done</name>" in SYSTEM_PROMPT
    example = SYSTEM_PROMPT.split("format, with nothing after it:\n\n")[1].split("\n\n")[0]
    assert parse_action("x\n</think>\n\n" + example) == Action("bash", "ls -la", 30)  # the prompt's own example parses


# ---- token roles (METHOD.md §1) ----

@pytest.fixture(scope="module")
def tok():
    # Terminal-flavoured text, so that the merges a real Qwen vocabulary has (")\n", words) exist here too.
    corpus = [SYSTEM_PROMPT, FORMAT_REMINDER, format_warnings(["text outside tags: after </think> write only"]),
              format_observation("ls -la", "total 8\n-rw-r--r-- 1 root root 6 hello.txt\n", 0, False, 30),
              format_observation("cat hello.txt", "hello\n", 0, False, 30), "print(add(1, 2))\nf(x)\n",
              "I should check the file first, then verify the output and call done."] * 8
    return build_tokenizer(corpus, vocab_size=1024)


def runs(tok, ids, roles):
    """[(role, decoded text)] of the maximal runs of equal role."""
    out, i = [], 0
    for role, group in itertools.groupby(roles):
        n = len(list(group))
        out.append((role, tok.decode(ids[i:i + n])))
        i += n
    return out


def test_prompt_is_context_and_opens_think(tok):
    ids, roles = prompt_ids(tok, "Say hi.")
    assert roles == [CONTEXT] * len(ids)
    assert tok.decode(ids) == f"<|im_start|>system\n{SYSTEM_PROMPT}<|im_end|>\n<|im_start|>user\nSay hi.<|im_end|>\n" \
                              "<|im_start|>assistant\n<think>\n"


def test_close_turn_adds_im_end_only_when_missing(tok):
    im_end, eot = tok.token_id("<|im_end|>"), tok.token_id("<|endoftext|>")
    assert close_turn_ids(tok, tok.encode("ok") + [im_end]) == ([], [])
    assert close_turn_ids(tok, tok.encode("ok") + [eot]) == ([im_end], [CONTEXT])  # <|endoftext|> stays ACTION
    assert close_turn_ids(tok, tok.encode("cut off mid-tho")) == ([im_end], [CONTEXT])  # hit max tokens


def test_observation_delta_roles(tok):
    warn, body = format_warnings(["w one", "w two"]), parse_action("no call").error  # ends in </tool_call>
    ids, roles = observation_delta(tok, warn, body)
    assert runs(tok, ids, roles) == [(CONTEXT, "\n<|im_start|>user\n<tool_response>\n"), (WARNING, warn), (ENV, body),
                                     (CONTEXT, "\n</tool_response><|im_end|>\n<|im_start|>assistant\n<think>\n")]
    assert n_obs(roles) == len(tok.encode(warn)) + len(tok.encode(body))


def test_observation_delta_merged_seam_is_env(tok):
    # Qwen2's pre-tokenizer makes ")\n" one pre-token, and this vocabulary (like Qwen's) has it as one token:
    # tokenized separately, ")" + "\n" would not be what tokenizing the rendered chat gives.
    assert len(tok.encode(")\n")) == 1
    body = format_observation("ls", "a.txt", 0, False, 30)
    ids, roles = observation_delta(tok, "", body)
    assert ids == tok.encode("\n<|im_start|>user\n<tool_response>\n" + body +
                             "\n</tool_response><|im_end|>\n<|im_start|>assistant\n<think>\n")
    assert runs(tok, ids, roles) == [(CONTEXT, "\n<|im_start|>user\n<tool_response>\n"), (ENV, body + "\n"),
                                     (CONTEXT, "</tool_response><|im_end|>\n<|im_start|>assistant\n<think>\n")]


def test_observation_delta_rejects_body_that_could_merge_with_the_wrapper(tok):
    with pytest.raises(ValueError, match="body must start with a letter"):
        observation_delta(tok, "", "\nCommand")


def episode(tok, turns):
    """A fake rollout as the episode loop builds it: sampled ids appended as sampled, observations as
    template deltas. turns: (sampled text after <think>\\n, command output). Returns ids, roles, messages."""
    ids, roles = prompt_ids(tok, "Create hello.txt containing hello.")
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "Create hello.txt containing hello."}]
    checkpoints = []  # (ids so far, messages so far) after each observation
    for text, output in turns:
        sampled = tok.encode(text) + [tok.token_id("<|im_end|>")]
        ids, roles = ids + sampled, roles + [ACTION] * len(sampled)
        messages.append({"role": "assistant", "content": "<think>\n" + text})
        a = parse_action(text)
        if a.tool == "done":
            break
        close, close_roles = close_turn_ids(tok, sampled)
        warn, body = ("", a.error) if a.error else (format_warnings(a.warnings), format_observation(a.command, output, 0, False, 30))
        delta, delta_roles = observation_delta(tok, warn, body)
        ids, roles = ids + close + delta, roles + close_roles + delta_roles
        messages.append({"role": "tool", "content": warn + body})
        checkpoints.append((list(ids), list(messages)))
    return ids, roles, messages, checkpoints


TURNS = [
    ("I should create the file.\n</think>\n\n" + call(command="echo hello > hello.txt"), ""),
    ("Now check it.\n</think>\n\n" + call(command="cat hello.txt") + "\nok", "hello\n"),   # text outside tags
    ("Looks right, run ls.\n</think>\n\nls", None),                                      # does not parse
    ("Verified.\n</think>\n\n" + DONE, None),
]


def test_episode_roles(tok):
    ids, roles, _, _ = episode(tok, TURNS)
    warn = format_warnings(["text outside tags: after </think> write only the tool call"])
    pre, post = "\n<|im_start|>user\n<tool_response>\n", "</tool_response><|im_end|>\n<|im_start|>assistant\n<think>\n"
    obs1 = format_observation("echo hello > hello.txt", "", 0, False, 30)
    obs2 = format_observation("cat hello.txt", "hello\n", 0, False, 30)
    err = parse_action(TURNS[2][0]).error
    prompt = tok.decode(prompt_ids(tok, "Create hello.txt containing hello.")[0])
    assert runs(tok, ids, roles) == [
        (CONTEXT, prompt), (ACTION, TURNS[0][0] + "<|im_end|>"),
        (CONTEXT, pre), (ENV, obs1 + "\n"), (CONTEXT, post), (ACTION, TURNS[1][0] + "<|im_end|>"),
        (CONTEXT, pre), (WARNING, warn), (ENV, obs2 + "\n"), (CONTEXT, post), (ACTION, TURNS[2][0] + "<|im_end|>"),
        (CONTEXT, pre), (ENV, err), (CONTEXT, "\n" + post), (ACTION, TURNS[3][0] + "<|im_end|>")]
    assert n_obs(roles) == len(tok.encode(obs1 + "\n")) + len(tok.encode(warn)) + len(tok.encode(obs2 + "\n")) + len(tok.encode(err))


def test_episode_equals_tokenized_render(tok):
    # The template is append-only for these turns (each has reasoning, so no <think> block is dropped)
    # and no seam merges differently, so appending deltas gives exactly the ids of the rendered chat.
    ids, _, messages, checkpoints = episode(tok, TURNS)
    for ids_k, messages_k in checkpoints:  # mid-episode: the render's generation prompt + our opened <think>\n
        assert ids_k == tok.encode(tok.render(messages_k, add_generation_prompt=True) + "<think>\n")
    # At the end the template adds "\n" after the final <|im_end|>; the rollout stops at the sampled <|im_end|>.
    assert ids + tok.encode("\n") == tok.encode(tok.render(messages, add_generation_prompt=False))


def test_rerendering_is_not_append_only_for_an_empty_think(tok):
    # METHOD.md §1: why we never re-render. A mid-episode turn with empty reasoning loses its <think></think>.
    turns = [("</think>\n\n" + call(command="ls"), "a.txt"), ("Verified.\n</think>\n\n" + DONE, None)]
    ids, _, messages, _ = episode(tok, turns)
    assert ids + tok.encode("\n") != tok.encode(tok.render(messages, add_generation_prompt=False))
    assert "<|im_start|>assistant\n<tool_call>" in tok.render(messages, add_generation_prompt=False)
