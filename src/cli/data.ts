/** The datasets and models of `nabla train` and `nabla eval`: the same data and model either way. */
import * as nb from '../index.js';
import { buildCnn } from './model-spec.js';

export const DATASETS = ['mnist', 'fashion-mnist', 'xor', 'moons', 'circles', 'spirals'] as const;
export type DatasetName = (typeof DATASETS)[number];

export const ACTIVATIONS = {
  relu: nb.nn.ReLU,
  tanh: nb.nn.Tanh,
  sigmoid: nb.nn.Sigmoid,
  'leaky-relu': nb.nn.LeakyReLU,
};
export type ActivationName = keyof typeof ACTIVATIONS;

export interface Split {
  x: nb.Tensor;
  y: nb.Tensor;
}
export interface Data {
  train: Split;
  test: Split;
  classes: readonly string[];
}

/** A dataset's train and test splits; `seed` fixes the split where the set is made here. */
export function loadData(name: DatasetName, seed: number, dataDir: string): Data {
  switch (name) {
    case 'mnist':
      return nb.datasets.mnist({ seed });
    case 'fashion-mnist':
      return nb.datasets.fashionMnist(dataDir);
    default: {
      const make = {
        xor: nb.datasets.xor,
        moons: nb.datasets.moons,
        circles: nb.datasets.circles,
        spirals: nb.datasets.spirals,
      }[name];
      const { x, y } = make({ n: 1000, seed });
      const [train, test] = nb.data.randomSplit(new nb.data.TensorDataset(x, y), [800, 200], seed);
      const part = (s: nb.data.Subset): Split => {
        const [px, py] = s.getBatch(Int32Array.from({ length: s.length }, (_, i) => i));
        return { x: px!, y: py! };
      };
      const classes = Array.from({ length: y.max().item() + 1 }, (_, i) => String(i));
      return { train: part(train!), test: part(test!), classes };
    }
  }
}

/** inputs → hidden… → outputs, with `activation` after each hidden layer. */
export function buildMlp(sizes: readonly number[], activation: ActivationName): nb.nn.Sequential {
  const layers: nb.nn.Module[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    layers.push(new nb.nn.Linear(sizes[i]!, sizes[i + 1]!));
    if (i + 2 < sizes.length) layers.push(new ACTIVATIONS[activation]());
  }
  return new nb.nn.Sequential(...layers);
}

/** What a run trains: an MLP of `sizes`, or the CNN a `--model` spec describes. */
export interface ModelChoice {
  /** 'mlp', 'cnn' or a layer spec (see model-spec.ts). */
  model: string;
  sizes: readonly number[];
  activation: ActivationName;
}

export function buildModel({ model, sizes, activation }: ModelChoice): nb.nn.Sequential {
  return model === 'mlp' ? buildMlp(sizes, activation) : buildCnn(model, sizes.at(-1)!);
}

/** A line naming the network: `MLP 784-256-128-10 (relu)` or `CNN c32,relu,… → 10`. */
export function describeModel({ model, sizes, activation }: ModelChoice): string {
  return model === 'mlp'
    ? `MLP ${sizes.join('-')} (${activation})`
    : `CNN ${model === 'cnn' ? 'cnn (c32,relu,pool,c64,relu,pool,fc128,relu)' : model} → ${sizes.at(-1)}`;
}
