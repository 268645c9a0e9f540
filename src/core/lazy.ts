/**
 * Own enumerable properties whose value is computed when first read, without the cost of an
 * object literal's `get key() { ... }`. A getter in a literal is a new function per object, and
 * V8 gives every object with its own getter function a hidden class of its own: building one
 * took about 1 µs, ten times a plain literal, and the classes were garbage for the collector.
 * Here every object of one kind shares one getter (defined once per key), which reads the
 * object's own compute function from a non-enumerable symbol-keyed slot: the objects share
 * their hidden classes, and building one costs about a third.
 *
 * To JSON, `Object.keys`/`entries`, spreads and structured clones the property is the same as
 * the literal's getter: own, enumerable, configurable, in the place among the keys where it is
 * defined; the slot is neither enumerable nor string-keyed, so none of them sees it.
 */

/** Defines `key` on a target as an own enumerable getter returning `read()` (which memoises if it must). */
export type LazyDefiner = (target: object, read: () => unknown) => void;

/** A definer for one property name; make it once per name, at module level. */
export function lazyProperty(key: string): LazyDefiner {
  const slot = Symbol(key);
  const getter: PropertyDescriptor = {
    get(this: Record<symbol, () => unknown>): unknown {
      return this[slot]!();
    },
    enumerable: true,
    configurable: true,
  };
  return (target, read) => {
    Object.defineProperty(target, key, getter);
    Object.defineProperty(target, slot, { value: read });
  };
}

/** Defines the property on a target from `source`, kept in the target's slot (see lazyPropertyFrom). */
export type LazyFromDefiner<S> = (target: object, source: S) => void;

/**
 * lazyProperty for a value one function computes from a source: the slot keeps the source
 * itself, not a function per object (a closure and its context per object are more for the
 * scavenger to copy when the objects live long), and the first read keeps the result in a
 * second slot, so every later read gives the same object or text. An object frozen since its
 * first read computes the value again on each read (to an equal value: `compute` must read
 * only the source, taken immutable). `compute` must not return undefined.
 */
export function lazyPropertyFrom<S, R>(key: string, compute: (source: S) => R): LazyFromDefiner<S> {
  const source = Symbol(key);
  const result = Symbol(`${key} (read)`);
  const getter: PropertyDescriptor = {
    get(this: Record<symbol, unknown>): R {
      const kept = this[result] as R | undefined;
      if (kept !== undefined) return kept;
      const value = compute(this[source] as S);
      if (Object.isExtensible(this)) Object.defineProperty(this, result, { value });
      return value;
    },
    enumerable: true,
    configurable: true,
  };
  return (target, from) => {
    Object.defineProperty(target, key, getter);
    Object.defineProperty(target, source, { value: from });
  };
}
