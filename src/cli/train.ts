/** `nabla train`: trains an MLP classifier on a dataset and writes the model, history and curves. */
import { parseArgs } from 'node:util';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as nb from '../index.js';
import { writeFileAtomic } from '../io/safetensors.js';

export const TRAIN_HELP = `Usage: nabla train [options]

Trains a multilayer perceptron classifier with softmax cross-entropy and reports test accuracy.

Options:
  --dataset NAME      mnist | fashion-mnist | xor | moons | circles | spirals   (default mnist)
  --hidden SIZES      hidden layer sizes, comma-separated                        (default 256,128)
  --activation NAME   relu | tanh | sigmoid | leaky-relu                         (default relu)
  --epochs N          passes over the training set                              (default 20)
  --batch-size N      samples per gradient step                                 (default 64)
  --lr RATE           learning rate                                             (default 0.001)
  --optimizer NAME    sgd | adam | adamw                                        (default adam)
  --schedule NAME     cosine (lr annealed to 0 over the epochs) | none          (default cosine)
  --seed N            seed for initialisation, shuffling and splits             (default 0)
  --out DIR           where to write model.safetensors, history.json, the loss
                      curve and, for 2-D sets, the decision regions (SVG + PNG)
                                                                                (default runs/<dataset>)
  --data-dir DIR      Fashion-MNIST IDX directory         (default ${nb.datasets.FASHION_MNIST_DIR})
  -h, --help          show this help
`;

const DATASETS = ['mnist', 'fashion-mnist', 'xor', 'moons', 'circles', 'spirals'] as const;
const ACTIVATIONS = {
  relu: nb.nn.ReLU,
  tanh: nb.nn.Tanh,
  sigmoid: nb.nn.Sigmoid,
  'leaky-relu': nb.nn.LeakyReLU,
};
const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
const SCHEDULES = ['cosine', 'none'] as const;

export class UsageError extends Error {}

function choice<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}; got '${value}'`);
  }
  return value as T;
}

function positive(flag: string, value: string, integer: boolean): number {
  const n = Number(value);
  if (!(n > 0) || (integer && !Number.isInteger(n))) {
    throw new UsageError(
      `--${flag} must be a positive ${integer ? 'integer' : 'number'}; got '${value}'`,
    );
  }
  return n;
}

export interface TrainConfig {
  dataset: (typeof DATASETS)[number];
  hidden: number[];
  activation: keyof typeof ACTIVATIONS;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: (typeof OPTIMIZERS)[number];
  schedule: (typeof SCHEDULES)[number];
  seed: number;
  out: string;
  dataDir: string;
}

export function parseTrainArgs(args: string[]): TrainConfig | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      options: {
        dataset: { type: 'string', default: 'mnist' },
        hidden: { type: 'string', default: '256,128' },
        activation: { type: 'string', default: 'relu' },
        epochs: { type: 'string', default: '20' },
        'batch-size': { type: 'string', default: '64' },
        lr: { type: 'string', default: '0.001' },
        optimizer: { type: 'string', default: 'adam' },
        schedule: { type: 'string', default: 'cosine' },
        seed: { type: 'string', default: '0' },
        out: { type: 'string' },
        'data-dir': { type: 'string', default: nb.datasets.FASHION_MNIST_DIR },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const dataset = choice('dataset', v.dataset!, DATASETS);
  const hidden =
    v.hidden!.trim() === ''
      ? []
      : v.hidden!.split(',').map((h) => positive('hidden', h.trim(), true));
  const seed = Number(v.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer; got '${v.seed}'`);
  return {
    dataset,
    hidden,
    activation: choice(
      'activation',
      v.activation!,
      Object.keys(ACTIVATIONS) as (keyof typeof ACTIVATIONS)[],
    ),
    epochs: positive('epochs', v.epochs!, true),
    batchSize: positive('batch-size', v['batch-size']!, true),
    lr: positive('lr', v.lr!, false),
    optimizer: choice('optimizer', v.optimizer!, OPTIMIZERS),
    schedule: choice('schedule', v.schedule!, SCHEDULES),
    seed,
    out: resolve(v.out ?? join('runs', dataset)),
    dataDir: v['data-dir']!,
  };
}

interface Data {
  train: { x: nb.Tensor; y: nb.Tensor };
  test: { x: nb.Tensor; y: nb.Tensor };
  classes: number;
}

function loadData(config: TrainConfig): Data {
  switch (config.dataset) {
    case 'mnist':
      return { ...nb.datasets.mnist({ seed: config.seed }), classes: 10 };
    case 'fashion-mnist':
      return { ...nb.datasets.fashionMnist(config.dataDir), classes: 10 };
    default: {
      const make = {
        xor: nb.datasets.xor,
        moons: nb.datasets.moons,
        circles: nb.datasets.circles,
        spirals: nb.datasets.spirals,
      }[config.dataset];
      const { x, y } = make({ n: 1000, seed: config.seed });
      const [train, test] = nb.data.randomSplit(
        new nb.data.TensorDataset(x, y),
        [800, 200],
        config.seed,
      );
      const part = (s: nb.data.Subset) => {
        const [px, py] = s.getBatch(Int32Array.from({ length: s.length }, (_, i) => i));
        return { x: px!, y: py! };
      };
      return { train: part(train!), test: part(test!), classes: y.max().item() + 1 };
    }
  }
}

