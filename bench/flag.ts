/** The value after `--name` on the command line, or `dflt` (the hand-rolled benches' one flag reader). */
export function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  return v ?? dflt;
}
