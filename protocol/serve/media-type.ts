// MIME types as uploaders declare them. A declared type is only a label: it is the uploader's
// word (a browser's File.type comes from the file's extension), so serving never trusts it
// (serve-policy.ts decides what an answer is). Uploaders still send a clean one: the bare
// `type/subtype`, lowercased, or one guessed from the extension, or application/octet-stream.

/** RFC 9110 token characters: what a type and a subtype may be made of. */
const TOKEN = /^[a-z0-9!#$&^_.+-]+$/;

/** The `type/subtype` of a MIME type, lowercased, without parameters; null when it is not one. */
export function mimeEssence(type: string): string | null {
  const essence = type.split(';', 1)[0].trim().toLowerCase();
  const [top, sub, ...rest] = essence.split('/');
  return rest.length === 0 && sub !== undefined && TOKEN.test(top) && TOKEN.test(sub) ? essence : null;
}

/** The last extension of a file name, lowercased, without its dot ('' when there is none). */
export function extensionOf(name: string): string {
  const base = name.split(/[/\\]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

export const EXTENSION_TYPES: Record<string, string> = {
  webm: 'video/webm', mp4: 'video/mp4', m4v: 'video/mp4', mkv: 'video/x-matroska', mov: 'video/quicktime',
  mp3: 'audio/mpeg', m4a: 'audio/mp4', ogg: 'audio/ogg', opus: 'audio/ogg', wav: 'audio/wav', flac: 'audio/flac',
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', avif: 'image/avif',
  txt: 'text/plain', md: 'text/markdown', pdf: 'application/pdf', json: 'application/json',
  zip: 'application/zip', tar: 'application/x-tar', gz: 'application/gzip',
};

/** What an uploader declares for a file: its own type's essence, else the extension's, else octet-stream. */
export function declaredType(fileType: string, name: string): string {
  return mimeEssence(fileType) ?? EXTENSION_TYPES[extensionOf(name)] ?? 'application/octet-stream';
}
