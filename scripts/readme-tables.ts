// `npm run docs:readme`: writes the README's flag table (from server/config.ts) and metric table (from
// server/metric-catalogue.ts) between their markers. Tests fail while the README differs from what this writes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { flagTable } from '../server/config';
import { metricTable } from '../server/metric-catalogue';

export const readmeFile = path.resolve(__dirname, '..', 'README.md');

/** The generated tables, each between `<!-- <name>: … -->` and `<!-- end <name> -->`. */
export const generatedTables = { 'flag-table': flagTable, 'metric-table': metricTable } as const;

/** The text between the markers of `name` in `readme`. */
export function tableIn(readme: string, name: keyof typeof generatedTables): string {
  const match = new RegExp(`<!-- ${name}:[^>]*-->\\n([\\s\\S]*?)\\n<!-- end ${name} -->`).exec(readme);
  if (match === null) throw new Error(`README.md has no ${name} markers`);
  return match[1];
}

/** `readme` with every generated table rendered afresh. */
export function withGeneratedTables(readme: string): string {
  let result = readme;
  for (const [name, render] of Object.entries(generatedTables)) {
    const current = tableIn(result, name as keyof typeof generatedTables);
    result = result.replace(current, () => render());
  }
  return result;
}

if (require.main === module) {
  fs.writeFileSync(readmeFile, withGeneratedTables(fs.readFileSync(readmeFile, 'utf8')));
  process.stderr.write('docs:readme: wrote the flag and metric tables of README.md\n');
}
