/** Thrown by handlers for failures that no retry can fix (bad data, business rule): straight to the DLQ. */
export class NonRetriableError extends Error {
  readonly retriable = false;
  constructor(
    message: string,
    readonly reason = 'non-retriable',
  ) {
    super(message);
    this.name = 'NonRetriableError';
  }
}

export function isRetriable(error: unknown): boolean {
  return !(typeof error === 'object' && error !== null && (error as { retriable?: boolean }).retriable === false);
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
