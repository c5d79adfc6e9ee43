"""The GPU workloads of bench/workloads/webgpu.ts in PyTorch CUDA, float32 with TF32 off, for
`npm run bench -- --device webgpu` on a machine with an NVIDIA GPU. Prints one JSON line with the
same keys. Exits with status 2 when torch has no CUDA device."""
import json
import sys
import time

import torch
import torch.nn.functional as F

if not torch.cuda.is_available():
    sys.exit(2)
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
dev = torch.device('cuda')


def ms_per_call(fn, reps, warmup=2):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(reps):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - start) * 1000 / reps


figures = {'workload': 'PyTorch %s CUDA (%s), fp32, TF32 off' % (torch.__version__, torch.cuda.get_device_name())}
torch.manual_seed(0)

# As nabla's side does: 1.5 s of products first, so that the GPU's clocks are up.
warm = torch.randn(4096, 4096, device=dev)
until = time.perf_counter() + 1.5
while time.perf_counter() < until:
    ms_per_call(lambda: warm @ warm, 4, 0)
del warm
for n in (1024, 4096):
    a, b = torch.randn(n, n, device=dev), torch.randn(n, n, device=dev)
    figures['W1 N=%d TFLOP/s' % n] = 2 * n ** 3 / (ms_per_call(lambda: a @ b, 20) * 1e9)

# W6's products, forward and backward (bench/workloads/webgpu.ts).
batch, inputs, hidden = 4096, 784, 1024
x = torch.randn(batch, inputs, device=dev)
w = torch.randn(hidden, inputs, device=dev)
dy = torch.randn(batch, hidden, device=dev)
products = (
    ('x·Wᵀ %d×%d·%d×%d' % (batch, inputs, inputs, hidden), lambda: x @ w.T),
    ('dY·W %d×%d·%d×%d' % (batch, hidden, hidden, inputs), lambda: dy @ w),
    ('dYᵀ·x %d×%d·%d×%d' % (hidden, batch, batch, inputs), lambda: dy.T @ x),
)
for name, product in products:
    figures[name + ' TFLOP/s'] = 2 * batch * inputs * hidden / (ms_per_call(product, 20) * 1e9)
del x, w, dy

elements = 64 * 2 ** 20
a, b, c = (torch.rand(elements, device=dev) for _ in range(3))
figures['a*b+c 64M GB/s'] = 24 * elements / (ms_per_call(lambda: a * b + c, 20) * 1e6)
figures['a*b+c 64M jit GB/s'] = 16 * elements / (ms_per_call(lambda: torch.addcmul(c, a, b), 20) * 1e6)

tiny = torch.ones(64, device=dev)


def chain():
    t = tiny
    for _ in range(1000):
        t = t + 1
    return t


figures['µs per dispatch'] = ms_per_call(chain, 3)
figures['µs per submit + read'] = 1000 * ms_per_call(lambda: (tiny + 1)[0].item(), 50)


def training(widths, batch, samples):
    torch.manual_seed(0)
    layers = []
    for i in range(1, len(widths)):
        layers.append(torch.nn.Linear(widths[i - 1], widths[i]))
        if i < len(widths) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(samples, widths[0], device=dev)
    y = torch.randint(0, widths[-1], (samples,), device=dev)

    def epoch():
        for start in range(0, samples - batch + 1, batch):
            loss = F.cross_entropy(model(x[start:start + batch]), y[start:start + batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return samples / (ms_per_call(epoch, 3, 1) / 1000)


figures['W2 jit samples/s'] = training([784, 128, 10], 64, 10000)
figures['W3 jit samples/s'] = training([784, 1024, 1024, 10], 256, 2560)
figures['W6 jit samples/s'] = training([784, 1024, 1024, 10], 4096, 8 * 4096)
print(json.dumps(figures))
