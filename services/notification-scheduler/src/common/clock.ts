/**
 * Where "now" comes from. Production uses the system clock; tests and the benchmark inject a
 * manual one, so a year of reminders runs in seconds (the sweep asks the clock, not Date.now()).
 */
export abstract class Clock {
  abstract now(): Date;
}

export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}

export class ManualClock extends Clock {
  private current: number;

  constructor(start: Date | string | number) {
    super();
    this.current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  set(to: Date | string | number): void {
    this.current = new Date(to).getTime();
  }

  advance(ms: number): void {
    this.current += ms;
  }
}
