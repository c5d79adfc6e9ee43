export { accuracy, confusionMatrix } from './metrics.js';
