/** A small heat map of a matrix output, on a canvas. */
import type { TensorData } from "./protocol.js";

/**
 * Draws a 2-D tensor on a canvas, at most `cells` × `cells` cells (larger
 * matrices are averaged in blocks), from dark blue (min) to yellow (max).
 */
export function drawHeatmap(canvas: HTMLCanvasElement, t: TensorData, cells = 96): void {
  const [rows, cols] = t.shape as [number, number];
  const h = Math.min(rows, cells);
  const w = Math.min(cols, cells);
  const grid = new Float64Array(h * w);
  const counts = new Float64Array(h * w);
  for (let i = 0; i < rows; i++) {
    const gi = Math.floor((i * h) / rows);
    for (let j = 0; j < cols; j++) {
      const v = Number(t.data[i * cols + j]);
      if (!Number.isFinite(v)) continue;
      const g = gi * w + Math.floor((j * w) / cols);
      grid[g]! += v;
      counts[g]!++;
    }
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (let g = 0; g < grid.length; g++) {
    if (counts[g]) {
      grid[g] = grid[g]! / counts[g]!;
      lo = Math.min(lo, grid[g]!);
      hi = Math.max(hi, grid[g]!);
    }
  }
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d")!;
  const image = ctx.createImageData(w, h);
  for (let g = 0; g < grid.length; g++) {
    const x = counts[g] ? (hi > lo ? (grid[g]! - lo) / (hi - lo) : 0.5) : NaN;
    const [r, gr, b] = Number.isNaN(x) ? [255, 0, 255] : colour(x);
    image.data.set([r, gr, b, 255], g * 4);
  }
  ctx.putImageData(image, 0, 0);
  // On screen: 144 px along the longer side, the matrix's proportions kept (down to 1:4).
  const scale = 144 / Math.max(rows, cols);
  canvas.style.width = `${Math.max(36, Math.round(cols * scale))}px`;
  canvas.style.height = `${Math.max(36, Math.round(rows * scale))}px`;
}

/** A dark-blue → teal → yellow ramp (close to viridis). */
function colour(x: number): [number, number, number] {
  const stops: [number, number, number][] = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const p = Math.min(Math.max(x, 0), 1) * (stops.length - 1);
  const k = Math.min(Math.floor(p), stops.length - 2);
  const f = p - k;
  const [a, b] = [stops[k]!, stops[k + 1]!];
  return [Math.round(a[0] + f * (b[0] - a[0])), Math.round(a[1] + f * (b[1] - a[1])), Math.round(a[2] + f * (b[2] - a[2]))];
}
