import type { CommandModule } from 'yargs';

// Placeholder until the 'sim' command lands; replaced by its owner.
export const simCommand: CommandModule = {
  command: 'sim',
  describe: 'not implemented yet',
  handler: () => {
    process.stderr.write('kiln sim: not implemented yet\n');
    process.exit(2);
  },
};
