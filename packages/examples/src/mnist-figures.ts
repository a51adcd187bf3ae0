/**
 * @file The MNIST example's figures: the confusion matrix (a heat map of @tapegrad/plot) and a sheet of
 * the misclassified digits, each captioned with its label and the network's answer.
 */
import { escapeXml, heatmapSvg } from "@tapegrad/plot";
import { PIXELS, SIDE } from "./mnist-data.js";

/** counts[t][p]: held-out images of digit t that the network called p. */
export type Confusion = number[][];

/** The 10 × 10 confusion matrix of predictions against labels. */
export function confusionMatrix(labels: ArrayLike<number>, predictions: ArrayLike<number>): Confusion {
  const counts = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]![predictions[i]!]! += 1;
  return counts;
}

/** The confusion matrix as an SVG heat map, the count in each cell. */
export function confusionSvg(counts: Confusion, title: string): string {
  const digits = counts.map((_, i) => String(i));
  return heatmapSvg(counts, {
    title,
    xLabel: "predicted digit",
    yLabel: "true digit",
    rowLabels: digits,
    colLabels: digits,
    scale: "viridis",
    showValues: true,
    format: (v) => String(v),
  });
}

/** One misclassified image: its 784 pixels in [0, 1], its label and the network's prediction. */
export interface Misclassified {
  pixels: ArrayLike<number>;
  label: number;
  predicted: number;
}

/**
 * A sheet of digits, `columns` per row, each drawn with 2-pixel squares (ink dark on white, 16 grey levels,
 * equal neighbours in a row merged into one rectangle) and captioned "label → predicted".
 * @param limit draw at most this many (default 60); the title says how many there were.
 */
export function misclassifiedSvg(
  items: readonly Misclassified[],
  title: string,
  columns = 10,
  limit = 60,
): string {
  const shown = items.slice(0, limit);
  const scale = 2;
  const cell = SIDE * scale;
  const pad = 8;
  const caption = 14;
  const top = 34;
  const rows = Math.max(1, Math.ceil(shown.length / columns));
  const width = pad + columns * (cell + pad);
  const height = top + rows * (cell + caption + pad) + pad;
  const body: string[] = [];
  body.push(
    `<text x="${pad}" y="20" font-family="Helvetica, Arial, sans-serif" font-size="14">${escapeXml(title)}</text>`,
  );
  shown.forEach((item, n) => {
    const x0 = pad + (n % columns) * (cell + pad);
    const y0 = top + Math.floor(n / columns) * (cell + caption + pad);
    const rects: string[] = [];
    for (let r = 0; r < SIDE; r++) {
      let c = 0;
      while (c < SIDE) {
        const level = Math.round(Math.min(1, Math.max(0, item.pixels[r * SIDE + c]!)) * 15);
        let end = c + 1;
        while (
          end < SIDE &&
          Math.round(Math.min(1, Math.max(0, item.pixels[r * SIDE + end]!)) * 15) === level
        )
          end++;
        if (level > 0) {
          const grey = Math.round(255 * (1 - level / 15));
          rects.push(
            `<rect x="${x0 + c * scale}" y="${y0 + r * scale}" width="${(end - c) * scale}" height="${scale}" fill="rgb(${grey},${grey},${grey})"/>`,
          );
        }
        c = end;
      }
    }
    body.push(
      `<g><rect x="${x0}" y="${y0}" width="${cell}" height="${cell}" fill="#fff" stroke="#ccc"/>${rects.join("")}`,
      `<text x="${x0 + cell / 2}" y="${y0 + cell + 12}" text-anchor="middle" font-family="Helvetica, Arial, sans-serif" font-size="11">${item.label} → ${item.predicted}</text></g>`,
    );
  });
  const desc = `${items.length} misclassified held-out digits${items.length > shown.length ? `, the first ${shown.length} shown` : ""}; each captioned with its label and the network's prediction.`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(title)}">`,
    `<title>${escapeXml(title)}</title>`,
    `<desc>${escapeXml(desc)}</desc>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...body,
    "</svg>\n",
  ].join("\n");
}

/** Pixels of image k of a row-major (m, 784) array. */
export function imageAt(X: Float64Array, k: number): Float64Array {
  return X.subarray(k * PIXELS, (k + 1) * PIXELS);
}
