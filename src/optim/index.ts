/** nb.optim: optimizers, learning-rate schedulers, and the update rules they share with graph mode. */
export {
  Optimizer,
  SGD,
  Adam,
  AdamW,
  type SGDOptions,
  type AdamOptions,
  type OptimizerStateDict,
} from './optimizer.js';
export {
  StepLR,
  ExponentialLR,
  CosineAnnealingLR,
  ReduceLROnPlateau,
  type PlateauOptions,
} from './schedulers.js';
export { sgdRule, adamRule, type SGDHyper, type AdamHyper, type RuleState } from './rules.js';
