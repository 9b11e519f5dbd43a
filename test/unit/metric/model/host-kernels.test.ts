import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../../pipeline/rng.js';
import { HOST_KERNELS_WASM } from '../../../../stages/metric/model/kernels/host-kernels-wasm.js';
import { HostKernels } from '../../../../stages/metric/model/kernels/host-kernels.js';
import { TokenTable } from '../../../../stages/metric/model/token-table.js';
import { compileHostKernels } from '../../../../scripts/compile-kernels.js';

const dir = join(import.meta.dirname, '../../../../stages/metric/model/kernels');

describe('host kernels', () => {
  it('the committed binary is host-kernels.wat compiled (rebuild: npx tsx scripts/build-kernels.ts)', async () => {
    const bytes = await compileHostKernels(readFileSync(join(dir, 'host-kernels.wat'), 'utf8'));
    expect(Buffer.from(bytes).toString('base64')).toBe(HOST_KERNELS_WASM);
  });

  it('gemm matches the definition, both layouts of A, sizes on and off the 4 × 8 blocks', () => {
    const k = new HostKernels();
    const rng = Rng.derive(1, "gemm-test");
    for (const [M, K, N] of [[4, 3, 8], [9, 5, 17], [1, 1, 1], [16, 32, 24]] as const) {
      for (const transA of [false, true]) {
        const a = Float32Array.from({ length: M * K }, () => rng.next() - 0.5);
        const b = Float32Array.from({ length: K * N }, () => rng.next() - 0.5);
        const [pa, pb, pc] = k.scratch(M * K, K * N, M * N) as [number, number, number];
        k.f32(pa, M * K).set(a);
        k.f32(pb, K * N).set(b);
        k.gemm(pa, pb, pc, M, K, N, transA);
        const c = k.f32(pc, M * N);
        for (let i = 0; i < M; i++) {
          for (let j = 0; j < N; j++) {
            // the kernel's own order: products summed k = 0, 1, … in float32
            let s = 0;
            for (let q = 0; q < K; q++) s = Math.fround(s + Math.fround((transA ? a[q * M + i] : a[i * K + q])! * b[q * N + j]!));
            expect(c[i * N + j]).toBe(s);
          }
        }
      }
    }
  });

  it('transpose, bias + ReLU, column sums and the ReLU mask match plain loops, on and off the 4-wide blocks', () => {
    const k = new HostKernels();
    for (const [rows, cols] of [[4, 4], [8, 12], [7, 5], [1, 9], [13, 3]] as const) {
      const n = rows * cols;
      const x = Float32Array.from({ length: n }, (_v, i) => Math.sin(i * 0.9));
      const bias = Float32Array.from({ length: cols }, (_v, i) => 0.3 - 0.1 * i);
      const [px, pt, pb, ps, pg] = k.scratch(n, n, cols, cols, n) as [number, number, number, number, number];
      k.f32(px, n).set(x);
      k.transpose(px, rows, cols, pt);
      const t = k.f32(pt, n);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) expect(t[c * rows + r]).toBe(x[r * cols + c]);
      k.colSum(px, rows, cols, ps);
      for (let c = 0; c < cols; c++) {
        let s = 0;
        for (let r = 0; r < rows; r++) s = Math.fround(s + (x[r * cols + c] as number));
        expect(k.f32(ps, cols)[c]).toBe(s);
      }
      k.f32(pb, cols).set(bias);
      k.biasAct(px, pb, rows, cols, true);
      const y = Float32Array.from(k.f32(px, n));
      for (let i = 0; i < n; i++) expect(y[i]).toBe(Math.max(0, Math.fround((x[i] as number) + (bias[i % cols] as number))));
      k.f32(pg, n).fill(1);
      k.reluMask(pg, px, n);
      for (let i = 0; i < n; i++) expect(k.f32(pg, n)[i]).toBe((y[i] as number) > 0 ? 1 : 0);
    }
  });

  it('token table: mean pool, its gradient and lazy Adam match plain loops', () => {
    const V = 11;
    const E = 6;
    const init = Float32Array.from({ length: V * E }, (_v, i) => Math.sin(i));
    const table = new TokenTable(V, E, Float32Array.from(init));
    const docs = [[1, 2, 2], [5], [3, 9, 10, 1]].map((d) => Int32Array.from(d));
    const pooled = table.meanPool(docs);
    docs.forEach((d, b) => {
      for (let e = 0; e < E; e++) {
        const mean = d.reduce((s, id) => s + (init[id * E + e] as number), 0) / d.length;
        expect(pooled[b * E + e]).toBeCloseTo(mean, 6);
      }
    });
    const grad = Float32Array.from({ length: docs.length * E }, (_v, i) => Math.cos(i));
    const rows = table.meanPoolBackward(docs, grad);
    expect([...rows.ids]).toEqual([1, 2, 3, 5, 9, 10]);
    rows.ids.forEach((id, r) => {
      for (let e = 0; e < E; e++) {
        let g = 0;
        docs.forEach((d, b) => d.forEach((t) => { if (t === id) g += (grad[b * E + e] as number) / d.length; }));
        expect(rows.grads[r * E + e]).toBeCloseTo(g, 6);
      }
    });
    const lr = 0.05;
    table.adamStep(rows, { learningRate: lr }, 0.5, 0.1);
    for (let id = 0; id < V; id++) {
      const r = rows.ids.indexOf(id);
      for (let e = 0; e < E; e++) {
        const w = init[id * E + e] as number;
        if (r < 0) {
          expect(table.weights[id * E + e]).toBe(w);
          continue;
        }
        // first step: m = 0.1 g', v = 0.001 g'², step size lr·√0.001/0.1, so the move is lr·sign(g')
        const g = 0.5 * (rows.grads[r * E + e] as number);
        const expected = w - (lr * Math.sqrt(0.001) / 0.1) * (0.1 * g) / (Math.sqrt(0.001 * g * g) + 1e-8) - lr * 0.1 * w;
        expect(table.weights[id * E + e]).toBeCloseTo(expected, 6);
      }
    }
  });

  it('views of the table stay valid when the kernels memory grows', () => {
    const table = new TokenTable(5, 4, Rng.derive(2, "table-test"));
    const w = table.weights;
    const before = Float32Array.from(w);
    // a batch far larger than the reserved scratch makes the memory grow
    const docs = Array.from({ length: 4000 }, (_v, i) => Int32Array.from([i % 5, (i + 1) % 5]));
    table.meanPool(docs);
    expect(w.length).toBe(20);
    expect(Float32Array.from(w)).toEqual(before);
    w[0] = 42;
    expect(table.weights[0]).toBe(42);
  });
});
