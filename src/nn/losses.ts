/** Loss modules: `new nb.nn.CrossEntropyLoss().forward(logits, labels)`. */
import type { Tensor } from '../tensor/tensor.js';
import * as F from './functional.js';
import { Module } from './module.js';

abstract class Loss extends Module {
  constructor(protected readonly options: F.LossOptions = {}) {
    super();
  }
  abstract override forward(prediction: Tensor, target: Tensor): Tensor;
}

export class MSELoss extends Loss {
  forward(prediction: Tensor, target: Tensor): Tensor {
    return F.mse(prediction, target, this.options);
  }
}
export class BCELoss extends Loss {
  forward(prediction: Tensor, target: Tensor): Tensor {
    return F.bce(prediction, target, this.options);
  }
}
export class BCEWithLogitsLoss extends Loss {
  forward(prediction: Tensor, target: Tensor): Tensor {
    return F.bceWithLogits(prediction, target, this.options);
  }
}
export class CrossEntropyLoss extends Loss {
  forward(prediction: Tensor, target: Tensor): Tensor {
    return F.crossEntropy(prediction, target, this.options);
  }
}
