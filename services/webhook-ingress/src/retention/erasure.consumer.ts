import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Topics } from '@wa/contracts';
import { ConsumerHost, Outbox } from '@wa/kafka';
import { applyCitizenErasure, InjectEnv } from '@wa/service-kit';
import type { IngressEnv } from '../config/env';
import { ingressService } from '../service';
import { eraseIngressCitizen } from './citizen-erasure';

/**
 * Erases a citizen from the ingress's schema on `citizen.erasure.v1` and answers on
 * `citizen.erasure.result.v1`. Normalizer replicas only (receivers have no database at start), so
 * it registers with the consumer host as the raw topic's processor does, not with @EventPattern.
 */
@Injectable()
export class CitizenErasureConsumer {
  constructor(host: ConsumerHost, dataSource: DataSource, outbox: Outbox, @InjectEnv() env: IngressEnv) {
    if (env.INGRESS_CONSUMERS) {
      host.register(Topics.citizenErasure, async (envelope) => {
        await applyCitizenErasure(dataSource, outbox, ingressService, envelope, eraseIngressCitizen);
      });
    }
  }
}
