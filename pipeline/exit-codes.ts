/** Process exit codes of every tripletflow command. */
export const ExitCode = {
  /** Done. */
  ok: 0,
  /** A fatal or config error. */
  fatal: 1,
  /** The quarantine rate was above --max-reject-rate. */
  tooManyRejects: 2,
  /** Training collapsed and --stop-on-collapse was given. */
  collapse: 3,
} as const;

/** 2 when quarantined / read exceeds `maxRate`, else 0. */
export function rejectRateExitCode(quarantined: number, read: number, maxRate: number): number {
  return read > 0 && quarantined / read > maxRate ? ExitCode.tooManyRejects : ExitCode.ok;
}
