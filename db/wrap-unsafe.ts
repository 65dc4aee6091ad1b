import type { Sql } from 'postgres';

/**
 * `sql` with its `unsafe` (the call drizzle makes for every statement) replaced by what `wrap`
 * makes of the original, in every transaction and savepoint it opens too.
 */
export function wrapUnsafe<T extends Sql>(sql: T, wrap: (unsafe: Sql['unsafe']) => Sql['unsafe']): T {
  return new Proxy(sql, {
    get(target, property, receiver) {
      if (property === 'unsafe') return wrap(target.unsafe.bind(target) as Sql['unsafe']);
      if (property === 'begin' || property === 'savepoint') {
        return (...args: unknown[]) => {
          const body = args.pop() as (tx: Sql) => unknown;
          const original = Reflect.get(target, property, receiver) as (...a: unknown[]) => unknown;
          return original.call(target, ...args, (tx: Sql) => body(wrapUnsafe(tx, wrap)));
        };
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}
