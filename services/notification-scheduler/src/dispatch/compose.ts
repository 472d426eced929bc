import type { NoticeType, TemplateCatalogEntryV1 } from '@wa/contracts';
import { extractParameters, renderTemplate, type TemplateDefinition, type TemplateParameter } from '@wa/templates';
import type { EffectivePolicy } from '../policy/policy.model';
import { daysBetween, localDate } from '../planning/zoned-time';

/*
 * What a notice says: the template translation to use and the values for its variables, derived
 * from the subject's events at send time (so a corrected event shows its corrected values) and
 * checked with the registry's own renderTemplate before anything is published.
 */

/**
 * Languages to try, best first: the citizen's, its configured fallbacks (`pt_BR → [pt_BR, es,
 * en]`), the tenant's default and the default's fallbacks.
 */
export function languageChain(preferred: string | null, policy: Pick<EffectivePolicy, 'defaultLanguage' | 'languageFallbacks'>): string[] {
  const chain: string[] = [];
  const add = (l: string | undefined | null) => {
    if (l && !chain.includes(l)) chain.push(l);
  };
  if (preferred) {
    add(preferred);
    const configured = policy.languageFallbacks[preferred];
    if (configured) configured.forEach(add);
    // `es_CO` without a configured chain still tries `es` before the tenant default.
    else if (preferred.includes('_')) add(preferred.split('_')[0]);
  }
  add(policy.defaultLanguage);
  (policy.languageFallbacks[policy.defaultLanguage] ?? []).forEach(add);
  return chain;
}

export type CatalogLookup = (language: string) => Pick<TemplateCatalogEntryV1, 'status' | 'language'> | undefined;

/** The first language of the chain with an APPROVED translation, or why there is none. */
export function chooseTranslation(chain: string[], lookup: CatalogLookup): { language: string } | { tried: string } {
  for (const language of chain) if (lookup(language)?.status === 'APPROVED') return { language };
  return { tried: chain.map((l) => `${l}: ${lookup(l)?.status ?? 'missing'}`).join(', ') };
}

const DOCUMENT_LABELS: Record<string, Record<string, string>> = {
  en: {
    driving_licence: 'driving licence',
    vehicle_registration: 'vehicle registration',
    residence_visa: 'residence visa',
    passport: 'passport',
    national_id: 'national ID card',
    work_permit: 'work permit',
    other: 'document',
  },
  es: {
    driving_licence: 'licencia de conducción',
    vehicle_registration: 'matrícula del vehículo',
    residence_visa: 'visa de residencia',
    passport: 'pasaporte',
    national_id: 'documento de identidad',
    work_permit: 'permiso de trabajo',
    other: 'documento',
  },
  fr: {
    driving_licence: 'permis de conduire',
    vehicle_registration: 'certificat d’immatriculation',
    residence_visa: 'visa de résident',
    passport: 'passeport',
    national_id: 'carte d’identité',
    work_permit: 'permis de travail',
    other: 'document',
  },
  pt: {
    driving_licence: 'carteira de habilitação',
    vehicle_registration: 'registro do veículo',
    residence_visa: 'visto de residência',
    passport: 'passaporte',
    national_id: 'documento de identidade',
    work_permit: 'autorização de trabalho',
    other: 'documento',
  },
  ar: {
    driving_licence: 'رخصة القيادة',
    vehicle_registration: 'تسجيل المركبة',
    residence_visa: 'تأشيرة الإقامة',
    passport: 'جواز السفر',
    national_id: 'بطاقة الهوية',
    work_permit: 'تصريح العمل',
    other: 'الوثيقة',
  },
};

export function documentLabel(type: string, language: string): string {
  const base = language.split('_')[0];
  return (DOCUMENT_LABELS[base] ?? DOCUMENT_LABELS.en)[type] ?? DOCUMENT_LABELS.en[type] ?? type;
}

const locale = (language: string) => language.replace('_', '-');
const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** '2026-06-30' as the citizen reads it (`30 de junio de 2026`); Meta does not localise dates. */
export function formatCalendarDate(date: string, language: string): string {
  let f = dateFormats.get(language);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat(locale(language), { dateStyle: 'long', timeZone: 'UTC' });
    } catch {
      f = new Intl.DateTimeFormat('en', { dateStyle: 'long', timeZone: 'UTC' });
    }
    dateFormats.set(language, f);
  }
  const [y, m, d] = date.split('-').map(Number);
  return f.format(Date.UTC(y, m - 1, d));
}

