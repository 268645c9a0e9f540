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
