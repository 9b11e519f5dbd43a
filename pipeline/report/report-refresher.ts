import { WorkerPool } from '../worker-pool.js';
import type { Logger } from '../logger.js';
import type { WrittenReport } from './write-report.js';

const WORKER_MODULE = new URL(`./report-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);

/**
 * Refreshes a run's report.html on a worker thread, so drawing the charts never stalls training: `refresh()` at a
 * checkpoint starts a report unless one is still being written (then one more follows it, with the newest data);
 * `finish()` writes the last one and stops the worker. A failed report is a warning, never a failed run.
 */
export class ReportRefresher {
  private pool: WorkerPool<Record<string, never>, string, WrittenReport> | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly dir: string, private readonly logger: Logger) {}

  /** Starts a refresh (or queues one behind the refresh in progress). */
  refresh(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.write().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.refresh();
      }
    });
  }

  /** Waits for the refreshes in progress, writes a final report, and stops the worker. */
  async finish(): Promise<WrittenReport | undefined> {
    this.again = false;
    await this.running;
    let last: WrittenReport | undefined;
    await this.write((r) => { last = r; });
    await this.pool?.close();
    this.pool = undefined;
    return last;
  }

  /** Stops the worker without a final report (a run that failed). */
  async close(): Promise<void> {
    this.again = false;
    await this.running;
    await this.pool?.close();
    this.pool = undefined;
  }

  private async write(done?: (r: WrittenReport) => void): Promise<void> {
    try {
      this.pool ??= new WorkerPool<Record<string, never>, string, WrittenReport>(WORKER_MODULE, {}, 1);
      const r = await this.pool.run(this.dir);
      done?.(r);
    } catch (e) {
      this.logger.warn({ dir: this.dir, error: (e as Error).message }, 'the run report could not be written (training goes on); run `tripletflow report DIR` to retry');
    }
  }
}
