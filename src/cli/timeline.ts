/**
 * A readable timeline for the demo: elapsed time, then what happened, indented under the step it belongs to.
 * Colours only on a terminal that wants them (NO_COLOR is honoured), so piped output stays plain text.
 */
import type { Writable } from 'node:stream';

type Paint = (text: string) => string;

export interface Timeline {
  /** A numbered step heading. */
  step(title: string): void;
  /** Something that happened inside the current step. */
  event(text: string): void;
  /** A result worth noticing (green) or a failure (red). */
  ok(text: string): void;
  bad(text: string): void;
  /** Plain text with no time stamp. */
  line(text?: string): void;
  readonly dim: Paint;
  readonly bold: Paint;
}

export function createTimeline(out: Writable & { isTTY?: boolean }, env: NodeJS.ProcessEnv): Timeline {
  const colour = out.isTTY === true && env.NO_COLOR === undefined;
  const paint = (code: number): Paint => (text) => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
  const dim = paint(2);
  const bold = paint(1);
  const green = paint(32);
  const red = paint(31);
  const started = performance.now();
  let steps = 0;
  const stamp = (): string => dim(`${((performance.now() - started) / 1000).toFixed(3).padStart(7)}s`);
  const write = (text: string): void => {
    out.write(`${text}\n`);
  };
  return {
    step: (title) => {
      steps += 1;
      write('');
      write(`${stamp()}  ${bold(`${steps}. ${title}`)}`);
    },
    event: (text) => write(`${stamp()}     ${text}`),
    ok: (text) => write(`${stamp()}     ${green(`✔ ${text}`)}`),
    bad: (text) => write(`${stamp()}     ${red(`✘ ${text}`)}`),
    line: (text = '') => write(text),
    dim,
    bold,
  };
}
