/**
 * WhatsApp's customer-service window: free-form messages (text, media, interactive) may be sent
 * only within 24 hours of the citizen's last message; after that, only approved templates. The
 * gateway, the chatbot and the agent console all decide with these functions.
 */
export const CUSTOMER_SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000;

/** When the window closes, or null when the citizen never wrote. */
export function windowClosesAt(lastInboundAt: Date | null | undefined): Date | null {
  return lastInboundAt ? new Date(lastInboundAt.getTime() + CUSTOMER_SERVICE_WINDOW_MS) : null;
}

/** Whether a free-form message may be sent at `now`. */
export function isWindowOpen(lastInboundAt: Date | null | undefined, now: Date = new Date()): boolean {
  const closes = windowClosesAt(lastInboundAt);
  return closes !== null && now.getTime() < closes.getTime();
}

/** Milliseconds left in the window at `now` (0 when closed or never opened). */
export function windowRemainingMs(lastInboundAt: Date | null | undefined, now: Date = new Date()): number {
  const closes = windowClosesAt(lastInboundAt);
  return closes ? Math.max(0, closes.getTime() - now.getTime()) : 0;
}

/** Kinds that need the window; templates are the only way to reach a citizen outside it. */
export function needsWindow(kind: string): boolean {
  return kind !== 'template';
}
