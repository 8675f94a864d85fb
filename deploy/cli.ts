#!/usr/bin/env node
/**
 * The `isreshape` bin: runs `runCli` (deploy/runCli.ts) on the command line. Bad input exits
 * with status 2 and one line naming the flag and the value; anything else that fails exits 1
 * with its message. On success the process ends when its work does (a handler may have set
 * process.exitCode).
 */
import { hideBin } from 'yargs/helpers';
import { runCli } from './runCli.js';

// Not a top-level await: a command whose work ends without settling its promise exits quietly.
void runCli(hideBin(process.argv), { stderr: process.stderr, columns: process.stdout.columns }).then((code) => {
  if (code !== 0) process.exit(code);
});
