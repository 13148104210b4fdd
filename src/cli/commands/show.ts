import type { CommandModule } from 'yargs';

// Placeholder until the 'show' command lands; replaced by its owner.
export const showCommand: CommandModule = {
  command: 'show',
  describe: 'not implemented yet',
  handler: () => {
    process.stderr.write('kiln show: not implemented yet\n');
    process.exit(2);
  },
};
