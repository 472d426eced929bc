import { scanPlaceholders, substitute, variableNames } from './placeholders';
import { formatIssues, LIMITS } from './validate';
import type {
  CloudApiComponent,
  CloudApiParameter,
  HeaderFormat,
  RenderableTemplate,
  RenderInput,
  RenderOptions,
  RenderResult,
  TemplateButton,
  TemplateIssue,
  TemplatePreview,
} from './types';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const length = (s: string) => [...s].length;

/**
 * Meta refuses text parameters with new lines, tabs or more than four consecutive spaces (132000
 * family) and empty ones; checking here turns a failed send into a precise error before the call.
 */
function textValueProblem(value: string): string | null {
  if (value.trim().length === 0) return 'must not be empty';
  if (/[\n\r\t]/.test(value)) return 'must not contain new lines or tabs';
  if (/ {5,}/.test(value)) return 'must not contain more than four consecutive spaces';
  return null;
}

interface Parts {
  header?: Obj;
  body?: Obj;
  buttons: Obj[];
}

function split(components: unknown, issues: TemplateIssue[]): Parts | undefined {
  if (!Array.isArray(components)) {
    issues.push({ path: 'components', code: 'template.corrupt', message: 'the template has no components list' });
    return undefined;
  }
  const parts: Parts = { buttons: [] };
  for (const c of components) {
    if (!isObj(c)) continue;
    const type = String(c.type ?? '').toUpperCase();
    if (type === 'HEADER') parts.header = c;
    else if (type === 'BODY') parts.body = c;
    else if (type === 'BUTTONS' && Array.isArray(c.buttons)) parts.buttons = c.buttons.filter(isObj);
  }
  if (!parts.body || typeof parts.body.text !== 'string') {
    issues.push({ path: 'components', code: 'template.corrupt', message: 'the template has no BODY text' });
    return undefined;
  }
  return parts;
}

/**
 * Renders the Cloud API `template.components` for one send: exactly the parameters the approved
 * template takes, in Meta's order and shape, or every reason it cannot be sent.
 */
