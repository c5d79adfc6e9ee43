/**
 * `nabla train`: trains an MLP classifier on a dataset and writes the model, history and curves.
 * The output folder is checked before the first epoch; a checkpoint is written after every epoch
 * and on Ctrl-C, and `--resume DIR` continues from it to the same floats an uninterrupted run ends
 * with.
 */
import { join } from 'node:path';
import { totalmem } from 'node:os';
import * as nb from '../index.js';
import { NablaError } from '../core/errors.js';
import { globalGenerator, RandomGenerator } from '../engine/random.js';
import { nextTurn } from '../engine/yield.js';
import { lossNotFinite } from '../train/fit.js';
import { choice, parseFlags, positive, seedOf, UsageError } from './args.js';
import { readCheckpoint, saveCheckpoint, type Progress, type Trainable } from './checkpoint.js';
import {
  ACTIVATIONS,
  buildModel,
  DATASETS,
  describeModel,
  loadData,
  type Data,
  type ModelChoice,
} from './data.js';
import { prepareOutDir, writeSet } from './output.js';

export const TRAIN_HELP = `Usage: nabla train [options]
       nabla train --resume DIR

Trains a multilayer perceptron classifier with softmax cross-entropy and reports test accuracy.
A checkpoint is written to DIR/checkpoint after every epoch and on Ctrl-C; --resume DIR continues
the run from it, ending with the same weights as a run that never stopped.

Options:
  --dataset NAME      mnist | fashion-mnist | xor | moons | circles | spirals   (default mnist)
  --model NAME        mlp | cnn | a CNN spec such as c32,bn,relu,pool,fc128,relu,drop0.3 (image
                      sets; cnn = c32,relu,pool,c64,relu,pool,fc128,relu)       (default mlp)
  --hidden SIZES      hidden layer sizes, comma-separated                        (default 256,128)
  --activation NAME   relu | tanh | sigmoid | leaky-relu                         (default relu)
  --epochs N          passes over the training set                              (default 20)
  --batch-size N      samples per gradient step                                 (default 64)
  --lr RATE           learning rate                                             (default 0.001)
  --optimizer NAME    sgd | adam | adamw                                        (default adam)
  --schedule NAME     cosine (lr annealed to 0 over the epochs) | none          (default cosine)
  --seed N            seed for initialisation, shuffling and splits             (default 0)
  --device NAME       cpu | webgpu (a GPU through Dawn, or Mesa's lavapipe)      (default cpu)
  --out DIR           where to write model.safetensors, history.json, the loss
                      curve and, for 2-D sets, the decision regions (SVG + PNG)
                                                                                (default runs/<dataset>)
  --data-dir DIR      Fashion-MNIST IDX directory         (default ${nb.datasets.FASHION_MNIST_DIR})
  --resume DIR        continue the run whose checkpoint is in DIR (no other options)
  -h, --help          show this help
`;

const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
const SCHEDULES = ['cosine', 'none'] as const;
const DEVICES = ['cpu', 'webgpu'] as const;

export interface TrainConfig {
  dataset: (typeof DATASETS)[number];
  /** 'mlp', 'cnn' or a CNN spec; absent in checkpoints written before CNNs: 'mlp'. */
  model?: string;
  hidden: number[];
  activation: keyof typeof ACTIVATIONS;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: (typeof OPTIMIZERS)[number];
  schedule: (typeof SCHEDULES)[number];
  seed: number;
  /** Absent in checkpoints written before devices: the CPU. */
  device?: nb.Device;
  out: string;
  dataDir: string;
}

export type TrainCommand = TrainConfig | { resume: string } | 'help';

