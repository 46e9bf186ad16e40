// A live chart of throughput per node: ciphertext bytes each node delivered, in half-second
// buckets over the last 30 seconds, one line per node in the node's colour.
import { el } from '../format.ts';

const BUCKET_MS = 500;
const BUCKETS = 60;

export function throughputChart(colour: (node: string) => string): { root: HTMLCanvasElement; add: (node: string, bytes: number) => void } {
  const canvas = el('canvas', { width: 600, height: 120, className: 'throughput-chart', ariaLabel: 'throughput per node' });
  const series = new Map<string, number[]>();
  let epoch = Math.floor(performance.now() / BUCKET_MS);
  const roll = () => {
    const now = Math.floor(performance.now() / BUCKET_MS);
    for (; epoch < now; epoch++) for (const s of series.values()) { s.push(0); if (s.length > BUCKETS) s.shift(); }
  };
  const draw = () => {
    roll();
    const g = canvas.getContext('2d');
    if (!g) return;
    g.clearRect(0, 0, canvas.width, canvas.height);
    const max = Math.max(1, ...[...series.values()].flat());
    for (const [node, s] of series) {
      g.strokeStyle = colour(node);
      g.lineWidth = 2;
      g.beginPath();
      s.forEach((v, i) => {
        const x = ((i + BUCKETS - s.length) / (BUCKETS - 1)) * canvas.width;
        const y = canvas.height - 4 - (v / max) * (canvas.height - 8);
        if (i === 0) g.moveTo(x, y);
        else g.lineTo(x, y);
      });
      g.stroke();
    }
    canvas.dataset.peak = String(Math.round((max * 1000) / BUCKET_MS)); // bytes per second
  };
  const timer = setInterval(() => { if (canvas.isConnected) draw(); else clearInterval(timer); }, BUCKET_MS);
  return {
    root: canvas,
    add(node, bytes) {
      roll();
      let s = series.get(node);
      if (!s) series.set(node, (s = new Array<number>(BUCKETS).fill(0)));
      s[s.length - 1] += bytes;
    },
  };
}
