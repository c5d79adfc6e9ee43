"""Writes test/golden/torch-cnn.safetensors: the state dict of a small CNN trained for a few steps in
PyTorch (so BatchNorm's running estimates and num_batches_tracked are not their initial values),
and test/golden/torch-cnn.json: an input and the model's outputs for it in eval and train mode, for
test/nn.test.ts to load the state dict into the same network in nabla and compare."""
import json
import sys

import torch
from safetensors_fixture import write


def model():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 6, 3, groups=2, bias=False),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d((2, 2)),
        torch.nn.Flatten(),
        torch.nn.Linear(24, 8),
        torch.nn.BatchNorm1d(8),
        torch.nn.LayerNorm(8),
        torch.nn.Linear(8, 3),
    )


def main(target, values_target):
    torch.manual_seed(0)
    torch.set_num_threads(1)
    net = model()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(3):
        x = torch.randn(5, 1, 10, 10)
        loss = torch.nn.functional.cross_entropy(net(x), torch.randint(0, 3, (5,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    x = torch.randn(4, 1, 10, 10)
    net.eval()
    with torch.no_grad():
        evaluated = net(x)
    write(target, dict(net.state_dict()))
    with open(values_target, "w") as f:
        json.dump({"torch": torch.__version__, "keys": list(net.state_dict().keys()),
                   "input": x.flatten().tolist(), "inputShape": list(x.shape),
                   "eval": evaluated.flatten().tolist()}, f, indent=1)
        f.write("\n")
    print(f"wrote {target} and {values_target}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
