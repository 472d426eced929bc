import { HttpStatus } from '@nestjs/common';
import { DomainError } from '@wa/service-kit';

export interface ResolvedMedia {
  url: string;
  mimeType?: string;
  sha256?: string;
  fileSize?: number;
}

export interface DownloadedMedia {
  /** The bytes as they arrive, refused past the size limit; read it once. */
  body: AsyncIterable<Uint8Array>;
  contentType?: string;
  /** Stops the download when the body will not be read (or not to the end). */
  cancel(): Promise<void>;
}

const REQUEST_TIMEOUT_MS = 15_000;

/**
 * The two Graph API calls behind an inbound media id: resolve it to a short-lived URL, then
 * download that URL, both with the tenant's token (the download fails without it). The download
 * is handed over as a stream: the caller stores it as it arrives.
 */
export class GraphMediaClient {
  constructor(
    private readonly baseUrl: string,
    private readonly maxBytes: number,
  ) {}

  async resolve(version: string, mediaId: string, token: string, phoneNumberId?: string): Promise<ResolvedMedia> {
    const url = new URL(`${this.baseUrl.replace(/\/+$/, '')}/${version}/${encodeURIComponent(mediaId)}`);
    if (phoneNumberId) url.searchParams.set('phone_number_id', phoneNumberId);
    const response = await this.call(url.toString(), token);
    const text = await response.text();
    if (!response.ok) throw this.graphError(response.status, text);
    let body: { url?: unknown; mime_type?: unknown; sha256?: unknown; file_size?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new DomainError('graph_bad_response', 'The Graph API answered with something that is not JSON', HttpStatus.BAD_GATEWAY);
    }
    if (typeof body.url !== 'string') {
      throw new DomainError('graph_bad_response', 'The Graph API gave no media URL', HttpStatus.BAD_GATEWAY);
    }
    this.checkDownloadUrl(body.url);
    return {
      url: body.url,
      mimeType: typeof body.mime_type === 'string' ? body.mime_type : undefined,
      sha256: typeof body.sha256 === 'string' ? body.sha256 : undefined,
      fileSize: typeof body.file_size === 'number' ? body.file_size : Number(body.file_size) || undefined,
    };
  }

  /**
   * undefined when the URL has expired (404): the caller resolves the id again. The timeout is for
   * the answer and then for each wait between parts of the body, not for the whole file: a 100 MB
   * document on a slow link takes longer than any sensible request timeout.
   */
  async download(url: string, token: string): Promise<DownloadedMedia | undefined> {
    const abort = new AbortController();
    let idle: NodeJS.Timeout | undefined;
    const touch = () => {
      clearTimeout(idle);
      idle = setTimeout(() => abort.abort(new DOMException('The media download stalled', 'TimeoutError')), REQUEST_TIMEOUT_MS);
    };
    const done = () => clearTimeout(idle);
    touch();
    const response = await this.call(url, token, abort.signal).catch((error: unknown) => {
      done();
      throw error;
    });
    if (response.status === 404) {
      done();
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok) {
      const text = await response.text().finally(done);
      throw this.graphError(response.status, text);
    }
    const declared = Number(response.headers.get('content-length') ?? 0);
    if (declared > this.maxBytes) {
      done();
      await response.body?.cancel();
      throw this.tooLarge();
    }
    const maxBytes = this.maxBytes;
    const tooLarge = () => this.tooLarge();
    // Read through `response`, not a reference to its body alone: undici cancels the body of a
    // Response that has been garbage-collected, which would end the file early (an empty or short
    // file, caught only by the checksum).
    async function* body(): AsyncGenerator<Uint8Array> {
      let size = 0;
      try {
        for await (const chunk of response.body ?? []) {
          touch();
          size += chunk.length;
          // A missing or lying content-length is caught here, before more than the limit is read.
          if (size > maxBytes) throw tooLarge();
          yield chunk;
        }
      } finally {
        done();
      }
    }
    return {
      body: body(),
      contentType: response.headers.get('content-type') ?? undefined,
      cancel: async () => {
        done();
        if (response.body && !response.body.locked) await response.body.cancel();
      },
    };
  }

  private async call(url: string, token: string, signal: AbortSignal = AbortSignal.timeout(REQUEST_TIMEOUT_MS)): Promise<Response> {
    try {
      return await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal });
    } catch (error) {
      throw new DomainError('graph_unreachable', `The Graph API could not be reached: ${(error as Error).message}`, HttpStatus.BAD_GATEWAY);
    }
  }

  // The bearer token goes wherever this URL points: only to Meta's https hosts, or to a plain-http
  // sandbox when the Graph base itself is the plain-http sandbox.
  private checkDownloadUrl(url: string): void {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new DomainError('graph_bad_response', 'The media URL is not a URL', HttpStatus.BAD_GATEWAY);
    }
    const sandbox = this.baseUrl.startsWith('http://');
    if (parsed.protocol !== 'https:' && !(sandbox && parsed.protocol === 'http:')) {
      throw new DomainError('graph_bad_response', 'The media URL is not https', HttpStatus.BAD_GATEWAY);
    }
  }

  private graphError(status: number, text: string): DomainError {
    let code: number | undefined;
    let message = text.slice(0, 300);
    try {
      const error = (JSON.parse(text) as { error?: { code?: number; message?: string } }).error;
      code = error?.code;
      message = error?.message ?? message;
    } catch {
      // not a Graph error body; keep the text
    }
    if (status === 404 || (status === 400 && code === 100)) {
      return new DomainError(
        'media_not_found',
        'Meta does not know this media id (expired after 7 days, or wrong tenant)',
        HttpStatus.NOT_FOUND,
        {
          graphCode: code,
        },
      );
    }
    if (status === 401 || code === 190) {
      return new DomainError('graph_auth_failed', 'The tenant access token was refused', HttpStatus.BAD_GATEWAY, { graphCode: code });
    }
    return new DomainError('graph_error', `The Graph API answered ${status}: ${message}`, HttpStatus.BAD_GATEWAY, { graphCode: code });
  }

  private tooLarge(): DomainError {
    return new DomainError('media_too_large', `Media is larger than ${this.maxBytes} bytes`, HttpStatus.PAYLOAD_TOO_LARGE);
  }
}
