import { languageProblem } from './languages';
import {
  adjacentPairs,
  countWords,
  expectedKind,
  fixedText,
  leadingOrTrailing,
  placeholderLabel,
  scanPlaceholders,
  variableNames,
  type Placeholder,
} from './placeholders';
import {
  HEADER_FORMATS,
  type HeaderFormat,
  type NamedParamExample,
  type ParameterFormat,
  type TemplateDefinition,
  type TemplateIssue,
  type TemplateParameter,
  type ValidationResult,
} from './types';

/** Meta's numbers (reference §8); named here so a change at Meta is a one-line change. */
export const LIMITS = {
  nameMax: 512,
  bodyMax: 1024,
  headerTextMax: 60,
  footerMax: 60,
  buttonLabelMax: 25,
  buttonsMax: 10,
  quickRepliesMax: 10,
  urlButtonsMax: 2,
  phoneButtonsMax: 1,
  copyCodeButtonsMax: 1,
  urlMax: 2000,
  copyCodeExampleMax: 15,
  phoneNumberMax: 20,
} as const;

export const TEMPLATE_NAME = /^[a-z0-9_]+$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0;
/** Lengths count characters as people see them (an emoji or an Arabic letter is one). */
const length = (s: string) => [...s].length;

class Issues {
  readonly list: TemplateIssue[] = [];
  add(path: string, code: string, message: string): void {
    this.list.push({ path, code, message });
  }
}

/** Turns issues into the `path: message` strings render and validate both return. */
export function formatIssues(issues: TemplateIssue[]): string[] {
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
}

/**
 * Checks one translation against Meta's rules before it is submitted. On success returns the
 * parameters a send must supply (what the catalog publishes).
 */
export function validateTemplateDefinition(definition: TemplateDefinition): ValidationResult {
  const issues = new Issues();
  const def = definition as unknown as Obj;
  if (!isObj(def)) {
    issues.add('', 'definition.invalid', 'a template definition must be an object');
    return { ok: false, errors: formatIssues(issues.list), issues: issues.list };
  }

  const name = def.name;
  if (typeof name !== 'string' || name.length === 0) issues.add('name', 'name.required', 'name is required');
  else if (name.length > LIMITS.nameMax)
    issues.add('name', 'name.too_long', `name has ${name.length} characters; Meta allows ${LIMITS.nameMax}`);
  else if (!TEMPLATE_NAME.test(name))
    issues.add('name', 'name.invalid', `name "${name}" may contain only lowercase letters, digits and underscores`);

  const languageError = languageProblem(def.language);
  if (languageError) issues.add('language', 'language.invalid', languageError);

  if (def.category === 'AUTHENTICATION') {
    issues.add(
      'category',
      'category.authentication_unsupported',
      'AUTHENTICATION templates use Meta’s fixed one-time-password format (OTP button, no free text) and are not authored in this registry',
    );
  } else if (def.category !== 'UTILITY' && def.category !== 'MARKETING') {
    issues.add(
      'category',
      'category.invalid',
      `category must be UTILITY, MARKETING or AUTHENTICATION, not ${JSON.stringify(def.category)}`,
    );
  }

  const format = def.parameterFormat ?? 'positional';
  if (format !== 'named' && format !== 'positional') {
    issues.add(
      'parameterFormat',
      'parameter_format.invalid',
      `parameterFormat must be "named" or "positional", not ${JSON.stringify(format)}`,
    );
  }
  const paramFormat: ParameterFormat = format === 'named' ? 'named' : 'positional';

  const parameters: TemplateParameter[] = [];
  const components = def.components;
  if (!Array.isArray(components) || components.length === 0) {
    issues.add('components', 'components.required', 'components must list at least the BODY');
    return { ok: false, errors: formatIssues(issues.list), issues: issues.list };
  }

  const seen = new Map<string, number>();
  components.forEach((component, i) => {
    const path = `components[${i}]`;
    if (!isObj(component)) {
      issues.add(path, 'component.invalid', 'each component must be an object');
      return;
    }
    const type = component.type;
    if (type !== 'HEADER' && type !== 'BODY' && type !== 'FOOTER' && type !== 'BUTTONS') {
      issues.add(`${path}.type`, 'component.unknown_type', `type must be HEADER, BODY, FOOTER or BUTTONS, not ${JSON.stringify(type)}`);
      return;
    }
    if (seen.has(type)) {
      issues.add(path, 'component.duplicate', `a template has at most one ${type} (another at components[${seen.get(type)}])`);
      return;
    }
    seen.set(type, i);
    if (type === 'HEADER') checkHeader(component, path, paramFormat, issues, parameters);
    else if (type === 'BODY') checkBody(component, path, paramFormat, issues, parameters);
    else if (type === 'FOOTER') checkFooter(component, path, issues);
    else checkButtons(component, path, String(def.category), issues, parameters);
  });
  if (!seen.has('BODY')) issues.add('components', 'body.required', 'exactly one BODY component is required');

  if (issues.list.length) return { ok: false, errors: formatIssues(issues.list), issues: issues.list };
  return { ok: true, parameters: orderParameters(parameters) };
}

