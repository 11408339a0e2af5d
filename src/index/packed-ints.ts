/** Unsigned integers below 2^(8*width) packed in `width` bytes each (2, 3 or 4): postings take less memory. */
export class PackedInts {
  readonly bytes: Uint8Array;
  constructor(
    readonly length: number,
    readonly width: 2 | 3 | 4,
  ) {
    this.bytes = new Uint8Array(length * width);
  }

  static forMaxValue(length: number, maxValue: number): PackedInts {
    const width = maxValue < 0x10000 ? 2 : maxValue < 0x1000000 ? 3 : 4;
    return new PackedInts(length, width);
  }

  set(i: number, value: number): void {
    const o = i * this.width;
    const b = this.bytes;
    b[o] = value & 0xff;
    b[o + 1] = (value >>> 8) & 0xff;
    if (this.width > 2) b[o + 2] = (value >>> 16) & 0xff;
    if (this.width > 3) b[o + 3] = (value >>> 24) & 0xff;
  }

  get(i: number): number {
    const o = i * this.width;
    const b = this.bytes;
    if (this.width === 2) return b[o] | (b[o + 1] << 8);
    if (this.width === 3) return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
    return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
  }
}
