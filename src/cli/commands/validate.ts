import type { CommandModule } from 'yargs';

// Placeholder until the 'validate' command lands; replaced by its owner.
export const validateCommand: CommandModule = {
  command: 'validate',
  describe: 'not implemented yet',
  handler: () => {
    process.stderr.write('kiln validate: not implemented yet\n');
    process.exit(2);
  },
};
