/**
 * How much of a number's budget a replica uses after Meta answered 130429 (throughput exceeded).
 *
 * The budget already sits below the tier, so a 130429 means jitter between our clock and Meta's,
 * or inbound traffic taking part of the tier (Meta counts both). Each answer takes a small step off
 * the rate for a while, so jitter costs little; answers that keep coming keep stepping it down, to
 * half at most, so sustained inbound traffic still gets its room. One stall on either side makes a
 * burst of 130429s for sends already on their way; the answers within `burstMs` of a step count as
 * that same step.
 */
export class ThroughputBackoff {
  private factor = 1;
  private until = 0;
  private steppedAt = -Infinity;

  constructor(
    private readonly options: { step: number; floor: number; holdMs: number; burstMs: number } = {
      step: 0.05,
      floor: 0.5,
      holdMs: 2000,
      burstMs: 500,
    },
  ) {}

  /** Meta said 130429 at `now`. */
  refused(now: number): void {
    const current = this.at(now);
    if (now - this.steppedAt >= this.options.burstMs) {
      this.factor = Math.max(this.options.floor, current - this.options.step);
      this.steppedAt = now;
    }
    this.until = now + this.options.holdMs;
  }

  /** The share of the budget to use at `now`: 1 once the hold has passed without another 130429. */
  at(now: number): number {
    if (now >= this.until) this.factor = 1;
    return this.factor;
  }
}
