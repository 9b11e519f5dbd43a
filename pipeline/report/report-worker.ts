import { writeReport, type WrittenReport } from './write-report.js';

/** Worker-thread task module: writes a run's report off the training thread (it keeps its parsed lines between calls). */
export function createHandler(): (dir: string) => Promise<WrittenReport> {
  return (dir) => writeReport(dir);
}
