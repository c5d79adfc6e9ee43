/**
 * The WebGPU device beyond the op table: results equal the CPU's for random shapes (sizes that do
 * not divide the tiles, views, broadcasting), training equals the CPU's, memory stays flat when
 * nothing is disposed, and failures are errors rather than hangs. On lavapipe (Mesa's software
 * Vulkan) where the machine has no GPU.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as nb from '../src/index.js';
import * as tf1 from '../src/tf1.js';
import { webgpuSkipReason } from './helpers/webgpu.js';
import type { TrainConfig } from '../src/cli/train.js';

const skip = await webgpuSkipReason();

/** |a − b| ≤ atol + rtol·|b| everywhere. */
function assertNear(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  what: string,
  rtol = 1e-5,
  atol = 1e-5,
): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < b.length; i++) {
    const ok = Number.isNaN(b[i]!)
      ? Number.isNaN(a[i]!)
      : Math.abs(a[i]! - b[i]!) <= atol + rtol * Math.abs(b[i]!);
    if (!ok) assert.fail(`${what}: element ${i} is ${a[i]} on webgpu, ${b[i]} on cpu`);
  }
}

/** `fn` on CPU tensors and on their copies on webgpu, compared. */
async function sameOnBoth(
  what: string,
  inputs: nb.Tensor[],
  fn: (...xs: nb.Tensor[]) => nb.Tensor,
  rtol = 1e-5,
): Promise<void> {
  const cpu = fn(...inputs);
  const gpu = fn(...inputs.map((x) => x.to('webgpu')));
  assert.equal(gpu.device, 'webgpu');
  assert.deepEqual(gpu.shape, cpu.shape, `${what}: shape`);
  assert.equal(gpu.dtype, cpu.dtype, `${what}: dtype`);
  assertNear(await gpu.data(), cpu.dataSync(), what, rtol);
}

