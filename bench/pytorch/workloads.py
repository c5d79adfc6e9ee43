"""The BENCHMARKS.md workloads in PyTorch, for `npm run bench -- --compare` (same definitions as
bench/workloads/training.ts). `workloads.py THREADS [W2]`: prints one JSON line with every
workload's figure (or W2's alone). Run with OPENBLAS_CORETYPE unset and
MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=268435456, as the anchors were."""
import json
import sys
import time

import torch
import torch.nn.functional as F


# Warm-up: `warmup` calls and at least 1.5 s, as bench/harness.ts warms up nabla's workloads.
MIN_WARMUP_S = 1.5


def median_ms(fn, reps, warmup=1):
    start, calls = time.perf_counter(), 0
    while calls < warmup or time.perf_counter() - start < MIN_WARMUP_S:
        fn()
        calls += 1
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)[len(times) // 2]


def mlp(widths):
    layers = []
    for i in range(1, len(widths)):
        layers.append(torch.nn.Linear(widths[i - 1], widths[i]))
        if i < len(widths) - 1:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def mlp_epoch(widths, batch, samples, reps):
    torch.manual_seed(0)
    model = mlp(widths)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(samples, 784)
    y = torch.randint(0, 10, (samples,))

    def epoch():
        for start in range(0, samples, batch):
            loss = F.cross_entropy(model(x[start:start + batch]), y[start:start + batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return samples / (median_ms(epoch, reps) / 1000)


def xor_run():
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1), torch.nn.Sigmoid())
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.tensor([[0., 0.], [0., 1.], [1., 0.], [1., 1.]])
    y = torch.tensor([[0.], [1.], [1.], [0.]])
    for _ in range(2000):
        loss = F.binary_cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


def cnn_samples_per_second(batches=40, reps=3):
    """W7: BENCHMARKS.md's CNN, batch 64, Adam 1e-3, on one fixed batch of U[0,1) images."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(1600, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(64, 1, 28, 28)
    y = torch.randint(0, 10, (64,))

    def run():
        for _ in range(batches):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return 64 * batches / (median_ms(run, reps) / 1000)


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
    threads = torch.get_num_threads()
    out = {"workload": f"PyTorch {torch.__version__} ({threads} thread{'s' if threads > 1 else ''})"}
    if sys.argv[2:] == ["W2"]:  # W2 alone, for bench/run.ts's interleaved comparison
        out["W2 samples/s"] = mlp_epoch([784, 128, 10], 64, 10_000, 5)
        print(json.dumps(out))
        return
    for n in (64, 256, 1024):
        a, b = torch.randn(n, n), torch.randn(n, n)
        out[f"W1 N={n} GFLOPS"] = 2 * n ** 3 / (median_ms(lambda: a @ b, 15 if n < 1024 else 5, 2) * 1e6)
    out["W2 samples/s"] = mlp_epoch([784, 128, 10], 64, 10_000, 5)
    out["W3 samples/s"] = mlp_epoch([784, 1024, 1024, 10], 256, 2_560, 3)
    out["W4 steps/s"] = 2000 / (median_ms(xor_run, 5) / 1000)
    out["W7 samples/s"] = cnn_samples_per_second()
    n = 4_000_000
    a, b, c = torch.randn(n), torch.randn(n), torch.randn(n)
    with torch.no_grad():
        out["W5 GB/s"] = 16 * n / (median_ms(lambda: a * b + c, 21, 5) * 1e6)
        out["W5 addcmul GB/s"] = 16 * n / (median_ms(lambda: torch.addcmul(c, a, b), 21, 5) * 1e6)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
