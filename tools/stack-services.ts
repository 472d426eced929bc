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

export const STACK_SERVICES: StackService[] = [
  { name: 'webhook-ingress', schema: 'ingress', port: 3001 },
  { name: 'outbound-gateway', schema: 'gateway', port: 3002 },
  { name: 'template-registry', schema: 'templates', port: 3003 },
  { name: 'notification-scheduler', schema: 'scheduler', port: 3004 },
  { name: 'chatbot', schema: 'chatbot', port: 3005 },
  { name: 'handoff-router', schema: 'handoff', port: 3006 },
];

export const mainOf = (s: StackService) => `services/${s.name}/src/main.ts`;
export const migrateOf = (s: StackService) => `services/${s.name}/src/migrate.ts`;

/**
 * Deployments (Kubernetes only) that run a service's consumers apart from its HTTP replicas, from
 * the same image and main.js. The service's own Deployment turns its consumers off with
 * `receiverEnv`; the worker joins the service's consumer group. The local stack runs both roles in
 * one process.
 */
export interface ServiceWorker {
  name: string;
  /** The service whose consumers it runs (its image, main.js, port, database and consumer group). */
  service: string;
  /** Set on the service's own Deployment so that only the workers consume. */
  receiverEnv: { name: string; value: string };
}

export const SERVICE_WORKERS: ServiceWorker[] = [
  { name: 'webhook-ingress-normalizer', service: 'webhook-ingress', receiverEnv: { name: 'INGRESS_CONSUMERS', value: 'false' } },
];
