import type { Integrations } from './integrations';
import type { MediaClient } from './media.client';

/** The outside world a turn may touch (EngineContext's effects): one provider, replaceable in tests. */
export class Effects {
  constructor(
    readonly media: MediaClient,
    readonly integrations: Integrations,
  ) {}
}
