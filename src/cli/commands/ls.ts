import type { CommandModule } from 'yargs';

// Placeholder until the 'ls' command lands; replaced by its owner.
export const lsCommand: CommandModule = {
  command: 'ls',
  describe: 'not implemented yet',
  handler: () => {
    process.stderr.write('kiln ls: not implemented yet\n');
    process.exit(2);
  },
};
