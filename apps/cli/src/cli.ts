import { Command } from 'commander';

/** Parses argv and runs one runledger command. */
export const runCli = async (argv: string[]): Promise<void> => {
  const program = new Command('runledger');
  await program.parseAsync(argv);
};