export function formatAmount(amount: string, currency: string, language: string): string {
  try {
    return new Intl.NumberFormat(locale(language), { style: 'currency', currency }).format(Number(amount));
  } catch {
    return `${amount} ${currency}`;
  }
}

interface EventData {
  citizen?: { name?: string; subjectId?: string };
  document?: { documentId?: string; documentType?: string; label?: string };
  expiresOn?: string;
  renewalUrl?: string;
  office?: string;
  reference?: string;
  amount?: string;
  currency?: string;
  dueOn?: string;
  description?: string;
  paymentUrl?: string;
  receivedAt?: string;
  location?: string;
  availableUntil?: string;
  mode?: string;
  applicationType?: string;
  fields?: Record<string, string>;
  buttons?: Record<string, string>;
}

/**
 * Every value the scheduler can offer a template, named as template variables usually are. The
 * agency's `fields` override them; the policy's parameterMap renames them for templates that use
 * other names or positions.
 */
export function templateValues(
  data: Record<string, unknown>,
  noticeType: NoticeType,
  language: string,
  now: number,
  zone: string,
  parameterMap: Record<string, string> = {},
): Record<string, string> {
  const d = data as EventData;
  const v: Record<string, string> = {};
  const set = (k: string, value: string | undefined) => {
    if (value !== undefined && value !== '') v[k] = value;
  };
  set('first_name', d.citizen?.name);
  set('citizen_name', d.citizen?.name);
  if (d.document?.documentType) set('document_type', d.document.label ?? documentLabel(d.document.documentType, language));
  set('document_id', d.document?.documentId);
  const today = localDate(now, zone);
  if (noticeType === 'document_expiry' && d.expiresOn) {
    set('expiry_date', formatCalendarDate(d.expiresOn, language));
    set('days_left', String(Math.max(0, daysBetween(today, d.expiresOn))));
  }
  set('renewal_url', d.renewalUrl);
  set('office', d.office);
  set('reference', d.reference);
  if (d.amount && d.currency) {
    set('amount', formatAmount(d.amount, d.currency, language));
    set('currency', d.currency);
  }
  if (d.dueOn) {
    set('due_date', formatCalendarDate(d.dueOn, language));
    if (noticeType === 'payment_due') set('days_left', String(Math.max(0, daysBetween(today, d.dueOn))));
  }
  set('description', d.description);
  set('payment_url', d.paymentUrl);
  if (d.receivedAt) set('received_date', formatCalendarDate(localDate(Date.parse(d.receivedAt), zone), language));
  set('location', d.location);
  if (d.availableUntil) set('available_until', formatCalendarDate(d.availableUntil, language));
  set('application_type', d.applicationType);
  for (const [param, source] of Object.entries(parameterMap)) if (v[source] !== undefined) v[param] = v[source];
  Object.assign(v, d.fields ?? {});
  return v;
}

export type ComposeResult =
  | { ok: true; parameters: Record<string, string>; buttonParameters: Record<string, string> }
  | { ok: false; detail: string };

function parametersOf(entry: TemplateCatalogEntryV1): TemplateParameter[] {
  if (entry.parameters?.length) return entry.parameters as TemplateParameter[];
  return extractParameters({
    name: entry.name,
    language: entry.language,
    category: entry.category,
    parameterFormat: entry.parameterFormat,
    components: entry.components,
  } as unknown as TemplateDefinition);
}

/**
 * Exactly the values the translation takes (the gateway renders the request again and refuses
 * unknown keys), checked with renderTemplate; or the registry's own words for what is wrong.
 */
export function composeParameters(
  entry: TemplateCatalogEntryV1,
  values: Record<string, string>,
  buttons: Record<string, string> = {},
): ComposeResult {
  const parameters: Record<string, string> = {};
  const buttonParameters: Record<string, string> = {};
  const named = entry.parameterFormat === 'named';
  for (const p of parametersOf(entry)) {
    if (p.component === 'body' && p.type === 'text') {
      if (values[p.name] !== undefined) parameters[p.name] = values[p.name];
    } else if (p.component === 'header' && p.type === 'text') {
      const value = values[`header.${p.name}`] ?? (named ? values[p.name] : undefined);
      if (value !== undefined) parameters[`header.${p.name}`] = value;
    } else if (p.component === 'button' && p.buttonIndex !== undefined) {
      const value = buttons[String(p.buttonIndex)];
      if (value !== undefined) buttonParameters[String(p.buttonIndex)] = value;
    }
  }
  const rendered = renderTemplate(entry, { parameters, buttonParameters });
  if (!rendered.ok) return { ok: false, detail: rendered.errors.join('; ').slice(0, 1000) };
  return { ok: true, parameters, buttonParameters };
}
