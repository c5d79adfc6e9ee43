/**
 * Page (c)'s model, in a Worker: 784 → 128 (ReLU) → 10, trained on the bundled digits (8,000 to
 * train, 2,000 to test, shuffled with seed 0) or loaded from a model.safetensors of that shape.
 * Messages in: `train` (one epoch), `load` (file bytes), `predict` (784 pixels in [0, 1]).
 */
// Relative paths: import maps do not reach workers.
import * as nb from './nabla.js';

const PIXELS = 784;
let model = null;
let data = null;

function freshModel() {
  nb.manualSeed(0);
  return new nb.nn.Sequential(
    new nb.nn.Linear(PIXELS, 128),
    new nb.nn.ReLU(),
    new nb.nn.Linear(128, 10),
  );
}

async function loadDigits() {
  const bytes = new Uint8Array(await (await fetch('./digits.bin')).arrayBuffer());
  const n = bytes.length / (PIXELS + 1);
  const order = new nb.data.DataLoader(new nb.data.TensorDataset(nb.arange(n)), {
    batchSize: n,
    shuffle: true,
    seed: 0,
  });
  const [shuffled] = [...order][0];
  const indices = shuffled.dataSync();
  const x = new Float32Array(n * PIXELS);
  const y = new Int32Array(n);
  indices.forEach((source, i) => {
    y[i] = bytes[source * (PIXELS + 1)];
    for (let p = 0; p < PIXELS; p++) x[i * PIXELS + p] = bytes[source * (PIXELS + 1) + 1 + p] / 255;
  });
  const X = nb.tensor(x, { shape: [n, PIXELS] });
  const Y = nb.tensor(y);
  const split = n - 2000;
  return {
    trainX: X.narrow(0, 0, split),
    trainY: Y.narrow(0, 0, split),
    testX: X.narrow(0, split, 2000),
    testY: Y.narrow(0, split, 2000),
  };
}

async function train() {
  data ??= await loadDigits();
  model ??= freshModel();
  const opt = new nb.optim.Adam(model.parameters(), { lr: 1e-3 });
  const step = nb.jit((x, y) => {
    const loss = nb.nn.functional.crossEntropy(model.forward(x), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    return loss;
  });
  const loader = new nb.data.DataLoader(new nb.data.TensorDataset(data.trainX, data.trainY), {
    batchSize: 32,
    shuffle: true,
    seed: 1,
  });
  let done = 0;
  for (const [x, y] of loader) {
    step(x, y);
    if (++done % 10 === 0) postMessage({ type: 'progress', done, total: loader.length });
  }
  const accuracy = nb.noGrad(() => nb.metrics.accuracy(model.forward(data.testX), data.testY));
  postMessage({ type: 'trained', accuracy, runsOn: nb.deviceInfo() });
}

function load(bytes) {
  const tensors = nb.deserialize(new Uint8Array(bytes), 'model.safetensors').tensors;
  const candidate = freshModel();
  candidate.loadStateDict(tensors); // refuses another architecture, naming what differs
  model = candidate;
  postMessage({ type: 'loaded', runsOn: nb.deviceInfo() });
}

function predict(pixels) {
  if (!model) return;
  const probabilities = nb.noGrad(() =>
    model.forward(nb.tensor(pixels, { shape: [1, PIXELS] })).softmax(1),
  );
  postMessage({ type: 'prediction', probabilities: Array.from(probabilities.dataSync()) });
}

onmessage = async ({ data: message }) => {
  try {
    if (message.type === 'train') await train();
    else if (message.type === 'load') load(message.bytes);
    else if (message.type === 'predict') predict(message.pixels);
  } catch (error) {
    postMessage({ type: 'error', message: String(error?.message ?? error) });
  }
};
