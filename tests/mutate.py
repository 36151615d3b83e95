"""Does the suite catch plausible bugs? Put each one-line bug below into a temporary copy of the project,
run the fast tests there, and report which test caught it (or that none did).

    python tests/mutate.py            # every mutation of our list, MUTATIONS (about 45 minutes on 2 cores)
    python tests/mutate.py 3 7        # only these of it
    python tests/mutate.py --fresh    # the second list, FRESH (tests/mutations_fresh.py, if there is one)
    python tests/mutate.py --fresh 2  # only this one of it
    python tests/mutate.py --both     # both lists, each with its own table and catch count
    python tests/mutate.py --stale    # no tests: each mutation of both lists whose text is not in its file
                                      # exactly once (stale, or ambiguous: only the first would change)

Two lists, so that the suite can be measured on bugs it was not written against: MUTATIONS are ours, written
next to the tests; FRESH, when tests/mutations_fresh.py exists, is a list of (what, file, old, new) tuples
written by someone who has not seen the tests. Not part of the default test run (it runs the suite once
per mutation). A mutation whose text is no longer in its file is reported as stale: update the list when
the code moves. It first runs the FAST tests on an unmutated copy and stops if any fails: a test that fails
anyway would "catch" every mutation.
"""
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The fast tests: everything but the long end-to-end files (all tasks' oracles, real images, CLIs, the demo).
# The contract tests come first: they are the quickest to fail.
FAST = ["tests/test_contracts_train.py", "tests/test_contracts_rollout.py", "tests/test_contracts_env.py",
        "tests/test_contracts_registry.py", "tests/test_contracts_misc.py",
        "tests/test_objective.py", "tests/test_knobs.py", "tests/test_loop.py", "tests/test_model.py",
        "tests/test_generator.py", "tests/test_rollout.py", "tests/test_scaffold.py", "tests/test_eval.py",
        "tests/test_harbor_episodes.py", "tests/test_harbor_load.py", "tests/test_harbor_verifier.py",
        "tests/test_containment.py",
        "tests/test_sandbox.py", "tests/test_scale.py", "tests/test_tokenizer.py", "tests/test_lora.py",
        "tests/test_registry.py", "tests/test_stages.py"]

# (what the bug is, file, the text, the text with the bug)
MUTATIONS = [
    ("ε_low and ε_high swapped", "echo.py",
     "torch.clamp(ratio, 1 - eps_low, 1 + eps_high)", "torch.clamp(ratio, 1 - eps_high, 1 + eps_low)"),
    ("biased std in Â", "echo.py",
     "r.std(1, keepdim=True)", "r.std(1, keepdim=True, unbiased=False)"),
    ("L_Env without its +1e-3", "echo.py", "(n_obs.to(logp.dtype) + 1e-3)", "n_obs.to(logp.dtype).clamp(min=1)"),
    ("warning tokens trained by L_Env", "echo.py",
     "A, E = action_mask.to(logp.dtype), env_mask.to(logp.dtype)",
     "A, E = action_mask.to(logp.dtype), (env_mask + (0 if warning_mask is None else warning_mask)).to(logp.dtype)"),
    ("token norm ignores the global count", "echo.py",
     "n_tok = n_A.sum() if n_action_tokens is None else n_action_tokens", "n_tok = n_A.sum()"),
    ("seq norm divides by the micro-batch's B", "echo.py",
     ".sum() / n_rollouts  # |A_i| = 0 contributes 0", ".sum() / logp.shape[0]  # |A_i| = 0 contributes 0"),
    ("λ ignored", "echo.py", "loss = grpo + lam * env", "loss = grpo + env"),
    ("T_train ignored in the training log-probs", "echo.py",
     "targets[select], temperature)", "targets[select], 1.0)"),
    ("the optimizer steps before the non-finite guard", "echo.py",
     "    bad = [k for k, v in", "    opt.step()\n    bad = [k for k, v in"),
    ("the env-only filter is never applied", "echo.py", "e.filtered = (", "e.filtered = False and ("),
    ("RoPE θ fixed at 10000", "model.py",
     "self.config.head_dim, self.config.rope_theta, x.dtype)", "self.config.head_dim, 10000.0, x.dtype)"),
    ("RMSNorm without its fp32 cast", "model.py", "        x = x.float()\n        x = x * torch.rsqrt",
     "        x = x * torch.rsqrt"),
    ("the kernel's backward drops 1/T", "model.py",
     "g = g.mul_(grad_out[s:s + chunk, None].to(acc) / T)", "g = g.mul_(grad_out[s:s + chunk, None].to(acc))"),
    ("the sampler ignores its temperature", "generate.py",
     "logits / max(temperature, 1e-6) if temperature > 0 else logits", "logits"),
    ("top-p ignored", "generate.py", "        if top_p < 1.0:", "        if False:"),
    ("the sampled stop token is not an action token", "rollout.py",
     "ep.roles += [ACTION] * len(sample.ids)",
     "ep.roles += [ACTION] * (len(sample.ids) - 1) + [CONTEXT] * bool(sample.ids)"),
    ("env tokens marked context", "rollout.py",
     "[ENV if s < b1 and e > b0 else", "[CONTEXT if s < b1 and e > b0 else"),
    ("SFT divides its logits by the sampling temperature", "echo.py",
     "sft_loss(token_logp(model, ids, A > 0, 1.0)", "sft_loss(token_logp(model, ids, A > 0, args.temperature)"),
    ("the total-token cap keeps the whole observation", "rollout.py",
     "        ids, roles = ids[:room], roles[:room]\n", ""),
    ("pass@1 counts only reward 1 as a success", "eval.py", "SUCCESS = 0.5", "SUCCESS = 1.0"),
    ("the verifier ignores reward.json", "harbor.py",
     'for name in ("reward.json", "reward.txt"):', 'for name in ("reward.txt",):'),
    ("the verifier keeps the agent's processes", "harbor.py", "        env.box.restart_shell()\n",
     "        pass\n"),
    ("a wrong pass@k", "eval.py",
     "return 1.0 - math.comb(n - c, k) / math.comb(n, k)", "return 1.0 - (1 - c / n) ** k"),
    ("grad-norm clipping ignored", "scale.py",
     "clip_grad_norm_([p for p in model.parameters() if p.requires_grad], max_norm)",
     "clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1e12)"),
    ("warm-up off by one (first step at lr 0)", "runs.py",
     "return min(1.0, (step + 1) / warmup) if warmup else 1.0", "return min(1.0, step / warmup) if warmup else 1.0"),
    ("the shell keeps every capability", "sandbox_init.py", "            if cap not in DOCKER_CAPS:",
     "            if False:"),
    ("output not capped", "sandbox.py", "        if note and (len(text) > n or", "        if False and (len(text) > n or"),
    # ---- issue 21: the contracts (tests/test_contracts_*.py) ----
    ("a reused KV-cache slot keeps the old row's length", "generate.py",
     "            self.cache.lens[free] = 0  # a reused slot starts empty\n",
     ""),
    ("the smallest per-row cap for every row", "generate.py",
     "caps = dict(zip(rows, max_new_tokens))",
     "caps = dict.fromkeys(rows, min(max_new_tokens))"),
    ("a row generates one token past its cap", "generate.py",
     "if not s.stopped and len(s.ids) < caps[r]:",
     "if not s.stopped and len(s.ids) <= caps[r]:"),
    ("a sampled stop id does not stop the row", "generate.py",
     "if not s.stopped and len(s.ids) < caps[r]:",
     "if len(s.ids) < caps[r]:"),
    ("LoRA scale α instead of α/r", "model.py", "mod.lora_scale = alpha / rank", "mod.lora_scale = alpha"),
    ("merged LoRA weights without the scale", "model.py",
     "p.float() + mod.lora_scale * (mod.lora_B.float()",
     "p.float() + (mod.lora_B.float()"),
    ("--resume does not restore the lr schedule", "runs.py",
     '        sched.load_state_dict(state["scheduler"])\n',
     ""),
    ("--resume starts over at step 0", "runs.py", '        step = state["step"]\n', "        step = 0\n"),
    ("pass rate counts groups where every rollout passed", "runs.py",
     "sum(max(e.reward for e in g) > 0 for g in groups)",
     "sum(min(e.reward for e in g) > 0 for g in groups)"),
    ("format error rate inverted", "runs.py",
     "format_error_rate=1 - clean / turns if turns",
     "format_error_rate=clean / turns if turns"),
    ("--resume: the flags given now do not win over the saved ones", "runs.py",
     '            if k not in given | {"resume", "stop_after"}:',
     '            if k not in {"resume", "stop_after"}:'),
    ("the λ schedule fed the 1-based step", "echo.py",
     "lam = lam_schedule(step, total_steps",
     "lam = lam_schedule(step + 1, total_steps"),
    ("each step's draws from the seed alone", "echo.py",
     'rng = random.Random(f"{args.seed}-{step}")',
     "rng = random.Random(args.seed)"),
    ("the sampler's seed ignores the step", "echo.py",
     "seed=(args.seed * 1_000_003 + step) * world + rank",
     "seed=args.seed * world + rank"),
    ("step decay λ with a fractional exponent", "echo.py",
     "return lam * gamma ** (step // every)",
     "return lam * gamma ** (step / every)"),
    ("linear λ decays to 0 one step early", "echo.py",
     "lam * max(0.0, 1.0 - step / total_steps)",
     "lam * max(0.0, 1.0 - (step + 1) / total_steps)"),
    ("the clean-turn filter drops a rollout at its threshold", "echo.py",
     "or e.clean_turns / turns < args.min_clean_frac)",
     "or e.clean_turns / turns <= args.min_clean_frac)"),
    ("the clean-turn filter compared with the valid-turn threshold", "echo.py",
     "or e.clean_turns / turns < args.min_clean_frac)",
     "or e.clean_turns / turns < args.min_valid_frac)"),
    ("per-token stats averaged per micro-batch, not per token", "echo.py",
     "sums[k] = sums.get(k, 0.0) + (v * n if n else 0.0)",
     "sums[k] = sums.get(k, 0.0) + (v if n else 0.0)"),
    ("micro-batches one row short of the budget", "echo.py",
     "if cur and (len(cur) + 1) * max(longest, n) > max_tokens:",
     "if cur and (len(cur) + 1) * max(longest, n) >= max_tokens:"),
    ("|O_i| counts env tokens only, not warnings", "rollout.py",
     "return sum(r in (WARNING, ENV) for r in roles)",
     "return sum(r == ENV for r in roles)"),
    ("the context limit checked with > instead of >=", "rollout.py",
     "elif len(ep.ids) >= limits.max_context:",
     "elif len(ep.ids) > limits.max_context:"),
    ("one turn past max_turns", "rollout.py",
     "if ep.turns >= limits.max_turns:",
     "if ep.turns > limits.max_turns:"),
    ("no room kept for the closing <|im_end|>", "rollout.py",
     "elif len(ep.ids) + 1 >= limits.max_total:",
     "elif len(ep.ids) >= limits.max_total:"),
    ("a repeated <parameter=command> runs the last value", "rollout.py",
     'warnings.append(f"duplicate <parameter={key}>: only the first was used")',
     'warnings.append(f"duplicate <parameter={key}>: only the first was used") or params.update({key: value'
     "})"),
    ("a filtered rollout keeps its env mask", "rollout.py", "(1, 0 if ep.filtered else 1)", "(1, 1)"),
    ("a sampled <|im_end|> gets a second one", "rollout.py",
     "if sampled_ids and sampled_ids[-1] == im_end:",
     "if sampled_ids and sampled_ids[0] == im_end:"),
    ("summarize counts a pass only above 0.5", "eval.py",
     'float(r["reward"] >= SUCCESS)',
     'float(r["reward"] > SUCCESS)'),
    ("infrastructure errors counted as agent errors too", "eval.py",
     'r["error"] is not None and not apart(r)',
     'r["error"] is not None'),
    ("env CE as the mean over episodes", "eval.py",
     "total, total_t, count = total + nll.sum().item(), total_t + nll_t.sum().item(), count + len(nll)",
     "total, total_t, count = total + nll.mean().item(), total_t + nll_t.mean().item(), count + 1"),
    ("a died sandbox is not an infrastructure failure", "harbor.py",
     "return self in (Outcome.SETUP_MACHINE, Outcome.MACHINE)",
     "return self in (Outcome.SETUP_MACHINE,)"),
    ("attempts succeed only above 0.5", "eval.py",
     "c = len(eps), sum(e.reward >= SUCCESS for e in eps)",
     "c = len(eps), sum(e.reward > SUCCESS for e in eps)"),
    ("t quantile with n instead of n−1 degrees of freedom", "compare.py",
     "half = T95[len(xs) - 1] *",
     "half = T95[len(xs)] *"),
    ("population sd in the CI", "compare.py", "half = T95[len(xs) - 1] * statistics.stdev(xs)",
     "half = T95[len(xs) - 1] * statistics.pstdev(xs)"),
    ("a CI touching 0 counts as supported", "compare.py",
     "    if lo > 0:", "    if lo >= 0:"),
    ("env CE claim with the sign flipped", "compare.py",
     'g["env_ce"]["output"]["t1"] - e["env_ce"]["output"]["t1"]',
     'e["env_ce"]["output"]["t1"] - g["env_ce"]["output"]["t1"]'),
    ("per-segment sums leave out 'all'", "compare.py",
     '        for key in (k, "all"):',
     "        for key in (k,):"),
    ("an infinite reward is taken as the reward", "harbor.py",
     "if not 0.0 <= reward <= 1.0:",
     "if not (0.0 <= reward <= 1.0 or math.isinf(reward)):"),
    ("reward.txt read before reward.json", "harbor.py",
     'for name in ("reward.json", "reward.txt"):',
     'for name in ("reward.txt", "reward.json"):'),
    ("an ARG wins over an ENV of the same name", "dockerfile.py",
     'return {"PATH": DEFAULT_PATH, **self.args, **self.env}',
     'return {"PATH": DEFAULT_PATH, **self.env, **self.args}'),
    ("a relative WORKDIR joins / instead of the current one", "dockerfile.py",
     "os.path.join(config.workdir, subst(step.args, scope))",
     'os.path.join("/", subst(step.args, scope))'),
    ("the task's agent timeout does not cap the episode clock", "harbor.py",
     "episode_timeout=min(limits.episode_timeout, task.agent_timeout)",
     "episode_timeout=limits.episode_timeout"),
    ("the build cache key hashes a file's size, not its bytes", "images.py",
     "                    while chunk := f.read(1 << 20):\n                        body.update(chunk)",
     "                    body.update(str(st.st_size).encode())"),
    ("the build cache key ignores the mode", "images.py",
     "            _field(h, str(st.st_mode).encode())\n",
     "            _field(h, b\"\")\n"),
    ("images.py errors exit 1", "images.py",
     "        return 2\n    return 0",
     "        return 1\n    return 0"),
    ("no cgroup: the per-process memory limit dropped", "sandbox.py",
     '{"NPROC": self.limits.nproc, "AS": self.limits.memory_mb << 20}',
     '{"NPROC": self.limits.nproc}'),
    ("the writable layer capped on the wrong path", "sandbox.py",
     "    if not cgroup:\n        return limits.storage_mb, SHM_MB",
     "    if cgroup:\n        return limits.storage_mb, SHM_MB"),
    ("cgroup v1 CPU quota a tenth of the limit", "sandbox.py",
     '"cpu.cfs_quota_us": quota}',
     '"cpu.cfs_quota_us": quota // 10}'),
    ("the episode clock does not cap a command", "sandbox.py",
     "return self._run(command, min(timeout, left))",
     "return self._run(command, timeout)"),
    ("output of exactly output_chars gets a cut note", "sandbox.py",
     "if note and (len(text) > n or",
     "if note and (len(text) >= n or"),
    ("a manifest pulled by digest is not checked", "registry.py",
     'if reference.startswith("sha256:"):',
     'if reference.startswith("sha512:"):'),
    ("a failed blob download leaves its part file", "registry.py", "            os.unlink(tmp.name)\n", ""),
    ("a 500 on a manifest reads as not found", "registry.py",
     "if e.code in (401, 404):",
     "if e.code >= 400:"),
    ("a pull connects to every address a name resolves to, private ones too", "registry.py",
     "ok = [i for i in infos if self.allowed(i[4][0])]", "ok = infos"),
    ("an IPv4-mapped address is judged as IPv6", "registry.py",
     "if ip.ipv4_mapped or ip.sixtofour or (top96 in (0, 0x64ff9b << 64) and int(ip) > 1):", "if False:"),
    ("a pull goes through the environment's proxy", "registry.py",
     "urllib.request.ProxyHandler({})", "urllib.request.ProxyHandler()"),
    ("a realm or redirect may be file:, ftp: or data:", "registry.py",
     'if urllib.parse.urlsplit(url).scheme not in ("http", "https"):', "if False:"),
    ("the deadline's timer cuts no connection", "registry.py", "                self.socks.append(sock)\n", ""),
    ("a malformed manifest escapes as a traceback", "registry.py",
     "except (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError) as e:",
     "except RecursionError as e:"),
    ("rollout rows without the 10% spare", "scale.py",
     "int(0.9 * free_bytes // per_row)",
     "int(free_bytes // per_row)"),
    ("padding with <|im_end|>", "tokenizer.py",
     'self.pad_id = self.token_id("<|endoftext|>")',
     'self.pad_id = self.token_id("<|im_end|>")'),
    ("thinking off without the empty think block", "tokenizer.py",
     '("" if enable_thinking else "<think>\\n\\n</think>\\n\\n")',
     '("" if enable_thinking else "<think>\\n")'),
    ("the rollout's clock ignores the task's agent timeout", "rollout.py",
     "budget = row.box.budget",
     "budget = limits.episode_timeout"),
    ("SFT divides by its own micro-batch's B", "echo.py",
     "loss = ((-logp * A).sum(1) / n_A.clamp(min=1)).sum() / n_rollouts",
     "loss = ((-logp * A).sum(1) / n_A.clamp(min=1)).sum() / logp.shape[0]"),
    ("the clip fraction ignores the advantage's sign", "echo.py",
     "active = ((ratio > 1 + eps_high) & (adv > 0)) | ((ratio < 1 - eps_low) & (adv < 0))",
     "active = (ratio > 1 + eps_high) | (ratio < 1 - eps_low)"),
    ("a tool message split at its last blank line", "rollout.py",
     'warn, body = content.split("\\n\\n", 1)',
     'warn, body = content.rsplit("\\n\\n", 1)'),
    ("a seed range B < A accepted", "eval.py", "if not m or int(m[2] or m[1]) < int(m[1]):", "if not m:"),
    ("${VAR:-default} keeps an empty value", "dockerfile.py",
     "value = value or subst(m[3], env)",
     "value = env[name] if name in env else subst(m[3], env)"),
    ("a task.toml workdir not normalised", "harbor.py",
     'return "/" + os.path.normpath(value).lstrip("/")',
     "return value"),
    ("pass@k's argument check dropped (math.comb raises its own ValueError)", "eval.py",
     "    if not (0 <= c <= n and 1 <= k <= n):\n",
     "    if False:\n"),
    ("held-out pass@1 per job instead of per attempt", "compare.py",
     'out[f"pass_at_1_{group}"] = sum(cs) / (len(cs) * args.k) if cs',
     'out[f"pass_at_1_{group}"] = sum(cs) / len(cs) if cs'),
    ("env-only's family pass@1 over every unseen job", "compare.py",
     'if x["task"] == ENV_ONLY_FAMILY]',
     'if x["group"] == "unseen"]'),
    ("demonstrations of partial reward kept", "eval.py",
     'if rec["reward"] >= 1.0:',
     'if rec["reward"] >= SUCCESS:'),
    ("a demo's reward divided by one seed too few", "eval.py",
     'rec["reward"] /= hi - lo + 1',
     'rec["reward"] /= max(hi - lo, 1)'),
    ("the paper's lr default 1e-5", "runs.py", "n=16, lr=1e-6,", "n=16, lr=1e-5,"),
    ("--max-context takes --max-total's value", "runs.py",
     "max_context=args.max_context, max_total=args.max_total",
     "max_context=args.max_total, max_total=args.max_total"),
    ("AdamW β2 not taken from --beta2", "scale.py", "betas=(0.9, args.beta2)", "betas=(0.9, 0.999)"),
    ("the trainer's --no-internet ignored", "harbor.py",
     "return on(task.agent_network) and internet, on(task.verifier_network)",
     "return on(task.agent_network), on(task.verifier_network)"),
    ("--eps-low 0 accepted", "runs.py",
     'a("--eps-low", type=number(0, 1, strict=True)',
     'a("--eps-low", type=number(0, 1)'),
    ("--format-reminder not passed on", "runs.py",
     "format_reminder=args.format_reminder",
     "format_reminder=False"),
    ("a copied row loses its source's pending token", "generate.py",
     "self.pending[r] = list(self.pending.get(src, []))",
     "self.pending[r] = []"),
    ("warning tokens get no log-prob in training", "echo.py",
     "(A + E + W) > 0, args.temperature",
     "(A + E) > 0, args.temperature"),
    ("advantages over the whole batch, not per group", "echo.py",
     "grpo_advantages(rewards, args.n)",
     "grpo_advantages(rewards, len(episodes))"),
    ("a CI ending at 0 reads as the opposite holding", "compare.py",
     "    if hi < 0:", "    if hi <= 0:"),
    # the one retry policy is start_task's now: the wrong failure started again (the task's, not the machine's)
    ("a verifier error is played again instead of a failed setup", "harbor.py",
     "if not e.infrastructure or attempt == SETUP_ATTEMPTS:",
     "if e.infrastructure or attempt == SETUP_ATTEMPTS:"),
    ("--resume into a run directory refused", "runs.py",
     "if held and not (args.resume or args.overwrite):",
     "if held and not args.overwrite:"),
    ("--overwrite keeps the old run's files", "runs.py",
     "    if held and args.overwrite and not args.resume:",
     "    if held and args.overwrite and args.resume:"),
    ("a resumed LoRA run starts with fresh adapters", "runs.py",
     '        if state:\n            model.load_state_dict(state["lora"]',
     '        if False:\n            model.load_state_dict(state["lora"]'),
    ("--lora-alpha ignored (α = r)", "runs.py",
     "M.add_lora(model, args.lora_rank, args.lora_alpha, seed=args.seed)",
     "M.add_lora(model, args.lora_rank, float(args.lora_rank), seed=args.seed)"),
    ("a step's cache key leaves out the steps before it", "images.py",
     "json.dumps([state.key, step.instr, step.args,",
     "json.dumps([step.instr, step.args,"),
    ("ADD's files not in its cache key", "images.py",
     '    elif step.instr in ("COPY", "ADD"):\n        with _task_fault(',
     '    elif step.instr == "COPY":\n        with _task_fault('),
    ("an ARG without a default forgets its earlier value", "dockerfile.py",
     'else args.get(k, config.build_args.get(k, ""))',
     'else config.build_args.get(k, "")'),
    ("an absolute symlink in a stage resolves from its own directory", "images.py",
     "                if target.startswith(\"/\"):\n                    while len(stack) > 1:",
     "                if False:\n                    while len(stack) > 1:"),
    ("'..' in a stage's path is left to the kernel (it leaves the stage's root)", "images.py",
     '            if part == "..":\n                if len(stack) > 1:',
     '            if False:\n                if len(stack) > 1:'),
    ("a download's address is checked as not private instead of public", "images.py",
     'return ipaddress.ip_address(address.split("%")[0]).is_global',
     'return not ipaddress.ip_address(address.split("%")[0]).is_private'),
    ("COPY --from is keyed by its text alone, not the source stage's content", "images.py",
     "        extra = _from_state(step, state).key\n", "        extra = _from_state(step, state) and ''\n"),
    ("ADD <url> is keyed by its URL alone, not the fetched bytes", "images.py",
     '        extra += "".join(f" {p.name}" for p in fetched.values())\n', ""),
    ("copy_out follows an artifact's links (on the host's root)", "sandbox.py",
     "st = os.stat(name, dir_fd=dfd, follow_symlinks=False)", "st = os.stat(name, dir_fd=dfd)"),
    ("copy_out reads the host's files the host fallback shows", "sandbox.py",
     "return all(any(a <= i < b for a, b in self.ranges) for i in (st.st_uid, st.st_gid))",
     "return True"),
    ("a separate verifier's /tests replaced by tests/ (what its image built there is lost)", "harbor.py",
     "seed, ground.changes, deadline, upload=False,\n", "seed, ground.changes, deadline, upload=True,\n"),
]


# The second list, written without seeing the tests (kept in its own file, which this one never writes).
FRESH = []
if (Path(__file__).parent / "mutations_fresh.py").exists():
    sys.path.insert(0, str(Path(__file__).parent))
    from mutations_fresh import FRESH  # noqa: E402


def run(what: str, file: str, old: str, new: str, python: str) -> str:
    """The FAST tests on a copy of the project with `old` replaced by `new` in `file` (file "": unchanged)."""
    with tempfile.TemporaryDirectory(prefix="echo-mutant-") as tmp:
        copy = Path(tmp) / "echo"
        shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".git", ".venv", "runs", "__pycache__"))
        Path(tmp).chmod(0o755)                 # the sandbox's uid must reach sandbox_init.py in the copy
        if file:
            if not (copy / file).is_file():
                return f"stale (no file {file})"
            text = (copy / file).read_text()
            if old not in text:
                return "stale (the text is no longer there)"
            (copy / file).write_text(text.replace(old, new, 1))
        r = subprocess.run([python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *FAST], cwd=copy,
                           capture_output=True, text=True)
        failed = re.search(r"^FAILED (\S+)", r.stdout, re.M) or re.search(r"^ERROR (\S+)", r.stdout, re.M)
        if not r.returncode:
            return "NOT CAUGHT"
        return f"caught by {failed[1]}" if failed else f"caught (pytest exit {r.returncode}, no test named)"


