import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NOTICE_TYPES, type NoticeType } from '@wa/contracts';
import { TenantRegistry } from '@wa/tenancy';
import { extractParameters, type TemplateDefinition } from '@wa/templates';
import { templateValues } from '../dispatch/compose';
import { DEFAULT_NOTICES, resolvePolicy, type EffectiveNoticePolicy } from './policy.model';
import { loadPolicyFile } from './policy.service';

/*
 * One source of template names: what the scheduler sends out of the box (the sandbox policies file
 * and the built-in default) is what the template registry loads for the sandbox tenants (its
 * starter catalog), in every language of every sandbox tenant, with variables the scheduler can
 * fill. Read from the files themselves, as the services read them.
 */

const ROOT = join(__dirname, '..', '..', '..', '..');
const registry = TenantRegistry.load(join(ROOT, 'config', 'tenants.sandbox.yaml'), {});
const policies = loadPolicyFile(join(__dirname, '..', '..', 'config', 'policies.sandbox.yaml'), registry);
const STARTER = join(ROOT, 'services', 'template-registry', 'starter');

interface StarterFile {
  name: string;
  category: string;
  parameterFormat: 'named' | 'positional';
  translations: Record<string, { components: unknown[] }>;
}
const starter = new Map<string, StarterFile>(
  readdirSync(STARTER)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(STARTER, f), 'utf8')) as StarterFile)
    .map((t) => [t.name, t]),
);

/** The fullest event of each notice type (every optional field given), as the subject's merged data. */
const FULL_EVENT: Record<NoticeType, Record<string, unknown>> = {
  document_expiry: {
    citizen: { subjectId: 'CIT-1', whatsapp: '+573001112233', name: 'Ana' },
    document: { documentId: 'LIC-1', documentType: 'driving_licence' },
    expiresOn: '2030-06-30',
    renewalUrl: 'https://roads.example.gov/renew',
    office: 'Oficina Central',
  },
  payment_due: {
    citizen: { subjectId: 'CIT-1', whatsapp: '+573001112233', name: 'Ana' },
    reference: 'TAX-1',
    amount: '125500.00',
    currency: 'COP',
    dueOn: '2030-03-20',
    description: 'Impuesto vehicular',
    paymentUrl: 'https://roads.example.gov/pay/TAX-1',
  },
  payment_received: {
    citizen: { subjectId: 'CIT-1', whatsapp: '+573001112233', name: 'Ana' },
    reference: 'TAX-1',
    amount: '125500.00',
    currency: 'COP',
    receivedAt: '2030-03-18T15:04:05Z',
  },
  documents_ready: {
    citizen: { subjectId: 'CIT-1', whatsapp: '+573001112233', name: 'Ana' },
    reference: 'COL-1',
    mode: 'collection',
    document: { documentId: 'LIC-2', documentType: 'driving_licence' },
    location: 'Oficina Central, ventanilla 4',
    availableUntil: '2030-04-30',
  },
  application_received: {
    citizen: { subjectId: 'CIT-1', whatsapp: '+573001112233', name: 'Ana' },
    reference: 'APP-1',
    applicationType: 'Residence visa renewal',
    receivedAt: '2030-05-02T08:15:00Z',
  },
};

/** Every (where, tenant, notice type, notice policy) the scheduler can send out of the box. */
const configured: [string, string, NoticeType, EffectiveNoticePolicy][] = registry.tenants.flatMap((tenant) => [
  ...NOTICE_TYPES.map(
    (type) =>
      ['policies.sandbox.yaml', tenant.id, type, resolvePolicy(tenant, policies.get(tenant.id), 'config').notices[type]] as [
        string,
        string,
        NoticeType,
        EffectiveNoticePolicy,
      ],
  ),
  ...NOTICE_TYPES.map(
    (type) => ['built-in default', tenant.id, type, DEFAULT_NOTICES[type]] as [string, string, NoticeType, EffectiveNoticePolicy],
  ),
]);

describe('templates the scheduler sends out of the box are in the registry’s starter catalog', () => {
  it('the sandbox policies file covers every sandbox tenant', () => {
    expect([...policies.keys()].sort()).toEqual(registry.tenants.map((t) => t.id).sort());
  });

  it.each(configured)('%s, %s, %s', (_where, tenantId, type, notice) => {
    const tenant = registry.tenant(tenantId)!;
    const template = starter.get(notice.template);
    expect(template ? template.name : `${notice.template} is not in services/template-registry/starter`).toBe(notice.template);
    const missingLanguages = tenant.languages.filter((l) => !template!.translations[l]);
    expect(missingLanguages).toEqual([]);
    for (const language of tenant.languages) {
      const parameters = extractParameters({
        name: template!.name,
        language,
        category: template!.category,
        parameterFormat: template!.parameterFormat,
        components: template!.translations[language].components,
      } as unknown as TemplateDefinition);
      const values = templateValues(
        FULL_EVENT[type],
        type,
        language,
        Date.parse('2030-01-01T12:00:00Z'),
        tenant.timeZone,
        notice.parameterMap,
      );
      const unfilled = parameters.filter((p) => p.component !== 'button' && p.required && values[p.name] === undefined).map((p) => p.name);
      expect(`${language}: ${unfilled.join(', ')}`).toBe(`${language}: `);
    }
  });
});
