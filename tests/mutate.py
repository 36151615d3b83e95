"""Does the suite catch plausible bugs? Put each one-line bug below into a temporary copy of the project,
run the fast tests there, and report which test caught it (or that none did).

    python tests/mutate.py            # every mutation (about 10 minutes on 2 cores)
    python tests/mutate.py 3 7        # only these

Not part of the default test run (it runs the suite once per mutation). A mutation whose text is no
longer in its file is reported as stale: update the list when the code moves.
"""
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The fast tests: everything but the long end-to-end files (all tasks' oracles, real images, registries).
FAST = ["tests/test_objective.py", "tests/test_knobs.py", "tests/test_loop.py", "tests/test_model.py",
        "tests/test_generator.py", "tests/test_rollout.py", "tests/test_scaffold.py", "tests/test_eval.py",
        "tests/test_harbor_episodes.py", "tests/test_containment.py", "tests/test_sandbox.py",
        "tests/test_scale.py", "tests/test_tokenizer.py"]

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
    ("the verifier keeps the agent's processes", "harbor.py", "    env.box.restart_shell()\n    r = env.exec(\"rm -rf",
     "    r = env.exec(\"rm -rf"),
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
]


def run(index: int, what: str, file: str, old: str, new: str, python: str) -> str:
    with tempfile.TemporaryDirectory(prefix="echo-mutant-") as tmp:
        copy = Path(tmp) / "echo"
        shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".git", ".venv", "runs", "__pycache__"))
        Path(tmp).chmod(0o755)                 # the sandbox's uid must reach sandbox_init.py in the copy
        text = (copy / file).read_text()
        if old not in text:
            return "stale (the text is no longer there)"
        (copy / file).write_text(text.replace(old, new, 1))
        r = subprocess.run([python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *FAST], cwd=copy,
                           capture_output=True, text=True)
        failed = re.search(r"^FAILED (\S+)", r.stdout, re.M) or re.search(r"^ERROR (\S+)", r.stdout, re.M)
        return f"caught by {failed[1]}" if r.returncode else "NOT CAUGHT"


def main() -> int:
    picked = [int(a) for a in sys.argv[1:]] or range(1, len(MUTATIONS) + 1)
    python = str(ROOT / ".venv/bin/python") if (ROOT / ".venv/bin/python").exists() else sys.executable
    caught = 0
    print("| # | bug | file | result |\n|---:|---|---|---|", flush=True)
    for i in picked:
        what, file, old, new = MUTATIONS[i - 1]
        result = run(i, what, file, old, new, python)
        caught += result.startswith("caught")
        print(f"| {i} | {what} | {file} | {result} |", flush=True)
    print(f"\n{caught} of {len(picked)} caught")
    return 0 if caught == len(picked) else 1


if __name__ == "__main__":
    sys.exit(main())
