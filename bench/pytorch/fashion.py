"""Fashion-MNIST in PyTorch (1 thread), as `nabla train --dataset fashion-mnist` trains it: inputs
/ 255, batch 64, Adam 1e-3, shuffled each epoch. `fashion.py MODEL EPOCHS SEED [SCHEDULE]`: MODEL
is `cnn` (A3, BENCHMARKS.md's CNN) or `mlp` (A2, 784-256-128-10); SCHEDULE is `none` (the default
here, as `--schedule none`) or `cosine` (nabla train's default: CosineAnnealingLR over the epochs,
stepped after each). Prints the test accuracy after each epoch, then a JSON line with the training
wall time and the final accuracy (for `npm run bench -- --compare`); exits with 2 when the dataset
is not installed."""
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

ROOT = '/usr/share/datasets/fashion-mnist'


def idx(name):
    for path in (f'{ROOT}/{name}', f'{ROOT}/{name}.gz'):
        try:
            opener = gzip.open if path.endswith('.gz') else open
            with opener(path, 'rb') as f:
                data = f.read()
            break
        except FileNotFoundError:
            continue
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], 'big') for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def build(name):
    nn = torch.nn
    if name == 'cnn':
        return nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)),
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def main(name='cnn', epochs=5, seed=0, schedule='none'):
    if not os.path.isdir(ROOT):
        print(f'{ROOT} is missing: install Debian\'s dataset-fashion-mnist', file=sys.stderr)
        sys.exit(2)
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    x = torch.tensor(idx('train-images-idx3-ubyte'), dtype=torch.float32).reshape(-1, 784) / 255
    y = torch.tensor(idx('train-labels-idx1-ubyte'), dtype=torch.int64)
    tx = torch.tensor(idx('t10k-images-idx3-ubyte'), dtype=torch.float32).reshape(-1, 784) / 255
    ty = torch.tensor(idx('t10k-labels-idx1-ubyte'), dtype=torch.int64)
    model = build(name)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs) if schedule == 'cosine' else None
    start = time.perf_counter()
    for epoch in range(epochs):
        order = torch.randperm(len(x))
        for b in range(0, len(x), 64):
            i = order[b:b + 64]
            loss = F.cross_entropy(model(x[i]), y[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if cosine:
            cosine.step()
        with torch.no_grad():
            accuracy = (model(tx).argmax(1) == ty).float().mean().item()
        print(f'epoch {epoch + 1}: test accuracy {accuracy:.4f} ({time.perf_counter() - start:.1f} s)')
    seconds = time.perf_counter() - start
    label = 'A2' if name == 'mlp' else 'A3'
    print(json.dumps({'workload': f'PyTorch {torch.__version__} {label} (1 thread)',
                      f'{label} seconds': seconds, f'{label} accuracy': accuracy}))


if __name__ == '__main__':
    args = sys.argv[1:]
    main(args[0] if args else 'cnn', *[int(a) for a in args[1:3]], *args[3:4])
