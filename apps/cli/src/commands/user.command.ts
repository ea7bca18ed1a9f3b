import { Command, Option } from 'commander';
import { clientAction } from '../client/client-command';
import { printError, printJson, printLine } from '../client/output';

/** A person as `GET /users` lists them. */
interface UserRow {
  name: string;
  role: string;
  createdAt: string;
  revokedAt?: string;
  active: boolean;
}

/**
 * `runledger user add <name> --role admin|writer|reader`, `user list`, `user revoke <name>` (docs/ARCHITECTURE.md §8;
 * the admin role). `add` prints the personal token once on stdout (alone, so `$(runledger user add …)` captures it).
 */
export const registerUserCommand = (program: Command): void => {
  const user = program.command('user').description('people and their personal tokens (admin role)');
  user
    .command('add')
    .description('give a person a personal token; prints it once')
    .argument('<name>', 'their name (events they cause name them as user:<name>)')
    .addOption(new Option('--role <role>', 'what they may do').choices(['admin', 'writer', 'reader']).makeOptionMandatory())
    .option('--json', 'print {name, role, token}')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, name: string, options: { role: string; json?: boolean }) => {
        const added = await client.post<{ name: string; role: string; token: string }>('/users', { name, role: options.role });
        if (options.json) return printJson(added);
        printLine(added.token);
        printError(`user ${added.name} (${added.role}): this token is shown once; give it to them (RUNLEDGER_TOKEN)`);
      }),
    );
  user
    .command('list')
    .description('everyone ever added, with role and state')
    .option('--json', 'print the JSON answer')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, options: { json?: boolean }) => {
        const { users } = await client.get<{ users: UserRow[] }>('/users');
        if (options.json) return printJson({ users });
        for (const u of users) printLine(`${u.name}  ${u.role}  ${u.active ? 'active' : `revoked ${u.revokedAt ?? ''}`}  since ${u.createdAt}`);
      }),
    );
  user
    .command('revoke')
    .description('revoke a person\'s token at once (their events stay as they are)')
    .argument('<name>', 'their name')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, name: string) => {
        await client.request('DELETE', `/users/${encodeURIComponent(name)}`);
        printLine(`revoked ${name}`);
      }),
    );
};
