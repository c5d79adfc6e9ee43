#!/usr/bin/env node
/**
 * The `nabla` command. The commands are loaded inside the error handling, so that a bad setting
 * met while nabla starts (NABLA_NUM_THREADS=0, say) is reported like any other error.
 */
import { NablaError } from '../core/errors.js';
import { UsageError } from './args.js';
import { enableRelaxedSimd } from './relaxed-simd.js';

const USAGE = `Usage: nabla <command> [options]

Commands:
  train    train an MLP or CNN classifier, or resume one (nabla train --help)
  eval     evaluate a trained model on a dataset (nabla eval --help)
  export   write a trained model as an ONNX file (nabla export --help)
`;

async function run(command: string, args: string[]): Promise<number> {
  enableRelaxedSimd(); // before the commands load nabla and compile its kernels
  if (command === 'train') {
    const { parseTrainArgs, runTrain, TRAIN_HELP } = await import('./train.js');
    const config = parseTrainArgs(args);
    if (config === 'help') return (process.stdout.write(TRAIN_HELP), 0);
    const result = await runTrain(config);
    return result.testAccuracy === null ? 130 : 0; // 130: stopped by Ctrl-C, checkpoint written
  }
  if (command === 'export') {
    const { parseExportArgs, runExport, EXPORT_HELP } = await import('./export.js');
    const config = parseExportArgs(args);
    if (config === 'help') return (process.stdout.write(EXPORT_HELP), 0);
    await runExport(config);
    return 0;
  }
  const { parseEvalArgs, runEval, EVAL_HELP } = await import('./eval.js');
  const config = parseEvalArgs(args);
  if (config === 'help') return (process.stdout.write(EVAL_HELP), 0);
  await runEval(config);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'train' && command !== 'eval' && command !== 'export') {
    process.stderr.write(`nabla: unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }
  try {
    return await run(command, rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`nabla ${command}: ${error.message}\n(see nabla ${command} --help)\n`);
      return 2;
    }
    if (error instanceof NablaError) {
      process.stderr.write(`nabla ${command}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
