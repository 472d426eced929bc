import type { TokenSource } from './service-tokens';

export type MediaFetch = { ok: true; ref: string; mimeType?: string; sha256?: string } | { ok: false; error: string };

/**
 * The webhook ingress's media API (`POST /v1/media/:mediaId`): it downloads a citizen's media from
 * Meta with the tenant's token, stores it and answers a durable reference (`media:<tenant>/<id>`).
 * Called at once while the citizen's answer is handled, because Meta's media ids expire. Never
 * throws: the flow decides what a failure means (the engine re-asks).
 */
export class MediaClient {
  constructor(
    private readonly baseUrl: string,
    private readonly tokens: TokenSource | undefined,
    private readonly timeoutMs: number,
  ) {}

  async fetch(tenantId: string, mediaId: string, options: { phoneNumberId?: string; filename?: string } = {}): Promise<MediaFetch> {
    if (!this.tokens) return { ok: false, error: 'no service token for the media API (CHATBOT_MEDIA_TOKEN_REF)' };
    const url = new URL(`/v1/media/${encodeURIComponent(mediaId)}`, this.baseUrl);
    if (options.phoneNumberId) url.searchParams.set('phoneNumberId', options.phoneNumberId);
    if (options.filename && /^[^/\\\u0000]{1,255}$/.test(options.filename)) url.searchParams.set('filename', options.filename);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${await this.tokens.token(tenantId)}` },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
      if (!response.ok) return { ok: false, error: `media API answered ${response.status}${body?.code ? ` (${String(body.code)})` : ''}` };
      if (typeof body?.reference !== 'string') return { ok: false, error: 'media API answered without a reference' };
      return {
        ok: true,
        ref: body.reference,
        mimeType: typeof body.mimeType === 'string' ? body.mimeType : undefined,
        sha256: typeof body.sha256 === 'string' ? body.sha256 : undefined,
      };
    } catch (error) {
      return { ok: false, error: `media API unreachable: ${(error as Error).message}` };
    }
  }
}
