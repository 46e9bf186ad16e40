// Search over the catalog by name, type and size, as a pure function of the list and the form.
import type { ContentSummary } from '../../protocol/api.ts';

export interface LibraryQuery { text: string; kind: string; size: string }

export const KINDS = ['all', 'video', 'audio', 'image', 'text', 'other'] as const;

const MiB = 1024 * 1024;
export const SIZES: Record<string, [number, number]> = {
  any: [0, Infinity], small: [0, 10 * MiB], medium: [10 * MiB, 100 * MiB], large: [100 * MiB, 1024 * MiB], huge: [1024 * MiB, Infinity],
};

export function kindOf(type: string): string {
  const major = type.split('/')[0].toLowerCase();
  return ['video', 'audio', 'image', 'text'].includes(major) ? major : 'other';
}

export function filterLibrary<T extends Pick<ContentSummary, 'name' | 'type' | 'size'>>(items: T[], q: LibraryQuery): T[] {
  const words = q.text.toLowerCase().split(/\s+/).filter(Boolean);
  const [min, max] = SIZES[q.size] ?? SIZES.any;
  return items.filter((c) => {
    const hay = `${c.name} ${c.type}`.toLowerCase();
    return words.every((w) => hay.includes(w))
      && (q.kind === 'all' || kindOf(c.type) === q.kind)
      && c.size >= min && c.size < max;
  });
}
