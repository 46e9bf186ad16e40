// Numbers as people read them.
import { visibleText } from '../../protocol/text.ts';

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

export const seconds = (s: number) => (Number.isFinite(s) ? `${s.toFixed(1)} s` : '–');
export const rate = (bytesPerSecond: number) => (bytesPerSecond > 0 ? `${bytes(bytesPerSecond)}/s` : '–');
export const bitrate = (bytesPerSecond: number) => (bytesPerSecond > 0 ? `${((bytesPerSecond * 8) / 1e6).toFixed(2)} Mbit/s` : '–');

/**
 * Builds an element with text content only (never innerHTML with data from the portal), every
 * text with its hidden characters spelled out (protocol/text.ts): a name stored before names
 * were checked shows what it is, not what its direction controls make it look like.
 */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  for (const k of kids) e.appendChild(typeof k === 'string' ? document.createTextNode(visibleText(k)) : k);
  return e;
}
