import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TemplateComponent } from '@wa/templates';

/** One starter template file: services/template-registry/starter/<name>.json. */
export interface StarterTemplate {
  name: string;
  category: string;
  parameterFormat: 'named' | 'positional';
  description?: string;
  translations: Record<string, { components: TemplateComponent[] }>;
}

/**
 * Where the starter files are: next to the sources (`node -r ts-register`), or under the working
 * directory (compiled `dist/` runs from the repository or image root).
 */
export function starterDirectory(): string | undefined {
  const candidates = [resolve(__dirname, '..', '..', 'starter'), resolve(process.cwd(), 'services', 'template-registry', 'starter')];
  return candidates.find((dir) => existsSync(dir));
}

export function readStarterCatalog(dir = starterDirectory()): StarterTemplate[] {
  if (!dir) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const parsed = JSON.parse(readFileSync(join(dir, f), 'utf8')) as StarterTemplate;
      if (!parsed.name || !parsed.translations) throw new Error(`starter file ${f} has no name or translations`);
      return parsed;
    });
}
