/**
 * The analysis error table. Each error has a stable code and a message naming the path or the
 * value and what to do next. Reading a log never throws for a bad line (it is counted); these
 * are for a run directory that cannot be read at all.
 */

export type AnalysisErrorCode = 'RUN_DIR_MISSING' | 'RUN_DIR_EMPTY';

export class AnalysisError extends Error {
  override readonly name = 'AnalysisError';
  constructor(
    readonly code: AnalysisErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The directory does not exist or cannot be listed. */
export function runDirMissing(dir: string, reason: string): AnalysisError {
  return new AnalysisError(
    'RUN_DIR_MISSING',
    `run directory '${dir}' cannot be read (${reason}); pass the directory a train run wrote (it holds learner.ndjson)`,
  );
}

/** The directory exists but holds neither config.json nor learner.ndjson. */
export function runDirEmpty(dir: string): AnalysisError {
  return new AnalysisError(
    'RUN_DIR_EMPTY',
    `'${dir}' holds neither config.json nor learner.ndjson; pass a run directory (runs/<id>) or a sweep directory of them`,
  );
}
