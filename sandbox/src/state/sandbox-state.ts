import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** What one part of the simulator keeps across restarts: it dumps its state and restores it. */
export interface StateSection {
  dump(): unknown;
  restore(data: unknown): void;
}

export interface SandboxStateOptions {
  /** Directory of `state.json`; absent = the sandbox keeps everything in memory only. */
  dir?: string;
  /** Where problems with the file are reported (a corrupt file, a failed write); stderr by default. */
  report?: (message: string) => void;
  /** Writes are coalesced: one write at most this often while things change. */
  debounceMs?: number;
}

const FILE = 'state.json';
const FORMAT = 1;

/**
 * Meta keeps a WABA's templates, a citizen's customer-service window and the like for as long as
 * they live, so the simulator must too: a restarted sandbox that forgot its approved templates
 * would fail every template send (132001) while the template registry, which remembers them
 * approved, has no reason to submit them again. Each part registers a section; the whole state is
 * one JSON file, written atomically (temporary file, fsync, rename) shortly after a change and on
 * close. A file that cannot be read is reported and moved aside, and the sandbox starts empty: a
 * broken state file must not keep the stack from starting.
 */
export class SandboxState {
  private readonly sections = new Map<string, StateSection>();
  private timer?: NodeJS.Timeout;
  private dirty = false;
  private readonly report: (message: string) => void;

  constructor(private readonly options: SandboxStateOptions = {}) {
    this.report = options.report ?? ((message) => process.stderr.write(`cloud-api-sandbox: ${message}\n`));
  }

  get persistent(): boolean {
    return this.options.dir !== undefined;
  }

  get file(): string | undefined {
    return this.options.dir === undefined ? undefined : join(this.options.dir, FILE);
  }

  /** A part's section; registering a name again replaces it (a second app built on the same context). */
  section(name: string, section: StateSection): void {
    this.sections.set(name, section);
  }

  /** Reads the file (if any) into every registered section. Returns the sections restored. */
  load(): string[] {
    const file = this.file;
    if (!file || !existsSync(file)) return [];
    let parsed: { format?: unknown; sections?: Record<string, unknown> };
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as typeof parsed;
      if (typeof parsed !== 'object' || parsed === null || parsed.format !== FORMAT || typeof parsed.sections !== 'object')
        throw new Error(`not a sandbox state file of format ${FORMAT}`);
    } catch (error) {
      this.moveAside(file, (error as Error).message);
      return [];
    }
    const restored: string[] = [];
    for (const [name, section] of this.sections) {
      const data = parsed.sections?.[name];
      if (data === undefined) continue;
      try {
        section.restore(data);
        restored.push(name);
      } catch (error) {
        // One unreadable section loses that section only; the file is kept aside for a person to look at.
        this.moveAside(file, `section ${name}: ${(error as Error).message}`, true);
      }
    }
    return restored;
  }

  /** A section changed: write soon (coalesced). */
  changed(): void {
    if (!this.persistent) return;
    this.dirty = true;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.options.debounceMs ?? 100);
    this.timer.unref();
  }

  /** Writes now if anything changed (on close, and by the debounce timer). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const file = this.file;
    if (!file || !this.dirty) return;
    this.dirty = false;
    const sections = Object.fromEntries([...this.sections].map(([name, s]) => [name, s.dump()]));
    const body = JSON.stringify({ format: FORMAT, savedAt: new Date().toISOString(), sections });
    const temporary = `${file}.${process.pid}.tmp`;
    try {
      mkdirSync(this.options.dir!, { recursive: true });
      const fd = openSync(temporary, 'w', 0o600);
      try {
        writeSync(fd, body);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temporary, file);
    } catch (error) {
      this.dirty = true;
      this.report(`could not write ${file}: ${(error as Error).message} (state kept in memory; retried on the next change)`);
    }
  }

  private moveAside(file: string, reason: string, copy = false): void {
    const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      if (copy) {
        copyFileSync(file, aside);
      } else {
        renameSync(file, aside);
      }
      this.report(`${file} is unreadable (${reason}); moved aside to ${aside}, starting without it`);
    } catch (error) {
      this.report(`${file} is unreadable (${reason}) and could not be moved aside (${(error as Error).message}); starting without it`);
    }
  }
}

const states = new WeakMap<object, SandboxState>();

/** The state of one sandbox instance (keyed by its context, like the templates store). */
export function sandboxState(context: { stateDir?: string }): SandboxState {
  let state = states.get(context);
  if (!state) {
    state = new SandboxState({ dir: context.stateDir });
    states.set(context, state);
  }
  return state;
}
