/**
 * Checkpoints of `nabla train`: everything a run needs to continue as if it had never stopped —
 * the model, the optimizer's state, the schedule, both random generators, where in the epoch it
 * was and the history so far. One folder, `DIR/checkpoint`, replaced as a whole after every epoch
 * and on Ctrl-C: tensors in `state.safetensors`, the rest in `state.json`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as nb from '../index.js';
import { NablaError } from '../core/errors.js';
import type { GeneratorState } from '../engine/random.js';
import type { FiniteLoss } from '../train/fit.js';
import { completedFolder, replaceFolder } from './output.js';
import type { TrainConfig } from './train.js';

const FOLDER = 'checkpoint';
const VERSION = 1;

/** Where a run is: the last finished epoch, and how far into the next one. */
export interface Progress {
  /** Epochs finished. */
  epoch: number;
  /** Batches of the next epoch already taken. */
  batch: number;
  /** Steps taken in all. */
  step: number;
  /** The next epoch's running loss sum and sample count (for its train loss). */
  lossSum: number;
  samples: number;
  lastFinite: FiniteLoss | null;
  /** The shuffling generator before it drew the next epoch's order (drawn again on resume). */
  shuffler: GeneratorState;
  history: nb.EpochRecord[];
}

export interface RunState {
  version: number;
  config: TrainConfig;
  progress: Progress;
  /** nabla's global generator (dropout and other draws during training). */
  random: GeneratorState;
  optimizer: { lr: number; steps: number[] };
  scheduler: { epoch: number; baseLr: number } | null;
}

export interface Trainable {
  model: nb.nn.Module;
  optimizer: nb.optim.Optimizer;
  scheduler: nb.optim.CosineAnnealingLR | null;
}

export async function saveCheckpoint(
  dir: string,
  run: Omit<RunState, 'version' | 'optimizer' | 'scheduler'>,
  { model, optimizer, scheduler }: Trainable,
): Promise<void> {
  const opt = optimizer.stateDict();
  const named: [string, nb.Tensor][] = Object.entries(model.stateDict()).map(([name, t]) => [
    `model.${name}`,
    t,
  ]);
  opt.state.forEach((s, i) => {
    for (const [name, t] of Object.entries(s.tensors)) named.push([`optimizer.${i}.${name}`, t]);
  });
  // Host copies of what is on a GPU (read asynchronously); CPU tensors are taken as they are.
  const tensors = Object.fromEntries(
    await Promise.all(named.map(async ([name, t]) => [name, await t.toAsync('cpu')] as const)),
  );
  const state: RunState = {
    version: VERSION,
    ...run,
    optimizer: { lr: opt.lr, steps: opt.state.map((s) => s.step) },
    scheduler: scheduler?.stateDict() ?? null,
  };
  replaceFolder(dir, FOLDER, [
    ['state.safetensors', nb.serialize(tensors)],
    ['state.json', JSON.stringify(state, null, 1) + '\n'],
  ]);
}

/** The run state in `dir`'s checkpoint, and a function that loads its tensors into a run. */
export function readCheckpoint(dir: string): {
  state: RunState;
  restore: (into: Trainable) => void;
} {
  const folder = completedFolder(dir, FOLDER);
  if (!folder)
    throw new NablaError(
      `--resume ${dir}: no checkpoint there (a run writes ${FOLDER}/ each epoch)`,
    );
  const path = join(folder, 'state.json');
  let state: RunState;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as RunState;
  } catch (error) {
    throw new NablaError(`--resume ${dir}: cannot read ${path}: ${(error as Error).message}`);
  }
  if (state?.version !== VERSION)
    throw new NablaError(`--resume ${dir}: ${path} is not a checkpoint of this version of nabla`);
  const tensors = nb.load(join(folder, 'state.safetensors'));
  const restore = ({ model, optimizer, scheduler }: Trainable): void => {
    const device = model.parameters()[0]?.device ?? 'cpu';
    const prefixed = (prefix: string) =>
      Object.fromEntries(
        Object.entries(tensors)
          .filter(([name]) => name.startsWith(prefix))
          .map(([name, t]) => [name.slice(prefix.length), t.to(device)]),
      );
    model.loadStateDict(prefixed('model.'));
    optimizer.loadStateDict({
      lr: state.optimizer.lr,
      state: state.optimizer.steps.map((step, i) => ({
        step,
        tensors: prefixed(`optimizer.${i}.`),
      })),
    });
    if (state.scheduler) scheduler?.loadStateDict(state.scheduler);
  };
  return { state, restore };
}
