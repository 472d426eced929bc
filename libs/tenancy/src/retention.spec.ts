import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_RETENTION, retentionOf } from './retention';
import { TenantRegistry } from './tenant-registry';

const sample = readFileSync(join(__dirname, '..', '..', '..', 'config', 'tenants.sandbox.yaml'), 'utf8');

describe('tenant retention', () => {
  it("takes the tenant's own days over the platform defaults, field by field", () => {
    const registry = TenantRegistry.parse(sample, {});
    expect(retentionOf(registry.tenant('roads-agency'))).toEqual({
      ...DEFAULT_RETENTION,
      messagesDays: 90,
      mediaDays: 30,
      transcriptsDays: 60,
    });
    expect(retentionOf(registry.tenant('immigration-dept'))).toEqual(DEFAULT_RETENTION);
    expect(retentionOf(undefined)).toEqual(DEFAULT_RETENTION);
  });

  it('rejects days out of range and misspelt fields, naming them', () => {
    const zero = sample.replace('messagesDays: 90', 'messagesDays: 0');
    expect(() => TenantRegistry.parse(zero, {})).toThrow(/tenants\.0\.retention\.messagesDays: messagesDays must not be less than 1/);
    const typo = sample.replace('messagesDays: 90', 'messageDays: 90');
    expect(() => TenantRegistry.parse(typo, {})).toThrow(
      /tenant roads-agency: retention\.messageDays is not one of messagesDays, mediaDays/,
    );
    const text = sample.replace('mediaDays: 30', 'mediaDays: thirty');
    expect(() => TenantRegistry.parse(text, {})).toThrow(/retention\.mediaDays/);
  });
});
