import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FatalError } from '../errors.js';
import type { Logger } from '../logger.js';

/** What `checkpoint.json` (written last, so its presence marks a complete checkpoint) says about the files. */
export interface CheckpointManifest {
  readonly format: 'tripletflow-checkpoint';
  readonly version: 1;
  readonly step: number;
  readonly createdAt: string;
  /** Every file of the checkpoint with its size and SHA-256. */
  readonly files: Readonly<Record<string, { readonly bytes: number; readonly sha256: string }>>;
}

/** A checkpoint read back and verified. */
export interface LoadedCheckpoint {
  readonly step: number;
  readonly dir: string;
  readonly files: ReadonlyMap<string, Buffer>;
}

const MANIFEST = 'checkpoint.json';
const NAME = /^step-(\d{9})$/;

/**
 * Checkpoints as directories `step-000000123/` under one folder: written into a temporary directory (every file
 * fsynced, the manifest with checksums last), then renamed into place, so a crash at any moment leaves either the
 * whole checkpoint or none; the last `keep` are kept. `loadLatest` verifies sizes and checksums and falls back to
 * the previous checkpoint, with a warning, when the latest is damaged.
 */
export class CheckpointStore {
  constructor(readonly dir: string, private readonly keep = 3, private readonly logger?: Logger) {
    if (!Number.isInteger(keep) || keep < 1) throw new FatalError(`checkpoints: keep must be an integer >= 1 (got ${keep})`);
  }

  /** Writes the checkpoint of `step` atomically; returns its directory. */
  async write(step: number, files: ReadonlyMap<string, Buffer | string>): Promise<string> {
    const tmp = join(this.dir, `.tmp-step-${step}-${process.pid}`);
    try {
      return await this.writeUnsafe(step, files, tmp);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      const previous = this.steps()[0];
      throw new FatalError(
        `the checkpoint of step ${step} could not be written to ${this.dir} (${(e as Error).message}); ` +
          (previous !== undefined ? `the previous checkpoint (step ${previous}) is intact. ` : 'there is no earlier checkpoint. ') +
          'Free disk space or fix the directory\'s permissions, then continue with --resume',
        { cause: e },
      );
    }
  }

  private async writeUnsafe(step: number, files: ReadonlyMap<string, Buffer | string>, tmp: string): Promise<string> {
    mkdirSync(this.dir, { recursive: true });
    const final = join(this.dir, `step-${String(step).padStart(9, '0')}`);
    await rm(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    const meta: Record<string, { bytes: number; sha256: string }> = {};
    for (const [name, content] of files) {
      if (name === MANIFEST || name.includes('/')) throw new Error(`checkpoint file name ${name} is not allowed`);
      const buf = typeof content === 'string' ? Buffer.from(content) : content;
      await writeSynced(join(tmp, name), buf);
      meta[name] = { bytes: buf.length, sha256: sha256(buf) };
    }
    const manifest: CheckpointManifest = { format: 'tripletflow-checkpoint', version: 1, step, createdAt: new Date().toISOString(), files: meta };
    await writeSynced(join(tmp, MANIFEST), Buffer.from(JSON.stringify(manifest, null, 2)));
    // a checkpoint of the same step (a resumed run stopping where it started) is replaced whole
    if (existsSync(final)) await rm(final, { recursive: true, force: true });
    await rename(tmp, final);
    await this.prune();
    return final;
  }

  /** Steps of the checkpoints present, newest first (complete or not: `loadLatest` checks). */
  steps(): number[] {
    if (!existsSync(this.dir) || !statSync(this.dir).isDirectory()) return [];
    return readdirSync(this.dir)
      .map((n) => NAME.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => b - a);
  }

  /** The newest checkpoint that verifies, or undefined when there is none; damaged ones are skipped with a warning. */
  async loadLatest(): Promise<LoadedCheckpoint | undefined> {
    for (const step of this.steps()) {
      const dir = join(this.dir, `step-${String(step).padStart(9, '0')}`);
      try {
        return await CheckpointStore.loadDir(dir, step);
      } catch (e) {
        this.logger?.warn({ checkpoint: dir, error: (e as Error).message }, 'checkpoint damaged; trying the previous one');
      }
    }
    return undefined;
  }

  /** Reads and verifies one checkpoint directory (of `step`, when given); a damaged one is a FatalError naming the file. */
  static async loadDir(dir: string, step?: number): Promise<LoadedCheckpoint> {
    let manifest: CheckpointManifest;
    try {
      manifest = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as CheckpointManifest;
    } catch (e) {
      throw new FatalError(`${join(dir, MANIFEST)}: missing or unreadable (${(e as Error).message})`);
    }
    if (manifest.format !== 'tripletflow-checkpoint' || (step !== undefined && manifest.step !== step)) {
      throw new FatalError(`${join(dir, MANIFEST)}: not a tripletflow checkpoint${step !== undefined ? ` of step ${step}` : ''}`);
    }
    const files = new Map<string, Buffer>();
    for (const [name, m] of Object.entries(manifest.files)) {
      const buf = await readFile(join(dir, name)).catch((e: Error) => {
        throw new FatalError(`${join(dir, name)}: missing (${e.message})`);
      });
      if (buf.length !== m.bytes || sha256(buf) !== m.sha256) throw new FatalError(`${join(dir, name)}: checksum mismatch (${buf.length} bytes, expected ${m.bytes})`);
      files.set(name, buf);
    }
    return { step: manifest.step, dir, files };
  }

  private async prune(): Promise<void> {
    for (const step of this.steps().slice(this.keep)) {
      await rm(join(this.dir, `step-${String(step).padStart(9, '0')}`), { recursive: true, force: true });
    }
    // temporary directories of writers that were killed
    for (const n of readdirSync(this.dir)) {
      if (n.startsWith('.tmp-step-') && !n.endsWith(`-${process.pid}`)) await rm(join(this.dir, n), { recursive: true, force: true });
    }
  }
}

function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

async function writeSynced(path: string, buf: Buffer): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.writeFile(buf);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
