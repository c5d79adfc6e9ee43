/** nb.datasets: real image sets and small synthetic sets. */
export {
  mnist,
  fashionMnist,
  FASHION_MNIST_DIR,
  type ImageDataset,
  type Split,
  type MnistOptions,
} from './images.js';
export {
  xor,
  moons,
  circles,
  spirals,
  patients,
  type PointSet,
  type RegressionSet,
  type ToyOptions,
} from './toy.js';
export { readIdx, parseIdx, type IdxArray } from './idx.js';
