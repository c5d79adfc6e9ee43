/** `nabla export`: a model written by `nabla train` as an ONNX file that ONNX Runtime runs. */
import * as nb from '../index.js';
import { parseFlags, UsageError } from './args.js';
import { readModel } from './model-file.js';

export const EXPORT_HELP = `Usage: nabla export --model FILE --onnx FILE [--batch N]

Writes a model of nabla train (its model.safetensors) as an ONNX model (opset 17) with one input
'input' [N, features] and one output 'output' [N, classes] (logits), in eval mode.

Options:
  --model FILE        model.safetensors written by nabla train                  (required)
  --onnx FILE         where to write the ONNX file                              (required)
  --batch N           the batch size N of the graph's input                     (default 1)
  -h, --help          show this help
`;

export interface ExportConfig {
  model: string;
  onnx: string;
  batch: number;
}

export function parseExportArgs(args: string[]): ExportConfig | 'help' {
  const v = parseFlags(args, {
    model: { type: 'string' },
    onnx: { type: 'string' },
    batch: { type: 'string', default: '1' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (v.help) return 'help';
  if (!v.model)
    throw new UsageError('--model FILE is required (a model.safetensors of nabla train)');
  if (!v.onnx) throw new UsageError('--onnx FILE is required (where to write the ONNX model)');
  const batch = Number(v.batch);
  if (!Number.isInteger(batch) || batch < 1)
    throw new UsageError(`--batch must be a whole number ≥ 1, got '${v.batch}'`);
  return { model: v.model, onnx: v.onnx, batch };
}

export async function runExport(
  config: ExportConfig,
  log: (line: string) => void = console.log,
): Promise<void> {
  const { model, metadata } = readModel(config.model, 'export');
  const features = Number(metadata['architecture']!.split('-')[0]);
  const bytes = await nb.onnx.exportModel(model, nb.zeros([config.batch, features]), config.onnx);
  log(
    `nabla export: wrote ${config.onnx} (${bytes.length.toLocaleString('en-US')} bytes, ONNX opset ${nb.onnx.OPSET})`,
  );
}
