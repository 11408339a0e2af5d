/**
 * Bounds the memory that photo hashing can take at once. Decoding and hashing an image holds about 14 bytes per
 * pixel (the decoded samples, PDQ's luminance plane and its filter buffers), so a 100-megapixel PNG of a few
 * hundred kilobytes costs over a gigabyte. Each hash takes its image's pixel count from a shared budget before it
 * decodes and gives it back when done; work beyond the budget waits its turn instead of running the process out
 * of memory. One image larger than the whole budget still runs, alone.
 */
export class PixelBudget {
  private inUse = 0;
  private readonly waiting: { pixels: number; start: () => void }[] = [];

  constructor(readonly limit: number) {}

  async run<T>(pixels: number, work: () => Promise<T>): Promise<T> {
    await this.acquire(pixels);
    try {
      return await work();
    } finally {
      this.release(pixels);
    }
  }

  get pixelsInUse(): number {
    return this.inUse;
  }

  private acquire(pixels: number): Promise<void> {
    if (this.fits(pixels) && this.waiting.length === 0) {
      this.inUse += pixels;
      return Promise.resolve();
    }
    return new Promise((start) => this.waiting.push({ pixels, start }));
  }

  private fits(pixels: number): boolean {
    return this.inUse === 0 || this.inUse + pixels <= this.limit;
  }

  private release(pixels: number): void {
    this.inUse -= pixels;
    // First come, first served: a large image is not starved by a stream of small ones.
    while (this.waiting.length > 0 && this.fits(this.waiting[0].pixels)) {
      const next = this.waiting.shift()!;
      this.inUse += next.pixels;
      next.start();
    }
  }
}

/** The process's budget: 120 megapixels in flight (about 1.7 GB at most). */
export const photoPixelBudget = new PixelBudget(120_000_000);
