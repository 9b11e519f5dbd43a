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
  '--head', '32,16', '--backend', 'cpu', '--shuffle-window', '64', '--log-every', '1', '--checkpoint-every', '2', '--no-progress', '--no-report',
  '--seed', '3', '--resume', out,
];

/** Runs the CLI and sends it `signal` once its first checkpoint exists. Resolves with its exit code. */
function runAndSignal(out: string, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args(out), { stdio: ['ignore', 'ignore', 'ignore'] });
    const poll = setInterval(() => {
      if (new CheckpointStore(join(out, 'checkpoints')).steps().length > 0) {
        clearInterval(poll);
        child.kill(signal);
      }
    }, 50);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(poll);
      resolve(code);
    });
  });
}

/**
 * Runs the CLI; kills it with SIGKILL after `killAfterMs`, or, with `afterCheckpointMs`, that long after it has
 * written a checkpoint newer than the ones there at its start (so the kill lands mid-training, possibly mid-write).
 * Resolves with its exit code (null: killed).
 */
function run(out: string, killAfterMs: number, afterCheckpointMs?: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const newest = () => new CheckpointStore(join(out, 'checkpoints')).steps()[0] ?? -1;
    const before = newest();
    const child = spawn(process.execPath, args(out), { stdio: ['ignore', 'ignore', 'ignore'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    const poll = afterCheckpointMs === undefined ? undefined : setInterval(() => {
      if (newest() > before) {
        clearInterval(poll);
        setTimeout(() => child.kill('SIGKILL'), afterCheckpointMs);
      }
    }, 20);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve(code);
    });
  });
}

describe('kill -9 at random moments', () => {
  it(`${TRIALS} kills at random points, each followed by --resume: the final metrics equal an uninterrupted run's`, async () => {
    const base = mkdtempSync(join(tmpdir(), 'tf-kill-base-'));
    expect(await run(base, 120_000)).toBe(0);
    // the kill points come from a seed, so a failure can be replayed
    const rng = Rng.derive(Number(process.env.TRIPLETFLOW_KILL_SEED ?? 1), 'kill-points');
    const started = Date.now();
    let kills = 0;
    let killsAfterProgress = 0;
    let chains = 0;
    // chains of runs in one directory, each run killed and the next one resuming, until a run finishes; a chain
    // that finishes before TRIALS kills is followed by another
    while (kills < TRIALS) {
      const dir = mkdtempSync(join(tmpdir(), 'tf-kill-'));
      chains++;
      let lastStep = -1;
      for (let finished = false; !finished;) {
        expect(Date.now() - started, 'time bound').toBeLessThan(800_000);
        // odd trials: at a random moment from the start (often during start-up); even: just after a checkpoint
        const code = kills >= TRIALS ? await run(dir, 120_000)
          : kills % 2 === 1 ? await run(dir, 300 + rng.int(5000)) : await run(dir, 60_000, rng.int(400));
        if (code === null) {
          kills++;
          const step = new CheckpointStore(join(dir, 'checkpoints')).steps()[0] ?? -1;
          if (step > lastStep) killsAfterProgress++;
          lastStep = Math.max(lastStep, step);
        } else {
          expect(code).toBe(0);
          finished = (JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { status: string }).status === 'done';
        }
      }
      expect(metricsOf(dir), `chain ${chains}`).toEqual(metricsOf(base));
      expect(evalOf(dir), `chain ${chains}`).toEqual(evalOf(base));
    }
    expect(kills).toBe(TRIALS);
    // some kills landed mid-training (after checkpoints), not all during start-up
    expect(killsAfterProgress).toBeGreaterThan(0);
  }, 900_000);

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: the step finishes, a checkpoint is written, exit 0 with status resumable; --resume ends identical`, async () => {
      const base = mkdtempSync(join(tmpdir(), 'tf-sig-base-'));
      expect(await run(base, 120_000)).toBe(0);
      const dir = mkdtempSync(join(tmpdir(), 'tf-sig-'));
      expect(await runAndSignal(dir, signal)).toBe(0);
      const stopped = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { status: string; steps: number };
      expect(stopped.status).toBe('resumable');
      expect(stopped.steps).toBeLessThan(45);
      expect(new CheckpointStore(join(dir, 'checkpoints')).steps()[0]).toBe(stopped.steps);
      expect(await run(dir, 120_000)).toBe(0);
      expect(metricsOf(dir)).toEqual(metricsOf(base));
      expect(evalOf(dir)).toEqual(evalOf(base));
    }, 120_000);
  }
});