export function parseTrainArgs(args: string[]): TrainCommand {
  const v = parseFlags(args, {
    dataset: { type: 'string', default: 'mnist' },
    model: { type: 'string', default: 'mlp' },
    hidden: { type: 'string', default: '256,128' },
    activation: { type: 'string', default: 'relu' },
    epochs: { type: 'string', default: '20' },
    'batch-size': { type: 'string', default: '64' },
    lr: { type: 'string', default: '0.001' },
    optimizer: { type: 'string', default: 'adam' },
    schedule: { type: 'string', default: 'cosine' },
    seed: { type: 'string', default: '0' },
    device: { type: 'string', default: 'cpu' },
    out: { type: 'string' },
    'data-dir': { type: 'string', default: nb.datasets.FASHION_MNIST_DIR },
    resume: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (v.help) return 'help';
  if (v.resume !== undefined) {
    const others = args.filter((a) => a.startsWith('-') && !a.startsWith('--resume'));
    if (others.length)
      throw new UsageError(
        `--resume takes no other options (the run's own are in its checkpoint); got ${others.join(' ')}`,
      );
    return { resume: v.resume };
  }
  const dataset = choice('dataset', v.dataset!, DATASETS);
  const hidden =
    v.hidden!.trim() === ''
      ? []
      : v.hidden!.split(',').map((h) => positive('hidden', h.trim(), true));
  return {
    dataset,
    model: v.model!,
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
    seed: seedOf(v.seed!),
    device: choice('device', v.device!, DEVICES),
    out: v.out ?? join('runs', dataset),
    dataDir: v['data-dir']!,
  };
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
  /** Null when the run was interrupted before its last epoch. */
  testAccuracy: number | null;
  files: string[];
}

/**
 * Ctrl-C (SIGINT): the first asks the loop to stop after the step under way, so it can write a
 * checkpoint; a second one stops at once.
 */
function interruptHandler(log: (line: string) => void) {
  let requested = false;
  const onSignal = (): void => {
    if (requested) {
      log('nabla train: interrupted again: stopping without a new checkpoint');
      process.exit(130);
    }
    requested = true;
  };
  process.on('SIGINT', onSignal);
  return {
    get requested(): boolean {
      return requested;
    },
    dispose: () => process.off('SIGINT', onSignal),
  };
}

const lossFn = new nb.nn.CrossEntropyLoss();
const loss = (p: nb.Tensor, y: nb.Tensor): nb.Tensor => lossFn.forward(p, y);

/**
 * Refuses, before anything is allocated, an MLP whose weights, gradients and Adam moments (16 bytes
 * a parameter) would not fit in this machine's memory: the system would kill the run later.
 */
function checkFits(sizes: readonly number[]): void {
  let params = 0;
  for (let i = 0; i + 1 < sizes.length; i++) params += (sizes[i]! + 1) * sizes[i + 1]!;
  const [bytes, total] = [16 * params, totalmem()];
  if (bytes > total) {
    const gb = (n: number): string => `${(n / 1e9).toFixed(1)} GB`;
    throw new NablaError(
      `the MLP ${sizes.join('-')} has ${params.toLocaleString('en-US')} parameters: training it needs about ${gb(bytes)} (weights, gradients, optimizer state), more than this machine's ${gb(total)}`,
    );
  }
}

/** Runs `nabla train` for a new configuration or a checkpoint to resume. */
export async function runTrain(
  command: TrainConfig | { resume: string },
  log: (line: string) => void = console.log,
): Promise<TrainResult> {
  const resumed = 'resume' in command ? readCheckpoint(command.resume) : null;
  const config = resumed ? { ...resumed.state.config } : { ...(command as TrainConfig) };
  const out = (config.out = prepareOutDir('resume' in command ? command.resume : config.out));
  const started = performance.now();
  nb.manualSeed(config.seed);
  const data = loadData(config.dataset, config.seed, config.dataDir);
  const inputs = data.train.x.shape[1]!;
  const sizes = [inputs, ...config.hidden, data.classes.length];
  const choice: ModelChoice = {
    model: config.model ?? 'mlp',
    sizes,
    activation: config.activation,
  };
  if (choice.model === 'mlp') checkFits(sizes);
  else if (inputs !== 28 * 28)
    throw new UsageError(
      `--model ${choice.model} needs 28×28 images (mnist, fashion-mnist), not ${config.dataset}`,
    );
  const device = config.device ?? 'cpu';
  if (device !== 'cpu') await nb.startDevice(device);
  // Moved before the optimizer is made, so that its state lives beside the parameters.
  const model = buildModel(choice).to(device);
  const optimizer = makeOptimizer(model, config);
  const scheduler =
    config.schedule === 'cosine' ? new nb.optim.CosineAnnealingLR(optimizer, config.epochs) : null;
  const run: Trainable = { model, optimizer, scheduler };
  const shuffler = new RandomGenerator(config.seed);
  let progress: Progress = {
    epoch: 0,
    batch: 0,
    step: 0,
    lossSum: 0,
    samples: 0,
    lastFinite: null,
    shuffler: shuffler.getState(),
    history: [],
  };
  if (resumed) {
    resumed.restore(run);
    progress = resumed.state.progress;
    globalGenerator.setState(resumed.state.random);
  }
  const where = resumed ? `, resuming after epoch ${progress.epoch} step ${progress.step}` : '';
  log(
    `nabla train: ${config.dataset} (${data.train.x.shape[0]} train / ${data.test.x.shape[0]} test), ${describeModel(choice)}, ${config.optimizer} lr ${config.lr}${scheduler ? ' (cosine)' : ''}, batch ${config.batchSize}, ${config.epochs} epochs, on ${device}${where}`,
  );
  const interrupt = interruptHandler(log);
  const checkpoint = (): Promise<void> =>
    saveCheckpoint(out, { config, progress, random: globalGenerator.getState() }, run);
  try {
    const finished = await trainEpochs(run, data, config, progress, shuffler, {
      interrupt,
      checkpoint,
      log,
    });
    if (!finished) {
      await checkpoint();
      log(
        `nabla train: interrupted in epoch ${progress.epoch + 1} after step ${progress.step}; checkpoint written to ${join(out, 'checkpoint')}`,
      );
      log(`resume with: nabla train --resume ${out}`);
      return { testAccuracy: null, files: [] };
    }
    // From here a Ctrl-C only marks the run: the files below are written in full first.
    return await writeOutputs(model, data, config, progress.history, started, log);
  } finally {
    interrupt.dispose();
  }
}

/**
 * Trains from `progress` (updated as it goes) to the last epoch; false if Ctrl-C stopped it. The
 * event loop turns after every step, so a Ctrl-C is seen within one step.
 */
async function trainEpochs(
  { model, optimizer, scheduler }: Trainable,
  data: Data,
  config: TrainConfig,
  progress: Progress,
  shuffler: RandomGenerator,
  {
    interrupt,
    checkpoint,
    log,
  }: {
    interrupt: { readonly requested: boolean };
    checkpoint: () => Promise<void>;
    log: (line: string) => void;
  },
): Promise<boolean> {
  const dataset = new nb.data.TensorDataset(data.train.x, data.train.y);
  const device = config.device ?? 'cpu';
  const n = dataset.length;
  const batches = Math.ceil(n / config.batchSize);
  const step = compiledStep(model, optimizer);
  for (let epoch = progress.epoch + 1; epoch <= config.epochs; epoch++) {
    const started = performance.now();
    shuffler.setState(progress.shuffler);
    const order = shuffler.permutation(n);
    const bar = new nb.ProgressBar(batches, `epoch ${epoch}/${config.epochs}`);
    model.train();
    for (let b = progress.batch; b < batches; b++) {
      const indices = order.subarray(b * config.batchSize, Math.min(n, (b + 1) * config.batchSize));
      const batch = dataset.getBatch(indices);
      const [x, y] = batch.map((t) => t.to(device));
      const l = step(x!, y!);
      const value = await checkedLoss(l, progress, epoch);
      // Freed now rather than by the garbage collector: the arena stays free for the kernels.
      for (const t of new Set([...batch, x!, y!, l])) t.dispose();
      progress.lossSum += value * indices.length;
      progress.samples += indices.length;
      progress.batch = b + 1;
      bar.tick(`loss ${value.toFixed(4)}`);
      await nextTurn();
      if (interrupt.requested) {
        bar.done();
        return false;
      }
    }
    bar.done();
    const result = await nb.evaluateAsync(model, data.test.x, data.test.y, loss);
    const record: nb.EpochRecord = {
      epoch,
      trainLoss: progress.lossSum / progress.samples,
      lr: optimizer.lr,
      testLoss: result.loss,
      testAccuracy: result.accuracy,
      seconds: (performance.now() - started) / 1000,
    };
    log(
      `epoch ${String(epoch).padStart(3)}/${config.epochs}  train loss ${record['trainLoss']!.toFixed(4)}  test loss ${result.loss.toFixed(4)}  test accuracy ${result.accuracy.toFixed(4)}  (${record['seconds']!.toFixed(1)} s)`,
    );
    scheduler?.step();
    Object.assign(progress, { epoch, batch: 0, lossSum: 0, samples: 0 });
    progress.history.push(record);
    progress.shuffler = shuffler.getState();
    await checkpoint();
  }
  return true;
}

/**
 * The compiled gradient step (nb.jit: the forward pass, backward and the optimizer update as one
 * plan, a quarter faster than eager on an MLP): its loss.
 */
function compiledStep(
  model: nb.nn.Module,
  optimizer: nb.optim.Optimizer,
): (x: nb.Tensor, y: nb.Tensor) => nb.Tensor {
  return nb.jit((x: nb.Tensor, y: nb.Tensor) => {
    const l = loss(model.forward(x), y);
    optimizer.zeroGrad();
    l.backward();
    optimizer.step();
    return l;
  });
}

/**
 * A step's loss, refused when not finite (naming the step and the last good one). The compiled
 * step has updated the weights by then, but the run stops before writing anything: the files keep
 * the last checkpoint's state, which holds no NaN (on a GPU, one small read a step).
 */
async function checkedLoss(l: nb.Tensor, progress: Progress, epoch: number): Promise<number> {
  progress.step++;
  const value = await l.itemAsync();
  if (!Number.isFinite(value))
    throw lossNotFinite(value, epoch, progress.step, progress.lastFinite);
  progress.lastFinite = { loss: value, step: progress.step };
  return value;
}

async function writeOutputs(
  model: nb.nn.Sequential,
  data: Data,
  config: TrainConfig,
  records: nb.EpochRecord[],
  started: number,
  log: (line: string) => void,
): Promise<TrainResult> {
  await model.toAsync('cpu'); // the files and pictures are made from host memory
  const history = new nb.History();
  for (const r of records) history.record(r);
  const testAccuracy = records.at(-1)!['testAccuracy']!;
  const inputs = data.train.x.shape[1]!;
  const sizes = [inputs, ...config.hidden, data.classes.length];
  const choice: ModelChoice = {
    model: config.model ?? 'mlp',
    sizes,
    activation: config.activation,
  };
  // What nabla eval rebuilds the network from.
  const metadata = {
    model: choice.model,
    architecture: sizes.join('-'),
    activation: config.activation,
    dataset: config.dataset,
    seed: String(config.seed),
  };
  const files: [string, Uint8Array | string][] = [
    ['model.safetensors', nb.serialize(model.stateDict(), metadata)],
    ['history.json', JSON.stringify({ config, history }, null, 2) + '\n'],
  ];
  const losses = [
    { name: 'train loss', values: history.series('trainLoss') },
    { name: 'test loss', values: history.series('testLoss') },
  ];
  const title = `${config.dataset}: ${describeModel(choice)}`;
  const pictures: [string, string][] = [
    ['loss-curve', nb.viz.lineChart(losses, { title, yLabel: 'cross-entropy loss' })],
  ];
  if (inputs === 2) {
    const regions = nb.viz.decisionBoundary((x) => model.forward(x), data.test.x, data.test.y, {
      title: `${title}, test accuracy ${testAccuracy.toFixed(3)}`,
    });
    pictures.push(['decision-boundary', regions]);
  }
  for (const [name, svg] of pictures)
    files.push([`${name}.svg`, svg], [`${name}.png`, await nb.viz.svgToPng(svg)]);
  const written = writeSet(config.out, files);
  log(
    `test accuracy: ${testAccuracy.toFixed(4)}   (${((performance.now() - started) / 1000).toFixed(1)} s in all)`,
  );
  log(`wrote ${written.join(', ')}`);
  return { testAccuracy, files: written };
}
