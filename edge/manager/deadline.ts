import { BunsanError } from '../../protocol/errors.ts';

/** Calls between managers (and from the portal to one) during a hand-off wait this long at most. */
export const MANAGER_CALL_MS = 10_000;

/** `p`, or `manager_unreachable` once `ms` have passed (the call itself may still finish later). */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BunsanError('manager_unreachable', `${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
