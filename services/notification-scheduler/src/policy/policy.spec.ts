import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TenantRegistry } from '@wa/tenancy';
import { parsePolicyInput, resolvePolicy } from './policy.model';
import { loadPolicyFile, PolicyFileError } from './policy.service';

const registry = TenantRegistry.load(join(__dirname, '..', '..', '..', '..', 'config', 'tenants.sandbox.yaml'), {});
const file = (text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'policies-')), 'policies.yaml');
  writeFileSync(path, text);
  return path;
};

describe('scheduling policies', () => {
  it('loads the sandbox policies file for both sandbox tenants', () => {
    const policies = loadPolicyFile(join(__dirname, '..', '..', 'config', 'policies.sandbox.yaml'), registry);
    expect([...policies.keys()].sort()).toEqual(['immigration-dept', 'roads-agency']);
    const roads = resolvePolicy(registry.tenant('roads-agency')!, policies.get('roads-agency'), 'config');
    expect(roads).toMatchObject({
      timeZone: 'America/Bogota',
      quietHours: { start: '08:00', end: '20:00' },
      dailyLimitPerCitizen: 3,
      source: 'config',
    });
    expect(roads.notices.document_expiry).toMatchObject({
      template: 'licence_expiry_reminder',
      offsets: ['P6W', 'P1W'],
      sendTime: '10:00',
    });
    expect(roads.notices.payment_received.template).toBe('payment_receipt');
  });

  it('refuses a bad file naming every problem', () => {
    const bad = file(`tenants:
  roads-agency:
    sendTime: "25:00"
    notices:
      document_expiry: { offsets: [P6W, six weeks], template: "Bad Name" }
      parking_fine: { template: x }
  nobody: {}
`);
    let error: PolicyFileError | undefined;
    try {
      loadPolicyFile(bad, registry);
    } catch (e) {
      error = e as PolicyFileError;
    }
    expect(error).toBeInstanceOf(PolicyFileError);
    expect(error!.problems).toEqual(
      expect.arrayContaining([
        'roads-agency.sendTime: sendTime must be HH:MM',
        'roads-agency.notices.document_expiry.offsets: offsets must be durations like P6W, P7D, P1M or P0D',
        'roads-agency.notices.document_expiry.template: template must be a template name (a-z, 0-9, _)',
        expect.stringContaining('parking_fine'),
        'nobody: not a tenant of the tenants file',
      ]),
    );
    expect(() => loadPolicyFile(file('- just a list'), registry)).toThrow(/"tenants" map/);
    expect(() => loadPolicyFile(file('tenants: {a: [}'), registry)).toThrow(PolicyFileError);
  });

  it('validates parameter maps', () => {
    expect(
      parsePolicyInput({ notices: { document_expiry: { parameterMap: { '1': 'first_name', 'header.1': 'document_type' } } } }).errors,
    ).toEqual([]);
    expect(parsePolicyInput({ notices: { document_expiry: { parameterMap: { '1': 'First Name' } } } }).errors).toEqual([
      'notices.document_expiry.parameterMap.1: must map a template parameter to a value name',
    ]);
  });
});
