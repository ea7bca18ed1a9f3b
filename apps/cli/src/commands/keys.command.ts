import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { generateEd25519Pair, publicKeyFingerprint } from '@runledger/infra/audit-bundle/ed25519-keys';
import { createPublicKey } from 'node:crypto';
import { EXIT, UsageError } from '../client/client-errors';
import { printJson, printLine } from '../client/output';

/** Writes `text` to a new file (never over an existing one) with `mode`; throws UsageError naming the file when it cannot. */
const writeNew = async (file: string, text: string, mode: number): Promise<void> => {
  try {
    await writeFile(file, text, { mode, flag: 'wx' });
  } catch (error) {
    throw new UsageError(`cannot write ${file}: ${(error as Error).message}`);
  }
};

/**
 * `runledger keys generate [--private FILE] [--public FILE] [--json]`: a new ed25519 key pair for signed audit bundles
 * (docs/ARCHITECTURE.md §4h), PEM as `openssl genpkey -algorithm ed25519` writes it (PKCS#8 private, mode 0600; SPKI
 * public). Defaults `runledger-audit.key` and `runledger-audit.pub`; never overwrites a file (exit 2). Needs no server.
 */
export const registerKeysCommand = (program: Command): void => {
  const keys = program.command('keys').description('keys that sign audit bundles (`export --sign`, `verify --public-key`)');
  keys
    .command('generate')
    .description('write a new ed25519 key pair (PEM): the private key signs bundles, the public key verifies them')
    .option('--private <file>', 'the private key file (mode 0600)', 'runledger-audit.key')
    .option('--public <file>', 'the public key file', 'runledger-audit.pub')
    .option('--json', 'print {privateKey, publicKey, fingerprint}')
    .allowExcessArguments(false)
    .action(async (options: { private: string; public: string; json?: boolean }) => {
      try {
        if (options.private === options.public) throw new UsageError('--private and --public name the same file');
        const pair = generateEd25519Pair();
        await writeNew(options.private, pair.privatePem, 0o600);
        await writeNew(options.public, pair.publicPem, 0o644);
        const fingerprint = publicKeyFingerprint(createPublicKey(pair.publicPem));
        if (options.json) printJson({ privateKey: options.private, publicKey: options.public, fingerprint });
        else printLine(`wrote ${options.private} (private, keep it secret) and ${options.public} (public, ${fingerprint})`);
        process.exitCode = EXIT.ok;
      } catch (error) {
        process.stderr.write(`${(error as Error).message}\n`);
        process.exitCode = error instanceof UsageError ? EXIT.usage : EXIT.failure;
      }
    });
};
