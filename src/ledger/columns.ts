/**
 * Growable typed-array columns in fixed-size chunks: appending never copies what is stored
 * (beyond the first chunk, which starts small and grows eightfold), and a column holds at most one
 * partly used chunk, so a million rows cost a million times the element size (not up to twice
 * that, as doubling arrays would).
 */
import { objectArray } from '../core/arrays.js';

const SHIFT = 14;
const CHUNK = 1 << SHIFT;
const MASK = CHUNK - 1;
/**
 * Rows of a column's first chunk before it grows. A posting builds its batch as a journal of
 * its own, usually a handful of entries (a backtest posts every simulated day): full chunks there
 * cost tens of kilobytes of zeroed memory per posting.
 */
const FIRST = 16;
/**
 * How much a first chunk grows when full. By eight, not by two: a backtest's journal grows to
 * tens of thousands of rows in each of its twenty-odd columns, and each step of the first
 * chunk beyond the slab's small sizes is a new zeroed buffer and a copy (ten steps a column
 * by two, four by eight).
 */
const GROWTH = 8;

/**
 * Small chunks (a posting's batch of a few entries, a column's first rows) are carved out of a
 * shared slab instead of each getting an ArrayBuffer of its own: a backtest posts every simulated
 * day, and a buffer per column per posting (about 25 each time) made the garbage collector a
 * fifth of a backtest's time. A slab lives as long as any chunk carved from it (at most 64 KiB
 * per live small chunk, in practice the few slabs of the last postings).
 */
const SMALL_BYTES = 2048;
const SLAB_BYTES = 1 << 16;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;
/** Offset in `slab` of the last carve (read right after `carve`). */
let slabOffset = 0;

