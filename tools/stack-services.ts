/**
 * Every platform service as the local stack runs it. Plain data on purpose: tools start services
 * and run their migrate commands as separate processes, exactly as Kubernetes does, and never
 * import a service's code.
 */
export interface StackService {
  name: string;
  schema: string;
  port: number;
}

export const STACK_SERVICES: StackService[] = [{ name: 'webhook-ingress', schema: 'ingress', port: 3001 }];

export const mainOf = (s: StackService) => `services/${s.name}/src/main.ts`;
export const migrateOf = (s: StackService) => `services/${s.name}/src/migrate.ts`;
