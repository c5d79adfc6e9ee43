/**
 * Page (b)'s trainer, in a Worker so the page stays responsive. Messages in: `{ type: 'setup',
 * config }`, then `{ type: 'train', steps }`. Out: after each batch of steps, the losses, the test
 * accuracy, the class-1 probability (or the class) over a grid of the plane, and the weights.
 * The same network trains eagerly, under nb.jit, or as a tf1 graph in a Session, on the CPU or on
 * the GPU (WebGPU); values are read with the asynchronous reads that work on both.
 */
// Relative paths: import maps do not reach workers.
import * as nb from './nabla.js';
import * as tf1 from './tf1.js';

const GRID = 64;
let run = null;

const ACTIVATIONS = { tanh: 'tanh', relu: 'relu', sigmoid: 'sigmoid' };

function makeData({ dataset, noise, trainShare, seed }) {
  const make = {
    xor: nb.datasets.xor,
    circles: nb.datasets.circles,
    moons: nb.datasets.moons,
    spirals: nb.datasets.spirals,
  }[dataset];
  const { x, y } = make({ n: 600, noise, seed });
  const nTrain = Math.round((600 * trainShare) / 100);
  const [train, test] = nb.data.randomSplit(
    new nb.data.TensorDataset(x, y),
    [nTrain, 600 - nTrain],
    seed,
  );
  const all = (s) => s.getBatch(Int32Array.from({ length: s.length }, (_, i) => i));
  const [trainX, trainY] = all(train);
  const [testX, testY] = all(test);
  const classes = y.max().item() + 1;
  // The plane the heatmap covers: the data's extent, and a grid over it.
  const points = x.dataSync();
  let [lo, hi] = [Infinity, -Infinity];
  for (const v of points) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  const pad = 0.1 * (hi - lo);
  [lo, hi] = [lo - pad, hi + pad];
  const grid = new Float32Array(GRID * GRID * 2);
  for (let r = 0; r < GRID; r++)
    for (let c = 0; c < GRID; c++) {
      grid[2 * (r * GRID + c)] = lo + ((c + 0.5) * (hi - lo)) / GRID;
      grid[2 * (r * GRID + c) + 1] = hi - ((r + 0.5) * (hi - lo)) / GRID;
    }
  return {
    trainX,
    trainY,
    testX,
    testY,
    classes,
    extent: [lo, hi],
    grid: nb.tensor(grid, { shape: [GRID * GRID, 2] }),
    // For the drawing: the points as nested arrays, read once.
    points: {
      train: [trainX.toArray(), trainY.toArray()],
      test: [testX.toArray(), testY.toArray()],
    },
  };
}

/** The data's tensors on `device` (the points for the drawing stay as they are). */
function onDevice(data, device) {
  const moved = { ...data };
  for (const key of ['trainX', 'trainY', 'testX', 'testY', 'grid'])
    moved[key] = data[key].to(device);
  return moved;
}

/** loss(logits, labels): softmax cross-entropy, or MSE against one-hot rows. */
function lossOf(kind, classes) {
  if (kind === 'cross-entropy') return (logits, y) => nb.nn.functional.crossEntropy(logits, y);
  const eye = nb.eye(classes);
  return (logits, y) => nb.nn.functional.mse(logits.softmax(1), eye.indexSelect(0, y));
}

/** Eager or jit: an nn.Sequential and an optimizer; `step(x, y)` returns the loss tensor. */
function eagerTrainer(config, data) {
  const layers = [];
  const sizes = [2, ...config.hidden, data.classes];
  for (let i = 0; i + 1 < sizes.length; i++) {
    layers.push(new nb.nn.Linear(sizes[i], sizes[i + 1]));
    if (i + 2 < sizes.length)
      layers.push(
        new { tanh: nb.nn.Tanh, relu: nb.nn.ReLU, sigmoid: nb.nn.Sigmoid }[config.activation](),
      );
  }
  const model = new nb.nn.Sequential(...layers);
  const params = model.parameters();
  const opt =
    config.optimizer === 'adam'
      ? new nb.optim.Adam(params, { lr: config.lr })
      : new nb.optim.SGD(params, { lr: config.lr });
  const loss = lossOf(config.loss, data.classes);
  const eager = (x, y) => {
    const l = loss(model.forward(x), y);
    opt.zeroGrad();
    l.backward();
    opt.step();
    return l;
  };
  return {
    step: config.mode === 'jit' ? nb.jit(eager) : eager,
    predict: (x) => nb.noGrad(() => model.forward(x)),
    lossOn: (x, y) => nb.noGrad(() => loss(model.forward(x), y)).itemAsync(),
    // [in][out], as the drawing reads them (nn.Linear keeps PyTorch's [out, in]).
    weights: () =>
      Promise.all(
        model
          .parameters()
          .filter((p) => p.ndim === 2)
          .map((p) => p.T.array()),
      ),
  };
}

