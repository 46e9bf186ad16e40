// Which upload session belongs to which local file, so an upload interrupted by a reload or a
// lost connection resumes when the same file is picked again. Only ids and file facts are kept.
const KEY = 'bunsan-uploads';

export interface Unfinished { key: string; id: string; name: string; size: number; lastModified: number }

export const fileKey = (f: File, portal: string) => [portal, f.name, f.size, f.lastModified].join('|');

function all(): Unfinished[] {
  try {
    return JSON.parse(localStorage.getItem(KEY) ?? '[]') as Unfinished[];
  } catch {
    return [];
  }
}

export const unfinishedUploads = all;

export function remember(u: Unfinished): void {
  localStorage.setItem(KEY, JSON.stringify([...all().filter((x) => x.key !== u.key), u]));
}

export function forget(key: string): void {
  localStorage.setItem(KEY, JSON.stringify(all().filter((x) => x.key !== key)));
}

export const sessionFor = (key: string) => all().find((x) => x.key === key)?.id ?? null;
