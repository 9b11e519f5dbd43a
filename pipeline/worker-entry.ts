import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerHandlerFactory } from './worker-pool.js';

// Loaded by WorkerPool in each worker thread: imports the task module and answers tasks in arrival order.
const { module, init } = workerData as { module: string; init: unknown };
const mod = (await import(module)) as { createHandler: WorkerHandlerFactory<unknown, unknown, unknown> };
const handler = await mod.createHandler(init);

parentPort?.on('message', async (msg: { id: number; input: unknown }) => {
  try {
    const output = await handler(msg.input);
    parentPort?.postMessage({ id: msg.id, ok: true, output });
  } catch (e) {
    const err = e as { name?: string; message?: string; reason?: string; recordId?: string };
    parentPort?.postMessage({
      id: msg.id,
      ok: false,
      error: { name: err.name ?? 'Error', message: err.message ?? String(e), reason: err.reason, recordId: err.recordId },
    });
  }
});
