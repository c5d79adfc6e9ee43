"""Optimizer trajectories in PyTorch, for test/optim.test.ts: writes test/golden/optim.json.

A fixed problem (Linear(4, 3), MSE on 8 samples; values from torch.manual_seed(0)) is trained for
5 steps by each optimizer configuration; the file holds the problem and the weights after each step.
"""
import json
import sys

import torch

CONFIGS = {
    "sgd": ("SGD", {"lr": 0.1}),
    "sgd-momentum": ("SGD", {"lr": 0.1, "momentum": 0.9}),
    "sgd-nesterov-decay": ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01}),
    "sgd-dampening": ("SGD", {"lr": 0.1, "momentum": 0.5, "dampening": 0.3}),
    "adam": ("Adam", {"lr": 0.01}),
    "adam-decay": ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1}),
    "adamw": ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
}


def main(target):
    torch.manual_seed(0)
    w0 = torch.randn(3, 4)
    b0 = torch.randn(3)
    x = torch.randn(8, 4)
    y = torch.randn(8, 3)
    golden = {"torch": torch.__version__, "w0": w0.flatten().tolist(), "b0": b0.tolist(),
              "x": x.flatten().tolist(), "y": y.flatten().tolist(), "runs": {}}
    for name, (kind, options) in CONFIGS.items():
        model = torch.nn.Linear(4, 3)
        with torch.no_grad():
            model.weight.copy_(w0)
            model.bias.copy_(b0)
        opt = getattr(torch.optim, kind)(model.parameters(), **options)
        steps = []
        for _ in range(5):
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            opt.step()
            steps.append({"weight": model.weight.flatten().tolist(), "bias": model.bias.tolist()})
        golden["runs"][name] = {"optimizer": kind, "options": {k: list(v) if isinstance(v, tuple) else v
                                                               for k, v in options.items()}, "steps": steps}
    with open(target, "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    print(f"wrote {len(CONFIGS)} optimizer trajectories (torch {torch.__version__}) to {target}")


if __name__ == "__main__":
    main(sys.argv[1])
