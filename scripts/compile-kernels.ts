import wabtInit from 'wabt';

/** The WebAssembly binary of a WAT source with SIMD, bulk memory and shared memory (wabt, deterministic output). */
export async function compileHostKernels(wat: string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const mod = wabt.parseWat('host-kernels.wat', wat, { simd: true, bulk_memory: true, threads: true });
  try {
    // wabt.js's validate() rejects shared memories whatever the features; V8 validates the binary instead
    const bytes = mod.toBinary({ log: false, write_debug_names: false }).buffer;
    new WebAssembly.Module(new Uint8Array(bytes));
    return bytes;
  } finally {
    mod.destroy();
  }
}
