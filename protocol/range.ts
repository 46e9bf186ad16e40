// Single byte-range requests (RFC 9110 §14). Multi-range answers are not offered: nothing in
// the product needs them and they would multiply the work per request.
import { BunsanError } from './errors.ts';

export interface ByteRange { start: number; end: number } // inclusive end

export function parseRange(header: string | null | undefined, size: number): ByteRange | null {
  if (header == null || header === '') return null;
  // The unit is case-insensitive; positions may have any number of digits (clients send
  // "bytes=0-18446744073709551615" for "to the end"): past the size they clamp or are unsatisfiable.
  const m = header.length > 200 ? null : /^bytes=(\d*)-(\d*)$/i.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) {
    throw new BunsanError('bad_request', 'Range must be a single "bytes=start-end", "bytes=start-" or "bytes=-suffix"');
  }
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw unsatisfiable(size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) throw new BunsanError('bad_request', 'Range end is before its start');
  }
  if (start >= size) throw unsatisfiable(size);
  return { start, end };
}

function unsatisfiable(size: number): BunsanError {
  return new BunsanError('range_not_satisfiable', `range outside 0-${size - 1}`, { size });
}
