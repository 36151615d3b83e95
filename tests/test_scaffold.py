"""The agent scaffold of METHOD.md §4 (parser, observation text) and the token roles of METHOD.md §1."""
import itertools
import unicodedata

import pytest

import rollout
from generate import Sample
from rollout import (ACTION, CONTEXT, ENV, FORMAT_REMINDER, SYSTEM_PROMPT, WARNING, Action,
                     close_turn_ids, format_observation, format_warnings, n_obs, observation_delta, parse_action,
                     prompt_ids)

from tokenizer import build_tokenizer
from test_rollout import TOK, FakeModel, ScriptedGenerator, bash, task  # noqa: F401  (task is a fixture)


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
    assert a.error.startswith(start) and a.error.endswith(".") and a.error.count("\n") == 0  # one sentence


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
    warn, body = format_warnings(["w one", "w two"]), "a body that ends in a letter"  # so "\n" stays apart
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


@pytest.mark.parametrize("warn, body", [("", "$ ls\na.txt"), ("", "\n\nout\n\n"), ("", "  \nx"), ("", "42"),
                                        ("", ""), (format_warnings(["w"]), "\nbody"), ("", "ü\u0308 (NFD) )")])
def test_observation_delta_takes_any_text_and_matches_the_rendered_chat(tok, warn, body):
    """Another harness's observations (the transfer test) need not start with a letter: the ids are still
    those of the rendered chat, and the tokens holding body characters are ENV."""
    ids, roles = observation_delta(tok, warn, body)
    assert ids == tok.encode("\n<|im_start|>user\n<tool_response>\n" + warn + body +
                             "\n</tool_response><|im_end|>\n<|im_start|>assistant\n<think>\n")
    env = tok.decode([t for t, r in zip(ids, roles) if r == ENV])
    assert unicodedata.normalize("NFC", body).strip("\n") in env and len(env) <= len(body) + 2
    assert (WARNING in roles) == bool(warn)


# ---- token roles of a real episode: rollout.run_episodes with a scripted policy ----

PROMPT = (f"<|im_start|>system\n{SYSTEM_PROMPT}<|im_end|>\n<|im_start|>user\n"
          "Create /app/hello.txt containing the word hi.<|im_end|>\n<|im_start|>assistant\n<think>\n")
PRE = "\n<|im_start|>user\n<tool_response>\n"
POST = "\n</tool_response><|im_end|>\n<|im_start|>assistant\n<think>\n"
ECHO = bash("echo hi > hello.txt")
OBS = "Command 'echo hi > hello.txt' executed successfully. Output: \n\n(exit_code=0)"
FINISHED = "Finished.\n</think>\n\n" + DONE


class EndsWithEndoftext(ScriptedGenerator):
    """The scripted policy, but every turn stops on <|endoftext|> instead of <|im_end|>."""
    def sample(self, rows, max_new_tokens, **sampling):
        eot = TOK.token_id("<|endoftext|>")
        return [Sample(s.ids[:-1] + [eot], s.logprobs, True) for s in super().sample(rows, max_new_tokens)]


def episode(monkeypatch, task, turns, generator=ScriptedGenerator, **limits):
    """The one Episode run_episodes returns when the policy samples `turns` (text after <think>\n)."""
    monkeypatch.setattr(rollout, "Generator", generator)
    monkeypatch.setattr(ScriptedGenerator, "script", [turns])
    ep, = rollout.run_episodes(FakeModel(), TOK, [(task, 7)], 1, rollout.Limits(**limits))
    return ep


def test_episode_roles_around_an_observation(monkeypatch, task):
    # This vocabulary has no ")\n" token, so the "\n" after the body is the template's (CONTEXT).
    ep = episode(monkeypatch, task, [ECHO, FINISHED])
    assert runs(TOK, ep.ids, ep.roles) == [(CONTEXT, PROMPT), (ACTION, ECHO + "<|im_end|>"),
                                           (CONTEXT, PRE), (ENV, OBS), (CONTEXT, POST),
                                           (ACTION, FINISHED + "<|im_end|>")]
    assert ep.n_obs == len(TOK.encode(OBS))


