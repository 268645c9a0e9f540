/**
 * Growable typed-array columns in fixed-size chunks: appending never copies what is stored,
 * and a column holds at most one partly used chunk, so a million rows cost a million times the
 * element size (not up to twice that, as doubling arrays would).
 */
const SHIFT = 14;
const CHUNK = 1 << SHIFT;
const MASK = CHUNK - 1;

// One class per element type, so that every access site sees one typed-array kind (monomorphic).

/** A column of float64 values (see the module comment). */
export class F64Column {
  private readonly chunks: Float64Array[] = [];
  length = 0;

  push(value: number): void {
    const i = this.length;
    const c = i >>> SHIFT;
    if (c === this.chunks.length) this.chunks.push(new Float64Array(CHUNK));
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
  appendFrom(other: F64Column, from: number, count: number): void {
    for (let k = 0; k < count; ) {
      const src = from + k;
      const dst = this.length;
      const srcChunk = other.chunks[src >>> SHIFT]!;
      const srcOffset = src & MASK;
      const dstOffset = dst & MASK;
      if (dst >>> SHIFT === this.chunks.length) this.chunks.push(new Float64Array(CHUNK));
      const n = Math.min(count - k, CHUNK - srcOffset, CHUNK - dstOffset);
      this.chunks[dst >>> SHIFT]!.set(srcChunk.subarray(srcOffset, srcOffset + n), dstOffset);
      this.length += n;
      k += n;
    }
  }

  /** Bytes held (allocated chunks). */
  get bytes(): number {
    return this.chunks.length * CHUNK * Float64Array.BYTES_PER_ELEMENT;
  }
}

/** A column of int32 values (see the module comment). */
export class I32Column {
  private readonly chunks: Int32Array[] = [];
  length = 0;

  push(value: number): void {
    const i = this.length;
    const c = i >>> SHIFT;
    if (c === this.chunks.length) this.chunks.push(new Int32Array(CHUNK));
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
  appendFrom(other: I32Column, from: number, count: number): void {
    for (let k = 0; k < count; ) {
      const src = from + k;
      const dst = this.length;
      const srcChunk = other.chunks[src >>> SHIFT]!;
      const srcOffset = src & MASK;
      const dstOffset = dst & MASK;
      if (dst >>> SHIFT === this.chunks.length) this.chunks.push(new Int32Array(CHUNK));
      const n = Math.min(count - k, CHUNK - srcOffset, CHUNK - dstOffset);
      this.chunks[dst >>> SHIFT]!.set(srcChunk.subarray(srcOffset, srcOffset + n), dstOffset);
      this.length += n;
      k += n;
    }
  }

  /** Bytes held (allocated chunks). */
  get bytes(): number {
    return this.chunks.length * CHUNK * Int32Array.BYTES_PER_ELEMENT;
  }
}

/** A column of uint32 values (see the module comment). */
export class U32Column {
  private readonly chunks: Uint32Array[] = [];
  length = 0;

  push(value: number): void {
    const i = this.length;
    const c = i >>> SHIFT;
    if (c === this.chunks.length) this.chunks.push(new Uint32Array(CHUNK));
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
  appendFrom(other: U32Column, from: number, count: number): void {
    for (let k = 0; k < count; ) {
      const src = from + k;
      const dst = this.length;
      const srcChunk = other.chunks[src >>> SHIFT]!;
      const srcOffset = src & MASK;
      const dstOffset = dst & MASK;
      if (dst >>> SHIFT === this.chunks.length) this.chunks.push(new Uint32Array(CHUNK));
      const n = Math.min(count - k, CHUNK - srcOffset, CHUNK - dstOffset);
      this.chunks[dst >>> SHIFT]!.set(srcChunk.subarray(srcOffset, srcOffset + n), dstOffset);
      this.length += n;
      k += n;
    }
  }

  /** Bytes held (allocated chunks). */
  get bytes(): number {
    return this.chunks.length * CHUNK * Uint32Array.BYTES_PER_ELEMENT;
  }
}

/** A column of uint16 values (see the module comment). */
export class U16Column {
  private readonly chunks: Uint16Array[] = [];
  length = 0;

  push(value: number): void {
    const i = this.length;
    const c = i >>> SHIFT;
    if (c === this.chunks.length) this.chunks.push(new Uint16Array(CHUNK));
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
  appendFrom(other: U16Column, from: number, count: number): void {
    for (let k = 0; k < count; ) {
      const src = from + k;
      const dst = this.length;
      const srcChunk = other.chunks[src >>> SHIFT]!;
      const srcOffset = src & MASK;
      const dstOffset = dst & MASK;
      if (dst >>> SHIFT === this.chunks.length) this.chunks.push(new Uint16Array(CHUNK));
      const n = Math.min(count - k, CHUNK - srcOffset, CHUNK - dstOffset);
      this.chunks[dst >>> SHIFT]!.set(srcChunk.subarray(srcOffset, srcOffset + n), dstOffset);
      this.length += n;
      k += n;
    }
  }

  /** Bytes held (allocated chunks). */
  get bytes(): number {
    return this.chunks.length * CHUNK * Uint16Array.BYTES_PER_ELEMENT;
  }
}

/** A column of uint8 values (see the module comment). */
export class U8Column {
  private readonly chunks: Uint8Array[] = [];
  length = 0;

  push(value: number): void {
    const i = this.length;
    const c = i >>> SHIFT;
    if (c === this.chunks.length) this.chunks.push(new Uint8Array(CHUNK));
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
  appendFrom(other: U8Column, from: number, count: number): void {
    for (let k = 0; k < count; ) {
      const src = from + k;
      const dst = this.length;
      const srcChunk = other.chunks[src >>> SHIFT]!;
      const srcOffset = src & MASK;
      const dstOffset = dst & MASK;
      if (dst >>> SHIFT === this.chunks.length) this.chunks.push(new Uint8Array(CHUNK));
      const n = Math.min(count - k, CHUNK - srcOffset, CHUNK - dstOffset);
      this.chunks[dst >>> SHIFT]!.set(srcChunk.subarray(srcOffset, srcOffset + n), dstOffset);
      this.length += n;
      k += n;
    }
  }

  /** Bytes held (allocated chunks). */
  get bytes(): number {
    return this.chunks.length * CHUNK * Uint8Array.BYTES_PER_ELEMENT;
  }
}

/** A column of int8 values (see the module comment). */
export class I8Column {
  private readonly chunks: Int8Array[] = [];
  length = 0;

  push(value: number): void {
    const i = this.length;
    const c = i >>> SHIFT;
    if (c === this.chunks.length) this.chunks.push(new Int8Array(CHUNK));
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
  appendFrom(other: I8Column, from: number, count: number): void {
    for (let k = 0; k < count; ) {
      const src = from + k;
      const dst = this.length;
      const srcChunk = other.chunks[src >>> SHIFT]!;
      const srcOffset = src & MASK;
      const dstOffset = dst & MASK;
      if (dst >>> SHIFT === this.chunks.length) this.chunks.push(new Int8Array(CHUNK));
      const n = Math.min(count - k, CHUNK - srcOffset, CHUNK - dstOffset);
      this.chunks[dst >>> SHIFT]!.set(srcChunk.subarray(srcOffset, srcOffset + n), dstOffset);
      this.length += n;
      k += n;
    }
  }

  /** Bytes held (allocated chunks). */
  get bytes(): number {
    return this.chunks.length * CHUNK * Int8Array.BYTES_PER_ELEMENT;
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
