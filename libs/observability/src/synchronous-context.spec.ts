import { createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { SynchronousContextManager } from './synchronous-context';

const KEY = createContextKey('test');

describe('SynchronousContextManager', () => {
  const manager = new SynchronousContextManager();
  const outer = ROOT_CONTEXT.setValue(KEY, 'outer');
  const inner = ROOT_CONTEXT.setValue(KEY, 'inner');

  it('makes a context active for the synchronous run of with(), nested, and restores the previous one', () => {
    expect(manager.active()).toBe(ROOT_CONTEXT);
    const seen = manager.with(
      outer,
      (a: number, b: number) => {
        const nested = manager.with(inner, () => manager.active().getValue(KEY));
        return [manager.active().getValue(KEY), nested, a + b];
      },
      undefined,
      1,
      2,
    );
    expect(seen).toEqual(['outer', 'inner', 3]);
    expect(manager.active()).toBe(ROOT_CONTEXT);
  });

  it('restores the previous context when the callback throws', () => {
    expect(() =>
      manager.with(outer, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(manager.active()).toBe(ROOT_CONTEXT);
  });

  it('does not carry a context across an await (that is what it saves: no async hooks)', async () => {
    const after = await manager.with(outer, async () => {
      expect(manager.active().getValue(KEY)).toBe('outer');
      await Promise.resolve();
      return manager.active().getValue(KEY);
    });
    expect(after).toBeUndefined();
  });

  it('binds a function to a context and leaves other values alone', () => {
    const bound = manager.bind(inner, function (this: { n: number }, add: number) {
      return `${String(manager.active().getValue(KEY))}:${this.n + add}`;
    });
    expect(bound.call({ n: 1 }, 2)).toBe('inner:3');
    expect(manager.active()).toBe(ROOT_CONTEXT);
    const value = { not: 'a function' };
    expect(manager.bind(inner, value)).toBe(value);
  });
});
