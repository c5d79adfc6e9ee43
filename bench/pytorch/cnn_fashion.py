"""A3: BENCHMARKS.md's CNN on Fashion-MNIST in PyTorch (1 thread), as `nabla train --dataset
fashion-mnist --model cnn --schedule none` trains it: inputs / 255, batch 64, Adam 1e-3, shuffled
each epoch. Prints the test accuracy after each epoch and the wall time."""
import gzip
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


def main(epochs=5, seed=0):
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    x = torch.tensor(idx('train-images-idx3-ubyte'), dtype=torch.float32).unsqueeze(1) / 255
    y = torch.tensor(idx('train-labels-idx1-ubyte'), dtype=torch.int64)
    tx = torch.tensor(idx('t10k-images-idx3-ubyte'), dtype=torch.float32).unsqueeze(1) / 255
    ty = torch.tensor(idx('t10k-labels-idx1-ubyte'), dtype=torch.int64)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(1600, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    for epoch in range(epochs):
        order = torch.randperm(len(x))
        for b in range(0, len(x), 64):
            i = order[b:b + 64]
            loss = F.cross_entropy(model(x[i]), y[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            accuracy = (model(tx).argmax(1) == ty).float().mean().item()
        print(f'epoch {epoch + 1}: test accuracy {accuracy:.4f} ({time.perf_counter() - start:.1f} s)')


if __name__ == '__main__':
    main(*[int(a) for a in sys.argv[1:]])
