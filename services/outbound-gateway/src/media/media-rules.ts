import type { MediaKind } from '@wa/contracts';

/** Meta's accepted types and sizes per media kind (Cloud API reference §5). */
export const MEDIA_RULES: Record<MediaKind, { mimeTypes: string[]; maxBytes: number }> = {
  image: { mimeTypes: ['image/jpeg', 'image/png'], maxBytes: 5 * 1024 * 1024 },
  video: { mimeTypes: ['video/mp4', 'video/3gpp'], maxBytes: 16 * 1024 * 1024 },
  audio: { mimeTypes: ['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg'], maxBytes: 16 * 1024 * 1024 },
  document: {
    mimeTypes: [
      'text/plain',
      'application/pdf',
      'application/msword',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'application/vnd.ms-excel',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'application/vnd.ms-powerpoint',
      'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    ],
    maxBytes: 100 * 1024 * 1024,
  },
  sticker: { mimeTypes: ['image/webp'], maxBytes: 500 * 1024 },
};

export const ALL_MEDIA_TYPES = [...new Set(Object.values(MEDIA_RULES).flatMap((r) => r.mimeTypes))];

/** The kinds a file of this type and size can be sent as. */
export function kindsFor(mimeType: string, size: number): MediaKind[] {
  return (Object.keys(MEDIA_RULES) as MediaKind[]).filter(
    (k) => MEDIA_RULES[k].mimeTypes.includes(mimeType) && size <= MEDIA_RULES[k].maxBytes,
  );
}

/** Why a file cannot go out as `kind`, or undefined. */
export function mediaProblem(kind: MediaKind, mimeType: string, size: number): string | undefined {
  const rule = MEDIA_RULES[kind];
  if (!rule.mimeTypes.includes(mimeType)) return `${kind} must be one of ${rule.mimeTypes.join(', ')}; the file is ${mimeType}`;
  if (size > rule.maxBytes) return `${kind} files may be at most ${rule.maxBytes} bytes; the file has ${size}`;
  return undefined;
}
