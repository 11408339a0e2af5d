/**
 * `npm run bench -- NAME...`: runs the named benchmarks (all when none is named) and writes each one's
 * results to bench/results/NAME.json. Each benchmark module registers itself in BENCHMARKS.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Benchmark = (args: string[]) => Promise<unknown>;

const BENCHMARKS: Record<string, () => Promise<Benchmark>> = {
  hashing: () => import('./hashing.js').then((m) => m.run),
  index: () => import('./index-bench.js').then((m) => m.run),
  api: () => import('./api-bench.js').then((m) => m.run),
  submissions: () => import('./submissions-bench.js').then((m) => m.run),
  startup: () => import('./startup-bench.js').then((m) => m.run),
  import: () => import('./import-bench.js').then((m) => m.run),
  reports: () => import('./reports-bench.js').then((m) => m.run),
  research: () => import('./research-bench.js').then((m) => m.run),
  sharing: () => import('./sharing-bench.js').then((m) => m.run),
  sources: () => import('./sources-bench.js').then((m) => m.run),
  crisis: () => import('./crisis-bench.js').then((m) => m.run),
};

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'results');

async function main(): Promise<void> {
  const [first, ...rest] = process.argv.slice(2);
  const names = first && !first.startsWith('-') ? [first] : Object.keys(BENCHMARKS);
  const args = first && !first.startsWith('-') ? rest : process.argv.slice(2);
  for (const name of names) {
    const load = BENCHMARKS[name];
    if (!load) throw new Error(`unknown benchmark "${name}"; known: ${Object.keys(BENCHMARKS).join(', ')}`);
    const bench = await load();
    const result = await bench(args);
    mkdirSync(resultsDir, { recursive: true });
    const file = join(resultsDir, `${name}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    process.stderr.write(`bench ${name}: results written to ${file}\n`);
  }
}

await main();
