/** `isreshape keys --out DIR --name NAME`: a CURVE key pair for the learner or an actor. */
import type { CommandModule } from 'yargs';
import { writeKeyPair } from '../curveKeys.js';

export interface KeysArgs {
  out: string;
  name: string;
}

export const keysCommand: CommandModule<object, KeysArgs> = {
  command: 'keys',
  describe: 'Write a CURVE key pair: DIR/NAME.key (secret, mode 600) and DIR/NAME.pub (public key)',
  builder: (y) =>
    y
      .option('out', { type: 'string', demandOption: true, nargs: 1, describe: 'directory for the key files (created mode 700)' })
      .option('name', { type: 'string', demandOption: true, nargs: 1, describe: "file name stem, e.g. 'learner' or 'actor-0'" }),
  handler: (argv) => {
    const r = writeKeyPair(argv.out, argv.name);
    process.stdout.write(`secret: ${r.keyFile} (keep it on this machine)\npublic: ${r.pubFile} ${r.publicKey}\n`);
  },
};
