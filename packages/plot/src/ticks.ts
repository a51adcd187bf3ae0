/** @file Tick positions for axes: round steps on a linear scale, powers of ten (and 2×, 5×) on a log scale. */

/**
 * Round tick positions covering [lo, hi]: steps of 1, 2 or 5 × 10^k, about `count` of them.
 * @returns the ticks inside [lo, hi], ascending; [] for an empty or non-finite range.
 */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((f) => f * mag >= raw) ?? 10) * mag;
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step); k * step <= hi + step * 1e-9; k++) {
    // k·step, then rounded to the step's decimals so labels read 0.3, not 0.30000000000000004
    ticks.push(Number((k * step).toFixed(Math.max(0, -Math.floor(Math.log10(step))))));
  }
  return ticks;
}

/**
 * Ticks of a log scale over [lo, hi] (both > 0): the powers of ten inside, thinned to about `count`;
 * when fewer than three powers fit, also 2× and 5× each power, and within about a decade every multiple
 * (0.2, 0.3, …, 0.9).
 * @returns ascending ticks inside [lo, hi]; [] for an empty, non-positive or non-finite range.
 */
export function logTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo) || !(lo > 0) || !Number.isFinite(hi)) return [];
  const e0 = Math.ceil(Math.log10(lo) - 1e-9);
  const e1 = Math.floor(Math.log10(hi) + 1e-9);
  const inside = (v: number) => v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9);
  if (e1 - e0 + 1 >= 3) {
    const every = Math.ceil((e1 - e0 + 1) / count);
    const ticks: number[] = [];
    for (let e = e0; e <= e1; e++) if ((e - e0) % every === 0) ticks.push(Number(`1e${e}`));
    return ticks;
  }
  // fewer than three decades: 1, 2 and 5 × each power; within about one decade, every multiple
  const within = (factors: readonly number[]) => {
    const ticks: number[] = [];
    for (let e = e0 - 1; e <= e1; e++) {
      for (const f of factors) {
        const v = Number(`${f}e${e}`);
        if (inside(v)) ticks.push(v);
      }
    }
    return ticks;
  };
  const coarse = within([1, 2, 5]);
  return coarse.length >= 4 ? coarse : within([1, 2, 3, 4, 5, 6, 7, 8, 9]);
}
