import { Injectable } from '@nestjs/common';
import { Topics } from '@wa/contracts';
import { ConsumerHost } from '@wa/kafka';
import { counter, maskPhonesInText } from '@wa/observability';
import { TenantRegistry } from '@wa/tenancy';
import { Logger } from '@nestjs/common';
import { tenantLabel } from '../common/tenants';

const rejected = counter(
  'scheduler_agency_events_rejected_total',
  'Agency events dead-lettered (invalid, unknown type, unknown tenant ...), per agency',
  ['tenant', 'type', 'reason'],
);

/**
 * Counts the agency events this service dead-letters, per agency, type and reason. Invalid
 * records never reach a handler (the consumer host validates and dead-letters them first), so
 * this listens on the host's dead-letter hook instead: it sees every DLQ write of this group as it
 * happens, with the record's own ce_tenant/ce_type headers, and needs no second consumer of the
 * DLQ topic. Labels take only configured tenants and registered types ('unknown' otherwise), so a
 * broken producer cannot blow up the metric's cardinality.
 */
@Injectable()
export class RejectedEventsCounter {
  private readonly log = new Logger('AgencyEvents');

  constructor(host: ConsumerHost, registry: TenantRegistry) {
    host.onDeadLetter((event) => {
      if (event.topic !== Topics.agencyEvent.name) return;
      const type = event.headers.ce_type && Topics.agencyEvent.types[event.headers.ce_type] ? event.headers.ce_type : 'unknown';
      const tenant = tenantLabel(registry, event.headers.ce_tenant);
      rejected.inc({ tenant, type, reason: event.reason });
      this.log.warn(
        { tenant, type, reason: event.reason, eventId: event.headers.ce_id, err: maskPhonesInText(event.error) },
        'agency event rejected',
      );
    });
  }
}
