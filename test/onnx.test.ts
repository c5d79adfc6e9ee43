/**
 * ONNX export checked by real consumers: ONNX Runtime (onnxruntime-web, pure WASM, in Node) runs
 * each exported model to nabla's outputs, and Debian's python3-onnx checker accepts the files.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-web';
import * as nb from '../src/index.js';
import * as tf1 from '../src/tf1.js';
import { readModel } from '../src/cli/model-file.js';
import { tempDir } from './helpers/files.js';

/** Runs `bytes` in ONNX Runtime on `x` and returns its one output. */
async function runtime(bytes: Uint8Array, x: nb.Tensor): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const input = new ort.Tensor('float32', Float32Array.from(x.dataSync()), [...x.shape]);
  const result = await session.run({ [session.inputNames[0]!]: input });
  return result[session.outputNames[0]!]!.data as Float32Array;
}

function assertNear(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++)
    assert.ok(
      Math.abs(actual[i]! - expected[i]!) <= 1e-5 * (1 + Math.abs(expected[i]!)),
      `${what}: element ${i} is ${actual[i]} in ONNX Runtime, ${expected[i]} in nabla`,
    );
}

/** Whether Debian's python3 has onnx, for the checker test. */
const hasOnnxChecker = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import onnx.checker'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const files: Record<string, Uint8Array> = {};

function mlp(): nb.nn.Sequential {
  nb.manualSeed(1);
  return new nb.nn.Sequential(
    new nb.nn.Linear(6, 16),
    new nb.nn.ReLU(),
    new nb.nn.Linear(16, 8),
    new nb.nn.Sigmoid(),
    new nb.nn.Linear(8, 3),
    new nb.nn.Softmax(1),
  );
}

function cnn(): nb.nn.Sequential {
  nb.manualSeed(2);
  return new nb.nn.Sequential(
    new nb.nn.Unflatten(1, [1, 12, 12]),
    new nb.nn.Conv2d(1, 4, 3, { padding: 1 }),
    new nb.nn.BatchNorm2d(4),
    new nb.nn.ReLU(),
    new nb.nn.MaxPool2d(2),
    new nb.nn.Conv2d(4, 6, 3, { groups: 2, stride: 1, padding: 'same' }),
    new nb.nn.Tanh(),
    new nb.nn.AvgPool2d(2, { stride: 2, padding: 1 }),
    new nb.nn.AdaptiveAvgPool2d(2),
    new nb.nn.Flatten(),
    new nb.nn.Linear(24, 10),
    new nb.nn.BatchNorm1d(10),
    new nb.nn.LayerNorm(10),
    new nb.nn.Dropout(0.5),
    new nb.nn.Linear(10, 4),
  );
}

