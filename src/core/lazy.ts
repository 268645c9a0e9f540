/**
 * Own enumerable properties whose value is computed when first read, without the cost of an
 * object literal's `get key() { ... }`. A getter in a literal is a new function per object, and
 * V8 gives every object with its own getter function a hidden class of its own: building one
 * took about 1 µs, ten times a plain literal, and the classes were garbage for the collector.
 * Here every object of one kind shares one getter (defined once per key), which reads the
 * object's own compute function from a slot of its own: the objects share their hidden classes,
 * and building one costs about a third.
 *
 * The slot is a class's private field, stamped on the object by a constructor whose base
 * returns the object itself (Slots below), not a non-enumerable symbol-keyed property: that took
 * a second Object.defineProperty per object, a call into the runtime each, where a private
 * field is a store through an inline cache. Defining the cost (and note) of every strategy's
 * cause this way was about 0.9 % of the main job's main thread; with the private fields each
 * object costs about two thirds of that (a loop of such causes: 0.66-0.75x the CPU).
 *
 * To JSON, `Object.keys`/`entries`, spreads and structured clones the property is the same as
 * the literal's getter: own, enumerable, configurable, in the place among the keys where it is
 * defined; a private field is no property to any of them (nor to Reflect.ownKeys).
 */

/**
 * The base of the classes whose private fields are stamped on objects that already exist: its
 * constructor returns the object it is given, so a derived class's fields are added to that
 * object (the "return override" of ECMAScript classes) instead of to a new one.
 */
class Stamped {
  constructor(target: object) {
    return target;
  }
}


/** Defines `key` on a target as an own enumerable getter returning `read()` (which memoises if it must). */
export type LazyDefiner = (target: object, read: () => unknown) => void;

/** A definer for one property name; make it once per name, at module level. */
export function lazyProperty(key: string): LazyDefiner {
  /** The target's read function, in a private field of the target. */
  class Slot extends Stamped {
    readonly #read: () => unknown;
    constructor(target: object, read: () => unknown) {
      super(target);
      this.#read = read;
    }
    static get(target: object): unknown {
      return (target as Slot).#read();
    }
  }
  const get = Slot.get;
  const getter: PropertyDescriptor = {
    get(this: object): unknown {
      return get(this);
    },
    enumerable: true,
    configurable: true,
  };
  return (target, read) => {
    Object.defineProperty(target, key, getter);
    new Slot(target, read);
  };
}

/** Defines the property on a target from `source`, kept in the target's slot (see lazyPropertyFrom). */
export type LazyFromDefiner<S> = (target: object, source: S) => void;

/**
 * lazyProperty for a value one function computes from a source: the slot keeps the source
 * itself, not a function per object (a closure and its context per object are more for the
 * scavenger to copy when the objects live long), and the first read keeps the result in a
 * second slot, so every later read gives the same object or text (a frozen object's too: a
 * private field is no property, so freezing does not stop it being written). `compute` must
 * read only the source, taken immutable, and must not return undefined.
 */
export function lazyPropertyFrom<S, R>(key: string, compute: (source: S) => R): LazyFromDefiner<S> {
  /** The target's source and, once read, its result, in private fields of the target. */
  class Slot extends Stamped {
    readonly #source: S;
    #result: R | undefined = undefined;
    constructor(target: object, source: S) {
      super(target);
      this.#source = source;
    }
    static get(target: object): R {
      const slot = target as Slot;
      const kept = slot.#result;
      if (kept !== undefined) return kept;
      const value = compute(slot.#source);
      slot.#result = value;
      return value;
    }
  }
  const get = Slot.get;
  const getter: PropertyDescriptor = {
    get(this: object): R {
      return get(this);
    },
    enumerable: true,
    configurable: true,
  };
  return (target, source) => {
    Object.defineProperty(target, key, getter);
    new Slot(target, source);
  };
}
