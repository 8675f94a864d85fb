/**
 * Reading and writing the resolved run config (`runs/<id>/config.json`), which the learner and
 * the actors of one run share.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freezeConfig, validateConfig, type TrainConfig } from './config.js';
import { buildConfig } from './options.js';
import { UsageError } from './errors.js';

/** Write `cfg` to `<runDir>/config.json`; returns the path. */
export function writeRunConfig(cfg: TrainConfig): string {
  mkdirSync(cfg.runDir, { recursive: true });
  const file = path.join(cfg.runDir, 'config.json');
  writeFileSync(file, JSON.stringify(cfg, null, 2) + '\n');
  return file;
}

/** The config from `--config FILE` when given, else from the training flags. */
export function configFromArgs(argv: Record<string, unknown>): TrainConfig {
  const file = argv.config as string | undefined;
  if (!file) return buildConfig(argv);
  let cfg: TrainConfig;
  try {
    cfg = JSON.parse(readFileSync(file, 'utf8')) as TrainConfig;
  } catch (e) {
    throw new UsageError(`--config: cannot read '${file}': ${(e as Error).message}`);
  }
  validateConfig(cfg);
  return freezeConfig(cfg);
}
