import { Body, Controller, Delete, Get, HttpStatus, Put, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Min } from 'class-validator';
import { CurrentPrincipal, Roles, type Principal } from '@wa/auth';
import { DomainError } from '@wa/service-kit';
import { TenantRegistry } from '@wa/tenancy';
import { policyDocument, SchedulerPolicyDocument } from './policy.model';
import { PolicyService } from './policy.service';

export class PolicyWriteQuery {
  /** Optimistic concurrency: refuse (409) if the stored policy is no longer this version (0: none stored). */
  @ApiPropertyOptional() @IsOptional() @Type(() => Number) @IsInt() @Min(0) expectedVersion?: number;
}

/**
 * A tenant's scheduling policy: reminder offsets and template per notice type, send time, quiet
 * hours and the per-citizen daily limit. Reading needs supervisor (or admin); changing needs admin.
 * Changes apply to events planned from then on (and to every send decision at once).
 */
@ApiTags('policy')
@Controller('v1/scheduler/policy')
export class PolicyController {
  constructor(
    private readonly policies: PolicyService,
    private readonly registry: TenantRegistry,
  ) {}

  private tenantOf(who: Principal): string {
    if (!this.registry.tenant(who.tenant))
      throw new DomainError('unknown_tenant', `Tenant ${who.tenant} is not configured`, HttpStatus.NOT_FOUND);
    return who.tenant;
  }

  @Get()
  @Roles('supervisor')
  @ApiOperation({ summary: 'The effective policy of the caller’s tenant, and where it comes from' })
  @ApiOkResponse({ type: SchedulerPolicyDocument })
  async get(@CurrentPrincipal() who: Principal): Promise<SchedulerPolicyDocument> {
    return policyDocument((await this.policies.effective(this.tenantOf(who)))!);
  }

  @Put()
  @Roles('admin')
  @ApiOperation({
    summary: 'Replace the tenant’s policy (omitted fields take the defaults); takes what GET returns, edited',
  })
  @ApiOkResponse({ type: SchedulerPolicyDocument })
  async put(
    @CurrentPrincipal() who: Principal,
    @Body() body: SchedulerPolicyDocument,
    @Query() query: PolicyWriteQuery,
  ): Promise<SchedulerPolicyDocument> {
    return policyDocument(await this.policies.put(this.tenantOf(who), body, who.sub, query.expectedVersion));
  }

  @Delete()
  @Roles('admin')
  @ApiOperation({ summary: 'Drop the edited policy: back to the configured one' })
  @ApiOkResponse({ type: SchedulerPolicyDocument })
  async reset(@CurrentPrincipal() who: Principal): Promise<SchedulerPolicyDocument> {
    return policyDocument(await this.policies.reset(this.tenantOf(who)));
  }
}
