/**
 * The op case table on the WebGPU device: every case's float32 values and gradients against the
 * PyTorch goldens, eagerly, in graph mode (all passes, so fused kernels too) and under nb.jit.
 * float64 cases are CPU-only: WebGPU refuses float64 (see webgpu.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as nb from '../src/index.js';
import * as tf1 from '../src/tf1.js';
import { cotangentValues, inputValues, type OpCase } from './cases/case.js';
import { ALL_CASES } from './cases/index.js';
import { assertClose, loadGoldens, type GoldenRun } from './helpers/golden.js';
import { webgpuSkipReason } from './helpers/webgpu.js';

const skip = await webgpuSkipReason();
if (!skip) await nb.useDevice('webgpu');
const goldens = loadGoldens('ops.json');
/** float32, as on the CPU, with room for the GPU's transcendental functions and sum order. */
const TOLERANCE = { out: 2e-5, grad: 1e-4 };

function inputsOf(c: OpCase, create: (values: Float64Array, i: number) => nb.Tensor): nb.Tensor[] {
  const values = inputValues(c);
  return c.inputs.map((_, i) => create(Float64Array.from(values[i]!), i));
}

const dtypeOf = (c: OpCase, i: number): 'float32' | 'int32' =>
  c.inputs[i]!.dtype === 'float' ? 'float32' : 'int32';

async function check(
  label: string,
  golden: GoldenRun,
  out: nb.Tensor,
  grads: readonly (nb.Tensor | null)[],
): Promise<void> {
  assert.equal(out.device, 'webgpu', `${label}: computed on webgpu`);
  assert.deepEqual(out.shape, golden.shape, `${label} shape`);
  assertClose(await out.data(), golden.out, TOLERANCE.out, TOLERANCE.out / 10, `${label} output`);
  for (const [k, g] of grads.entries()) {
    const expected = golden.grads![k]!;
    if (!g)
      assert.ok(
        expected.every((v) => v === 0),
        `${label}: gradient ${k} is missing`,
      );
    else
      assertClose(
        await g.data(),
        expected,
        TOLERANCE.grad,
        TOLERANCE.grad / 10,
        `${label} gradient ${k}`,
      );
  }
}

function cotangent(c: OpCase, golden: GoldenRun): nb.Tensor {
  return nb.tensor(cotangentValues(c, golden.out.length), { shape: golden.shape });
}

async function eager(c: OpCase, golden: GoldenRun): Promise<void> {
  const inputs = inputsOf(c, (v, i) => {
    const t = nb.tensor(v, { shape: c.inputs[i]!.shape, dtype: dtypeOf(c, i) });
    return t.dtype === 'float32' ? t.requiresGrad_() : t;
  });
  const out = c.nb(...inputs);
  const differentiable = inputs.filter((t) => t.requiresGrad);
  const grads = golden.grads
    ? nb.grad([out], differentiable, { gradOutputs: [cotangent(c, golden)], allowUnused: true })
    : [];
  await check('eager', golden, out, grads);
}

async function graph(c: OpCase, golden: GoldenRun): Promise<void> {
  const g = new tf1.Graph();
  const placeholders = c.inputs.map((spec, i) =>
    tf1.placeholder(dtypeOf(c, i), spec.shape, 'x', g),
  );
  const out = c.nb(...placeholders);
  const differentiable = placeholders.filter((p) => p.requiresGrad);
  const grads = golden.grads ? tf1.gradients(out, differentiable, [cotangent(c, golden)]) : [];
  const feeds = new Map(
    inputsOf(c, (v, i) => nb.tensor(v, { shape: c.inputs[i]!.shape, dtype: dtypeOf(c, i) })).map(
      (t, i) => [placeholders[i]!, t],
    ),
  );
  const sess = new tf1.Session(g, { passes: tf1.ALL_PASSES });
  for (const run of ['graph', 'graph replay']) {
    const [value, ...gradValues] = sess.run([out, ...grads.map((x) => x ?? out)], feeds);
    await check(
      run,
      golden,
      value!,
      grads.map((x, k) => (x ? gradValues[k]! : null)),
    );
  }
}

async function jit(c: OpCase, golden: GoldenRun): Promise<void> {
  const withGrads = nb.jit((...inputs: nb.Tensor[]) => {
    const differentiable = inputs.filter((t) => t.dtype === 'float32');
    differentiable.forEach((t) => t.requiresGrad_());
    const out = c.nb(...inputs);
    if (!golden.grads) return [out];
    const grads = nb.grad([out], differentiable, {
      gradOutputs: [cotangent(c, golden)],
      allowUnused: true,
    });
    return [out, ...grads];
  });
  const inputs = inputsOf(c, (v, i) =>
    nb.tensor(v, { shape: c.inputs[i]!.shape, dtype: dtypeOf(c, i) }),
  );
  for (const run of ['jit trace', 'jit replay']) {
    const [out, ...grads] = withGrads(...inputs);
    await check(run, golden, out!, grads);
  }
}

/** Cases that make float64 tensors, which WebGPU refuses (the reason each is not run there). */
const FLOAT64_ONLY = new Set(['cast/to-float64']);

describe('ops on webgpu match PyTorch (float32)', { skip: skip ?? false }, () => {
  for (const c of ALL_CASES) {
    if (FLOAT64_ONLY.has(c.id)) {
      test(`${c.id} is refused: WebGPU has no float64`, () => {
        const inputs = inputsOf(c, (v, i) =>
          nb.tensor(v, { shape: c.inputs[i]!.shape, dtype: dtypeOf(c, i) }),
        );
        assert.throws(
          () => c.nb(...inputs),
          /Cast: the webgpu device has no float64 tensors.*'cpu'/,
        );
      });
      continue;
    }
    test(c.id, async () => {
      const golden = goldens.cases[c.id]!.float32;
      await eager(c, golden);
      await graph(c, golden);
      await jit(c, golden);
    });
  }
});