describe('ONNX export, run by ONNX Runtime', () => {
  test("an MLP gives nabla's outputs", async () => {
    const model = mlp();
    const x = nb.randn([5, 6]);
    files['mlp'] = await nb.onnx.exportModel(model, x);
    assertNear(await runtime(files['mlp'], x), nb.noGrad(() => model.forward(x)).dataSync(), 'MLP');
  });

  test("a CNN with batch norm, pooling, groups, layer norm and dropout gives nabla's eval outputs", async () => {
    const model = cnn();
    model.forward(nb.randn([8, 144])); // training: running estimates move away from 0 and 1
    const x = nb.randn([3, 144]);
    files['cnn'] = await nb.onnx.exportModel(model, x);
    assert.equal(model.training, true, 'export leaves the model in its mode');
    const expected = nb.noGrad(() => model.eval().forward(x)).dataSync();
    assertNear(await runtime(files['cnn'], x), expected, 'CNN');
  });

  test('a tf1 graph exports with the values its session trained', async () => {
    const g = new tf1.Graph();
    nb.manualSeed(3);
    const X = tf1.placeholder('float32', [4, 3], 'X', g);
    const w = new tf1.Variable(tf1.randomNormal([3, 2]), { graph: g });
    const b = new tf1.Variable(tf1.zeros([2]), { graph: g });
    const out = tf1.tanh(tf1.add(tf1.matmul(X, w), b));
    const loss = tf1.reduceMean(tf1.square(out));
    const train = new tf1.train.GradientDescentOptimizer(0.5).minimize(loss);
    const sess = new tf1.Session(g);
    sess.run(tf1.globalVariablesInitializer(g));
    const x = nb.randn([4, 3]);
    for (let i = 0; i < 3; i++) sess.run(train, new Map([[X, x]]));
    files['tf1'] = await nb.onnx.exportGraph(g, X, out, { session: sess });
    assertNear(await runtime(files['tf1'], x), sess.run(out, new Map([[X, x]])).dataSync(), 'tf1');
  });

  test('parameters and buffers keep their state-dict names', async () => {
    const names = await (async () => {
      const session = await ort.InferenceSession.create(files['cnn']!);
      return session.inputNames.concat(session.outputNames);
    })();
    assert.deepEqual(names, ['input', 'output']);
    const text = new TextDecoder('latin1').decode(files['cnn']);
    for (const name of [
      '1.weight',
      '2.running_mean',
      '2.running_var',
      '11.running_var',
      '12.weight',
    ])
      assert.ok(text.includes(name), `initializer ${name}`);
  });

  test('an op with no ONNX form is refused with its name', async () => {
    const uneven = new nb.nn.Sequential(new nb.nn.AdaptiveAvgPool2d([3, 2]));
    await assert.rejects(
      nb.onnx.exportModel(uneven, nb.zeros([1, 1, 7, 5])),
      /adaptiveAvgPool2d: 7×5 → 3×2 has no ONNX operator/,
    );
    class Scatter extends nb.nn.Module {
      forward(x: nb.Tensor): nb.Tensor {
        return x
          .slice(1, 0, 4, 2)
          .gather(1, nb.zeros([2, 2], { dtype: 'int32' }))
          .add(1);
      }
    }
    await assert.doesNotReject(nb.onnx.exportModel(new Scatter(), nb.zeros([2, 4])));
    class Scattering extends nb.nn.Module {
      forward(x: nb.Tensor): nb.Tensor {
        return nb.scatterAdd([2, 3], 0, nb.zeros([1, 3], { dtype: 'int32' }), x);
      }
    }
    await assert.rejects(
      nb.onnx.exportModel(new Scattering(), nb.zeros([1, 3])),
      /onnx: the op ScatterAdd has no ONNX mapping/,
    );
  });

  test('nabla export writes what nabla train made (a CNN spec), and ONNX Runtime agrees with it', async () => {
    const dir = tempDir();
    const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
    const nabla = (...args: string[]): string =>
      execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
    nabla(
      'train',
      '--dataset',
      'mnist',
      '--model',
      'c4,bn,relu,pool,fc16,relu',
      '--epochs',
      '1',
      '--out',
      dir,
    );
    const onnxPath = join(dir, 'model.onnx');
    assert.match(
      nabla(
        'export',
        '--model',
        join(dir, 'model.safetensors'),
        '--onnx',
        onnxPath,
        '--batch',
        '2',
      ),
      /wrote .*model\.onnx .*opset 17/,
    );
    files['cli'] = new Uint8Array(readFileSync(onnxPath));
    const { model } = readModel(join(dir, 'model.safetensors'));
    const x = nb.rand([2, 784]);
    assertNear(
      await runtime(files['cli'], x),
      nb.noGrad(() => model.eval().forward(x)).dataSync(),
      'CLI model',
    );
  });

  test(
    'onnx.checker accepts every file',
    { skip: !hasOnnxChecker && 'needs Debian python3-onnx' },
    () => {
      const dir = tempDir();
      for (const [name, bytes] of Object.entries(files)) {
        const path = join(dir, `${name}.onnx`);
        writeFileSync(path, bytes);
        const out = execFileSync(
          '/usr/bin/python3',
          [
            '-c',
            'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print("ok")',
            path,
          ],
          { encoding: 'utf8' },
        );
        assert.equal(out.trim(), 'ok', name);
      }
      assert.ok(existsSync(dir));
    },
  );
});