describe('webgpu equals cpu', { skip: skip ?? false }, () => {
  const random = (seed: number): (() => number) => {
    let x = seed;
    return () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  };

  test('matrix products of random sizes, transposed views and broadcast batches', async () => {
    const next = random(7);
    const size = (): number => 1 + Math.floor(next() * 150);
    nb.manualSeed(1);
    for (let trial = 0; trial < 8; trial++) {
      const [m, k, n] = [size(), size(), size()];
      const a = nb.randn([m, k]);
      const b = nb.randn([k, n]);
      await sameOnBoth(`${m}×${k}·${k}×${n}`, [a, b], (x, y) => x!.matmul(y!), 1e-4);
      await sameOnBoth(
        `(${k}×${m})ᵀ·${k}×${n}`,
        [a.T.contiguous(), b],
        (x, y) => x!.T.matmul(y!),
        1e-4,
      );
      await sameOnBoth(
        `${m}×${k}·(${n}×${k})ᵀ`,
        [a, b.T.contiguous()],
        (x, y) => x!.matmul(y!.T),
        1e-4,
      );
    }
    await sameOnBoth(
      'batched, broadcast',
      [nb.randn([3, 1, 5, 70]), nb.randn([4, 70, 9])],
      (x, y) => x!.matmul(y!),
      1e-4,
    );
    // Rows contiguous and 4-aligned: vec4 loads and stores; then a view offset by one: scalar.
    await sameOnBoth(
      'aligned, vec4',
      [nb.randn([2, 128, 64]), nb.randn([64, 96])],
      (x, y) => x!.matmul(y!),
      1e-4,
    );
    await sameOnBoth(
      'offset view',
      [nb.randn([130, 65]), nb.randn([64, 96])],
      (x, y) => x!.narrow(1, 1, 64).matmul(y!),
      1e-4,
    );
    await sameOnBoth('int32', [nb.randint(-5, 5, [17, 33]), nb.randint(-5, 5, [33, 65])], (x, y) =>
      x!.matmul(y!),
    );
    // Each thread computes 8 × 8 of the output; sizes that do not divide the blocks, operands
    // aligned (vec4), transposed and offset.
    const [a, b] = [nb.randn([128, 130, 36]), nb.randn([128, 36, 135])];
    await sameOnBoth('8 × 8 register blocks', [a, b], (x, y) => x!.matmul(y!), 1e-4);
    await sameOnBoth(
      '8 × 8 register blocks, transposed',
      [a.transpose(1, 2).contiguous(), b.transpose(1, 2).contiguous()],
      (x, y) => x!.transpose(1, 2).matmul(y!.transpose(1, 2)),
      1e-4,
    );
    await sameOnBoth(
      '8 × 8 register blocks, offset view',
      [a, b],
      (x, y) => x!.narrow(2, 1, 35).matmul(y!.narrow(1, 0, 35)),
      1e-4,
    );
  });

  test('elementwise ops over views and broadcasts, and reductions over random dims', async () => {
    const next = random(11);
    nb.manualSeed(2);
    for (let trial = 0; trial < 12; trial++) {
      const shape = Array.from(
        { length: 1 + Math.floor(next() * 4) },
        () => 1 + Math.floor(next() * 9),
      );
      const x = nb.randn(shape);
      const y = nb.randn(shape.slice(Math.floor(next() * shape.length)));
      const dims = shape.map((_, d) => d).filter(() => next() < 0.5);
      const label = `[${shape}] dims ${dims}`;
      await sameOnBoth(`${label} a·b+exp(a)`, [x, y], (a, b) => a!.mul(b!).add(a!.exp()));
      await sameOnBoth(`${label} transposed tanh`, [x], (a) => a!.T.tanh().sigmoid());
      await sameOnBoth(`${label} sum`, [x], (a) => a!.sum(dims, true), 1e-4);
      await sameOnBoth(`${label} max`, [x], (a) => a!.max(shape.length - 1));
      await sameOnBoth(`${label} argmin`, [x], (a) => a!.argmin(0));
      await sameOnBoth(`${label} softmax`, [x], (a) => a!.logSoftmax(-1), 1e-4);
      await sameOnBoth(`${label} where`, [x, y], (a, b) => nb.where(a!.gt(b!), a!, b!.neg()));
    }
  });

  test('a reduction over more elements than a workgroup has threads, and a 1M-element map', async () => {
    nb.manualSeed(3);
    await sameOnBoth('sum of 100,000', [nb.rand([100000])], (a) => a!.sum(), 1e-4);
    await sameOnBoth('argmax of 70,000', [nb.randn([70000])], (a) => a!.argmax());
    await sameOnBoth('1M a*b+c', [nb.randn([1000, 1000]), nb.randn([1000])], (a, b) =>
      a!.mul(b!).add(1),
    );
  });

  test('indexing: gather, indexSelect, cat, slices with steps, scatter-add through gradients', async () => {
    nb.manualSeed(4);
    const x = nb.randn([6, 7]);
    const index = nb.tensor(
      [
        [0, 6, 3],
        [1, 1, 2],
        [5, 0, 6],
        [2, 2, 2],
        [4, 3, 1],
        [6, 5, 0],
      ],
      { dtype: 'int32' },
    );
    await sameOnBoth('gather', [x, index], (a, i) => a!.gather(1, i!));
    await sameOnBoth('cat', [x, x.slice(1, 0, 7, 2)], (a, b) => nb.cat([a!, b!, a!], 1));
    const w = nb.randn([6, 7]).requiresGrad_();
    const gradOf = (a: nb.Tensor): nb.Tensor => {
      const leaf = a.detach().requiresGrad_();
      leaf
        .slice(0, 1, 6, 2)
        .gather(1, index.slice(0, 0, 3).to(a.device))
        .square()
        .sum()
        .backward();
      return leaf.grad!;
    };
    assertNear(await gradOf(w.to('webgpu')).data(), gradOf(w).dataSync(), 'slice+gather gradient');
  });

  test('20 Adam steps of an MLP equal the CPU steps', async () => {
    const run = async (device: nb.Device): Promise<Float32Array[]> => {
      nb.manualSeed(5);
      const model = new nb.nn.Sequential(
        new nb.nn.Linear(20, 33),
        new nb.nn.Tanh(),
        new nb.nn.Linear(33, 4),
      );
      const x = nb.randn([50, 20]);
      const y = nb.randint(0, 4, [50]);
      model.to(device);
      const [xd, yd] = [x.to(device), y.to(device)];
      const opt = new nb.optim.Adam(model.parameters(), { lr: 0.01 });
      for (let i = 0; i < 20; i++) {
        opt.zeroGrad();
        nb.nn.functional.crossEntropy(model.forward(xd), yd).backward();
        opt.step();
      }
      return Promise.all(model.parameters().map(async (p) => (await p.data()) as Float32Array));
    };
    const [cpu, gpu] = [await run('cpu'), await run('webgpu')];
    cpu.forEach((p, i) => assertNear(gpu[i]!, p, `parameter ${i}`, 1e-4, 1e-5));
  });

  test('a jit-compiled training step and a tf1 minimize step equal the eager CPU steps', async () => {
    const setup = (device: nb.Device) => {
      nb.manualSeed(6);
      const model = new nb.nn.Sequential(
        new nb.nn.Linear(8, 16),
        new nb.nn.ReLU(),
        new nb.nn.Linear(16, 1),
      );
      const x = nb.randn([32, 8]);
      const y = nb.randn([32, 1]);
      model.to(device);
      return { model, x: x.to(device), y: y.to(device) };
    };
    const cpu = setup('cpu');
    const cpuOpt = new nb.optim.SGD(cpu.model.parameters(), { lr: 0.1, momentum: 0.9 });
    const gpu = setup('webgpu');
    const gpuOpt = new nb.optim.SGD(gpu.model.parameters(), { lr: 0.1, momentum: 0.9 });
    const step = nb.jit((x: nb.Tensor, y: nb.Tensor) => {
      gpuOpt.zeroGrad();
      const loss = nb.nn.functional.mse(gpu.model.forward(x), y);
      loss.backward();
      gpuOpt.step();
      return loss;
    });
    for (let i = 0; i < 10; i++) {
      cpuOpt.zeroGrad();
      const loss = nb.nn.functional.mse(cpu.model.forward(cpu.x), cpu.y);
      loss.backward();
      cpuOpt.step();
      const gpuLoss = step(gpu.x, gpu.y);
      assertNear([await gpuLoss.itemAsync()], [loss.item()], `loss ${i}`, 1e-4);
    }

    // TF1: minimize() as a train op, on webgpu feeds and variables.
    await nb.useDevice('webgpu');
    try {
      const x = tf1.placeholder('float32', [null, 2]);
      const w = new tf1.Variable(tf1.tensor([[0.5], [-0.5]]));
      const loss = tf1.reduceMean(tf1.square(tf1.matmul(x, w).sub(1)));
      const train = new tf1.train.GradientDescentOptimizer(0.1).minimize(loss);
      const sess = new tf1.Session();
      sess.run(tf1.globalVariablesInitializer());
      const feed = new Map([
        [
          x,
          tf1.tensor([
            [1, 2],
            [3, 4],
          ]),
        ],
      ]);
      for (let i = 0; i < 3; i++) sess.run(train, feed);
      const [value] = sess.run([loss], feed);
      assert.equal(value!.device, 'webgpu');
      // The same three steps by hand, in float64 on the CPU.
      let [w0, w1] = [0.5, -0.5];
      const rows = [
        [1, 2],
        [3, 4],
      ];
      for (let i = 0; i < 3; i++) {
        const r = rows.map(([a, b]) => a! * w0 + b! * w1 - 1);
        w0 -= 0.1 * (r[0]! * 1 + r[1]! * 3);
        w1 -= 0.1 * (r[0]! * 2 + r[1]! * 4);
      }
      const expected = rows.reduce((s, [a, b]) => s + (a! * w0 + b! * w1 - 1) ** 2, 0) / 2;
      assertNear([await value!.itemAsync()], [expected], 'tf1 loss', 1e-4);
    } finally {
      await nb.useDevice('cpu');
    }
  });

  test('graph fusion makes a bias and activation the epilogue of their matmul', async () => {
    const run = async (device: nb.Device): Promise<{ value: nb.Tensor; labels: string[] }> => {
      await nb.useDevice(device); // placeholders live on the default device
      const g = new tf1.Graph();
      const x = tf1.placeholder('float32', [null, 70], 'x', g);
      await nb.useDevice('cpu');
      nb.manualSeed(9);
      const w = nb.randn([70, 33]).to(device);
      const b = nb.randn([33]).to(device);
      const out = tf1.sigmoid(tf1.add(tf1.matmul(x, w), b)).mul(2);
      const sess = new tf1.Session(g);
      // A CPU feed goes to the placeholder's device.
      const value = sess.run(out, new Map([[x, nb.randn([45, 70])]]));
      assert.equal(value.device, device);
      const plans = (sess as unknown as { plans: Map<string, { steps: { label: string }[] }> })
        .plans;
      return { value, labels: [...plans.values()].at(-1)!.steps.map((s) => s.label) };
    };
    const [cpu, gpu] = [await run('cpu'), await run('webgpu')];
    assert.deepEqual(gpu.labels, ['Fused(MatMul, Add, Sigmoid, Mul)']);
    assert.deepEqual(cpu.labels, ['MatMul', 'Fused(Add, Sigmoid, Mul)']);
    assertNear(await gpu.value.data(), cpu.value.dataSync(), 'fused product', 1e-5);
  });

  test('a CNN with batch norm trains on webgpu as on the cpu; its buffers move with it', async () => {
    const run = async (device: nb.Device): Promise<Float32Array[]> => {
      nb.manualSeed(10);
      const model = new nb.nn.Sequential(
        // No bias before batch norm: its gradient is rounding noise, which Adam would amplify.
        new nb.nn.Conv2d(1, 4, 3, { padding: 1, bias: false }),
        new nb.nn.BatchNorm2d(4),
        new nb.nn.ReLU(),
        new nb.nn.MaxPool2d(2),
        new nb.nn.Flatten(),
        new nb.nn.Linear(4 * 4 * 4, 3),
      ).to(device);
      const x = nb.randn([6, 1, 8, 8]).to(device);
      const y = nb.randint(0, 3, [6]).to(device);
      const opt = new nb.optim.Adam(model.parameters(), { lr: 0.01 });
      for (let i = 0; i < 5; i++) {
        opt.zeroGrad();
        nb.nn.functional.crossEntropy(model.forward(x), y).backward();
        opt.step();
      }
      const state = model.stateDict();
      assert.equal(state['1.running_mean']!.device, device);
      return Promise.all(Object.values(state).map(async (t) => Float32Array.from(await t.data())));
    };
    const [cpu, gpu] = [await run('cpu'), await run('webgpu')];
    cpu.forEach((values, i) => assertNear(gpu[i]!, values, `state ${i}`, 1e-3, 1e-4));
  });

  test('live buffers stay flat over 1,000 steps of a for-await DataLoader loop that disposes nothing', async () => {
    nb.manualSeed(8);
    const data = new nb.data.TensorDataset(
      nb.randn([256, 16]).to('webgpu'),
      nb.randint(0, 3, [256]).to('webgpu'),
    );
    const loader = new nb.data.DataLoader(data, { batchSize: 64, shuffle: true });
    const model = new nb.nn.Sequential(
      new nb.nn.Linear(16, 32),
      new nb.nn.ReLU(),
      new nb.nn.Linear(32, 3),
    ).to('webgpu');
    const opt = new nb.optim.Adam(model.parameters());
    const live: number[] = [];
    let step = 0;
    while (step < 1000) {
      for await (const [x, y] of loader) {
        opt.zeroGrad();
        nb.nn.functional.crossEntropy(model.forward(x!), y!).backward();
        opt.step();
        if (++step % 100 === 0) {
          live.push(nb.memory().webgpu!.buffers!);
        }
      }
    }
    // Dead tensors' buffers come back after collections (a sawtooth): bounded, not growing.
    const half = live.length / 2;
    const [early, late] = [Math.max(...live.slice(0, half)), Math.max(...live.slice(half))];
    assert.ok(
      late <= early * 1.25 && late < 3000,
      `live buffers every 100 steps: ${live.join(', ')}`,
    );
  });
});

