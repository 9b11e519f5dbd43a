import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RecordError } from './errors.js';

/** A task module run on worker threads exports `createHandler(init)`, returning the per-task function. */
export type WorkerHandlerFactory<Init, I, O> = (init: Init) => Promise<(input: I) => O | Promise<O>> | ((input: I) => O | Promise<O>);

interface Pending<O> { resolve: (o: O) => void; reject: (e: unknown) => void }
interface Reply<O> { id: number; ok: boolean; output?: O; error?: { name: string; message: string; reason?: string; recordId?: string } }

const entryUrl = new URL(`./worker-entry.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);

/**
 * A fixed pool of worker threads running one task module. `run` sends a task to the least
 * busy worker; results come back as promises, so `parallelMap` keeps them in order.
 * Sources under TypeScript (tests) run their workers through tsx.
 */
export class WorkerPool<Init, I, O> {
  private readonly workers: Worker[] = [];
  private readonly pending: Map<number, Pending<O>>[] = [];
  private readonly dead: boolean[] = [];
  private nextId = 0;
  private closed = false;

  constructor(moduleUrl: URL, init: Init, readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`WorkerPool: size must be an integer >= 1 (got ${size})`);
    for (let w = 0; w < size; w++) {
      const worker = entryUrl.pathname.endsWith('.ts')
        ? new Worker(tsxBootstrap(entryUrl), { eval: true, workerData: { module: moduleUrl.href, init } })
        : new Worker(fileURLToPath(entryUrl), { workerData: { module: moduleUrl.href, init } });
      const pending = new Map<number, Pending<O>>();
      worker.on('message', (msg: Reply<O>) => {
        const p = pending.get(msg.id);
        if (!p) return;
        pending.delete(msg.id);
        if (msg.ok) p.resolve(msg.output as O);
        else p.reject(reviveError(msg.error));
      });
      const index = w;
      // a dead worker takes no new task (postMessage to it would never be answered)
      worker.on('error', (err) => {
        this.dead[index] = true;
        this.failAll(pending, err);
      });
      worker.on('exit', (code) => {
        this.dead[index] = true;
        if (!this.closed) this.failAll(pending, new Error(`worker thread exited with code ${code}`));
      });
      worker.unref();
      this.workers.push(worker);
      this.pending.push(pending);
    }
  }

  /** Runs one task on the least busy worker. */
  run(input: I, transfer: ArrayBuffer[] = []): Promise<O> {
    if (this.closed) return Promise.reject(new Error('WorkerPool: run() after close()'));
    let best = -1;
    for (let w = 0; w < this.workers.length; w++) {
      if (this.dead[w]) continue;
      if (best < 0 || (this.pending[w]?.size ?? 0) < (this.pending[best]?.size ?? 0)) best = w;
    }
    if (best < 0) return Promise.reject(new Error('WorkerPool: every worker thread has died; see the error reported before this one'));
    const id = this.nextId++;
    const worker = this.workers[best] as Worker;
    // a pending task keeps the process alive until it answers
    worker.ref();
    return new Promise<O>((resolve, reject) => {
      const pending = this.pending[best] as Map<number, Pending<O>>;
      const done = () => { if (pending.size === 0) worker.unref(); };
      pending.set(id, { resolve: (o) => { resolve(o); done(); }, reject: (e) => { reject(e); done(); } });
      worker.postMessage({ id, input }, transfer);
    });
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private failAll(pending: Map<number, Pending<O>>, err: unknown): void {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  }
}

/**
 * Worker code that registers tsx and then loads the TypeScript entry: under tests and `tsx` the sources are .ts,
 * and Node 20 ignores `--import tsx` in a worker's execArgv.
 */
function tsxBootstrap(entry: URL): string {
  // the ESM build of tsx's API: its CJS build registers hooks that cannot resolve from a worker
  const api = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/index\.cjs$/, 'index.mjs');
  return `import(${JSON.stringify(api)}).then((m) => { (m.register ?? m.default.register)(); return import(${JSON.stringify(entry.href)}); })`;
}

function reviveError(e: Reply<unknown>['error']): Error {
  if (e?.name === 'RecordError') return new RecordError(e.reason as never, e.recordId, e.message);
  const err = new Error(e?.message ?? 'worker task failed');
  if (e?.name) err.name = e.name;
  return err;
}
