/**
 * Bounded waits for the multi-process tests: a broken renewal must fail the test with what it waited for, not hang it.
 */

/** Resolves with `promise`, or fails with `gave up waiting for ${what}` unless it settles within `ms`. */
export async function bounded<T>(promise: Promise<T>, what: string, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `condition` every `everyMs` until it holds; fails with `gave up waiting for ${what}` after `withinMs`. */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, withinMs: number, everyMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
