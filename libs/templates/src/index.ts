/**
 * `@wa/templates` — the one place that knows WhatsApp's template rules. Pure functions, no I/O:
 * the template registry validates with them before submitting to Meta, and the outbound gateway
 * and the scheduler render with them before every send, so an author and a sender can never
 * disagree about what a template takes.
 *
 * ## Public API (stable; add, do not change)
 *
 * - {@link validateTemplateDefinition}`(definition)` → `{ ok: true, parameters }` or
 *   `{ ok: false, errors, issues }`. `definition` is one translation in Meta's create-payload shape
 *   (`{ name, language, category, parameterFormat?, components: [HEADER?, BODY, FOOTER?, BUTTONS?] }`).
 *   `errors` are `"path: message"` strings; `issues` carry the same with a stable `code`
 *   (`body.trailing_variable`, `buttons.grouping`, …) for UIs and tests.
 * - {@link checkTranslationsConsistent}`(translations)` → issues when translations of one name take
 *   different parameters (every language must render from the same send request).
 * - {@link renderTemplate}`(entry, { parameters, headerMedia, headerLocation, buttonParameters }, options?)`
 *   → `{ ok: true, components, template }` or `{ ok: false, errors, issues }`.
 *   `entry` is a `TemplateCatalogEntryV1` from `templates.catalog.v1` (or anything with
 *   `name, language, status, parameterFormat, components`). Only `status: 'APPROVED'` renders
 *   unless `options.allowUnapproved` (previews). `components` is exactly the Cloud API
 *   `/messages` `template.components` array; `template` is the whole `template` object
 *   (`{ name, language: { code }, components? }`).
 *   Value keys: body variables by name (`first_name`) or position (`'1'`); header text variable as
 *   `header.<name>` (`header.1`; named templates also accept the plain name); buttons by index in
 *   `buttonParameters` (`'1'` → URL suffix, quick-reply payload or copy code). Unknown keys are an
 *   error unless `options.ignoreUnknownParameters`.
 * - {@link previewTemplate}`(definitionOrEntry, values?)` → the text a citizen would read, filled
 *   from values, else from the template's examples.
 * - {@link extractParameters}`(definition)` → the parameter list without the rule checks (imports).
 * - {@link languageProblem}, {@link normalizeLanguageCode}, {@link META_TEMPLATE_LANGUAGES}: Meta's exact
 *   language codes (`ll` / `ll_CC`).
 * - {@link LIMITS}: Meta's length and count limits.
 *
 * @example Gateway side
 * ```ts
 * const entry = catalog.get(`${tenantId}:${ref.name}:${ref.language}`); // from templates.catalog.v1
 * const rendered = renderTemplate(entry, ref); // ref: TemplateRef of the outbound request
 * if (!rendered.ok) return fail('template-params', rendered.errors.join('; '));
 * await cloudApi.send({ type: 'template', template: rendered.template, ... });
 * ```
 */
export {
  validateTemplateDefinition,
  checkTranslationsConsistent,
  extractParameters,
  formatIssues,
  LIMITS,
  TEMPLATE_NAME,
} from './validate';
export { renderTemplate, previewTemplate } from './render';
export { languageProblem, normalizeLanguageCode, META_TEMPLATE_LANGUAGES, LANGUAGE_CODE_FORMAT } from './languages';
export { variableNames, scanPlaceholders } from './placeholders';
export * from './types';
