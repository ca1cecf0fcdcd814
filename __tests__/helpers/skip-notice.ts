/**
 * Jest `globalTeardown` (jest.config.ts): prints, once per run and after Jest's summary, the line that
 * server-requirements.ts composed when a server program is missing (which suites were left out, how to install it;
 * or, with CI set, that they ran and fail). jest.config.ts hands it over in the environment of the Jest process.
 */
export const NOTICE_VARIABLE = 'AXIOS_OAUTH_BEARER_JEST_NOTICE';

export default function printSkipNotice(): void {
  const notice = process.env[NOTICE_VARIABLE];
  if (notice === undefined || notice === '') return;
  const loud = process.stderr.isTTY ? (line: string) => `\u001b[1;33m${line}\u001b[0m` : (line: string) => line;
  process.stderr.write(`\n${notice.split('\n').map(loud).join('\n')}\n`);
}
