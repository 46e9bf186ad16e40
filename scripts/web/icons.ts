// The app's icons, all drawn from one description of the mark (four tiles on a rounded square,
// the pieces one content is split into): the SVG for browsers that take it, and the PNGs that
// install prompts and home screens ask for. The output is committed under web/public, so the
// build needs no renderer; run `tsx scripts/web/icons.ts` after changing the mark.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePng } from './png.ts';

interface Box { x: number; y: number; w: number; h: number; r: number }

/** In a 64-unit square, like the SVG's viewBox. */
const VIEW = 64;
const BACKGROUND = '#16324f';
const TILE = '#7fc8f8';
const CARD: Box = { x: 0, y: 0, w: 64, h: 64, r: 12 };
const TILES: (Box & { opacity: number })[] = [
  { x: 10, y: 12, w: 18, h: 18, r: 3, opacity: 1 },
  { x: 36, y: 12, w: 18, h: 18, r: 3, opacity: 0.7 },
  { x: 10, y: 36, w: 18, h: 18, r: 3, opacity: 0.5 },
  { x: 36, y: 36, w: 18, h: 18, r: 3, opacity: 0.85 },
];

export interface IconSpec { file: string; size: number; purpose: 'any' | 'maskable'; fullBleed: boolean; markScale: number }

/**
 * "any" icons keep the rounded card with transparent corners. The maskable one fills the square
 * and shrinks the tiles around the centre so their farthest corner stays inside the safe zone
 * (a circle of 40 % of the size) whatever shape the launcher cuts. iOS fills transparency with
 * black and rounds the corners itself, so its icon is full-bleed at the normal scale.
 */
export const ICONS: IconSpec[] = [
  { file: 'icon-192.png', size: 192, purpose: 'any', fullBleed: false, markScale: 1 },
  { file: 'icon-512.png', size: 512, purpose: 'any', fullBleed: false, markScale: 1 },
  { file: 'icon-maskable-512.png', size: 512, purpose: 'maskable', fullBleed: true, markScale: 0.8 },
  { file: 'apple-touch-icon.png', size: 180, purpose: 'any', fullBleed: true, markScale: 1 },
];

export function iconSvg(): string {
  const rect = (b: Box, extra = '') => `<rect${b.x ? ` x="${b.x}"` : ''}${b.y ? ` y="${b.y}"` : ''} width="${b.w}" height="${b.h}" rx="${b.r}"${extra}/>`;
  const tiles = TILES.map((t) => rect(t, t.opacity < 1 ? ` opacity="${String(t.opacity).replace(/^0/, '')}"` : '')).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${VIEW} ${VIEW}">${rect(CARD, ` fill="${BACKGROUND}"`)}<g fill="${TILE}">${tiles}</g></svg>\n`;
}

/** RGBA pixels, each the average of 4×4 samples so that edges and corners are smooth. */
export function drawIcon(spec: IconSpec): Uint8Array {
  const { size, fullBleed, markScale } = spec;
  const bg = rgb(BACKGROUND);
  const fg = rgb(TILE);
  const c = VIEW / 2;
  const tiles = TILES.map((t) => ({ ...t, x: c + (t.x - c) * markScale, y: c + (t.y - c) * markScale, w: t.w * markScale, h: t.h * markScale, r: t.r * markScale }));
  const N = 4;
  const out = new Uint8Array(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0; // premultiplied sums
      for (let sy = 0; sy < N; sy++) {
        for (let sx = 0; sx < N; sx++) {
          const u = ((px + (sx + 0.5) / N) / size) * VIEW;
          const v = ((py + (sy + 0.5) / N) / size) * VIEW;
          if (!fullBleed && !inside(CARD, u, v)) continue;
          let col = bg;
          for (const t of tiles) if (inside(t, u, v)) col = col.map((k, i) => k + (fg[i] - k) * t.opacity);
          r += col[0]; g += col[1]; b += col[2]; a += 1;
        }
      }
      const o = (py * size + px) * 4;
      if (a > 0) out.set([Math.round(r / a), Math.round(g / a), Math.round(b / a), Math.round((a / (N * N)) * 255)], o);
    }
  }
  return out;
}

function inside(b: Box, u: number, v: number): boolean {
  if (u < b.x || v < b.y || u > b.x + b.w || v > b.y + b.h) return false;
  const dx = Math.max(b.x + b.r - u, u - (b.x + b.w - b.r), 0);
  const dy = Math.max(b.y + b.r - v, v - (b.y + b.h - b.r), 0);
  return dx * dx + dy * dy <= b.r * b.r;
}

function rgb(hex: string): number[] {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

export const publicDir = fileURLToPath(new URL('../../web/public/', import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  mkdirSync(join(publicDir, 'icons'), { recursive: true });
  writeFileSync(join(publicDir, 'icon.svg'), iconSvg());
  for (const spec of ICONS) writeFileSync(join(publicDir, 'icons', spec.file), encodePng(spec.size, spec.size, drawIcon(spec)));
  console.log(`wrote icon.svg and ${ICONS.length} PNGs in ${publicDir}`);
}
