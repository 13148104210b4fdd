import type { CommandModule } from 'yargs';

// Placeholder until the 'gc' command lands; replaced by its owner.
export const gcCommand: CommandModule = {
  command: 'gc',
  describe: 'not implemented yet',
  handler: () => {
    process.stderr.write('kiln gc: not implemented yet\n');
    process.exit(2);
  },
};
