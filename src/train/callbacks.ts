/** Training helpers: early stopping, the history of a run, a progress bar. */
import { opError } from '../core/errors.js';
import type { Module, StateDict } from '../nn/module.js';

export interface EarlyStoppingOptions {
  /** Epochs without improvement before stopping. */
  patience?: number;
  /** The smallest change that counts as an improvement. */
  minDelta?: number;
  mode?: 'min' | 'max';
  /** Keep a copy of the best weights, for restore(). */
  restoreBest?: boolean;
}

/** Stops training once a monitored metric stops improving, and can bring back the best weights. */
export class EarlyStopping {
  best: number;
  bestEpoch = -1;
  private waited = 0;
  private epoch = -1;
  private bestState: StateDict | null = null;
  private readonly options: Required<EarlyStoppingOptions>;

  constructor(options: EarlyStoppingOptions = {}) {
    this.options = { patience: 5, minDelta: 0, mode: 'min', restoreBest: true, ...options };
    if (!(this.options.patience >= 0)) throw opError('EarlyStopping', 'patience must be >= 0');
    this.best = this.options.mode === 'min' ? Infinity : -Infinity;
  }

  /** Records this epoch's metric; returns true when training should stop. */
  step(value: number, model?: Module): boolean {
    this.epoch++;
    const { mode, minDelta, patience, restoreBest } = this.options;
    const improved = mode === 'min' ? value < this.best - minDelta : value > this.best + minDelta;
    if (improved) {
      this.best = value;
      this.bestEpoch = this.epoch;
      this.waited = 0;
      if (restoreBest && model) {
        this.bestState = Object.fromEntries(
          Object.entries(model.stateDict()).map(([k, t]) => [k, t.clone()]),
        );
      }
      return false;
    }
    return ++this.waited > patience;
  }

  /** Loads the best weights seen into `model` (no-op if none were kept). */
  restore(model: Module): void {
    if (this.bestState) model.loadStateDict(this.bestState);
  }
}

export interface EpochRecord {
  epoch: number;
  [metric: string]: number;
}

/** Per-epoch metrics of a run (loss, accuracy, lr, seconds...), serialisable as JSON. */
export class History {
  readonly epochs: EpochRecord[] = [];
  record(entry: EpochRecord): void {
    this.epochs.push(entry);
  }
  /** One metric across epochs. */
  series(metric: string): number[] {
    return this.epochs.map((e) => e[metric] ?? NaN);
  }
  toJSON(): EpochRecord[] {
    return this.epochs;
  }
}

interface Writable {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** A one-line progress bar on a terminal; elsewhere (logs, CI) it stays silent until done(). */
export class ProgressBar {
  private current = 0;
  private readonly started = Date.now();
  constructor(
    private readonly total: number,
    private readonly label = '',
    private readonly stream: Writable = process.stdout,
  ) {}

  tick(suffix = ''): void {
    this.current++;
    if (!this.stream.isTTY) return;
    const width = Math.max(10, Math.min(30, (this.stream.columns ?? 80) - 60));
    const filled = Math.round((width * this.current) / this.total);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1);
    this.stream.write(
      `\r${this.label} ${bar} ${this.current}/${this.total} ${seconds}s ${suffix}\x1b[K`,
    );
  }

  /** Clears the bar's line (on a terminal) so the caller can print the summary. */
  done(): void {
    if (this.stream.isTTY) this.stream.write('\r\x1b[K');
  }
}
