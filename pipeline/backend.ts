import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { ConfigError, FatalError } from './errors.js';

/** Backends tripletflow can train on, fastest first. */
export const BACKENDS = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
export type BackendChoice = BackendName | 'auto';

/** Which backend runs, and why each faster one did not. */
export interface BackendReport {
  readonly backend: BackendName;
  /** tf.getBackend() after the switch ('tensorflow' for both tfjs-node packages). */
  readonly tfBackend: string;
  readonly skipped: ReadonlyArray<{ backend: BackendName; reason: string }>;
}

const require = createRequire(import.meta.url);
let current: BackendReport | undefined;

async function tryNode(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'): Promise<string | undefined> {
  try {
    // an optional dependency: its install downloads libtensorflow, which fails where that download is blocked
    await import(pkg);
    return undefined;
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0] ?? String(e);
    return /Cannot find (package|module)/.test(msg) ? `${pkg} is not installed (optional; npm i ${pkg} where libtensorflow can be downloaded)` : `${pkg} failed to load: ${msg}`;
  }
}

async function trySet(name: string): Promise<string | undefined> {
  try {
    const ok = await tf.setBackend(name);
    await tf.ready();
    return ok ? undefined : `tf.setBackend('${name}') returned false`;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Switches TensorFlow.js to `choice`. `auto` tries tensorflow-gpu, tensorflow, wasm, cpu in that order and reports
 * why each faster one was skipped. An explicit choice that cannot load is a FatalError saying how to install it.
 * `threads` sets wasm's thread count where the threaded build is available.
 */
export async function selectBackend(choice: BackendChoice = 'auto', threads?: number): Promise<BackendReport> {
  if (choice !== 'auto' && !(BACKENDS as readonly string[]).includes(choice)) {
    throw new ConfigError('backend', `unknown backend "${choice}"; use one of auto, ${BACKENDS.join(', ')}`);
  }
  if (current && (choice === 'auto' || choice === current.backend)) return current;
  const order: BackendName[] = choice === 'auto' ? [...BACKENDS] : [choice];
  const skipped: Array<{ backend: BackendName; reason: string }> = [];
  for (const b of order) {
    let reason: string | undefined;
    if (b === 'tensorflow-gpu' || b === 'tensorflow') {
      reason = await tryNode(b === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node');
      reason ??= await trySet('tensorflow');
    } else if (b === 'wasm') {
      setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
      if (threads !== undefined) setThreadsCount(threads);
      reason = await trySet('wasm');
    } else {
      reason = await trySet('cpu');
    }
    if (reason === undefined) {
      current = { backend: b, tfBackend: tf.getBackend(), skipped };
      return current;
    }
    skipped.push({ backend: b, reason });
  }
  const why = skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
  throw new FatalError(`backend ${choice} could not be loaded (${why})`);
}
