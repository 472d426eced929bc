import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { withAuthEnv } from '@wa/auth';
import { BaseEnv, InvalidEnvironmentError } from '@wa/config';

/** Tenant file used when none is given outside production: the two sandbox agencies. */
export const SANDBOX_TENANTS_FILE = 'config/tenants.sandbox.yaml';
/** Sample flows, one directory per tenant; loaded for `mode: sandbox` tenants outside production. */
export const SANDBOX_FLOWS_DIR = 'services/chatbot/flows';
/** Sample integrations (the sandbox's agency endpoints), used when CHATBOT_INTEGRATIONS_FILE is not set. */
export const SANDBOX_INTEGRATIONS_FILE = 'config/integrations.sandbox.yaml';

const bool = ({ value }: { value: unknown }) =>
  value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;

/**
 * The chatbot's knobs. AUTH_* come from @wa/auth (the admin API's tokens, and in sandbox mode the
 * key the chatbot signs its own media API tokens with).
 */
export class ChatbotEnv extends withAuthEnv(BaseEnv) {
  /**
   * The webhook ingress's base URL, for its media API (`POST /v1/media/:id`): citizens' photos and
   * documents are fetched through it at once, because Meta's media ids expire.
   */
  @Matches(/^https?:\/\/[^\s/]+(:\d+)?(\/[^\s]*)?$/, { message: 'MEDIA_API_URL must be an http(s) base URL' })
  MEDIA_API_URL = 'http://127.0.0.1:3001';

  /**
   * Bearer token for the media API when AUTH_MODE=oidc, as a secret reference (`env:NAME` or
   * `file:/path`, read on every call so a rotated token is picked up). A token names one tenant,
   * so `{TENANT}` in the reference is replaced by the tenant id in upper snake case
   * (`env:CHATBOT_MEDIA_TOKEN_{TENANT}` → `CHATBOT_MEDIA_TOKEN_ROADS_AGENCY`). In sandbox mode the
   * chatbot signs short-lived tokens with the sandbox key instead.
   */
  @IsOptional()
  @Matches(/^(env:[A-Z][A-Z0-9_{}]*|file:\/.+)$/, { message: 'CHATBOT_MEDIA_TOKEN_REF must be env:NAME or file:/path' })
  CHATBOT_MEDIA_TOKEN_REF?: string;

  /** One media download (the ingress fetches from Meta and stores it). */
  @Type(() => Number) @IsInt() @Min(500) @Max(60000) CHATBOT_MEDIA_TIMEOUT_MS = 10000;

  /** YAML of the tenants' named HTTP integrations (`call` nodes). */
  @IsOptional() @IsString() CHATBOT_INTEGRATIONS_FILE?: string;

  /** Directory of flow files (`<dir>/<tenant>/*.yaml`) published at start for `mode: sandbox` tenants. */
  @IsOptional() @IsString() CHATBOT_FLOWS_DIR?: string;

  /** Off: no flow files are loaded at start, whatever the tenants' mode. */
  @Transform(bool)
  @IsBoolean({ message: 'CHATBOT_SANDBOX_FLOWS must be true or false' })
  CHATBOT_SANDBOX_FLOWS = true;

  /** How often the sweeper looks for timed-out questions and idle sessions. */
  @Type(() => Number) @IsInt() @Min(100) @Max(600000) CHATBOT_SWEEP_INTERVAL_MS = 5000;

  /** Off: no sweeping in this replica (tests drive it by hand). */
  @Transform(bool)
  @IsBoolean({ message: 'CHATBOT_SWEEP_ENABLED must be true or false' })
  CHATBOT_SWEEP_ENABLED = true;

  /** Sessions idle longer than this end when the flow names no `expire_after` (under the 24 h window). */
  @Matches(/^\d+[smhd]$/, { message: 'CHATBOT_DEFAULT_EXPIRE_AFTER must look like 30m, 12h or 1d' })
  CHATBOT_DEFAULT_EXPIRE_AFTER = '23h';
}

export function tenantsFileOf(env: ChatbotEnv): string {
  if (env.TENANTS_FILE) return env.TENANTS_FILE;
  if (env.NODE_ENV === 'production') {
    throw new InvalidEnvironmentError(['TENANTS_FILE (missing): the tenants YAML is required in production']);
  }
  return SANDBOX_TENANTS_FILE;
}
