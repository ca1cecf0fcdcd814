/**
 * The CLI's `token` command run in-process, as the CLI suites drive it: the arguments, an environment, standard input
 * (empty unless given), and what it wrote to stdout and stderr.
 */
import { Readable } from 'node:stream';

import { run } from '../../src/cli/token-command.js';

/** What one run ended with. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the command with `env` as its whole environment. */
export async function runCli(args: readonly string[], env: Readonly<Record<string, string>>, stdin?: string): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, {
    env,
    stdin: Readable.from(stdin === undefined ? [] : [Buffer.from(stdin)]),
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}
