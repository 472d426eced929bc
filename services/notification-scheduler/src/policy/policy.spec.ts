import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TenantRegistry } from '@wa/tenancy';
import { editedPolicy, parsePolicyInput, policyDocument, resolvePolicy } from './policy.model';
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
      template: 'document_expiring',
      offsets: ['P6W', 'P1W'],
      sendTime: '10:00',
    });
    expect(roads.notices.payment_received.template).toBe('payment_received');
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

describe('the policy as the API reads and writes it', () => {
  const policies = loadPolicyFile(join(__dirname, '..', '..', 'config', 'policies.sandbox.yaml'), registry);
  const roads = registry.tenant('roads-agency')!;
  const current = resolvePolicy(roads, policies.get('roads-agency'), 'config');
  const roundTrip = (document: unknown) => {
    const edited = editedPolicy(JSON.parse(JSON.stringify(document)), current);
    const parsed = parsePolicyInput(edited.input);
    return { ...edited, errors: [...edited.errors, ...parsed.errors], stored: parsed.value };
  };

  it('takes back what it shows, unchanged: same effective policy', () => {
    const document = policyDocument(current);
    expect(document).toMatchObject({
      tenantId: 'roads-agency',
      timeZone: 'America/Bogota',
      sendTime: '10:00',
      source: 'config',
      version: 0,
    });
    const { errors, stored, expectedVersion } = roundTrip(document);
    expect(errors).toEqual([]);
    expect(expectedVersion).toBe(0);
    expect(resolvePolicy(roads, stored, 'admin', 1)).toEqual({ ...current, source: 'admin', version: 1 });
  });

  it('an edited send time moves every notice that has none of its own', () => {
    const document = policyDocument(
      resolvePolicy(roads, { ...policies.get('roads-agency'), notices: { payment_due: { sendTime: '07:30' } } }, 'config'),
    );
    expect(document.notices!.payment_due!.sendTime).toBe('07:30');
    expect(document.notices!.document_expiry!.sendTime).toBeUndefined();
    const { errors, stored } = roundTrip({ ...document, sendTime: '11:15' });
    expect(errors).toEqual([]);
    const after = resolvePolicy(roads, stored, 'admin', 1);
    expect(after.notices.document_expiry.sendTime).toBe('11:15');
    expect(after.notices.payment_due.sendTime).toBe('07:30');
  });

  it('refuses a changed read-only field instead of ignoring it', () => {
    const { errors } = roundTrip({ ...policyDocument(current), timeZone: 'Europe/Madrid', tenantId: 'immigration-dept' });
    expect(errors).toEqual([
      'tenantId: read-only (the token’s tenant); send it unchanged or leave it out',
      'timeZone: read-only (set in the tenant file); send it unchanged or leave it out',
    ]);
    expect(roundTrip({ dailyLimitPerCitizen: 2, bogus: 1 }).errors).toEqual([expect.stringContaining('bogus')]);
  });
});
