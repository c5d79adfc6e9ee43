/** nb.data: datasets and batching. */
export { TensorDataset, Subset, randomSplit, type Dataset } from './dataset.js';
export { DataLoader, type DataLoaderOptions } from './loader.js';
