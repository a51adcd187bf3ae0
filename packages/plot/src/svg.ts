/**
 * @file The pieces every figure shares: escaping, pixel rounding, the font, and the document wrapper that
 * makes a figure accessible (`role="img"`, a `<title>` and a `<desc>` that screen readers announce).
 */

/** The sans-serif font of labels and titles, as SVG attributes. */
export const FONT = 'font-family="Helvetica, Arial, sans-serif"';

/** A monospace font (shapes, numbers that line up), as SVG attributes. */
export const MONO = 'font-family="ui-monospace, Menlo, Consolas, monospace"';

/** Escape text for SVG content and attributes. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A coordinate in pixels, with one decimal (enough on screen, and it keeps the file small). */
export function px(v: number): string {
  return String(Math.round(v * 10) / 10);
}

/** A number for a label: integers as they are, others with up to `digits` significant digits, no trailing zeros. */
export function formatNumber(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6))
    return v.toExponential(Math.max(0, digits - 1)).replace(/\.?0+e/, "e");
  return String(Number(v.toPrecision(digits)));
}

/**
 * Stands for the document's id prefix inside a figure's body (`id="${ID}clip0"`, `url(#${ID}clip0)`).
 * `svgDocument` replaces it with a prefix derived from the content, so that several figures inlined in one
 * HTML page do not share ids, and the same figure is always the same text.
 */
export const ID = "§id§";

/** FNV-1a, 32 bits, as 7 base-36 digits. */
function hash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36).padStart(7, "0");
}

/**
 * Wrap a figure's body in a standalone, accessible SVG document: white background, `<title>` (the name a
 * screen reader announces) and `<desc>` (a sentence about the content). Occurrences of `ID` in the body
 * become the document's id prefix.
 * @returns the SVG text, ending with a newline.
 */
export function svgDocument(
  width: number,
  height: number,
  title: string,
  desc: string,
  body: string,
): string {
  const id = `tg${hash(`${width}x${height}${title}${desc}${body}`)}-`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${id}title ${id}desc">`,
    `<title id="${id}title">${escapeXml(title)}</title>`,
    `<desc id="${id}desc">${escapeXml(desc)}</desc>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    body.replaceAll(ID, id),
    "</svg>\n",
  ].join("\n");
}