function orderParameters(parameters: TemplateParameter[]): TemplateParameter[] {
  const rank = { header: 0, body: 1, button: 2 } as const;
  return [...parameters].sort((a, b) => rank[a.component] - rank[b.component] || (a.buttonIndex ?? 0) - (b.buttonIndex ?? 0));
}

/** Placeholder checks shared by header and body: syntax, format, numbering, uniqueness. */
function checkPlaceholders(text: string, path: string, format: ParameterFormat, issues: Issues): Placeholder[] {
  const { placeholders, strayBraces } = scanPlaceholders(text);
  if (strayBraces)
    issues.add(path, 'placeholder.unbalanced', 'has "{{" or "}}" that is not part of a variable like {{1}} or {{first_name}}');
  const wanted = expectedKind(format);
  for (const p of placeholders) {
    if (p.kind === 'malformed') {
      issues.add(
        path,
        'placeholder.malformed',
        `${placeholderLabel(p)} is not a valid variable: use {{1}}, {{2}}… (positional) or {{lowercase_name}} (named), without spaces`,
      );
    } else if (p.kind !== wanted) {
      issues.add(
        path,
        'placeholder.wrong_format',
        `${placeholderLabel(p)} is a ${p.kind} variable but the template's parameterFormat is ${format}; do not mix the two`,
      );
    }
  }
  const valid = placeholders.filter((p) => p.kind === wanted);
  const counts = new Map<string, number>();
  for (const p of valid) counts.set(p.raw, (counts.get(p.raw) ?? 0) + 1);
  for (const [raw, n] of counts) {
    if (n > 1) issues.add(path, 'placeholder.repeated', `{{${raw}}} appears ${n} times; each variable may appear once per component`);
  }
  if (format === 'positional') {
    const numbers = [...counts.keys()].map(Number).sort((a, b) => a - b);
    const missing = numbers.length
      ? Array.from({ length: numbers[numbers.length - 1] }, (_, k) => k + 1).filter((n) => !counts.has(String(n)))
      : [];
    if (missing.length) {
      issues.add(
        path,
        'placeholder.numbering',
        `positional variables must be numbered 1..n without gaps; missing ${missing.map((n) => `{{${n}}}`).join(', ')}`,
      );
    }
  }
  return valid;
}

