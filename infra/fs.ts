/**
 * Durable file writes shared by every stage: an atomic replace (temporary file, fsync, rename,
 * fsync of the directory) so a crash leaves either the old file or the new one, never a torn one.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

/** Write `data` to `file` atomically: temporary file, fsync, rename, fsync of the directory. */
export function writeFileAtomic(file: string, data: Buffer | string): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}`);
  const fd = openSync(tmp, 'w', 0o644);
  try {
    const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let done = 0;
    while (done < b.length) done += writeSync(fd, b, done, b.length - done);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, file);
  fsyncDir(dir);
}

/** fsync a directory so a rename in it is durable; some file systems refuse, and the rename is still atomic. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