def test_episode_warning_tokens_come_before_the_observation(monkeypatch, task):
    warn = "WARNINGS:\n- text outside tags: after </think> write only the tool call\n\n"
    ep = episode(monkeypatch, task, [bash("echo hi > hello.txt", extra=" trailing words"), FINISHED])
    assert ep.messages[3]["content"] == warn + OBS
    assert runs(TOK, ep.ids, ep.roles)[2:5] == [(CONTEXT, PRE), (WARNING, warn), (ENV, OBS)]


def test_episode_parse_error_is_env_with_no_warning_block(monkeypatch, task):
    ep = episode(monkeypatch, task, ["no tool call here", FINISHED])
    err = parse_action("no tool call here").error
    assert err == "No tool call found after </think>."  # one sentence, as the released harness says
    # this vocabulary has ".\n" as one token: the "\n" of the wrapper goes with the body's last character
    assert runs(TOK, ep.ids, ep.roles)[1:5] == [(ACTION, "no tool call here<|im_end|>"), (CONTEXT, PRE),
                                                (ENV, err + "\n"), (CONTEXT, POST.removeprefix("\n"))]


def test_a_system_prompt_of_ones_own_replaces_the_scaffold_prompt(monkeypatch, task):
    ep = episode(monkeypatch, task, [FINISHED], system_prompt="Run bash; call done when finished.")
    assert ep.messages[0] == {"role": "system", "content": "Run bash; call done when finished."}
    assert TOK.decode(ep.ids).startswith("<|im_start|>system\nRun bash; call done when finished.<|im_end|>\n")


def test_format_reminder_flag_adds_the_worked_example_to_a_parse_error(monkeypatch, task):
    ep = episode(monkeypatch, task, ["no tool call here", FINISHED], format_reminder=True)
    assert ep.messages[3]["content"] == "No tool call found after </think>. " + FORMAT_REMINDER


def test_episode_turn_cut_off_at_max_tokens_gets_a_context_im_end(monkeypatch, task):
    ep = episode(monkeypatch, task, [ECHO], max_turn_tokens=4, max_turns=1)
    assert runs(TOK, ep.ids, ep.roles)[1:3] == [(ACTION, TOK.decode(TOK.encode(ECHO)[:4])),
                                                (CONTEXT, "<|im_end|>" + PRE)]


def test_episode_endoftext_stays_action_and_gets_a_context_im_end(monkeypatch, task):
    ep = episode(monkeypatch, task, [ECHO, FINISHED], generator=EndsWithEndoftext)
    assert runs(TOK, ep.ids, ep.roles)[1:3] == [(ACTION, ECHO + "<|endoftext|>"),
                                                (CONTEXT, "<|im_end|>" + PRE)]
    assert runs(TOK, ep.ids, ep.roles)[-2:] == [(ACTION, FINISHED + "<|endoftext|>"), (CONTEXT, "<|im_end|>")]


def test_episode_after_a_turn_equals_the_rendered_generation_prompt(monkeypatch, task):
    # Appending the sampled ids and the template delta gives exactly the ids of the rendered chat (this turn
    # has reasoning, so the template drops no <think> block, and no seam merges differently).
    ep = episode(monkeypatch, task, [ECHO], max_turns=1)
    assert [m["role"] for m in ep.messages] == ["system", "user", "assistant", "tool"]
    assert ep.ids == TOK.encode(TOK.render(ep.messages, add_generation_prompt=True) + "<think>\n")


def test_rerendering_is_not_append_only_for_an_empty_think(monkeypatch, task):
    # METHOD.md §1: why we never re-render. A mid-episode turn with empty reasoning loses its
    # <think></think>.
    ep = episode(monkeypatch, task, ["</think>\n\n" + call(command="ls"), FINISHED])
    rendered = TOK.render(ep.messages, add_generation_prompt=False)
    assert ep.ids + TOK.encode("\n") != TOK.encode(rendered)
    assert "<|im_start|>assistant\n<tool_call>" in rendered