function checkNamedExamples(examples: unknown, names: string[], path: string, issues: Issues): Map<string, string> | undefined {
  if (!Array.isArray(examples)) {
    issues.add(
      path,
      'example.required',
      `examples are required for ${names.map((n) => `{{${n}}}`).join(', ')} as [{ param_name, example }]`,
    );
    return undefined;
  }
  const byName = new Map<string, string>();
  examples.forEach((e: NamedParamExample, k) => {
    if (!isObj(e) || typeof e.param_name !== 'string') {
      issues.add(`${path}[${k}]`, 'example.invalid', 'each example needs param_name and example');
      return;
    }
    if (byName.has(e.param_name)) issues.add(`${path}[${k}]`, 'example.duplicate', `param_name "${e.param_name}" is listed twice`);
    if (!names.includes(e.param_name)) issues.add(`${path}[${k}]`, 'example.unknown', `"${e.param_name}" is not a variable of this text`);
    if (!isNonEmptyString(e.example))
      issues.add(`${path}[${k}]`, 'example.empty', `the example for "${e.param_name}" must be a non-empty string`);
    byName.set(e.param_name, String(e.example ?? ''));
  });
  const missing = names.filter((n) => !byName.has(n));
  if (missing.length) issues.add(path, 'example.missing', `no example for ${missing.map((n) => `{{${n}}}`).join(', ')}`);
  return byName;
}

