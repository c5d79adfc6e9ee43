/** A standard training loop: epochs of mini-batch steps, evaluation, early stopping, history. */
import { NablaError } from '../core/errors.js';
import { noGrad } from '../engine/grad-mode.js';
import type { DataLoader } from '../data/loader.js';
import * as ops from '../ops/index.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Tensor } from '../tensor/tensor.js';
import { EarlyStopping, History, ProgressBar, type EpochRecord } from './callbacks.js';
import { accuracy, correctCount } from './metrics.js';

export type LossFn = (prediction: Tensor, target: Tensor) => Tensor;

export interface Evaluation {
  loss: number;
  accuracy: number;
}

/** Mean loss and accuracy of `model` on (x, y), in eval mode, without gradients, in batches. */
export function evaluate(
  model: Module,
  x: Tensor,
  y: Tensor,
  lossFn: LossFn,
  batchSize = 1000,
): Evaluation {
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() => {
      let loss = 0;
      let correct = 0;
      const n = x.shape[0]!;
      for (let start = 0; start < n; start += batchSize) {
        const size = Math.min(batchSize, n - start);
        const [xb, yb] = [ops.narrow(x, 0, start, size), ops.narrow(y, 0, start, size)];
        const prediction = model.forward(xb);
        loss += lossFn(prediction, yb).item() * size;
        correct += accuracy(prediction, yb) * size;
      }
      return { loss: loss / n, accuracy: correct / n };
    });
  } finally {
    model.train(wasTraining);
  }
}

/**
 * `evaluate` on any device: batches of (x, y) go to the model's device, and the loss and correct
 * counts are summed there and read back once, at the end.
 */
export async function evaluateAsync(
  model: Module,
  x: Tensor,
  y: Tensor,
  lossFn: LossFn,
  batchSize = 1000,
): Promise<Evaluation> {
  const device = model.parameters()[0]?.device ?? x.device;
  const wasTraining = model.training;
  model.eval();
  try {
    const n = x.shape[0]!;
    if (n === 0) return { loss: NaN, accuracy: 0 };
    const total = (sum: Tensor | null, value: Tensor): Tensor =>
      sum ? ops.add(sum, value) : value;
    const [lossSum, correct] = noGrad(() => {
      let loss: Tensor | null = null;
      let right: Tensor | null = null;
      for (let start = 0; start < n; start += batchSize) {
        const size = Math.min(batchSize, n - start);
        const xb = ops.narrow(x, 0, start, size).to(device);
        const yb = ops.narrow(y, 0, start, size).to(device);
        const prediction = model.forward(xb);
        loss = total(loss, ops.mul(lossFn(prediction, yb), size));
        right = total(right, correctCount(prediction, yb));
      }
      return [loss!, right!];
    });
    return { loss: (await lossSum.itemAsync()) / n, accuracy: (await correct.itemAsync()) / n };
  } finally {
    model.train(wasTraining);
  }
}

export interface FitOptions {
  epochs: number;
  lossFn: LossFn;
  optimizer: Optimizer;
  train: DataLoader;
  /** Held-out data, evaluated after every epoch (and monitored by earlyStopping). */
  validation?: { x: Tensor; y: Tensor };
  earlyStopping?: EarlyStopping;
  /** Stepped once per epoch. */
  scheduler?: { step(): void };
  /** Show a progress bar per epoch (on a terminal). */
  progress?: boolean;
  onEpoch?: (record: EpochRecord) => void;
}

/** The last step whose loss was finite. */
export interface FiniteLoss {
  loss: number;
  step: number;
}

/** The error that stops training at a loss that is not finite, naming the step and the last good one. */
export function lossNotFinite(
  value: number,
  epoch: number,
  step: number,
  lastFinite: FiniteLoss | null,
): NablaError {
  const last = lastFinite
    ? `the last finite loss was ${lastFinite.loss.toPrecision(5)} at step ${lastFinite.step}`
    : 'no step had a finite loss';
  return new NablaError(
    `training stopped: the loss became ${value} at epoch ${epoch}, step ${step}; ${last}. Try a lower learning rate.`,
  );
}

/**
 * Trains `model` and returns the history. A non-finite loss stops training with an error naming the
 * epoch, the step and the last finite loss.
 */
export function fit(model: Module, options: FitOptions): History {
  const { epochs, lossFn, optimizer, train, validation, earlyStopping, scheduler } = options;
  const history = new History();
  let step = 0;
  let lastFinite: FiniteLoss | null = null;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const started = performance.now();
    const bar = options.progress ? new ProgressBar(train.length, `epoch ${epoch}/${epochs}`) : null;
    model.train();
    let total = 0;
    let samples = 0;
    for (const [x, y] of train) {
      step++;
      const loss = lossFn(model.forward(x!), y!);
      const value = loss.item();
      if (!Number.isFinite(value)) {
        bar?.done();
        throw lossNotFinite(value, epoch, step, lastFinite);
      }
      lastFinite = { loss: value, step };
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      total += value * x!.shape[0]!;
      samples += x!.shape[0]!;
      bar?.tick(`loss ${value.toFixed(4)}`);
    }
    bar?.done();
    const record: EpochRecord = { epoch, trainLoss: total / samples, lr: optimizer.lr };
    if (validation) {
      const result = evaluate(model, validation.x, validation.y, lossFn);
      Object.assign(record, { testLoss: result.loss, testAccuracy: result.accuracy });
    }
    record['seconds'] = (performance.now() - started) / 1000;
    history.record(record);
    options.onEpoch?.(record);
    scheduler?.step();
    if (earlyStopping?.step(record['testLoss'] ?? record['trainLoss']!, model)) break;
  }
  earlyStopping?.restore(model);
  return history;
}