/** Reserves `bytes` (rounded up to 8) in the current slab, starting a new one when full; returns the slab. */
function carve(bytes: number): ArrayBuffer {
  const size = (bytes + 7) & ~7;
  if (slabUsed + size > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  slabOffset = slabUsed;
  slabUsed += size;
  return slab;
}

// One class per element type, so that every access site sees one typed-array kind (monomorphic).
// Each chunk list starts in its final elements kind (objectArray): a backtest makes new columns
// every posting, and a `[]` changing kind at its first chunk threw away the compiled push.

/** A column of float64 values (see the module comment). */
export class F64Column {
  private readonly chunks: Float64Array[] = objectArray();
  length = 0;

  push(value: number): void {
    const i = this.length;
    const c = i >>> SHIFT;
    const o = i & MASK;
    let chunk = c < this.chunks.length ? this.chunks[c]! : undefined;
    if (chunk === undefined || o === chunk.length) chunk = this.grow(c, o + 1);
    chunk[o] = value;
    this.length = i + 1;
  }

  /** Chunk `c` with room for `rows` rows (the first chunk starts small and grows by GROWTH). */
  private grow(c: number, rows: number): Float64Array {
    const old = c < this.chunks.length ? this.chunks[c]! : undefined;
    let size = old === undefined ? (c === 0 ? FIRST : CHUNK) : old.length;
    while (size < rows) size = Math.min(CHUNK, size * GROWTH);
    if (old !== undefined && size === old.length) return old;
    const next = size * 8 <= SMALL_BYTES ? new Float64Array(carve(size * 8), slabOffset, size) : new Float64Array(size);
    if (old !== undefined) next.set(old);
    this.chunks[c] = next;
    return next;
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
  appendFrom(other: F64Column, from: number, count: number): void {
    for (let k = 0; k < count; ) {
      const src = from + k;
      const dst = this.length;
      const srcChunk = other.chunks[src >>> SHIFT]!;
      const srcOffset = src & MASK;
      const dstOffset = dst & MASK;
      const n = Math.min(count - k, CHUNK - srcOffset, CHUNK - dstOffset);
      this.grow(dst >>> SHIFT, dstOffset + n).set(srcChunk.subarray(srcOffset, srcOffset + n), dstOffset);
      this.length += n;
      k += n;
    }
  }

  /** Bytes held (allocated chunks). */
  get bytes(): number {
    let rows = 0;
    for (const chunk of this.chunks) rows += chunk.length;
    return rows * Float64Array.BYTES_PER_ELEMENT;
  }
}

/** A column of int32 values (see the module comment). */
export class I32Column {
  private readonly chunks: Int32Array[] = objectArray();
  length = 0;

  push(value: number): void {
    const i = this.length;
    const c = i >>> SHIFT;
    const o = i & MASK;
    let chunk = c < this.chunks.length ? this.chunks[c]! : undefined;
    if (chunk === undefined || o === chunk.length) chunk = this.grow(c, o + 1);
    chunk[o] = value;
    this.length = i + 1;
  }

  /** Chunk `c` with room for `rows` rows (the first chunk starts small and grows by GROWTH). */
  private grow(c: number, rows: number): Int32Array {
    const old = c < this.chunks.length ? this.chunks[c]! : undefined;
    let size = old === undefined ? (c === 0 ? FIRST : CHUNK) : old.length;
    while (size < rows) size = Math.min(CHUNK, size * GROWTH);
    if (old !== undefined && size === old.length) return old;
    const next = size * 4 <= SMALL_BYTES ? new Int32Array(carve(size * 4), slabOffset, size) : new Int32Array(size);
    if (old !== undefined) next.set(old);
    this.chunks[c] = next;
    return next;
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
  appendFrom(other: I32Column, from: number, count: number): void {
    for (let k = 0; k < count; ) {
      const src = from + k;
      const dst = this.length;
      const srcChunk = other.chunks[src >>> SHIFT]!;
      const srcOffset = src & MASK;
      const dstOffset = dst & MASK;
      const n = Math.min(count - k, CHUNK - srcOffset, CHUNK - dstOffset);
      this.grow(dst >>> SHIFT, dstOffset + n).set(srcChunk.subarray(srcOffset, srcOffset + n), dstOffset);
      this.length += n;
      k += n;
    }
  }

  /** Bytes held (allocated chunks). */
  get bytes(): number {
    let rows = 0;
    for (const chunk of this.chunks) rows += chunk.length;
    return rows * Int32Array.BYTES_PER_ELEMENT;
  }
}

/** A column of uint32 values (see the module comment). */
export class U32Column {
  private readonly chunks: Uint32Array[] = objectArray();
  length = 0;

  push(value: number): void {
    const i = this.length;
    const c = i >>> SHIFT;
    const o = i & MASK;
    let chunk = c < this.chunks.length ? this.chunks[c]! : undefined;
    if (chunk === undefined || o === chunk.length) chunk = this.grow(c, o + 1);
    chunk[o] = value;
    this.length = i + 1;
  }

  /** Chunk `c` with room for `rows` rows (the first chunk starts small and grows by GROWTH). */
  private grow(c: number, rows: number): Uint32Array {
    const old = c < this.chunks.length ? this.chunks[c]! : undefined;
    let size = old === undefined ? (c === 0 ? FIRST : CHUNK) : old.length;
    while (size < rows) size = Math.min(CHUNK, size * GROWTH);
    if (old !== undefined && size === old.length) return old;
    const next = size * 4 <= SMALL_BYTES ? new Uint32Array(carve(size * 4), slabOffset, size) : new Uint32Array(size);
    if (old !== undefined) next.set(old);
    this.chunks[c] = next;
    return next;
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
  appendFrom(other: U32Column, from: number, count: number): void {
    for (let k = 0; k < count; ) {
      const src = from + k;
      const dst = this.length;
      const srcChunk = other.chunks[src >>> SHIFT]!;
      const srcOffset = src & MASK;
      const dstOffset = dst & MASK;
      const n = Math.min(count - k, CHUNK - srcOffset, CHUNK - dstOffset);
      this.grow(dst >>> SHIFT, dstOffset + n).set(srcChunk.subarray(srcOffset, srcOffset + n), dstOffset);
      this.length += n;
      k += n;
    }
  }

  /** Bytes held (allocated chunks). */
  get bytes(): number {
    let rows = 0;
    for (const chunk of this.chunks) rows += chunk.length;
    return rows * Uint32Array.BYTES_PER_ELEMENT;
  }
}

/** A column of uint16 values (see the module comment). */
export class U16Column {
  private readonly chunks: Uint16Array[] = objectArray();
  length = 0;

  push(value: number): void {
    const i = this.length;
    const c = i >>> SHIFT;
    const o = i & MASK;
    let chunk = c < this.chunks.length ? this.chunks[c]! : undefined;
    if (chunk === undefined || o === chunk.length) chunk = this.grow(c, o + 1);
    chunk[o] = value;
    this.length = i + 1;
  }

  /** Chunk `c` with room for `rows` rows (the first chunk starts small and grows by GROWTH). */
  private grow(c: number, rows: number): Uint16Array {
    const old = c < this.chunks.length ? this.chunks[c]! : undefined;
    let size = old === undefined ? (c === 0 ? FIRST : CHUNK) : old.length;
    while (size < rows) size = Math.min(CHUNK, size * GROWTH);
    if (old !== undefined && size === old.length) return old;
    const next = size * 2 <= SMALL_BYTES ? new Uint16Array(carve(size * 2), slabOffset, size) : new Uint16Array(size);
    if (old !== undefined) next.set(old);
    this.chunks[c] = next;
    return next;
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
  appendFrom(other: U16Column, from: number, count: number): void {
    for (let k = 0; k < count; ) {
      const src = from + k;
      const dst = this.length;
      const srcChunk = other.chunks[src >>> SHIFT]!;
      const srcOffset = src & MASK;
      const dstOffset = dst & MASK;
      const n = Math.min(count - k, CHUNK - srcOffset, CHUNK - dstOffset);
      this.grow(dst >>> SHIFT, dstOffset + n).set(srcChunk.subarray(srcOffset, srcOffset + n), dstOffset);
      this.length += n;
      k += n;
    }
  }

  /** Bytes held (allocated chunks). */
  get bytes(): number {
    let rows = 0;
    for (const chunk of this.chunks) rows += chunk.length;
    return rows * Uint16Array.BYTES_PER_ELEMENT;
  }
}

/** A column of uint8 values (see the module comment). */
export class U8Column {
  private readonly chunks: Uint8Array[] = objectArray();
  length = 0;

  push(value: number): void {
    const i = this.length;
    const c = i >>> SHIFT;
    const o = i & MASK;
    let chunk = c < this.chunks.length ? this.chunks[c]! : undefined;
    if (chunk === undefined || o === chunk.length) chunk = this.grow(c, o + 1);
    chunk[o] = value;
    this.length = i + 1;
  }

  /** Chunk `c` with room for `rows` rows (the first chunk starts small and grows by GROWTH). */
  private grow(c: number, rows: number): Uint8Array {
    const old = c < this.chunks.length ? this.chunks[c]! : undefined;
    let size = old === undefined ? (c === 0 ? FIRST : CHUNK) : old.length;
    while (size < rows) size = Math.min(CHUNK, size * GROWTH);
    if (old !== undefined && size === old.length) return old;
    const next = size * 1 <= SMALL_BYTES ? new Uint8Array(carve(size * 1), slabOffset, size) : new Uint8Array(size);
    if (old !== undefined) next.set(old);
    this.chunks[c] = next;
    return next;
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
  appendFrom(other: U8Column, from: number, count: number): void {
    for (let k = 0; k < count; ) {
      const src = from + k;
      const dst = this.length;
      const srcChunk = other.chunks[src >>> SHIFT]!;
      const srcOffset = src & MASK;
      const dstOffset = dst & MASK;
      const n = Math.min(count - k, CHUNK - srcOffset, CHUNK - dstOffset);
      this.grow(dst >>> SHIFT, dstOffset + n).set(srcChunk.subarray(srcOffset, srcOffset + n), dstOffset);
      this.length += n;
      k += n;
    }
  }

  /** Bytes held (allocated chunks). */
  get bytes(): number {
    let rows = 0;
    for (const chunk of this.chunks) rows += chunk.length;
    return rows * Uint8Array.BYTES_PER_ELEMENT;
  }
}

/** A column of int8 values (see the module comment). */
export class I8Column {
  private readonly chunks: Int8Array[] = objectArray();
  length = 0;

  push(value: number): void {
    const i = this.length;
    const c = i >>> SHIFT;
    const o = i & MASK;
    let chunk = c < this.chunks.length ? this.chunks[c]! : undefined;
    if (chunk === undefined || o === chunk.length) chunk = this.grow(c, o + 1);
    chunk[o] = value;
    this.length = i + 1;
  }

  /** Chunk `c` with room for `rows` rows (the first chunk starts small and grows by GROWTH). */
  private grow(c: number, rows: number): Int8Array {
    const old = c < this.chunks.length ? this.chunks[c]! : undefined;
    let size = old === undefined ? (c === 0 ? FIRST : CHUNK) : old.length;
    while (size < rows) size = Math.min(CHUNK, size * GROWTH);
    if (old !== undefined && size === old.length) return old;
    const next = size * 1 <= SMALL_BYTES ? new Int8Array(carve(size * 1), slabOffset, size) : new Int8Array(size);
    if (old !== undefined) next.set(old);
    this.chunks[c] = next;
    return next;
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
  appendFrom(other: I8Column, from: number, count: number): void {
    for (let k = 0; k < count; ) {
      const src = from + k;
      const dst = this.length;
      const srcChunk = other.chunks[src >>> SHIFT]!;
      const srcOffset = src & MASK;
      const dstOffset = dst & MASK;
      const n = Math.min(count - k, CHUNK - srcOffset, CHUNK - dstOffset);
      this.grow(dst >>> SHIFT, dstOffset + n).set(srcChunk.subarray(srcOffset, srcOffset + n), dstOffset);
      this.length += n;
      k += n;
    }
  }

  /** Bytes held (allocated chunks). */
  get bytes(): number {
    let rows = 0;
    for (const chunk of this.chunks) rows += chunk.length;
    return rows * Int8Array.BYTES_PER_ELEMENT;
  }
}

/** Any column (for code that only truncates or measures). */
export type Column = F64Column | I32Column | U32Column | U16Column | U8Column | I8Column;

export const f64 = (): F64Column => new F64Column();
export const i32 = (): I32Column => new I32Column();
export const u32 = (): U32Column => new U32Column();
export const u16 = (): U16Column => new U16Column();
export const u8 = (): U8Column => new U8Column();
export const i8 = (): I8Column => new I8Column();

/** Strings kept once, numbered from 1 (0 is "none"). */
export class Interned {
  private readonly index = new Map<string, number>();
  private readonly values: string[] = [''];
  private readonly json: string[] = ['""'];

  id(value: string | undefined): number {
    if (value === undefined) return 0;
    let i = this.index.get(value);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(value);
      this.json.push(JSON.stringify(value));
      this.index.set(value, i);
    }
    return i;
  }

  value(id: number): string | undefined {
    return id === 0 ? undefined : this.values[id];
  }

  /** The value as a JSON string literal (what canonical bodies write), computed once. */
  quoted(id: number): string {
    return this.json[id]!;
  }
}