function checkHeader(component: Obj, path: string, format: ParameterFormat, issues: Issues, out: TemplateParameter[]): void {
  const headerFormat = component.format as HeaderFormat;
  if (!HEADER_FORMATS.includes(headerFormat)) {
    issues.add(
      `${path}.format`,
      'header.format',
      `format must be one of ${HEADER_FORMATS.join(', ')}, not ${JSON.stringify(headerFormat)}`,
    );
    return;
  }
  const example = component.example;
  if (example !== undefined && !isObj(example)) issues.add(`${path}.example`, 'example.invalid', 'example must be an object');
  const ex = isObj(example) ? example : {};
  if (headerFormat !== 'TEXT') {
    if (component.text !== undefined) issues.add(`${path}.text`, 'header.text_not_allowed', `a ${headerFormat} header has no text`);
    const kind = headerFormat.toLowerCase() as 'image' | 'video' | 'document' | 'location';
    if (headerFormat === 'LOCATION') {
      if (example !== undefined) issues.add(`${path}.example`, 'example.unexpected', 'a LOCATION header takes no example');
    } else {
      const handle = ex.header_handle;
      if (!Array.isArray(handle) || handle.length !== 1 || !isNonEmptyString(handle[0])) {
        issues.add(
          `${path}.example.header_handle`,
          'example.required',
          `a ${headerFormat} header needs example.header_handle: [one handle of a sample uploaded with Meta's Resumable Upload API]`,
        );
      }
    }
    out.push({ component: 'header', name: kind, type: kind, required: true });
    return;
  }
  const text = component.text;
  if (!isNonEmptyString(text)) {
    issues.add(`${path}.text`, 'header.text_required', 'a TEXT header needs text');
    return;
  }
  if (length(text) > LIMITS.headerTextMax) {
    issues.add(`${path}.text`, 'header.too_long', `header text has ${length(text)} characters; Meta allows ${LIMITS.headerTextMax}`);
  }
  const fixed = fixedText(text);
  if (/[\r\n]/.test(fixed)) issues.add(`${path}.text`, 'header.newline', 'header text must be one line');
  if (/[*_~`]/.test(fixed)) issues.add(`${path}.text`, 'header.formatting', 'header text may not use formatting characters (* _ ~ `)');
  if (/\p{Extended_Pictographic}/u.test(fixed)) issues.add(`${path}.text`, 'header.emoji', 'header text may not contain emoji');
  const vars = checkPlaceholders(text, `${path}.text`, format, issues);
  if (vars.length > 1) issues.add(`${path}.text`, 'header.too_many_variables', `a text header supports one variable, found ${vars.length}`);
  if (vars.length === 0) {
    if (example !== undefined) issues.add(`${path}.example`, 'example.unexpected', 'the header has no variable, so it takes no example');
    return;
  }
  if (format === 'positional' && vars[0].raw !== '1') {
    issues.add(`${path}.text`, 'placeholder.numbering', `the header's variable must be {{1}}, not {{${vars[0].raw}}}`);
  }
  let exampleValue: string | undefined;
  if (format === 'positional') {
    const values = ex.header_text;
    if (!Array.isArray(values) || values.length !== 1 || !isNonEmptyString(values[0])) {
      issues.add(`${path}.example.header_text`, 'example.required', 'the header variable needs example.header_text: ["one example"]');
    } else exampleValue = values[0];
    if (ex.header_text_named_params !== undefined)
      issues.add(`${path}.example`, 'example.wrong_format', 'header_text_named_params is for named templates; use header_text');
  } else {
    const byName = checkNamedExamples(ex.header_text_named_params, [vars[0].raw], `${path}.example.header_text_named_params`, issues);
    exampleValue = byName?.get(vars[0].raw);
    if (ex.header_text !== undefined)
      issues.add(`${path}.example`, 'example.wrong_format', 'header_text is for positional templates; use header_text_named_params');
  }
  out.push({ component: 'header', name: vars[0].raw, type: 'text', required: true, example: exampleValue });
}

function checkBody(component: Obj, path: string, format: ParameterFormat, issues: Issues, out: TemplateParameter[]): void {
  const text = component.text;
  if (!isNonEmptyString(text)) {
    issues.add(`${path}.text`, 'body.text_required', 'the BODY needs text');
    return;
  }
  if (length(text) > LIMITS.bodyMax)
    issues.add(`${path}.text`, 'body.too_long', `body has ${length(text)} characters; Meta allows ${LIMITS.bodyMax}`);
  const vars = checkPlaceholders(text, `${path}.text`, format, issues);
  const example = component.example;
  if (example !== undefined && !isObj(example)) issues.add(`${path}.example`, 'example.invalid', 'example must be an object');
  if (vars.length === 0) {
    if (example !== undefined) issues.add(`${path}.example`, 'example.unexpected', 'the body has no variables, so it takes no example');
    return;
  }
  const { placeholders } = scanPlaceholders(text);
  const { leading, trailing } = leadingOrTrailing(text, placeholders);
  if (leading)
    issues.add(`${path}.text`, 'body.leading_variable', 'the body may not start with a variable (Meta error 2388299); put words before it');
  if (trailing) {
    issues.add(
      `${path}.text`,
      'body.trailing_variable',
      'the body may not end with a variable, even followed by punctuation (Meta error 2388299); put words after it',
    );
  }
  for (const [a, b] of adjacentPairs(text, placeholders)) {
    issues.add(
      `${path}.text`,
      'body.adjacent_variables',
      `${placeholderLabel(a)} and ${placeholderLabel(b)} are adjacent; put words between them`,
    );
  }
  // Meta rejects "too many variables for the message length" (2388293) without publishing the
  // formula; integrators converge on "at least 2 words of fixed text per variable, plus one".
  const words = countWords(text);
  const needed = 2 * vars.length + 1;
  if (words < needed) {
    issues.add(
      `${path}.text`,
      'body.too_many_variables',
      `${vars.length} variable(s) need at least ${needed} words of fixed text, found ${words} (Meta error 2388293)`,
    );
  }
  const names = variableNames(text);
  const ex = isObj(example) ? example : {};
  const examples = new Map<string, string>();
  if (format === 'positional') {
    const rows = ex.body_text;
    const row = Array.isArray(rows) && rows.length === 1 && Array.isArray(rows[0]) ? (rows[0] as unknown[]) : undefined;
    if (!row) {
      issues.add(
        `${path}.example.body_text`,
        'example.required',
        `the body's ${names.length} variable(s) need example.body_text: [[${names.map((n) => `"example ${n}"`).join(', ')}]]`,
      );
    } else {
      if (row.length !== names.length) {
        issues.add(
          `${path}.example.body_text`,
          'example.count',
          `example.body_text has ${row.length} value(s) for ${names.length} variable(s)`,
        );
      }
      row.forEach((v, k) => {
        if (!isNonEmptyString(v))
          issues.add(`${path}.example.body_text[0][${k}]`, 'example.empty', `the example for {{${k + 1}}} must be a non-empty string`);
        else examples.set(String(k + 1), v);
      });
    }
    if (ex.body_text_named_params !== undefined)
      issues.add(`${path}.example`, 'example.wrong_format', 'body_text_named_params is for named templates; use body_text');
  } else {
    const byName = checkNamedExamples(ex.body_text_named_params, names, `${path}.example.body_text_named_params`, issues);
    byName?.forEach((v, k) => examples.set(k, v));
    if (ex.body_text !== undefined)
      issues.add(`${path}.example`, 'example.wrong_format', 'body_text is for positional templates; use body_text_named_params');
  }
  for (const n of names) out.push({ component: 'body', name: n, type: 'text', required: true, example: examples.get(n) });
}

function checkFooter(component: Obj, path: string, issues: Issues): void {
  const text = component.text;
  if (!isNonEmptyString(text)) {
    issues.add(`${path}.text`, 'footer.text_required', 'the FOOTER needs text');
    return;
  }
  if (length(text) > LIMITS.footerMax)
    issues.add(`${path}.text`, 'footer.too_long', `footer has ${length(text)} characters; Meta allows ${LIMITS.footerMax}`);
  if (/\{\{|\}\}/.test(text)) issues.add(`${path}.text`, 'footer.variable', 'the footer may not contain variables');
  if (/[\r\n]/.test(text)) issues.add(`${path}.text`, 'footer.newline', 'footer text must be one line');
}

function checkLabel(button: Obj, path: string, issues: Issues): void {
  const text = button.text;
  if (!isNonEmptyString(text)) {
    issues.add(`${path}.text`, 'button.label_required', 'the button needs a label (text)');
    return;
  }
  if (length(text) > LIMITS.buttonLabelMax)
    issues.add(
      `${path}.text`,
      'button.label_too_long',
      `label "${text}" has ${length(text)} characters; Meta allows ${LIMITS.buttonLabelMax}`,
    );
  if (/\{\{|\}\}/.test(text)) issues.add(`${path}.text`, 'button.label_variable', 'button labels may not contain variables');
  if (/[\r\n]/.test(text)) issues.add(`${path}.text`, 'button.label_newline', 'button labels must be one line');
}

function checkUrlButton(button: Obj, path: string, index: number, issues: Issues, out: TemplateParameter[]): void {
  const url = button.url;
  if (!isNonEmptyString(url)) {
    issues.add(`${path}.url`, 'button.url_required', 'a URL button needs url');
    return;
  }
  if (length(url) > LIMITS.urlMax)
    issues.add(`${path}.url`, 'button.url_too_long', `url has ${length(url)} characters; Meta allows ${LIMITS.urlMax}`);
  const { placeholders, strayBraces } = scanPlaceholders(url);
  if (strayBraces) issues.add(`${path}.url`, 'placeholder.unbalanced', 'has "{{" or "}}" that is not the {{1}} variable');
  const withoutVar = url.replace(/\{\{[^{}]*\}\}/g, '');
  let parsed: URL | undefined;
  try {
    parsed = new URL(withoutVar);
  } catch {
    issues.add(`${path}.url`, 'button.url_invalid', `"${url}" is not a valid absolute URL`);
  }
  if (parsed && parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    issues.add(`${path}.url`, 'button.url_scheme', 'the URL must start with https:// (or http://)');
  }
  const example = button.example;
  if (placeholders.length === 0) {
    if (example !== undefined) issues.add(`${path}.example`, 'example.unexpected', 'a URL without a variable takes no example');
    return;
  }
  if (placeholders.length > 1) {
    issues.add(`${path}.url`, 'button.url_variables', `a URL may hold one variable, found ${placeholders.length}`);
    return;
  }
  const [p] = placeholders;
  if (p.raw !== '1') issues.add(`${path}.url`, 'button.url_variable_name', `the URL variable must be {{1}}, not ${placeholderLabel(p)}`);
  if (p.end !== url.length)
    issues.add(
      `${path}.url`,
      'button.url_variable_position',
      'the URL variable must be at the very end (it is the suffix sent with each message)',
    );
  // The variable may only extend the path or query, never the host.
  if (!/^https?:\/\/[^/?#{}]+[/?#=&]/.test(url.slice(0, p.start)) && p.start > 0) {
    issues.add(`${path}.url`, 'button.url_variable_host', 'the URL variable may not be part of the domain; put it after a "/" or "?"');
  }
  if (!Array.isArray(example) || example.length !== 1 || !isNonEmptyString(example[0])) {
    issues.add(`${path}.example`, 'example.required', 'a URL with {{1}} needs example: ["one example suffix or full URL"]');
  }
  out.push({
    component: 'button',
    name: '1',
    type: 'text',
    buttonIndex: index,
    required: true,
    example: Array.isArray(example) && typeof example[0] === 'string' ? example[0] : undefined,
  });
}

function checkButtons(component: Obj, path: string, category: string, issues: Issues, out: TemplateParameter[]): void {
  const buttons = component.buttons;
  if (!Array.isArray(buttons) || buttons.length === 0) {
    issues.add(`${path}.buttons`, 'buttons.required', 'a BUTTONS component needs at least one button');
    return;
  }
  if (buttons.length > LIMITS.buttonsMax)
    issues.add(`${path}.buttons`, 'buttons.too_many', `${buttons.length} buttons; Meta allows ${LIMITS.buttonsMax}`);
  const counts = { QUICK_REPLY: 0, URL: 0, PHONE_NUMBER: 0, COPY_CODE: 0 };
  const kinds: string[] = [];
  const labels = new Map<string, number>();
  buttons.forEach((button, index) => {
    const bpath = `${path}.buttons[${index}]`;
    if (!isObj(button)) {
      issues.add(bpath, 'button.invalid', 'each button must be an object');
      return;
    }
    const type = button.type;
    kinds.push(String(type));
    if (type === 'QUICK_REPLY' || type === 'URL' || type === 'PHONE_NUMBER') {
      checkLabel(button, bpath, issues);
      if (typeof button.text === 'string') {
        const prior = labels.get(button.text);
        if (prior !== undefined)
          issues.add(`${bpath}.text`, 'button.label_duplicate', `label "${button.text}" is also used by button ${prior}`);
        labels.set(button.text, index);
      }
    }
    switch (type) {
      case 'QUICK_REPLY':
        counts.QUICK_REPLY++;
        out.push({ component: 'button', name: 'payload', type: 'payload', buttonIndex: index, required: false });
        break;
      case 'URL':
        counts.URL++;
        checkUrlButton(button, bpath, index, issues, out);
        break;
      case 'PHONE_NUMBER': {
        counts.PHONE_NUMBER++;
        const phone = button.phone_number;
        if (typeof phone !== 'string' || !/^\+?[1-9]\d{6,19}$/.test(phone) || length(phone) > LIMITS.phoneNumberMax) {
          issues.add(
            `${bpath}.phone_number`,
            'button.phone_invalid',
            'phone_number must be an international number with country code, digits only (e.g. "+97145550100")',
          );
        }
        break;
      }
      case 'COPY_CODE': {
        counts.COPY_CODE++;
        if (category !== 'MARKETING')
          issues.add(bpath, 'button.copy_code_category', 'COPY_CODE buttons are allowed in MARKETING templates only');
        const example = button.example;
        if (!isNonEmptyString(example) || length(example) > LIMITS.copyCodeExampleMax) {
          issues.add(
            `${bpath}.example`,
            'example.required',
            `a COPY_CODE button needs example: a code of 1..${LIMITS.copyCodeExampleMax} characters`,
          );
        }
        out.push({
          component: 'button',
          name: 'coupon_code',
          type: 'coupon_code',
          buttonIndex: index,
          required: true,
          example: isNonEmptyString(example) ? example : undefined,
        });
        break;
      }
      default:
        issues.add(
          `${bpath}.type`,
          'button.unsupported_type',
          `button type must be QUICK_REPLY, URL, PHONE_NUMBER or COPY_CODE, not ${JSON.stringify(type)}`,
        );
    }
  });
  const limits: [keyof typeof counts, number][] = [
    ['QUICK_REPLY', LIMITS.quickRepliesMax],
    ['URL', LIMITS.urlButtonsMax],
    ['PHONE_NUMBER', LIMITS.phoneButtonsMax],
    ['COPY_CODE', LIMITS.copyCodeButtonsMax],
  ];
  for (const [kind, max] of limits) {
    if (counts[kind] > max) issues.add(`${path}.buttons`, 'buttons.kind_limit', `${counts[kind]} ${kind} buttons; Meta allows ${max}`);
  }
  // Quick replies form one block, before or after the other buttons, never interleaved.
  const qr = kinds.map((k) => k === 'QUICK_REPLY');
  const switches = qr.slice(1).filter((v, k) => v !== qr[k]).length;
  if (counts.QUICK_REPLY > 0 && switches > 1) {
    issues.add(
      `${path}.buttons`,
      'buttons.grouping',
      `quick replies must be grouped together, not interleaved with other buttons (order: ${kinds.join(', ')})`,
    );
  }
}

/**
 * The parameters of a definition without checking it (the definition should be valid). Used for
 * templates imported from Meta, which Meta already accepted.
 */
export function extractParameters(definition: TemplateDefinition): TemplateParameter[] {
  const result = validateTemplateDefinition(definition);
  if (result.ok) return result.parameters;
  const format: ParameterFormat = definition.parameterFormat === 'named' ? 'named' : 'positional';
  const out: TemplateParameter[] = [];
  const silent = new Issues();
  for (const component of definition.components ?? []) {
    const c = component as unknown as Obj;
    if (c.type === 'HEADER') checkHeader(c, '', format, silent, out);
    else if (c.type === 'BODY') {
      for (const n of variableNames(String(c.text ?? ''))) out.push({ component: 'body', name: n, type: 'text', required: true });
    } else if (c.type === 'BUTTONS') checkButtons(c, '', String(definition.category), silent, out);
  }
  return orderParameters(out);
}

/** A parameter list as one comparable string per parameter (component, name, kind, button). */
function signature(parameters: TemplateParameter[]): string[] {
  return parameters.map((p) => `${p.component}${p.buttonIndex !== undefined ? `[${p.buttonIndex}]` : ''}:${p.type}:${p.name}`).sort();
}

function describeSignature(s: string): string {
  const [where, type, name] = s.split(':');
  if (type === 'text' && where.startsWith('button')) return `${where} URL suffix`;
  if (type === 'text') return `${where} {{${name}}}`;
  return `${where} ${type}`;
}

/**
 * Every translation of one template must take the same parameters, so one send request renders
 * in any language. Returns one issue per translation that differs from the first one given.
 */
export function checkTranslationsConsistent(
  translations: { language: string; parameterFormat?: ParameterFormat; parameters: TemplateParameter[]; category?: string }[],
): TemplateIssue[] {
  const issues: TemplateIssue[] = [];
  if (translations.length < 2) return issues;
  const [reference, ...others] = translations;
  const refSig = signature(reference.parameters);
  for (const t of others) {
    const path = `translations.${t.language}`;
    if ((t.parameterFormat ?? 'positional') !== (reference.parameterFormat ?? 'positional')) {
      issues.push({
        path,
        code: 'translations.parameter_format',
        message: `${t.language} uses ${t.parameterFormat ?? 'positional'} parameters but ${reference.language} uses ${reference.parameterFormat ?? 'positional'}`,
      });
      continue;
    }
    if (reference.category && t.category && reference.category !== t.category) {
      issues.push({
        path,
        code: 'translations.category',
        message: `${t.language} is ${t.category} but ${reference.language} is ${reference.category}`,
      });
    }
    const sig = signature(t.parameters);
    const missing = refSig.filter((s) => !sig.includes(s));
    const extra = sig.filter((s) => !refSig.includes(s));
    if (missing.length || extra.length) {
      const parts = [
        missing.length ? `lacks ${missing.map(describeSignature).join(', ')}` : '',
        extra.length ? `adds ${extra.map(describeSignature).join(', ')}` : '',
      ].filter(Boolean);
      issues.push({
        path,
        code: 'translations.parameters',
        message: `${t.language} must take the same parameters as ${reference.language}: it ${parts.join(' and ')}`,
      });
    }
  }
  return issues;
}
