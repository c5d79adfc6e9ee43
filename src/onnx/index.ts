/** nb.onnx: models out of nabla, as ONNX files that ONNX Runtime and PyTorch's tools load. */
export { exportModel, exportGraph, OPSET, type ExportOptions } from './export.js';
