#!/usr/bin/env node
/** The `nabla` command. */
import { NablaError } from '../core/errors.js';
import { parseTrainArgs, runTrain, TRAIN_HELP, UsageError } from './train.js';

const USAGE = `Usage: nabla <command> [options]

Commands:
  train    train an MLP classifier (nabla train --help)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'train') {
    process.stderr.write(`nabla: unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }
  try {
    const config = parseTrainArgs(rest);
    if (config === 'help') {
      process.stdout.write(TRAIN_HELP);
      return 0;
    }
    await runTrain(config);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`nabla train: ${error.message}\n(see nabla train --help)\n`);
      return 2;
    }
    if (error instanceof NablaError) {
      process.stderr.write(`nabla train: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
