// HCL2 (issue 13): parse and evaluate a 500-line template in process; `kiln validate` of a typical one.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFile } from '../../src/template/hcl/parser.js';
import { loadTemplate } from '../../src/template/index.js';
import { largeHclTemplate } from '../lib/hcl.js';
import { REPO_ROOT } from '../lib/proc.js';
import { median, millis } from '../lib/stats.js';
import { timeKiln, verdict, type SectionResult, type Settings } from './section.js';

export async function hcl(s: Settings): Promise<SectionResult> {
  const dir = mkdtempSync(join(s.work, 'hcl-'));
  const text = largeHclTemplate(500);
  const lineCount = text.split('\n').length - 1;
  writeFileSync(join(dir, 'large.pkr.hcl'), text);
  const env = { HOME: dir, SCW_SECRET_KEY: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b', SCW_DEFAULT_PROJECT_ID: '11111111-2222-4333-8444-555555555555' };
  const runs = Math.max(s.runs, 20);
  await loadTemplate(join(dir, 'large.pkr.hcl'), { env }); // warm-up (JIT)
  const parse: number[] = [];
  const load: number[] = [];
  for (let i = 0; i < runs; i++) {
    let start = performance.now();
    parseFile(text, 'large.pkr.hcl');
    parse.push(performance.now() - start);
    start = performance.now();
    await loadTemplate(join(dir, 'large.pkr.hcl'), { env });
    load.push(performance.now() - start);
  }
  const example = join(REPO_ROOT, 'examples', 'basic.pkr.hcl');
  const validateRuns = Math.max(s.runs, 5);
  const validate = await timeKiln(['validate', example], validateRuns, { PATH: process.env.PATH, ...env });
  s.log(`hcl: parse ${millis(median(parse))}, load ${millis(median(load))}, kiln validate ${millis(validate)}`);
  return {
    rows: [
      { item: 'HCL2', measure: `parse a ${lineCount}-line template (median of ${runs})`, result: millis(median(parse)), target: '—', verdict: '—' },
      { item: 'HCL2', measure: `parse + evaluate it: variables, locals, ${Math.round(lineCount / 37)} builds lowered and read (loadTemplate, in process)`, result: millis(median(load)), target: '< 30 ms', verdict: verdict(median(load) < 30, `by ${millis(median(load) - 30)}`) },
      { item: 'HCL2', measure: `kiln validate examples/basic.pkr.hcl, whole process (median of ${validateRuns})`, result: millis(validate), target: '< 300 ms', verdict: verdict(validate < 300, `by ${millis(validate - 300)}`) },
    ],
    details: [],
  };
}
