/** The `nabla` command: train, resume and eval, and its refusals of bad input. */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import * as nb from '../src/index.js';
import { completedFolder, replaceFolder, writeSet } from '../src/cli/output.js';
import { fashionFixture, tempDir } from './helpers/files.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/** Runs `nabla ...args`; a last argument that is an object adds environment variables. */
function nabla(...args: (string | Record<string, string>)[]): SpawnSyncReturns<string> {
  const env = typeof args.at(-1) === 'object' ? (args.pop() as Record<string, string>) : {};
  return spawnSync(process.execPath, [cli, ...(args as string[])], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
}

describe('nabla train', () => {
  test('trains on a 2-D set and writes the model, history and loss curve', () => {
    const out = tempDir();
    const stdout = execFileSync(
      process.execPath,
      [
        cli,
        'train',
        '--dataset',
        'circles',
        '--hidden',
        '16',
        '--epochs',
        '15',
        '--lr',
        '0.02',
        '--out',
        out,
      ],
      { encoding: 'utf8' },
    );
    assert.match(stdout, /epoch {2}15\/15 .* test accuracy/);
    const accuracy = Number(/test accuracy: ([\d.]+)/.exec(stdout)![1]);
    assert.ok(accuracy > 0.9, stdout);
    for (const f of ['model.safetensors', 'history.json', 'loss-curve.svg'])
      assert.ok(existsSync(join(out, f)), f);
    const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')) as {
      history: unknown[];
    };
    assert.equal(history.history.length, 15);
    assert.match(
      readFileSync(join(out, 'loss-curve.svg'), 'utf8'),
      /^<svg[\s\S]*<polyline[\s\S]*<\/svg>$/,
    );
    const model = nb.load(join(out, 'model.safetensors'));
    assert.deepEqual(model['0.weight']!.shape, [16, 2]);
  });

  test('unknown flags and bad values exit 2 with a clear message', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [cli, 'train', ...args], { encoding: 'utf8' });
    const unknown = run('--epoch', '3');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /nabla train: Unknown option '--epoch'/);
    assert.match(
      run('--dataset', 'cifar').stderr,
      /--dataset must be one of mnist, fashion-mnist, xor, moons, circles, spirals; got 'cifar'/,
    );
    assert.match(run('--lr', '0').stderr, /--lr must be a positive number; got '0'/);
    assert.match(run('--hidden', '64,x').stderr, /--hidden must be a positive integer; got 'x'/);
    assert.equal(run('--help').status, 0);
  });

  test('--out is checked before the first epoch: no hang, no lost run, exit 2', () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'x');
    for (const [out, why] of [
      ['/proc/x', /--out \/proc\/x: \/proc\/x is in a kernel file system/],
      ['/sys/x', /is in a kernel file system/],
      ['/dev/null', /--out \/dev\/null: .* is in a kernel file system/],
      [file, /exists and is not a folder/],
      [join(file, 'sub'), /cannot write to .*: a part of the path is a file, not a folder/],
      ['', /--out must name a folder; got ''/],
    ] as const) {
      const result = nabla('train', '--dataset', 'xor', '--epochs', '1', '--out', out);
      assert.equal(result.status, 2, `${out}: ${result.stderr}`);
      assert.match(result.stderr, why);
      assert.doesNotMatch(result.stdout, /epoch/, 'refused before training');
    }
  });

  test('Ctrl-C writes a checkpoint and exits 130; --resume ends bit-identical to a run never stopped', async () => {
    const args = [
      '--dataset',
      'spirals',
      '--hidden',
      '32,32',
      '--epochs',
      '20',
      '--batch-size',
      '4',
    ];
    const whole = tempDir();
    assert.equal(nabla('train', ...args, '--out', whole).status, 0);
    const cut = tempDir();
    const child = spawn(process.execPath, [cli, 'train', ...args, '--out', cut]);
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += String(chunk);
      if (stdout.includes('epoch   1/20') && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 130, stdout);
    assert.match(
      stdout,
      /interrupted in epoch \d+ after step \d+; checkpoint written to .*checkpoint\nresume with: nabla train --resume /,
    );
    assert.ok(!existsSync(join(cut, 'model.safetensors')));
    const resumed = nabla('train', '--resume', cut);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stdout, /resuming after epoch \d+ step \d+/);
    assert.deepEqual(
      readFileSync(join(cut, 'model.safetensors')),
      readFileSync(join(whole, 'model.safetensors')),
    );
    const records = (dir: string) =>
      (
        JSON.parse(readFileSync(join(dir, 'history.json'), 'utf8')) as {
          history: Record<string, number>[];
        }
      ).history.map(({ seconds: _, ...rest }) => rest);
    assert.deepEqual(records(cut), records(whole));
    assert.equal(nabla('train', '--resume', cut, '--epochs', '3').status, 2);
    const none = nabla('train', '--resume', tempDir());
    assert.equal(none.status, 1);
    assert.match(none.stderr, /--resume .*: no checkpoint there/);
  });

  test('bad data, seeds, sizes and settings are clear errors, not NaN runs or stack traces', () => {
    const empty = fashionFixture({ train: 0, test: 2 });
    const noImages = nabla(
      'train',
      '--dataset',
      'fashion-mnist',
      '--data-dir',
      empty,
      '--out',
      tempDir(),
    );
    assert.equal(noImages.status, 1);
    assert.match(noImages.stderr, /nabla train: fashionMnist: the train files hold no images/);
    const seed = nabla('train', '--seed', '4294967296');
    assert.equal(seed.status, 2);
    assert.match(seed.stderr, /--seed must be an integer from 0 to 4294967295; got '4294967296'/);
    const huge = nabla('train', '--dataset', 'xor', '--hidden', '1000000000', '--out', tempDir());
    assert.equal(huge.status, 1);
    assert.match(
      huge.stderr,
      /the MLP 2-1000000000-2 has 5,000,000,002 parameters: training it needs about 80\.0 GB/,
    );
    const nanOut = tempDir();
    const diverging = nabla(
      'train',
      '--dataset',
      'xor',
      '--optimizer',
      'sgd',
      '--lr',
      '1e30',
      '--out',
      nanOut,
    );
    assert.equal(diverging.status, 1);
    assert.match(
      diverging.stderr,
      /training stopped: the loss became NaN at epoch 1, step 2; the last finite loss was 0\.70757 at step 1/,
    );
    assert.ok(!existsSync(join(nanOut, 'model.safetensors')), 'a diverged run writes no model');
    const threads = nabla('train', { NABLA_NUM_THREADS: '0' });
    assert.equal(threads.status, 1);
    assert.equal(
      threads.stderr,
      "nabla train: NABLA_NUM_THREADS must be a whole number ≥ 1, got '0'\n",
    );
  });
});

