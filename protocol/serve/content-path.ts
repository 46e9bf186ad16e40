// The URLs under the app's scope that stand for a content: /c/{id} and /c/{id}/{file name}.
// The name is only for the user (a saved file gets it); the id alone picks the content.
import { ContentId } from '../ids.ts';
import { visibleText } from '../text.ts';

export const CONTENT_PREFIX = '/c/';

export interface ContentPath { id: string; name: string | null }

/** Parses a pathname relative to the scope's root; null when it is not a content URL. */
export function parseContentPath(pathname: string): ContentPath | null {
  const m = /^\/c\/([^/]+)(?:\/([^/]+))?\/?$/.exec(pathname);
  if (!m || !ContentId.safeParse(m[1]).success) return null;
  let name: string | null = null;
  if (m[2] !== undefined) {
    try {
      name = decodeURIComponent(m[2]);
    } catch {
      return null;
    }
  }
  return { id: m[1], name };
}

/** The name goes in as a saved file would be called: anything that hides or reorders it becomes `_`. */
export function contentPath(id: string, name?: string): string {
  return CONTENT_PREFIX + id + (name ? '/' + encodeURIComponent(visibleText(name, () => '_')) : '');
}

/** The app's player for a content, as a fragment under the app's root: #/play/{id}, with the viewer's grant. */
export function playerHash(id: string, grant?: string): string {
  return `#/play/${id}` + (grant ? `?grant=${encodeURIComponent(grant)}` : '');
}