def run_list(name: str, mutations: list, picked, python: str) -> tuple[int, int]:
    """Run the picked mutations (1-based) of one list; print its table; return (caught, run)."""
    picked = list(picked) or range(1, len(mutations) + 1)
    caught = 0
    print(f"\n{name}\n\n| # | bug | file | result |\n|---:|---|---|---|", flush=True)
    for i in picked:
        what, file, old, new = mutations[i - 1]
        result = run(what, file, old, new, python)
        caught += result.startswith("caught")
        print(f"| {i} | {what} | {file} | {result} |", flush=True)
    print(f"\n{name}: {caught} of {len(picked)} caught", flush=True)
    return caught, len(picked)


def stale(lists: dict) -> int:
    """Print every mutation whose text is not in its file exactly once; return how many."""
    bad = 0
    for name, mutations in lists.items():
        for i, (what, file, old, new) in enumerate(mutations, 1):
            path = ROOT / file
            n = path.read_text().count(old) if path.is_file() else -1
            if n != 1:
                bad += 1
                why = "no file" if n < 0 else "text not found" if n == 0 else f"text found {n} times"
                print(f"{name} #{i} ({file}): {why}: {what}")
    return bad


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    flags, picked = {a for a in argv if a.startswith("--")}, [int(a) for a in argv if not a.startswith("--")]
    if flags == {"--stale"} and not picked:
        return 1 if stale({"ours": MUTATIONS, "fresh": FRESH}) else 0
    if flags - {"--fresh", "--both"} or flags == {"--fresh", "--both"} or ("--both" in flags and picked):
        print("usage: mutate.py [N ...] | --fresh [N ...] | --both", file=sys.stderr)
        return 2
    size = len(FRESH) if "--fresh" in flags else len(MUTATIONS)
    if any(not 1 <= n <= size for n in picked):
        print(f"mutate.py: mutation numbers run from 1 to {size}, got {[n for n in picked if not 1 <= n <= size]}",
              file=sys.stderr)
        return 2
    python = str(ROOT / ".venv/bin/python") if (ROOT / ".venv/bin/python").exists() else sys.executable
    lists = {"ours (MUTATIONS)": MUTATIONS, "fresh (FRESH, tests/mutations_fresh.py)": FRESH}
    if "--fresh" in flags:
        lists.pop("ours (MUTATIONS)")
    elif "--both" not in flags:
        lists.pop("fresh (FRESH, tests/mutations_fresh.py)")
    # A mutation is "caught" when a test fails: that means something only if no test fails without one.
    clean = run("none", "", "", "", python)
    if clean != "NOT CAUGHT":
        print(f"the unmutated project already fails its FAST tests ({clean.removeprefix('caught by ')}): "
              "fix that first", file=sys.stderr)
        return 2
    counts = {}
    for name, mutations in lists.items():
        if not mutations:
            print(f"{name}: empty (no tests/mutations_fresh.py)", file=sys.stderr)
            if "--fresh" in flags:
                return 2
            continue
        counts[name] = run_list(name, mutations, picked, python)
    if len(counts) > 1:
        print("\n" + "\n".join(f"{name}: {c} of {n} caught ({100 * c / n:.0f}%)"
                                for name, (c, n) in counts.items()))
    return 0 if all(c == n for c, n in counts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
