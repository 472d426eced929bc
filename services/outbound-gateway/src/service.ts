import type { ServiceDescriptor } from '@wa/service-kit';
import { GatewayEnv } from './config/env';
import { Init1764115200000 } from './migrations/1764115200000-init';
import { OutboundMessages1764201600000 } from './migrations/1764201600000-outbound-messages';
import { ClaimedState1764288000000 } from './migrations/1764288000000-claimed-state';
import { DerivedDeliveryStatus1764374400000 } from './migrations/1764374400000-derived-delivery-status';
import { CitizenKey1764547200000 } from './migrations/1764547200000-citizen-key';
import { OutboxParking1765000000000 } from './migrations/1765000000000-outbox-parking';
import { Retention1765400000000 } from './migrations/1765400000000-retention';
import { ContactWindow } from './contact-window/contact-window.entity';

export const outboundGatewayService: ServiceDescriptor<GatewayEnv> = {
  name: 'outbound-gateway',
  schema: 'gateway',
  consumerGroup: 'outbound-gateway',
  envClass: GatewayEnv,
  entities: [ContactWindow],
  migrations: [
    Init1764115200000,
    OutboundMessages1764201600000,
    ClaimedState1764288000000,
    DerivedDeliveryStatus1764374400000,
    CitizenKey1764547200000,
    OutboxParking1765000000000,
    Retention1765400000000,
  ],
  description: 'The only service that calls the Cloud API /messages: rate limits, window, consent, exactly-once sends.',
};
