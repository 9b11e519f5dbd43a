/** Most points a chart series holds; longer series are downsampled with `minMaxIndices`. */
export const MAX_POINTS_PER_SERIES = 2000;
/** Most points all the series of one chart hold together (SVG rendering time grows with it); see `pointsPerSeries`. */
export const MAX_POINTS_PER_CHART = 8000;

/**
 * Points each of `n` series spanning the whole x range may keep: `MAX_POINTS_PER_SERIES`, less when `n` series would
 * pass `MAX_POINTS_PER_CHART` together, and never under 500 (still more than half a point per pixel of a chart).
 */
export function pointsPerSeries(n: number): number {
  return Math.max(500, Math.min(MAX_POINTS_PER_SERIES, Math.floor(MAX_POINTS_PER_CHART / Math.max(1, n))));
}

/**
 * Indices (increasing) of at most `maxPoints` of the finite values `ys[from..to)`: all of them when they fit, else the
 * first, the last, and the minimum and maximum of each of `(maxPoints - 2) / 2` equal index buckets between. The
 * series' extremes and its min/max envelope survive (unlike plain striding or LTTB, which can drop a spike).
 * Non-finite values (NaN for a field a line lacks) are left out. `maxPoints` must be ≥ 4.
 */
export function minMaxIndices(ys: ArrayLike<number>, maxPoints: number, from = 0, to = ys.length): number[] {
  if (!(maxPoints >= 4)) throw new RangeError(`minMaxIndices: maxPoints must be >= 4 (got ${maxPoints})`);
  let first = -1;
  let last = -1;
  let finite = 0;
  for (let i = from; i < to; i++) {
    if (!Number.isFinite(ys[i] as number)) continue;
    if (first < 0) first = i;
    last = i;
    finite++;
  }
  const out: number[] = [];
  if (finite <= maxPoints) {
    for (let i = from; i < to; i++) if (Number.isFinite(ys[i] as number)) out.push(i);
    return out;
  }
  const buckets = Math.floor((maxPoints - 2) / 2);
  const lo = first + 1;
  const width = (last - lo) / buckets;
  out.push(first);
  for (let b = 0; b < buckets; b++) {
    const start = lo + Math.floor(b * width);
    const end = b === buckets - 1 ? last : lo + Math.floor((b + 1) * width);
    let iMin = -1;
    let iMax = -1;
    for (let i = start; i < end; i++) {
      const y = ys[i] as number;
      if (!Number.isFinite(y)) continue;
      if (iMin < 0 || y < (ys[iMin] as number)) iMin = i;
      if (iMax < 0 || y > (ys[iMax] as number)) iMax = i;
    }
    if (iMin < 0) continue;
    if (iMin === iMax) out.push(iMin);
    else out.push(Math.min(iMin, iMax), Math.max(iMin, iMax));
  }
  out.push(last);
  return out;
}

/** `[x, y]` pairs of a series, downsampled to at most `maxPoints` with `minMaxIndices`. */
export function seriesPoints(
  xs: ArrayLike<number>, ys: ArrayLike<number>, maxPoints = MAX_POINTS_PER_SERIES, from = 0, to = ys.length,
): Array<[number, number]> {
  return minMaxIndices(ys, maxPoints, from, to).map((i) => [xs[i] as number, ys[i] as number]);
}
