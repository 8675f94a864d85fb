/**
 * The order a report reads in: blocks of text, tables and charts. analyzeRun and compareRuns
 * put the answer first (headline, heatmaps, ranking) and parsing notes last; the HTML report
 * and the CLI's text output both follow it.
 */
import type { Chart } from './charts.js';
import { renderText, type Table } from './format.js';

export type Block =
  /** `textOnly`: printed by the CLI, left out of the HTML (where a chart shows the same numbers). */
  | { kind: 'table'; table: Table; textOnly?: boolean }
  | { kind: 'chart'; chart: Chart }
  /** A heading with paragraphs (e.g. one computed sentence per lag). */
  | { kind: 'text'; title: string; lines: string[] };

/** The plain-text report: text and table blocks in order (charts are only in the HTML). */
export function renderBlocksText(blocks: readonly Block[]): string {
  return blocks
    .flatMap((b) =>
      b.kind === 'table' ? [renderText(b.table)] : b.kind === 'text' ? [[b.title, ...b.lines.map((l) => `  ${l}`)].join('\n')] : [],
    )
    .join('\n\n');
}
