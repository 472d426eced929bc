/**
 * `FAULTS_SHORT=1`: the version CI runs after `npm test` — less load and shorter windows, the same
 * faults and the same checks, and no run that stops the shared broker.
 */
export const SHORT = process.env.FAULTS_SHORT === '1' || process.env.FAULTS_SHORT === 'true';

/** The full run's figure, or the short run's. */
export const scaled = (full: number, short: number): number => (SHORT ? short : full);
