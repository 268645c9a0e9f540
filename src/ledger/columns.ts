/**
 * Growable typed-array columns in fixed-size chunks: appending never copies what is stored,
 * and a column holds at most one partly used chunk, so a million rows cost a million times the
 * element size (not up to twice that, as doubling arrays would).
 */
const SHIFT = 14;
const CHUNK = 1 << SHIFT;
const MASK = CHUNK - 1;

type TypedArray = Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array | Int8Array;
type TypedArrayConstructor<T extends TypedArray> = new (length: number) => T;

/** One column of numbers (the element type is the typed array's). */
export class Column<T extends TypedArray> {
  private readonly chunks: T[] = [];
  private readonly make: TypedArrayConstructor<T>;
  length = 0;

  constructor(make: TypedArrayConstructor<T>) {
    this.make = make;
  }

  push(value: number): void {
    const i = this.length;
    const c = i >>> SHIFT;
    if (c === this.chunks.length) this.chunks.push(new this.make(CHUNK));
    this.chunks[c]![i & MASK] = value;
    this.length = i + 1;
  }

  get(i: number): number {
    return this.chunks[i >>> SHIFT]![i & MASK]!;
  }

  set(i: number, value: number): void {
    this.chunks[i >>> SHIFT]![i & MASK] = value;
  }

  /** Drops rows from `n` on (and chunks no longer needed). */
  truncate(n: number): void {
    if (n >= this.length) return;
    this.length = n;
    this.chunks.length = (n + MASK) >>> SHIFT;
  }

  /** Appends `count` rows of `other` from row `from`. */
  appendFrom(other: Column<T>, from: number, count: number): void {
    for (let k = 0; k < count; ) {
      const src = from + k;
      const dst = this.length;
      const srcChunk = other.chunks[src >>> SHIFT]!;
      const srcOffset = src & MASK;
      const dstOffset = dst & MASK;
      if (dst >>> SHIFT === this.chunks.length) this.chunks.push(new this.make(CHUNK));
      const n = Math.min(count - k, CHUNK - srcOffset, CHUNK - dstOffset);
      this.chunks[dst >>> SHIFT]!.set(srcChunk.subarray(srcOffset, srcOffset + n) as never, dstOffset);
      this.length += n;
      k += n;
    }
  }

  /** Bytes held (allocated chunks). */
  get bytes(): number {
    return this.chunks.reduce((total, chunk) => total + chunk.byteLength, 0);
  }
}

export const f64 = (): Column<Float64Array> => new Column(Float64Array);
export const i32 = (): Column<Int32Array> => new Column(Int32Array);
export const u32 = (): Column<Uint32Array> => new Column(Uint32Array);
export const u16 = (): Column<Uint16Array> => new Column(Uint16Array);
export const u8 = (): Column<Uint8Array> => new Column(Uint8Array);
export const i8 = (): Column<Int8Array> => new Column(Int8Array);

/** Strings kept once, numbered from 1 (0 is "none"). */
export class Interned {
  private readonly index = new Map<string, number>();
  private readonly values: string[] = [''];

  id(value: string | undefined): number {
    if (value === undefined) return 0;
    let i = this.index.get(value);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(value);
      this.index.set(value, i);
    }
    return i;
  }

  value(id: number): string | undefined {
    return id === 0 ? undefined : this.values[id];
  }
}
