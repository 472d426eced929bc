import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderContractsDoc } from './contracts-doc';

describe('docs/contracts.md', () => {
  it('matches the contracts registry (regenerate: node -r ./tools/ts-register.cjs tools/contracts-doc.ts > docs/contracts.md)', () => {
    expect(readFileSync(join(__dirname, '..', 'docs', 'contracts.md'), 'utf8')).toBe(renderContractsDoc());
  });
});