describe('nabla train --device webgpu', { skip: skip ?? false }, () => {
  test('trains, checkpoints and writes its files as on the cpu, to the same accuracy', async () => {
    const { runTrain } = await import('../src/cli/train.js');
    const { tempDir } = await import('./helpers/files.js');
    const accuracy = async (device: nb.Device): Promise<number> => {
      const out = tempDir();
      const config: TrainConfig = {
        dataset: 'moons',
        hidden: [16],
        activation: 'tanh',
        epochs: 3,
        batchSize: 32,
        lr: 0.02,
        optimizer: 'adam',
        schedule: 'cosine',
        seed: 0,
        device,
        out,
        dataDir: '',
      };
      const lines: string[] = [];
      const result = await runTrain(config, (line) => lines.push(line));
      assert.match(lines[0]!, new RegExp(`on ${device}`));
      assert.ok(
        result.files.some((f) => f.endsWith('decision-boundary.png')),
        result.files.join(),
      );
      return result.testAccuracy!;
    };
    const [cpu, gpu] = [await accuracy('cpu'), await accuracy('webgpu')];
    assert.ok(Math.abs(cpu - gpu) <= 0.005, `test accuracy ${gpu} on webgpu, ${cpu} on cpu`);
  });
});

describe('webgpu errors', { skip: skip ?? false }, () => {
  test('float64 is refused naming the op; synchronous reads say to await', async () => {
    assert.throws(
      () => nb.tensor([1, 2], { dtype: 'float64', device: 'webgpu' }),
      /float64.*'cpu'/,
    );
    const x = nb.tensor([1.5, 2], { device: 'webgpu' });
    assert.throws(() => x.to('float64'), /Cast: the webgpu device has no float64 tensors/);
    assert.throws(
      () => x.dataSync(),
      /dataSync: a webgpu tensor cannot be read synchronously; use await t.data\(\)/,
    );
    assert.throws(() => x.item(), /item: a webgpu tensor cannot be read synchronously/);
    assert.throws(
      () => x.to('cpu'),
      /to: a webgpu tensor is read asynchronously: use await t.toAsync\('cpu'\)/,
    );
    assert.deepEqual(Array.from((await x.toAsync('cpu')).dataSync()), [1.5, 2]);
    assert.match(
      String(x),
      /tensor\(<on webgpu: await t\.data\(\) to read>, shape=\[2\], dtype=float32, device=webgpu\)/,
    );
  });

  test('tensors on different devices are refused; a 0-d CPU tensor is an operand anywhere', async () => {
    const x = nb.tensor([1, 2], { device: 'webgpu' });
    assert.throws(
      () => x.add(nb.tensor([1, 2])),
      /Add: inputs are on different devices \(webgpu and cpu\); move one with t.to\('webgpu'\)/,
    );
    const scaled = x.mul(nb.tensor(3, { dtype: 'float64' }));
    assert.equal(scaled.device, 'webgpu');
    assert.equal(scaled.dtype, 'float32');
    assert.deepEqual(await scaled.array(), [3, 6]);
    // Each value is uploaded once and kept by its bits: 0 and -0 stay apart, and more distinct
    // values than are kept (64) still each read as themselves.
    assert.deepEqual(await nb.tensor(1, { device: 'webgpu' }).div(nb.tensor(0)).array(), Infinity);
    assert.deepEqual(
      await nb.tensor(1, { device: 'webgpu' }).div(nb.tensor(-0)).array(),
      -Infinity,
    );
    let sum = nb.zeros([2], { device: 'webgpu' });
    for (let k = 1; k <= 300; k++) sum = sum.add(x.mul(nb.tensor(k)));
    assert.deepEqual(await sum.array(), [45150, 90300]);
  });

  test('a kernel that does not compile fails the next read with an error naming the op', async () => {
    const child = `
      import * as nb from './dist/src/index.js';
      await nb.useDevice('webgpu');
      const x = nb.tensor([1, 2]);
      const { context } = (await nb.startDevice('webgpu'));
      context.dispatch({ op: 'BrokenOp', source: 'this is not WGSL', buffers: [x.buffer.gpu], params: new Uint32Array(4), workgroups: [1] });
      try { await x.data(); console.log('no error'); } catch (e) { console.log(e.message); }`;
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', child], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    assert.match(out, /BrokenOp: the WebGPU kernel did not compile/);
  });

  test('a process that used the GPU exits by itself', () => {
    const child = `
      import * as nb from './dist/src/index.js';
      await nb.useDevice('webgpu');
      console.log(await nb.ones([64, 64]).matmul(nb.ones([64, 64])).sum().itemAsync());`;
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', child], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    assert.equal(out.trim(), String(64 * 64 * 64));
  });
});
