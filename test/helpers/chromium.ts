/** Debian's headless Chromium, for the browser tests of the HTML reports (scripts/ensure-chromium.sh installs it). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const CHROMIUM = '/usr/bin/chromium';

/** Run headless Chromium on `file` with `mode` flags; returns stdout and the console lines from stderr. */
export function chromium(file: string, mode: string[]): { stdout: string; console: string[]; status: number | null } {
  const r = spawnSync(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-default-apps',
      '--disable-extensions',
      // Networking off: every host resolves nowhere, so any remote reference would fail.
      '--host-resolver-rules=MAP * ~NOTFOUND',
      `--user-data-dir=${mkdtempSync(join(tmpdir(), 'isr-chromium-'))}`,
      '--enable-logging=stderr',
      '--v=0',
      ...mode,
      pathToFileURL(file).href,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  const consoleLines = r.stderr.split('\n').filter((l) => /:CONSOLE[:(]/.test(l));
  return { stdout: r.stdout, console: consoleLines, status: r.status };
}
