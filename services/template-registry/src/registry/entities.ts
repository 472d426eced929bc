import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { TemplateComponent, TemplateParameter } from '@wa/templates';

export type SubmissionState = 'none' | 'queued' | 'submitted' | 'failed';
export type TranslationSource = 'api' | 'import' | 'starter';

/**
 * One translation of a template: Meta reviews, approves, pauses and re-categorises each language
 * on its own. `components` is the latest version; `live_*` is the version Meta has (what the
 * catalog publishes), so an edit waiting to be submitted never changes what senders render.
 */
@Entity({ name: 'translation' })
export class Translation {
  @PrimaryColumn('uuid') id!: string;
  @Column({ name: 'tenant_id', type: 'text' }) tenantId!: string;
  @Column({ name: 'waba_id', type: 'text' }) wabaId!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text' }) language!: string;
  @Column({ type: 'text' }) category!: string;
  @Column({ name: 'parameter_format', type: 'text' }) parameterFormat!: 'named' | 'positional';
  @Column({ type: 'int' }) version!: number;
  @Column({ type: 'jsonb' }) components!: TemplateComponent[];
  @Column({ type: 'jsonb' }) parameters!: TemplateParameter[];
  @Column({ name: 'live_version', type: 'int', nullable: true }) liveVersion!: number | null;
  @Column({ name: 'live_components', type: 'jsonb', nullable: true }) liveComponents!: TemplateComponent[] | null;
  @Column({ name: 'live_parameters', type: 'jsonb', nullable: true }) liveParameters!: TemplateParameter[] | null;
  @Column({ type: 'text' }) status!: string;
  @Column({ name: 'status_changed_at', type: 'timestamptz' }) statusChangedAt!: Date;
  /** Meta's time of the last status event applied: an older event arriving late changes nothing. */
  @Column({ name: 'meta_event_at', type: 'timestamptz', nullable: true }) metaEventAt!: Date | null;
  @Column({ type: 'text', nullable: true }) reason!: string | null;
  @Column({ name: 'reason_detail', type: 'text', nullable: true }) reasonDetail!: string | null;
  @Column({ name: 'quality_score', type: 'text', nullable: true }) qualityScore!: string | null;
  @Column({ name: 'meta_template_id', type: 'text', nullable: true }) metaTemplateId!: string | null;
  @Column({ name: 'submission_state', type: 'text' }) submissionState!: SubmissionState;
  @Column({ name: 'submit_attempts', type: 'int' }) submitAttempts!: number;
  @Column({ name: 'next_submit_at', type: 'timestamptz', nullable: true }) nextSubmitAt!: Date | null;
  @Column({ name: 'last_submit_error', type: 'text', nullable: true }) lastSubmitError!: string | null;
  @Column({ type: 'text' }) source!: TranslationSource;
  @Column({ name: 'created_by', type: 'text' }) createdBy!: string;
  @Column({ name: 'updated_by', type: 'text' }) updatedBy!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

@Entity({ name: 'translation_version' })
export class TranslationVersion {
  @PrimaryColumn({ name: 'translation_id', type: 'uuid' }) translationId!: string;
  @PrimaryColumn({ type: 'int' }) version!: number;
  @Column({ name: 'tenant_id', type: 'text' }) tenantId!: string;
  @Column({ type: 'text' }) category!: string;
  @Column({ name: 'parameter_format', type: 'text' }) parameterFormat!: string;
  @Column({ type: 'jsonb' }) components!: TemplateComponent[];
  @Column({ name: 'created_by', type: 'text' }) createdBy!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

export type HistoryKind =
  | 'created'
  | 'edited'
  | 'submitted'
  | 'submit_failed'
  | 'status'
  | 'quality'
  | 'category'
  | 'components'
  | 'imported'
  | 'deleted'
  | 'ignored_event';

/** Everything that happened to a translation, newest last; kept after the translation is deleted. */
@Entity({ name: 'translation_history' })
export class TranslationHistory {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id!: string;
  @Column({ name: 'translation_id', type: 'uuid', nullable: true }) translationId!: string | null;
  @Column({ name: 'tenant_id', type: 'text' }) tenantId!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text' }) language!: string;
  @Column({ type: 'text' }) kind!: HistoryKind;
  @Column({ name: 'from_value', type: 'text', nullable: true }) fromValue!: string | null;
  @Column({ name: 'to_value', type: 'text', nullable: true }) toValue!: string | null;
  @Column({ type: 'text', nullable: true }) reason!: string | null;
  @Column({ type: 'jsonb', nullable: true }) detail!: Record<string, unknown> | null;
  /** `user:<sub>`, `meta`, `starter`, `import`, `submitter`. */
  @Column({ type: 'text' }) actor!: string;
  @Column({ name: 'event_id', type: 'text', nullable: true }) eventId!: string | null;
  @Column({ name: 'occurred_at', type: 'timestamptz' }) occurredAt!: Date;
  @CreateDateColumn({ name: 'recorded_at', type: 'timestamptz' }) recordedAt!: Date;
}

@Entity({ name: 'management_call' })
export class ManagementCall {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id!: string;
  @Column({ name: 'waba_id', type: 'text' }) wabaId!: string;
  @Column({ type: 'text' }) kind!: string;
  @Column({ name: 'called_at', type: 'timestamptz' }) calledAt!: Date;
}
