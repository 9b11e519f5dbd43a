import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../pipeline/rng.js';
import { CheckpointStore } from '../../pipeline/checkpoint/checkpoint-store.js';
import { evalOf, metricsOf } from '../helpers/run-outputs.js';

const TRIALS = Number(process.env.TRIPLETFLOW_KILL_TRIALS ?? 20);
const args = (out: string) => [
  '--import', 'tsx', 'pipeline/main.ts', 'train', '--train', 'test/fixtures/small-corpus.jsonl', '--eval', 'test/fixtures/small-eval.jsonl',
  '--steps', '45', '--classes', '4', '--per-class', '4', '--curriculum', '0:semi-hard:4x4,20:batch-hard:6x4', '--embedding-dim', '16',
  '--head', '32,16', '--backend', 'cpu', '--shuffle-window', '64', '--log-every', '1', '--checkpoint-every', '2', '--no-progress',
  '--seed', '3', '--resume', out,
];

/** Runs the CLI; kills it with SIGKILL after `killAfterMs` unless it ends first. Resolves with its exit code (null: killed). */
function run(out: string, killAfterMs: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args(out), { stdio: ['ignore', 'ignore', 'ignore'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe('kill -9 at random moments', () => {
  it(`${TRIALS} kills at random points, each followed by --resume: the final metrics equal an uninterrupted run's`, async () => {
    const base = mkdtempSync(join(tmpdir(), 'tf-kill-base-'));
    expect(await run(base, 120_000)).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'tf-kill-'));
    // the kill points come from a seed, so a failure can be replayed
    const rng = Rng.derive(Number(process.env.TRIPLETFLOW_KILL_SEED ?? 1), 'kill-points');
    let kills = 0;
    let killsAfterProgress = 0;
    let lastStep = -1;
    let finished = false;
    const started = Date.now();
    while (!finished) {
      if (kills < TRIALS) {
        const code = await run(dir, 800 + rng.int(5000));
        if (code === null) {
          kills++;
          const step = new CheckpointStore(join(dir, 'checkpoints')).steps()[0] ?? -1;
          if (step > lastStep) killsAfterProgress++;
          lastStep = Math.max(lastStep, step);
        }
        else finished = code === 0 && JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).status === 'done';
      } else {
        expect(await run(dir, 120_000)).toBe(0);
        finished = true;
      }
      expect(Date.now() - started, 'time bound').toBeLessThan(400_000);
    }
    expect(kills).toBe(TRIALS);
    // some kills landed mid-training (after checkpoints), not all during start-up
    expect(killsAfterProgress).toBeGreaterThan(0);
    expect(metricsOf(dir)).toEqual(metricsOf(base));
    expect(evalOf(dir)).toEqual(evalOf(base));
  }, 450_000);
});