export function renderTemplate(template: RenderableTemplate, input: RenderInput = {}, options: RenderOptions = {}): RenderResult {
  const issues: TemplateIssue[] = [];
  const fail = (): RenderResult => ({ ok: false, errors: formatIssues(issues), issues });

  if (!options.allowUnapproved && template.status !== 'APPROVED') {
    issues.push({
      path: 'status',
      code: 'template.not_sendable',
      message: `template ${template.name} (${template.language}) is ${template.status}; only APPROVED templates can be sent`,
    });
    return fail();
  }
  const parts = split(template.components, issues);
  if (!parts || !parts.body) return fail();
  const body = parts.body;

  const named = template.parameterFormat === 'named';
  const parameters = { ...(input.parameters ?? {}) };
  const used = new Set<string>();
  const take = (key: string): string | undefined => {
    if (Object.prototype.hasOwnProperty.call(parameters, key)) {
      used.add(key);
      const v = parameters[key];
      return typeof v === 'string' ? v : v === undefined || v === null ? undefined : String(v);
    }
    return undefined;
  };
  const components: CloudApiComponent[] = [];

  // Header.
  const header = parts.header;
  const headerFormat = header ? String(header.format ?? 'TEXT').toUpperCase() : undefined;
  if (header && headerFormat === 'TEXT') {
    const names = variableNames(String(header.text ?? ''));
    const params: CloudApiParameter[] = [];
    for (const name of names) {
      // Header and body number their positional variables separately, so the header's are prefixed.
      const value = take(`header.${name}`) ?? (named ? take(name) : undefined);
      if (value === undefined) {
        issues.push({
          path: `parameters.header.${name}`,
          code: 'parameter.missing',
          message: `header variable {{${name}}} needs a value (key "header.${name}"${named ? ` or "${name}"` : ''})`,
        });
        continue;
      }
      const problem = textValueProblem(value);
      if (problem) issues.push({ path: `parameters.header.${name}`, code: 'parameter.invalid', message: `header {{${name}}} ${problem}` });
      params.push(named ? { type: 'text', parameter_name: name, text: value } : { type: 'text', text: value });
    }
    if (names.length) {
      const rendered = substitute(String(header.text), (n) =>
        named ? (parameters[`header.${n}`] ?? parameters[n]) : parameters[`header.${n}`],
      );
      if (length(rendered) > LIMITS.headerTextMax) {
        issues.push({
          path: 'parameters',
          code: 'header.rendered_too_long',
          message: `the header would be ${length(rendered)} characters; Meta allows ${LIMITS.headerTextMax}`,
        });
      }
      components.push({ type: 'header', parameters: params });
    }
    if (input.headerMedia)
      issues.push({ path: 'headerMedia', code: 'parameter.unexpected', message: 'this template has a text header; it takes no media' });
  } else if (header && (headerFormat === 'IMAGE' || headerFormat === 'VIDEO' || headerFormat === 'DOCUMENT')) {
    const kind = headerFormat.toLowerCase() as 'image' | 'video' | 'document';
    const media = input.headerMedia;
    if (!media) {
      issues.push({
        path: 'headerMedia',
        code: 'parameter.missing',
        message: `the ${kind} header needs headerMedia { type: "${kind}", id or link }`,
      });
    } else if (media.type !== kind) {
      issues.push({ path: 'headerMedia.type', code: 'parameter.invalid', message: `the header is ${kind}, not ${media.type}` });
    } else if (Boolean(media.id) === Boolean(media.link)) {
      issues.push({
        path: 'headerMedia',
        code: 'parameter.invalid',
        message: 'give exactly one of id (uploaded media) or link (https URL)',
      });
    } else if (media.link && !/^https:\/\//.test(media.link)) {
      issues.push({ path: 'headerMedia.link', code: 'parameter.invalid', message: 'a media link must be an https URL' });
    } else {
      const ref: { id?: string; link?: string; filename?: string } = media.id ? { id: media.id } : { link: media.link };
      if (kind === 'document' && media.filename) ref.filename = media.filename;
      const param = { type: kind, [kind]: ref } as CloudApiParameter;
      components.push({ type: 'header', parameters: [param] });
    }
  } else if (header && headerFormat === 'LOCATION') {
    const location = input.headerLocation;
    if (!location || typeof location.latitude !== 'number' || typeof location.longitude !== 'number') {
      issues.push({
        path: 'headerLocation',
        code: 'parameter.missing',
        message: 'the location header needs headerLocation { latitude, longitude, name?, address? }',
      });
    } else {
      components.push({ type: 'header', parameters: [{ type: 'location', location }] });
    }
  } else if (header) {
    issues.push({ path: 'components', code: 'template.unsupported', message: `header format ${headerFormat} cannot be rendered` });
  }
  if (input.headerMedia && (!header || headerFormat === 'LOCATION')) {
    issues.push({ path: 'headerMedia', code: 'parameter.unexpected', message: 'this template has no media header' });
  }
  if (input.headerLocation && headerFormat !== 'LOCATION') {
    issues.push({ path: 'headerLocation', code: 'parameter.unexpected', message: 'this template has no location header' });
  }

  // Body.
  const bodyText = String(body.text);
  const bodyNames = variableNames(bodyText);
  if (scanPlaceholders(bodyText).placeholders.some((p) => p.kind === 'malformed')) {
    issues.push({ path: 'components', code: 'template.corrupt', message: 'the body has malformed variables' });
  }
  const bodyParams: CloudApiParameter[] = [];
  for (const name of bodyNames) {
    const value = take(name);
    if (value === undefined) {
      issues.push({
        path: `parameters.${name}`,
        code: 'parameter.missing',
        message: `body variable {{${name}}} needs a value (key "${name}")`,
      });
      continue;
    }
    const problem = textValueProblem(value);
    if (problem) issues.push({ path: `parameters.${name}`, code: 'parameter.invalid', message: `{{${name}}} ${problem}` });
    bodyParams.push(named ? { type: 'text', parameter_name: name, text: value } : { type: 'text', text: value });
  }
  if (bodyNames.length) {
    const rendered = substitute(bodyText, (n) => parameters[n]);
    if (length(rendered) > LIMITS.bodyMax) {
      issues.push({
        path: 'parameters',
        code: 'body.rendered_too_long',
        message: `the body would be ${length(rendered)} characters; Meta allows ${LIMITS.bodyMax} (error 132005)`,
      });
    }
    components.push({ type: 'body', parameters: bodyParams });
  }

  // Buttons, by their index in the template.
  const buttonValues = { ...(input.buttonParameters ?? {}) };
  const usedButtons = new Set<string>();
  parts.buttons.forEach((button, index) => {
    const key = String(index);
    const has = Object.prototype.hasOwnProperty.call(buttonValues, key);
    const value = has ? String(buttonValues[key]) : undefined;
    if (has) usedButtons.add(key);
    const type = String(button.type ?? '').toUpperCase();
    if (type === 'URL') {
      const url = String(button.url ?? '');
      const dynamic = scanPlaceholders(url).placeholders.length > 0;
      if (!dynamic) {
        if (has)
          issues.push({
            path: `buttonParameters.${key}`,
            code: 'parameter.unexpected',
            message: `button ${index} has a fixed URL; it takes no value`,
          });
        return;
      }
      if (value === undefined) {
        issues.push({
          path: `buttonParameters.${key}`,
          code: 'parameter.missing',
          message: `button ${index} (URL) needs the URL suffix (buttonParameters["${key}"])`,
        });
        return;
      }
      const problem = textValueProblem(value);
      if (problem) issues.push({ path: `buttonParameters.${key}`, code: 'parameter.invalid', message: `the URL suffix ${problem}` });
      const full = url.replace(/\{\{1\}\}$/, value);
      if (length(full) > LIMITS.urlMax)
        issues.push({
          path: `buttonParameters.${key}`,
          code: 'parameter.invalid',
          message: `the URL would be ${length(full)} characters; Meta allows ${LIMITS.urlMax}`,
        });
      components.push({ type: 'button', sub_type: 'url', index: key, parameters: [{ type: 'text', text: value }] });
    } else if (type === 'QUICK_REPLY') {
      // Optional: without a payload Meta returns the button label when the citizen taps it.
      if (value === undefined) return;
      if (value.length === 0)
        issues.push({ path: `buttonParameters.${key}`, code: 'parameter.invalid', message: 'a quick-reply payload must not be empty' });
      components.push({ type: 'button', sub_type: 'quick_reply', index: key, parameters: [{ type: 'payload', payload: value }] });
    } else if (type === 'COPY_CODE') {
      if (value === undefined || value.length === 0) {
        issues.push({
          path: `buttonParameters.${key}`,
          code: 'parameter.missing',
          message: `button ${index} (copy code) needs the code (buttonParameters["${key}"])`,
        });
        return;
      }
      components.push({ type: 'button', sub_type: 'copy_code', index: key, parameters: [{ type: 'coupon_code', coupon_code: value }] });
    } else if (has) {
      issues.push({ path: `buttonParameters.${key}`, code: 'parameter.unexpected', message: `button ${index} (${type}) takes no value` });
    }
  });

  if (!options.ignoreUnknownParameters) {
    for (const key of Object.keys(parameters)) {
      if (!used.has(key)) {
        issues.push({
          path: `parameters.${key}`,
          code: 'parameter.unknown',
          message: `"${key}" is not a variable of ${template.name} (${template.language})`,
        });
      }
    }
    for (const key of Object.keys(buttonValues)) {
      if (!usedButtons.has(key) && !(Number(key) >= 0 && Number(key) < parts.buttons.length)) {
        issues.push({ path: `buttonParameters.${key}`, code: 'parameter.unknown', message: `${template.name} has no button ${key}` });
      }
    }
  }

  if (issues.length) return fail();
  const templateMessage = { name: template.name, language: { code: template.language }, ...(components.length ? { components } : {}) };
  return { ok: true, components, template: templateMessage };
}

