import type { CommandModule } from 'yargs';

// Placeholder until the 'build' command lands; replaced by its owner.
export const buildCommand: CommandModule = {
  command: 'build',
  describe: 'not implemented yet',
  handler: () => {
    process.stderr.write('kiln build: not implemented yet\n');
    process.exit(2);
  },
};
