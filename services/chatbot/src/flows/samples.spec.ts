import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadFlow } from './parse';

/** The sample flows shipped in services/chatbot/flows/<tenant>/ must publish as they are. */
const root = join(__dirname, '../../flows');
const files: string[] = [];
const walk = (dir: string) =>
  readdirSync(dir).forEach((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.ya?ml$/.test(p) && !p.includes('.strings.')) files.push(p);
  });
try {
  walk(root);
} catch {
  // No sample flows in this checkout.
}

describe('sample flows', () => {
  it.each(files.map((f) => [f.slice(root.length + 1), f]))('%s parses and validates', (_, file) => {
    const result = loadFlow(readFileSync(file, 'utf8'));
    expect(result.ok ? [] : result.problems.map((p) => p.message)).toEqual([]);
  });
});
