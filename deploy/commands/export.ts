/**
 * `isreshape export RUN_DIR|CHECKPOINT --format tfjs --out DIR`: write the saved policy as a
 * TensorFlow.js layers model (model.json + weights.bin) that `tf.loadLayersModel` loads and
 * that gives the logits of our own forward pass.
 */
import type { CommandModule } from 'yargs';
import { existsSync, readdirSync } from 'node:fs';
import { checkCommandFlag, commandOptions, commandPositional, commandRow } from '../commandFields.js';
import { UsageError } from '../errors.js';
import { loadSavedPolicy } from '../savedPolicy.js';

export const exportCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'export <target>',
  describe: 'Export a saved policy (run directory or checkpoint file) as a TensorFlow.js layers model',
  builder: (y) => y.positional('target', commandPositional(commandRow('export', 'target'))).options(commandOptions('export')),
  handler: async (argv) => {
    checkCommandFlag('export', 'format', argv.format);
    const out = argv.out as string;
    if (typeof out !== 'string' || out.trim() === '') throw new UsageError('--out: name the output directory');
    if (existsSync(out) && readdirSync(out).length > 0) throw new UsageError(`--out: ${out} exists and is not empty; name a new directory`);
    const p = await loadSavedPolicy(argv.target as string, 'export');
    const { initBackend } = await import('../../model/backend.js');
    await initBackend('cpu');
    const { policyInfo, policyLayersModel, saveLayersModel, savePolicyInfo } = await import('../tfjsExport.js');
    const { makeManagedEnv } = await import('../../envs/registry.js');
    const model = policyLayersModel(p.spec, p.params);
    const files = await saveLayersModel(model, out);
    model.dispose();
    const action = makeManagedEnv(p.envId).spec.action;
    const box = action.type === 'box' ? { low: action.low, high: action.high } : null;
    files.push(savePolicyInfo(policyInfo(p.spec, p.params, { envId: p.envId, version: p.version, box }), out));
    process.stdout.write(
      `isreshape export: ${p.envId} policy, version ${p.version} (${p.file}) -> ${files.join(', ')}; input obs x ${p.spec.obsDim}, output ${box ? 'Gaussian mean' : 'logits'} x ${p.spec.nActions}${box ? ' (log-stds in policy.json)' : ''}\n`,
    );
  },
};