function buildModel(inputs: number, config: TrainConfig, classes: number): nb.nn.Sequential {
  const layers: nb.nn.Module[] = [];
  let width = inputs;
  for (const h of config.hidden) {
    layers.push(new nb.nn.Linear(width, h), new ACTIVATIONS[config.activation]());
    width = h;
  }
  layers.push(new nb.nn.Linear(width, classes));
  return new nb.nn.Sequential(...layers);
}

function makeOptimizer(model: nb.nn.Module, config: TrainConfig): nb.optim.Optimizer {
  const params = model.parameters();
  switch (config.optimizer) {
    case 'sgd':
      return new nb.optim.SGD(params, { lr: config.lr, momentum: 0.9 });
    case 'adam':
      return new nb.optim.Adam(params, { lr: config.lr });
    case 'adamw':
      return new nb.optim.AdamW(params, { lr: config.lr });
  }
}

export interface TrainResult {
  testAccuracy: number;
  history: nb.History;
  files: string[];
}

export async function runTrain(
  config: TrainConfig,
  log: (line: string) => void = console.log,
): Promise<TrainResult> {
  nb.manualSeed(config.seed);
  const started = performance.now();
  const data = loadData(config);
  const inputs = data.train.x.shape[1]!;
  const model = buildModel(inputs, config, data.classes);
  const arch = [inputs, ...config.hidden, data.classes].join('-');
  log(
    `nabla train: ${config.dataset} (${data.train.x.shape[0]} train / ${data.test.x.shape[0]} test), MLP ${arch} (${config.activation}), ${config.optimizer} lr ${config.lr}${config.schedule === 'cosine' ? ' (cosine)' : ''}, batch ${config.batchSize}, ${config.epochs} epochs`,
  );
  const lossFn = new nb.nn.CrossEntropyLoss();
  const optimizer = makeOptimizer(model, config);
  const history = nb.fit(model, {
    epochs: config.epochs,
    lossFn: (p, y) => lossFn.forward(p, y),
    optimizer,
    ...(config.schedule === 'cosine' && {
      scheduler: new nb.optim.CosineAnnealingLR(optimizer, config.epochs),
    }),
    train: new nb.data.DataLoader(new nb.data.TensorDataset(data.train.x, data.train.y), {
      batchSize: config.batchSize,
      shuffle: true,
      seed: config.seed,
    }),
    validation: data.test,
    progress: true,
    onEpoch: (r) =>
      log(
        `epoch ${String(r.epoch).padStart(3)}/${config.epochs}  train loss ${r['trainLoss']!.toFixed(4)}  test loss ${r['testLoss']!.toFixed(4)}  test accuracy ${r['testAccuracy']!.toFixed(4)}  (${r['seconds']!.toFixed(1)} s)`,
      ),
  });
  const testAccuracy = history.epochs.at(-1)!['testAccuracy']!;
  mkdirSync(config.out, { recursive: true });
  const files: string[] = [];
  const write = (name: string, bytes: Uint8Array | string): void => {
    const path = join(config.out, name);
    writeFileAtomic(path, bytes);
    files.push(path);
  };
  const modelPath = join(config.out, 'model.safetensors');
  const metadata = { architecture: arch, activation: config.activation, dataset: config.dataset };
  nb.save(model.stateDict(), modelPath, metadata);
  files.push(modelPath);
  write('history.json', JSON.stringify({ config, history }, null, 2) + '\n');
  const losses = [
    { name: 'train loss', values: history.series('trainLoss') },
    { name: 'test loss', values: history.series('testLoss') },
  ];
  const title = `${config.dataset}: MLP ${arch}`;
  const pictures: [string, string][] = [
    ['loss-curve', nb.viz.lineChart(losses, { title, yLabel: 'cross-entropy loss' })],
  ];
  if (inputs === 2) {
    const regions = nb.viz.decisionBoundary((x) => model.forward(x), data.test.x, data.test.y, {
      title: `${title}, test accuracy ${testAccuracy.toFixed(3)}`,
    });
    pictures.push(['decision-boundary', regions]);
  }
  for (const [name, svg] of pictures) {
    write(`${name}.svg`, svg);
    write(`${name}.png`, await nb.viz.svgToPng(svg));
  }
  log(
    `test accuracy: ${testAccuracy.toFixed(4)}   (${((performance.now() - started) / 1000).toFixed(1)} s in all)`,
  );
  log(`wrote ${files.join(', ')}`);
  return { testAccuracy, history, files };
}
