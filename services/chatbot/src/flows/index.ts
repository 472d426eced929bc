/*
 * The chatbot's flow engine: parse and validate flows, run turns, translate texts. Pure: the
 * service gives it an `EngineContext` for integrations, case references and media downloads.
 */
export * from './flow.types';
export { flowSchema } from './flow.schema';
export { parseFlow, checkFlow, loadFlow, MAX_FLOW_BYTES, type ParseResult } from './parse';
export { validateFlow, formatProblems } from './validate';
export { runTurn, flowLanguage, LANGUAGE_MENU } from './engine';
export { consentKeyword, builtin, languageName, BUILTIN_LANGUAGES, type BuiltinKey } from './builtins';
export { guessLanguage } from './language';
export { exportStrings, exportStringsYaml, importStrings, parseStringsYaml, collectTexts, type ImportResult } from './strings';
export { FaqIndex } from './faq';
