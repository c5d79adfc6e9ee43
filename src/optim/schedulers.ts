/** Learning-rate schedulers: each `step()` (usually once per epoch) sets the optimizer's lr. */
import { opError } from '../core/errors.js';
import type { Optimizer } from './optimizer.js';

abstract class EpochScheduler {
  protected epoch = 0;
  protected baseLr: number;
  constructor(protected readonly optimizer: Optimizer) {
    this.baseLr = optimizer.lr;
  }
  protected abstract lrAt(epoch: number): number;
  step(): void {
    this.epoch++;
    this.optimizer.lr = this.lrAt(this.epoch);
  }
  getLastLr(): number {
    return this.optimizer.lr;
  }
  /** Where the schedule is (epochs stepped, the lr it started from), for checkpoints. */
  stateDict(): { epoch: number; baseLr: number } {
    return { epoch: this.epoch, baseLr: this.baseLr };
  }
  loadStateDict(state: { epoch: number; baseLr: number }): void {
    this.epoch = state.epoch;
    this.baseLr = state.baseLr;
  }
}

/** lr · gamma^⌊epoch / stepSize⌋. */
export class StepLR extends EpochScheduler {
  constructor(
    optimizer: Optimizer,
    readonly stepSize: number,
    readonly gamma = 0.1,
  ) {
    super(optimizer);
  }
  protected lrAt(epoch: number): number {
    return this.baseLr * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

/** lr · gamma^epoch. */
export class ExponentialLR extends EpochScheduler {
  constructor(
    optimizer: Optimizer,
    readonly gamma: number,
  ) {
    super(optimizer);
  }
  protected lrAt(epoch: number): number {
    return this.baseLr * this.gamma ** epoch;
  }
}

/** Cosine from lr down to etaMin over tMax epochs. */
export class CosineAnnealingLR extends EpochScheduler {
  constructor(
    optimizer: Optimizer,
    readonly tMax: number,
    readonly etaMin = 0,
  ) {
    super(optimizer);
  }
  protected lrAt(epoch: number): number {
    return (
      this.etaMin +
      ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2
    );
  }
}

export interface PlateauOptions {
  mode?: 'min' | 'max';
  factor?: number;
  patience?: number;
  /** Relative improvement needed to count as better. */
  threshold?: number;
  cooldown?: number;
  minLr?: number;
}

/** Multiplies lr by `factor` once the metric has not improved for `patience` epochs. */
export class ReduceLROnPlateau {
  private best: number;
  private badEpochs = 0;
  private cooldownLeft = 0;
  private readonly options: Required<PlateauOptions>;
  constructor(
    private readonly optimizer: Optimizer,
    options: PlateauOptions = {},
  ) {
    this.options = {
      mode: 'min',
      factor: 0.1,
      patience: 10,
      threshold: 1e-4,
      cooldown: 0,
      minLr: 0,
      ...options,
    };
    if (!(this.options.factor < 1)) throw opError('ReduceLROnPlateau', 'factor must be < 1');
    this.best = this.options.mode === 'min' ? Infinity : -Infinity;
  }
  private isBetter(value: number): boolean {
    const { mode, threshold } = this.options;
    return mode === 'min'
      ? value < this.best * (1 - threshold)
      : value > this.best * (1 + threshold);
  }
  step(metric: number): void {
    if (this.isBetter(metric)) {
      this.best = metric;
      this.badEpochs = 0;
    } else this.badEpochs++;
    if (this.cooldownLeft > 0) {
      this.cooldownLeft--;
      this.badEpochs = 0;
    }
    if (this.badEpochs > this.options.patience) {
      this.optimizer.lr = Math.max(this.optimizer.lr * this.options.factor, this.options.minLr);
      this.cooldownLeft = this.options.cooldown;
      this.badEpochs = 0;
    }
  }
  getLastLr(): number {
    return this.optimizer.lr;
  }
}
