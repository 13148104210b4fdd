import type { CommandModule } from 'yargs';

// Placeholder until the 'resume' command lands; replaced by its owner.
export const resumeCommand: CommandModule = {
  command: 'resume',
  describe: 'not implemented yet',
  handler: () => {
    process.stderr.write('kiln resume: not implemented yet\n');
    process.exit(2);
  },
};
