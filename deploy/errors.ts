/**
 * CLI errors. A `UsageError` is bad input from the user: the CLI prints its one-line message
 * (which names the flag, the value received and what is accepted) and exits with status 2,
 * without a stack trace.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super(message);
  }
}

/** Parse a comma-separated list of finite numbers for `flag`, or throw a UsageError naming it. */
export function parseNumberList(flag: string, value: unknown): number[] {
  if (value === undefined || value === null || value === '' || value === true) {
    throw new UsageError(`--${flag}: missing value; expected comma-separated numbers, e.g. --${flag} 0.5,1,2`);
  }
  const parts = String(value).split(',');
  return parts.map((p) => {
    const s = p.trim();
    const x = s === '' ? NaN : Number(s);
    if (!Number.isFinite(x)) {
      throw new UsageError(`--${flag}: '${s}' in '${String(value)}' is not a finite number; expected comma-separated numbers`);
    }
    return x;
  });
}

/** Check that a numeric flag is a finite number (yargs turns 'abc' into NaN). */
export function requireFinite(flag: string, value: unknown): number {
  const x = typeof value === 'number' ? value : Number(value);
  if (value === undefined || value === null || value === '' || !Number.isFinite(x)) {
    throw new UsageError(`--${flag}: '${String(value)}' is not a finite number`);
  }
  return x;
}
