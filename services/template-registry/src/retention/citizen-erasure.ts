import type { CitizenEraser } from '@wa/service-kit';

/**
 * The registry holds templates, their history and Meta's template events: nothing about a
 * citizen (docs/privacy.md). It still answers every erasure request, so a request's result lists
 * every service.
 */
export const eraseTemplatesCitizen: CitizenEraser = async () => {};
