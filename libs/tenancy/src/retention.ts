import { IsInt, IsOptional, Max, Min } from 'class-validator';

/**
 * How long a tenant's citizen data is kept, in days, per kind. Every field is optional in the
 * tenants file; an absent one takes the platform default below (docs/privacy.md lists them).
 */
export class RetentionConfig {
  /** The gateway's outbound messages and their delivery statuses. */
  @IsOptional() @IsInt() @Min(1) @Max(3650) messagesDays?: number;
  /** Citizens' files: media the ingress fetched from Meta and the agency's uploads in the gateway. */
  @IsOptional() @IsInt() @Min(1) @Max(3650) mediaDays?: number;
  /** Conversation transcripts: the chatbot's sessions (the handoff router keeps its own per-tenant setting). */
  @IsOptional() @IsInt() @Min(1) @Max(3650) transcriptsDays?: number;
  /** The scheduler's notices and the subjects they were about, counted from their last change. */
  @IsOptional() @IsInt() @Min(1) @Max(3650) noticesDays?: number;
}

export type Retention = Required<RetentionConfig>;

/** Platform defaults, used for every field a tenant leaves out. */
export const DEFAULT_RETENTION: Readonly<Retention> = Object.freeze({
  messagesDays: 180,
  mediaDays: 30,
  transcriptsDays: 90,
  noticesDays: 365,
});

/** A tenant's effective retention: its own values over the platform defaults. */
export function retentionOf(tenant: { retention?: RetentionConfig } | undefined): Retention {
  const own = tenant?.retention ?? {};
  return {
    messagesDays: own.messagesDays ?? DEFAULT_RETENTION.messagesDays,
    mediaDays: own.mediaDays ?? DEFAULT_RETENTION.mediaDays,
    transcriptsDays: own.transcriptsDays ?? DEFAULT_RETENTION.transcriptsDays,
    noticesDays: own.noticesDays ?? DEFAULT_RETENTION.noticesDays,
  };
}
