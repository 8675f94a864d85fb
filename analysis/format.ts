/**
 * Plain-text and HTML rendering of tables: a table is a title, a header row and rows of
 * cells already formatted as strings. Numbers are formatted by `num` so text and HTML agree.
 */

export interface Table {
  title: string;
  headers: string[];
  rows: string[][];
  /** Optional line printed under the table (e.g. the statistical test used). */
  note?: string;
}

/** Below this a logged value is float rounding (e.g. a KL of 1.6e-15 on-policy): shown as 0. */
export const TINY = 1e-12;

/** Format a number for a table: '-' for null/undefined/NaN, integers plain, else `digits` significant-ish decimals. */
export function num(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '-';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return x.toExponential(digits - 1);
  return x.toFixed(a >= 100 ? 1 : digits);
}

/**
 * Format a measured quantity with a fixed number of decimals even when it is a whole number,
 * so a column reads 1.000 next to 0.998 (`num` prints whole numbers bare, for counts and steps).
 * '-' for null/undefined/NaN; exponent form below 1e-3 or from 1e6; 1 decimal from 100.
 */
export function dec(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '-';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const a = Math.abs(x);
  if (a < TINY) return (0).toFixed(digits);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return x.toExponential(digits - 1);
  return x.toFixed(a >= 100 ? 1 : digits);
}

/**
 * A number for people: `digits` significant digits without trailing zeros (480, 0.123, 12.5),
 * 0 for |x| < TINY, exponent form only below 1e-4 or from 1e6.
 */
export function sig(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '-';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const a = Math.abs(x);
  if (a < TINY) return '0';
  if (a >= 1e6 || a < 1e-4) return x.toExponential(digits - 1);
  if (a >= 10 ** digits) return String(Math.round(x));
  return String(Number(x.toPrecision(digits)));
}

/** A value with its interval: '480 [470, 490]'. */
export function interval(i: { value: number; lo: number; hi: number } | null | undefined, digits = 3): string {
  return i ? `${sig(i.value, digits)} [${sig(i.lo, digits)}, ${sig(i.hi, digits)}]` : '-';
}

/** Mean with a 95% CI half-width, the half-width to the mean's decimals: '12.300 ± 4.500', or '12.300 (n=1, no CI)'. */
export function meanPm(mean: number, halfWidth: number | null, n: number): string {
  if (halfWidth === null) return `${dec(mean)} (n=${n}, no CI)`;
  const m = dec(mean);
  // The half-width takes the mean's decimals, so 1.000 ± 0.000 rather than 1.000 ± 3.60e-15.
  const places = /^-?\d+\.(\d+)$/.exec(m)?.[1]?.length;
  return `${m} ± ${places !== undefined && Math.abs(halfWidth) < 1e6 ? halfWidth.toFixed(places) : dec(halfWidth)}`;
}

/** Render a table as aligned plain text: title line, header, rule, rows, optional note. */
export function renderText(t: Table): string {
  const widths = t.headers.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [t.title, line(t.headers), widths.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map(line)];
  if (t.rows.length === 0) out.push('(no data)');
  if (t.note) out.push(t.note);
  return out.join('\n');
}

/** Escape text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Render a table as an HTML <table> with a caption (no inline styles; the report's CSS styles it). */
export function renderHtml(t: Table): string {
  const head = `<tr>${t.headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  const body =
    t.rows.length === 0
      ? `<tr><td colspan="${t.headers.length}">(no data)</td></tr>`
      : t.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  const note = t.note ? `<p class="note">${escapeHtml(t.note)}</p>` : '';
  return `<section><h2>${escapeHtml(t.title)}</h2><table>${head}\n${body}</table>${note}</section>`;
}
