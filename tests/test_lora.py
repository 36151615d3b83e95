"""LoRA (--lora-rank): starts equal to the base model, trains only A and B, and saves as a plain Qwen3."""
import json

import torch

import echo
import model as M
from test_echo_run import SMALL, metrics
from test_loop import tiny

PROJECTIONS = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
IDS = torch.randint(0, 97, (2, 11), generator=torch.Generator().manual_seed(0))


def lora_model(random_b=False):
    m = M.add_lora(tiny(), rank=4, alpha=8.0, seed=1)
    if random_b:  # a trained adapter: B no longer zero
        with torch.no_grad():
            for mod in m.modules():
                if isinstance(mod, M.Linear):
                    mod.lora_B.normal_(0, 0.05)
    return m


def test_adapters_sit_on_the_seven_projections_and_start_equal_to_the_base_model():
    m = lora_model()
    adapted = {n.split(".")[-2] for n, _ in m.named_parameters() if n.endswith("lora_A")}
    assert adapted == PROJECTIONS
    assert len([n for n, _ in m.named_parameters() if ".lora_" in n]) == 2 * 7 * 2  # A, B × 7 × 2 layers
    assert torch.equal(m(IDS), tiny()(IDS))  # B = 0: exactly the base model


def test_gradients_reach_only_the_adapters():
    m = lora_model(random_b=True)
    m(IDS).logsumexp(-1).sum().backward()
    for n, p in m.named_parameters():
        if ".lora_" in n:
            assert p.requires_grad and p.grad is not None and p.grad.abs().sum() > 0, n
        else:
            assert not p.requires_grad and p.grad is None, n


def test_merged_checkpoint_is_a_plain_qwen3_with_the_adapted_logits(tmp_path):
    m = lora_model(random_b=True)
    M.save_model(m, tmp_path)
    loaded = M.load_model(tmp_path)
    assert not any(".lora_" in n for n, _ in loaded.named_parameters())
    assert not torch.allclose(loaded(IDS), tiny()(IDS), atol=1e-3)  # the adapter changed the model ...
    torch.testing.assert_close(loaded(IDS), m(IDS), rtol=1e-4, atol=1e-5)  # ... and the merge kept it


def test_lora_run_trains_only_the_adapters_and_resumes_exactly(tmp_path):
    full, cut = tmp_path / "full", tmp_path / "cut"
    lora = ["--lora-rank", "4", "--steps", "2", "--save-every", "1"]
    echo.main(SMALL + lora + ["--out", str(full)])
    echo.main(SMALL + lora + ["--out", str(cut), "--stop-after", "1"])
    echo.main(SMALL + lora + ["--out", str(cut), "--resume", str(cut)])
    assert metrics(full) == metrics(cut)
    state = torch.load(full / "step-2" / "trainer.pt", weights_only=False)
    assert state["lora"] and all(".lora_" in n for n in state["lora"])
    assert set(state["optimizer"]["state"]) == set(state["lora"])  # the optimizer holds the adapters only
    a, _ = M.load(full / "step-2")
    b, _ = M.load(cut / "step-2")
    for (n, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), n
    assert json.loads((full / "step-2" / "config.json").read_text())["model_type"] == "qwen3"
