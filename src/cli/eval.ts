/**
 * `nabla eval`: a model written by `nabla train` on a dataset's test split — loss, accuracy and the
 * confusion matrix, as text and as a picture (SVG + PNG).
 */
import { dirname } from 'node:path';
import * as nb from '../index.js';
import { NablaError } from '../core/errors.js';
import { choice, parseFlags, seedOf, UsageError } from './args.js';
import { DATASETS, loadData } from './data.js';
import { readModel } from './model-file.js';
import { prepareOutDir, writeSet } from './output.js';

export const EVAL_HELP = `Usage: nabla eval --model FILE --dataset NAME [options]

Evaluates a model written by nabla train on the dataset's test split: cross-entropy loss,
accuracy and the confusion matrix (rows: true class, columns: prediction), printed and drawn.

Options:
  --model FILE        model.safetensors written by nabla train                  (required)
  --dataset NAME      mnist | fashion-mnist | xor | moons | circles | spirals   (default: the
                      dataset the model was trained on)
  --seed N            the split of sets made here (mnist, 2-D sets)  (default: the training seed)
  --out DIR           where to write confusion-matrix.svg and .png  (default: the model's folder)
  --data-dir DIR      Fashion-MNIST IDX directory         (default ${nb.datasets.FASHION_MNIST_DIR})
  -h, --help          show this help
`;

export interface EvalConfig {
  model: string;
  dataset: (typeof DATASETS)[number] | null;
  seed: number | null;
  out: string | null;
  dataDir: string;
}

export function parseEvalArgs(args: string[]): EvalConfig | 'help' {
  const v = parseFlags(args, {
    model: { type: 'string' },
    dataset: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    'data-dir': { type: 'string', default: nb.datasets.FASHION_MNIST_DIR },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (v.help) return 'help';
  if (!v.model)
    throw new UsageError('--model FILE is required (a model.safetensors of nabla train)');
  return {
    model: v.model,
    dataset: v.dataset === undefined ? null : choice('dataset', v.dataset, DATASETS),
    seed: v.seed === undefined ? null : seedOf(v.seed),
    out: v.out ?? null,
    dataDir: v['data-dir']!,
  };
}

export interface EvalResult {
  loss: number;
  accuracy: number;
  confusion: number[][];
  files: string[];
}

export async function runEval(
  config: EvalConfig,
  log: (line: string) => void = console.log,
): Promise<EvalResult> {
  const { model, metadata } = readModel(config.model);
  const out = prepareOutDir(config.out ?? dirname(config.model));
  const dataset =
    config.dataset ?? choice('dataset', metadata['dataset'] ?? '(none recorded)', DATASETS);
  const seed = config.seed ?? seedOf(metadata['seed'] ?? '0');
  const data = loadData(dataset, seed, config.dataDir);
  const inputs = data.test.x.shape[1]!;
  const expected = Number(metadata['architecture']!.split('-')[0]);
  if (expected !== inputs)
    throw new NablaError(
      `${config.model} takes ${expected} inputs, ${dataset} has ${inputs} features`,
    );
  const lossFn = new nb.nn.CrossEntropyLoss();
  const { loss, accuracy } = nb.evaluate(model, data.test.x, data.test.y, (p, y) =>
    lossFn.forward(p, y),
  );
  const logits = nb.noGrad(() => model.eval().forward(data.test.x));
  const counts = nb.metrics.confusionMatrix(logits, data.test.y, data.classes.length);
  const confusion = counts.toArray() as number[][];
  log(`nabla eval: ${config.model} on ${dataset} (${data.test.x.shape[0]} test samples)`);
  log(`loss ${loss.toFixed(4)}  accuracy ${accuracy.toFixed(4)}`);
  log(confusionText(confusion, data.classes));
  const svg = nb.viz.confusionChart(counts, data.classes, {
    title: `${dataset}: accuracy ${accuracy.toFixed(4)}`,
  });
  const files = writeSet(out, [
    ['confusion-matrix.svg', svg],
    ['confusion-matrix.png', await nb.viz.svgToPng(svg)],
  ]);
  log(`wrote ${files.join(', ')}`);
  return { loss, accuracy, confusion, files };
}

/** The matrix as aligned text: a row per true class, a column per prediction. */
function confusionText(rows: number[][], classes: readonly string[]): string {
  const label = Math.max('true\\pred'.length, ...classes.map((c) => c.length));
  const width = Math.max(4, ...rows.flat().map((n) => String(n).length + 1));
  const header = `${'true\\pred'.padEnd(label)} ${rows.map((_, j) => String(j).padStart(width)).join('')}`;
  const lines = rows.map(
    (row, i) =>
      `${(classes[i] ?? String(i)).padEnd(label)} ${row.map((n) => String(n).padStart(width)).join('')}`,
  );
  return [header, ...lines].join('\n');
}