/**
 * What the citizen would read: variables filled from `input` where given, else from the
 * template's own examples, else left as `{{name}}`.
 */
export function previewTemplate(
  template: { components: readonly unknown[]; parameterFormat?: string },
  input: RenderInput = {},
): TemplatePreview {
  const components = (template.components as unknown[]).filter(isObj);
  const named = template.parameterFormat === 'named';
  const examples = new Map<string, string>();
  const headerExamples = new Map<string, string>();
  for (const c of components) {
    const ex = isObj(c.example) ? c.example : {};
    if (c.type === 'BODY') {
      if (Array.isArray(ex.body_text) && Array.isArray(ex.body_text[0]))
        (ex.body_text[0] as unknown[]).forEach((v, k) => examples.set(String(k + 1), String(v)));
      if (Array.isArray(ex.body_text_named_params))
        for (const e of ex.body_text_named_params.filter(isObj)) examples.set(String(e.param_name), String(e.example));
    }
    if (c.type === 'HEADER') {
      if (Array.isArray(ex.header_text)) headerExamples.set('1', String(ex.header_text[0]));
      if (Array.isArray(ex.header_text_named_params))
        for (const e of ex.header_text_named_params.filter(isObj)) headerExamples.set(String(e.param_name), String(e.example));
    }
  }
  const values = input.parameters ?? {};
  const preview: TemplatePreview = { body: '', buttons: [] };
  for (const c of components) {
    if (c.type === 'HEADER') {
      preview.header = { format: String(c.format ?? 'TEXT') as HeaderFormat };
      if (typeof c.text === 'string') {
        preview.header.text = substitute(c.text, (n) => values[`header.${n}`] ?? (named ? values[n] : undefined) ?? headerExamples.get(n));
      }
    } else if (c.type === 'BODY') {
      preview.body = substitute(String(c.text ?? ''), (n) => values[n] ?? examples.get(n));
    } else if (c.type === 'FOOTER') {
      preview.footer = String(c.text ?? '');
    } else if (c.type === 'BUTTONS' && Array.isArray(c.buttons)) {
      c.buttons.filter(isObj).forEach((b, index) => {
        const type = String(b.type) as TemplateButton['type'];
        const entry: TemplatePreview['buttons'][number] = { type, text: String(b.text ?? (type === 'COPY_CODE' ? 'Copy code' : '')) };
        if (type === 'URL' && typeof b.url === 'string') {
          const given = input.buttonParameters?.[String(index)];
          const example = Array.isArray(b.example) && typeof b.example[0] === 'string' ? b.example[0] : undefined;
          if (!scanPlaceholders(b.url).placeholders.length) entry.url = b.url;
          else if (given !== undefined) entry.url = b.url.replace(/\{\{1\}\}$/, given);
          // Meta's examples are sometimes the whole URL, sometimes only the suffix.
          else if (example && /^https?:\/\//.test(example)) entry.url = example;
          else entry.url = b.url.replace(/\{\{1\}\}$/, example ?? '{{1}}');
        }
        if (type === 'PHONE_NUMBER') entry.phoneNumber = String(b.phone_number ?? '');
        preview.buttons.push(entry);
      });
    }
  }
  return preview;
}
