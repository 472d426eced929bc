import { renderTemplate } from '@wa/templates';
import type { TemplateCatalogEntryV1, TemplateRef } from '@wa/contracts';

export type RenderOutcome = { ok: true; template: Record<string, unknown> } | { ok: false; errors: string[] };

/**
 * The one place the gateway renders templates: `@wa/templates` owns the rules (the registry
 * validates with the same code), so an approved template and a send can never disagree.
 */
export function renderForSend(entry: TemplateCatalogEntryV1, ref: TemplateRef): RenderOutcome {
  const result = renderTemplate(entry, {
    parameters: ref.parameters,
    headerMedia: ref.headerMedia,
    headerLocation: ref.headerLocation,
    buttonParameters: ref.buttonParameters,
  });
  if (!result.ok) return { ok: false, errors: result.errors };
  return { ok: true, template: result.template as unknown as Record<string, unknown> };
}
