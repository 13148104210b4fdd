// What every bench section shares: its settings, the rows and details it returns for the report,
// and the whole-process timing of a kiln command.
import { runKiln } from '../lib/proc.js';
import { median } from '../lib/stats.js';

export interface Row {
  item: string;
  measure: string;
  result: string;
  target: string;
  verdict: string;
}

export interface SectionResult {
  rows: Row[];
  /** Markdown paragraphs/tables with the details behind the rows. */
  details: string[];
}

export interface Settings {
  runs: number;
  quick: boolean;
  work: string;
  log: (line: string) => void;
  /** The median single kiln build of the e2e section, for item 8's comparison. */
  single?: { wallMs: number; floorMs: number; peakRssKiB: number; apiCalls: number };
}

/** A section: measures, and returns its rows (and details) for the report. */
export type Section = (s: Settings) => Promise<SectionResult>;

export const verdict = (met: boolean, by: string): string => (met ? 'met' : `**missed** (${by})`);

/** The median wall time of `kiln <args>`, whole process, over `runs` runs. */
export async function timeKiln(args: string[], runs: number, env: NodeJS.ProcessEnv): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const result = await runKiln(args, { env });
    if (result.code !== 0) throw new Error(`kiln ${args.join(' ')} exited ${result.code}: ${result.stderr.slice(-1000)}`);
    times.push(result.wallMs);
  }
  return median(times);
}