describe('nabla eval', () => {
  test('reports loss, accuracy and the confusion matrix, as text and PNG', () => {
    const out = tempDir();
    assert.equal(
      nabla(
        'train',
        '--dataset',
        'moons',
        '--hidden',
        '16',
        '--epochs',
        '5',
        '--lr',
        '0.02',
        '--out',
        out,
      ).status,
      0,
    );
    const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')) as {
      history: { testLoss: number; testAccuracy: number }[];
    };
    const last = history.history.at(-1)!;
    const result = nabla('eval', '--model', join(out, 'model.safetensors'));
    assert.equal(result.status, 0, result.stderr);
    assert.match(
      result.stdout,
      new RegExp(`loss ${last.testLoss.toFixed(4)}  accuracy ${last.testAccuracy.toFixed(4)}`),
    );
    const rows = /true\\pred +0 +1\n0 +(\d+) +(\d+)\n1 +(\d+) +(\d+)/.exec(result.stdout);
    assert.ok(rows, result.stdout);
    const [a, b, c, d] = rows.slice(1).map(Number) as [number, number, number, number];
    assert.equal(a + b + c + d, 200);
    assert.equal((a + d) / 200, last.testAccuracy);
    assert.deepEqual(
      [...readFileSync(join(out, 'confusion-matrix.png')).subarray(0, 4)],
      [0x89, 0x50, 0x4e, 0x47],
    );
    const missing = nabla('eval', '--model', join(out, 'none.safetensors'));
    assert.equal(missing.status, 1);
    assert.match(
      missing.stderr,
      /nabla eval: eval: cannot read '.*none\.safetensors': no such file/,
    );
    assert.equal(nabla('eval').status, 2);
  });
});

describe('output sets', () => {
  test('a set whose writing fails leaves the old files as they were, and no staging behind', () => {
    const dir = tempDir();
    writeSet(dir, [
      ['model.safetensors', 'old model'],
      ['history.json', 'old history'],
    ]);
    assert.throws(() =>
      writeSet(dir, [
        ['model.safetensors', 'new model'],
        ['no/such/folder/history.json', 'cannot be written'],
      ]),
    );
    assert.equal(readFileSync(join(dir, 'model.safetensors'), 'utf8'), 'old model');
    assert.deepEqual(readdirSync(dir).sort(), ['history.json', 'model.safetensors']);
  });

  test('a checkpoint folder is replaced whole; a cut-off replace leaves the last complete one', () => {
    const dir = tempDir();
    replaceFolder(dir, 'checkpoint', [['state.json', '1']]);
    replaceFolder(dir, 'checkpoint', [['state.json', '2']]);
    assert.equal(
      readFileSync(join(completedFolder(dir, 'checkpoint')!, 'state.json'), 'utf8'),
      '2',
    );
    renameSync(join(dir, 'checkpoint'), join(dir, 'checkpoint.old')); // as if cut off mid-replace
    assert.equal(completedFolder(dir, 'checkpoint'), join(dir, 'checkpoint.old'));
    assert.deepEqual(readdirSync(dir), ['checkpoint.old']);
  });
});
