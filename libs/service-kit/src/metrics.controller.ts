import { Controller, Get, Header, SetMetadata } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { metricsRegistry } from '@wa/observability';
import { PUBLIC_ROUTE } from './tokens';

@ApiExcludeController()
// Scraped inside the cluster; the NetworkPolicies and the Ingress keep it private.
@SetMetadata(PUBLIC_ROUTE, 'metrics scrape (private to the cluster)')
@Controller('metrics')
export class MetricsController {
  @Get()
  @Header('content-type', 'text/plain; version=0.0.4')
  metrics(): Promise<string> {
    return metricsRegistry.metrics();
  }
}
