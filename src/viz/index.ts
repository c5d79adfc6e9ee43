/** nb.viz: graph pictures, plots, and SVG/PNG rendering. */
export { graph, type GraphOptions, type GraphPicture } from './graph.js';
export {
  lineChart,
  decisionBoundary,
  confusionChart,
  ticks,
  type Series,
  type ChartOptions,
  type BoundaryOptions,
  type ConfusionOptions,
} from './plot.js';
export { dotToSvg, svgToPng, type PngOptions } from './render.js';