/** The same network as a TF1 program: placeholders, Variables, minimize, Session.run. */
function graphTrainer(config, data) {
  const g = new tf1.Graph();
  const X = tf1.placeholder('float32', [null, 2], 'X', g);
  const Y = tf1.placeholder('int32', [null], 'Y', g);
  const sizes = [2, ...config.hidden, data.classes];
  const weights = [];
  let h = X;
  for (let i = 0; i + 1 < sizes.length; i++) {
    const bound = 1 / Math.sqrt(sizes[i]);
    const w = new tf1.Variable(tf1.randomUniform([sizes[i], sizes[i + 1]], -bound, bound), {
      graph: g,
    });
    const b = new tf1.Variable(tf1.zeros([sizes[i + 1]]), { graph: g });
    weights.push(w);
    h = tf1.add(tf1.matmul(h, w), b);
    if (i + 2 < sizes.length) h = tf1[ACTIVATIONS[config.activation]](h);
  }
  const loss = lossOf(config.loss, data.classes)(h, Y);
  const optimizer =
    config.optimizer === 'adam'
      ? new tf1.train.AdamOptimizer(config.lr)
      : new tf1.train.GradientDescentOptimizer(config.lr);
  const trainOp = optimizer.minimize(loss);
  const sess = new tf1.Session(g);
  sess.run(tf1.globalVariablesInitializer(g));
  const feeds = (x, y) =>
    new Map(
      y
        ? [
            [X, x],
            [Y, y],
          ]
        : [[X, x]],
    );
  return {
    step: (x, y) => sess.run([trainOp, loss], feeds(x, y))[1],
    predict: (x) => sess.run(h, feeds(x)),
    lossOn: (x, y) => sess.run(loss, feeds(x, y)).itemAsync(),
    weights: () => Promise.all(weights.map((w) => sess.valueOf(w).array())),
  };
}

async function setup(config) {
  // The data is made (and drawn) on the CPU; the model, the graph and their inputs live on `device`.
  await nb.startDevice(config.device);
  await nb.useDevice('cpu');
  nb.manualSeed(config.seed);
  const data = onDevice(makeData(config), config.device);
  await nb.useDevice(config.device);
  const trainer = config.mode === 'tf1' ? graphTrainer(config, data) : eagerTrainer(config, data);
  const loader = new nb.data.DataLoader(new nb.data.TensorDataset(data.trainX, data.trainY), {
    batchSize: config.batchSize,
    shuffle: true,
    seed: config.seed,
  });
  run = { config, data, trainer, loader, batches: loader[Symbol.iterator](), step: 0 };
  await report();
}

async function report() {
  const { data, trainer, step } = run;
  const scores = trainer.predict(data.grid);
  const grid =
    data.classes === 2
      ? await scores.softmax(1).narrow(1, 1, 1).data()
      : await scores.argmax(1).data();
  const correct = nb.noGrad(() => trainer.predict(data.testX).argmax(1).eq(data.testY).sum());
  postMessage({
    type: 'progress',
    runsOn: nb.deviceInfo(run.config.device),
    step,
    trainLoss: await trainer.lossOn(data.trainX, data.trainY),
    testLoss: await trainer.lossOn(data.testX, data.testY),
    testAccuracy: (await correct.itemAsync()) / data.testY.size,
    grid: Float32Array.from(grid),
    gridSize: GRID,
    classes: data.classes,
    weights: await trainer.weights(),
    points: data.points,
    extent: data.extent,
  });
}

async function train(steps) {
  for (let i = 0; i < steps; i++) {
    let batch = run.batches.next();
    if (batch.done) {
      run.batches = run.loader[Symbol.iterator]();
      batch = run.batches.next();
    }
    const [x, y] = batch.value;
    const loss = await run.trainer.step(x, y).itemAsync();
    run.step++;
    if (!Number.isFinite(loss)) {
      postMessage({
        type: 'error',
        message: `the loss became ${loss} at step ${run.step}: lower the learning rate and press Reset`,
      });
      return;
    }
  }
  await report();
}

/** Messages are handled one after another: a setup that waits for the GPU finishes first. */
let queue = Promise.resolve();
onmessage = ({ data: message }) => {
  queue = queue.then(async () => {
    try {
      if (message.type === 'setup') await setup(message.config);
      else if (message.type === 'train' && run) await train(message.steps);
    } catch (error) {
      postMessage({ type: 'error', message: String(error?.message ?? error) });
    }
  });
};
