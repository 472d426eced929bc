// The Cloud API simulator as a library, for tests and benchmarks that run it in-process.
export type { SandboxContext } from './sandbox-context';
export { buildSandbox } from './server';
export { metaJson, signBody, WebhookSender, type DeliveryOptions, type DeliveryResult } from './webhook-sender';
export { maxInWindow, outboundSimulatorOf } from './messages/messages.routes';
export type { OutboundSimulator, SentMessage } from './messages/outbound-simulator';
export { sandboxWindows, type ServiceWindows } from './messages/service-window';
export {
  sandboxTemplates,
  SandboxTemplateStore,
  type ReviewRule,
  type SandboxTemplate,
  type SendCheck,
} from './templates/templates.routes';
export { localAgencyUrl } from './agency/agency.routes';
